// The text-level steps of the loader, before and around yaml-cpp: encoding checks, ${VAR}
// expansion, and loading exactly one YAML document without letting yaml-cpp run away.
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "daemon/config_yaml.h"
#include "daemon/config_yaml_internal.h"

namespace maintd {
namespace yaml_config {
namespace {

bool IsVarStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsVarChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Counts documents and events of a parse without building nodes. yaml-cpp 0.7 loops
// forever on a ',' outside a flow collection (", x" or "- a\n, b"), producing empty
// documents without end; LoadAll then allocates until the process dies. This pre-pass stops
// at the second document and at an event count no real config reaches.
class DocumentGuard final : public YAML::EventHandler {
 public:
  explicit DocumentGuard(size_t max_events) : max_events_(max_events) {}
  struct Runaway {};
  int documents = 0;
  YAML::Mark second_document;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) second_document = mark;
    Count();
  }
  void OnDocumentEnd() override { Count(); }
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { Count(); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { Count(); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Count();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Count();
  }
  void OnSequenceEnd() override { Count(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Count();
  }
  void OnMapEnd() override { Count(); }

 private:
  void Count() {
    if (++events_ > max_events_) throw Runaway{};
  }
  size_t max_events_;
  size_t events_ = 0;
};

Status YamlError(const std::string& source, const YAML::Exception& e) {
  if (e.mark.is_null()) return Status::Config(source + ": invalid YAML: " + e.msg);
  return Status::Config(source + ": line " + std::to_string(e.mark.line + 1) + ", column " +
                        std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
}

}  // namespace

Status LineError(const std::string& source, size_t line, const std::string& reason) {
  return Status::Config(source + ": line " + std::to_string(line) + ": " + reason);
}

// UTF-8 only, and no control characters but tab, LF and CR (YAML forbids them anyway).
Status CheckEncoding(const std::string& text, const std::string& source, const char* when) {
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') ++line;
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "control character 0x%02X is not allowed", c);
        return LineError(source, line, std::string(buf) + when);
      }
      ++i;
      continue;
    }
    size_t n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 ? 1 : 0;
    uint32_t cp = c & (n == 3 ? 0x07 : n == 2 ? 0x0F : 0x1F);
    bool ok = n > 0 && c <= 0xF4;
    for (size_t k = 1; ok && k <= n; ++k) {
      if (i + k >= text.size()) {
        ok = false;
        break;
      }
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok) {
      ok = !(n == 2 && cp < 0x800) && !(n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) &&
           !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) return LineError(source, line, std::string("not valid UTF-8") + when);
    i += n + 1;
  }
  return Status::Ok();
}

Result<YAML::Node> LoadOneDocument(const std::string& text, const std::string& source) {
  try {
    // Real YAML gives at most about 2 events per character (`{,,,}`); 4x leaves room.
    DocumentGuard guard(4 * text.size() + 64);
    std::istringstream in(text);
    YAML::Parser parser(in);
    try {
      if (parser.HandleNextDocument(guard)) parser.HandleNextDocument(guard);
    } catch (const DocumentGuard::Runaway&) {
      return Status::Config(source + ": invalid YAML: the parser makes no progress");
    }
    if (guard.documents > 1) {
      const YAML::Mark& m = guard.second_document;
      return Status::Config(source + ": line " + std::to_string(m.line + 1) +
                            ": invalid YAML: a second document starts here (a config is one "
                            "document; a stray ',' outside [ ] or { } also does this)");
    }
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    return LineError(source, e.mark.line + 1, "nested too deeply");
  } catch (const YAML::Exception& e) {
    return YamlError(source, e);
  }
}

}  // namespace yaml_config

Result<std::string> ExpandEnv(const std::string& text, const std::string& source) {
  using namespace yaml_config;
  std::string out;
  out.reserve(text.size());
  size_t line = 1;
  bool line_start = true;
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (line_start) {
      size_t first = text.find_first_not_of(" \t", i);
      if (first != std::string::npos && text[first] == '#') {  // full-line comment: as is
        size_t end = text.find('\n', first);
        end = end == std::string::npos ? text.size() : end;
        out.append(text, i, end - i);
        i = end;
        continue;
      }
      line_start = false;
    }
    if (c == '\n') {
      ++line;
      line_start = true;
      out.push_back(c);
      ++i;
      continue;
    }
    if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
      out.push_back(c);
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out.push_back('$');
      i += 2;
      continue;
    }
    size_t close = text.find_first_of("}\n", i + 2);
    if (close == std::string::npos || text[close] != '}') {
      return LineError(source, line, "unterminated ${ (expected ${VAR} or ${VAR:-default})");
    }
    std::string inner = text.substr(i + 2, close - i - 2);
    size_t name_end = 0;
    while (name_end < inner.size() && IsVarChar(inner[name_end])) ++name_end;
    std::string name = inner.substr(0, name_end);
    std::string rest = inner.substr(name_end);
    if (name.empty() || !IsVarStart(name[0]) || (!rest.empty() && rest.rfind(":-", 0) != 0)) {
      return LineError(source, line,
                       "'${" + inner +
                           "}' is not ${VAR} or ${VAR:-default} (VAR: letters, digits "
                           "and _)");
    }
    const char* value = std::getenv(name.c_str());
    if (!rest.empty()) {
      out += (value != nullptr && *value != '\0') ? std::string(value) : rest.substr(2);
    } else if (value != nullptr) {
      out += value;
    } else {
      return LineError(source, line,
                       "environment variable " + name + " is not set (write ${" + name +
                           ":-default} to give a default)");
    }
    i = close + 1;
  }
  return out;
}

}  // namespace maintd
