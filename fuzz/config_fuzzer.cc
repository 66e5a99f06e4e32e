// libFuzzer target for the config loader (daemon/config_yaml.h) and the unit parsers
// (lib/core/units.h). Built with clang by fuzz/run.sh (not part of the g++ build).
//
// Every input is fed to ParseConfigText as a whole, and to each unit parser. Beyond "no
// crash, no sanitizer report, no exception escapes", it checks the documented contracts and
// aborts (a crash libFuzzer saves as a reproducer) when one breaks:
//   - a config error is Status::Config and its message starts with the source name;
//   - an accepted config prints (NormalizedYaml) a text that loads again to the same
//     normalized text (config_yaml.h: "the output is itself a config that ParseConfigText
//     loads to the same normalized text");
//   - units: a parsed duration is >= 0 and FormatDuration/ParseDuration round-trip it; the
//     same for sizes and times of day; a parsed percentage is within 0..100 and its printed
//     form parses again.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/config_yaml.h"
#include "lib/core/units.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

void CheckUnits(std::string_view text) {
  if (text.size() > 64) text = text.substr(0, 64);  // the parsers take short strings
  if (auto d = maintd::ParseDuration(text); d.ok()) {
    if (d->count() < 0) Fail("negative duration", std::string(text));
    std::string printed = maintd::FormatDuration(*d);
    auto again = maintd::ParseDuration(printed);
    if (!again.ok() || *again != *d) Fail("duration does not round-trip", printed);
  }
  if (auto s = maintd::ParseSize(text); s.ok()) {
    if (*s < 0) Fail("negative size", std::string(text));
    std::string printed = maintd::FormatSize(*s);
    auto again = maintd::ParseSize(printed);
    if (!again.ok() || *again != *s) Fail("size does not round-trip", printed);
  }
  if (auto t = maintd::ParseTimeOfDay(text); t.ok()) {
    if (t->hour < 0 || t->hour > 23 || t->minute < 0 || t->minute > 59) {
      Fail("time of day out of range", std::string(text));
    }
    std::string printed = maintd::FormatTimeOfDay(*t);
    auto again = maintd::ParseTimeOfDay(printed);
    if (!again.ok() || !(*again == *t)) Fail("time of day does not round-trip", printed);
  }
  if (auto p = maintd::ParseDiskThreshold(text); p.ok()) {
    if (p->percent < 0 || p->percent > 100 || p->bytes < 0) {
      Fail("disk threshold out of range", std::string(text));
    }
    std::string printed = maintd::FormatDiskThreshold(*p);
    if (!maintd::ParseDiskThreshold(printed).ok()) {
      Fail("printed disk threshold does not parse", std::string(text) + " -> " + printed);
    }
  }
  (void)maintd::ParseSqliteUtc(text);
}

void CheckConfig(const std::string& text) {
  static const std::string kSource = "fuzz.yaml";
  auto config = maintd::ParseConfigText(text, kSource);
  if (!config.ok()) {
    const maintd::Status& s = config.status();
    if (s.code() != maintd::StatusCode::kConfig) Fail("not a config error", s.ToString());
    if (s.message().rfind(kSource, 0) != 0) Fail("message does not name the file", s.message());
    return;
  }
  std::string normalized = maintd::NormalizedYaml(*config);
  auto again = maintd::ParseConfigText(normalized, kSource);
  if (!again.ok()) {
    Fail("normalized config does not load",
         again.status().message() + "\n--- normalized:\n" + normalized);
  }
  std::string twice = maintd::NormalizedYaml(*again);
  if (twice != normalized) {
    Fail("normalized config is not stable",
         "\n--- first:\n" + normalized + "\n--- second:\n" + twice);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  CheckUnits(text);
  CheckConfig(text);
  return 0;
}
