// The generic part of the YAML walker: maps, lists, scalars and typed readers.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "daemon/config_yaml_internal.h"
#include "daemon/edit_distance.h"

namespace maintd::yaml_config {
namespace {

// How deep `<<` merge keys may refer to maps that themselves use `<<`.
constexpr int kMaxMergeDepth = 8;

std::string UnknownKeyReason(const std::string& key, const std::vector<Field>& fields,
                             const Hints* hints) {
  if (hints != nullptr) {
    auto it = hints->find(key);
    if (it != hints->end()) return "unknown key here (" + it->second + ")";
  }
  const Field* best = nullptr;
  size_t best_distance = 0;
  for (const Field& f : fields) {
    size_t d = EditDistance(key, f.key);
    if (best == nullptr || d < best_distance) {
      best = &f;
      best_distance = d;
    }
  }
  if (best != nullptr && (best_distance <= 2 || best_distance * 3 <= key.size())) {
    return "unknown key (did you mean '" + best->key + "'?)";
  }
  std::string known;
  for (const Field& f : fields) known += (known.empty() ? "" : ", ") + f.key;
  return "unknown key (known keys: " + known + ")";
}

struct Entry {
  std::string key;
  YAML::Node value;
};

// Collects the entries of a map, explicit keys first, then those of `<<` merge sources that
// are not already present (YAML merge key semantics).
Status CollectEntries(const YAML::Node& map, const std::string& path, int depth, bool merged,
                      std::vector<Entry>* entries, std::set<std::string>* seen) {
  std::vector<YAML::Node> merges;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      return KeyError(path, "keys must be plain strings, found " + KindOf(it->first));
    }
    const std::string& key = it->first.Scalar();
    if (key == "<<" && it->first.Tag() != "!") {  // unquoted: the merge key
      merges.push_back(it->second);
      continue;
    }
    if (!seen->insert(key).second) {
      if (!merged) return KeyError(ChildPath(path, key), "duplicate key");
      continue;
    }
    entries->push_back({key, it->second});
  }
  for (const YAML::Node& source : merges) {
    if (depth >= kMaxMergeDepth) {
      return KeyError(ChildPath(path, "<<"), "merge keys nested too deeply");
    }
    std::vector<YAML::Node> maps;
    if (source.IsMap()) {
      maps.push_back(source);
    } else if (source.IsSequence()) {
      for (auto it = source.begin(); it != source.end(); ++it) maps.push_back(*it);
    }
    if (maps.empty() && !source.IsSequence()) {
      return KeyError(ChildPath(path, "<<"), "a merge key must refer to a map or a list of maps");
    }
    for (const YAML::Node& m : maps) {
      if (!m.IsMap()) {
        return KeyError(ChildPath(path, "<<"),
                        "a merge key must refer to a map or a list of maps, found " + KindOf(m));
      }
      MAINTD_RETURN_IF_ERROR(CollectEntries(m, path, depth + 1, true, entries, seen));
    }
  }
  return Status::Ok();
}

bool IsNegativeText(const std::string& text) {
  auto pos = text.find_first_not_of(" \t");
  return pos != std::string::npos && text[pos] == '-';
}

}  // namespace

Status KeyError(const std::string& path, const std::string& reason) {
  return Status::Config((path.empty() ? std::string("top level") : path) + ": " + reason);
}

std::string ChildPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string IndexPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string KindOf(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return "'" + node.Scalar() + "'";
}

Status ReadMap(const YAML::Node& node, const std::string& path, const std::vector<Field>& fields,
               const Hints* hints) {
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  if (!node.IsMap()) return KeyError(path, "expected a map of keys, found " + KindOf(node));
  std::vector<Entry> entries;
  std::set<std::string> seen;
  MAINTD_RETURN_IF_ERROR(CollectEntries(node, path, 0, false, &entries, &seen));
  for (const Entry& e : entries) {
    auto f = std::find_if(fields.begin(), fields.end(),
                          [&](const Field& field) { return field.key == e.key; });
    if (f == fields.end()) {
      return KeyError(ChildPath(path, e.key), UnknownKeyReason(e.key, fields, hints));
    }
    MAINTD_RETURN_IF_ERROR(f->read(e.value, ChildPath(path, e.key)));
  }
  return Status::Ok();
}

Status ReadList(const YAML::Node& node, const std::string& path, const Reader& item) {
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  if (!node.IsSequence()) return KeyError(path, "expected a list, found " + KindOf(node));
  size_t i = 0;
  for (auto it = node.begin(); it != node.end(); ++it, ++i) {
    MAINTD_RETURN_IF_ERROR(item(*it, IndexPath(path, i)));
  }
  return Status::Ok();
}

Reader Section(std::vector<Field> fields, const Hints* hints) {
  return [fields = std::move(fields), hints](const YAML::Node& node, const std::string& path) {
    return ReadMap(node, path, fields, hints);
  };
}

Status ScalarText(const YAML::Node& node, const std::string& path, const std::string& expected,
                  std::string* out) {
  if (!node.IsDefined() || node.IsNull()) {
    return KeyError(path, "has no value (expected " + expected + ")");
  }
  if (!node.IsScalar()) return KeyError(path, "expected " + expected + ", found " + KindOf(node));
  *out = node.Scalar();
  return Status::Ok();
}

Reader Duration(Millis* out, Millis min) {
  return [out, min](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "a duration such as 30s, 5m, 24h", &text));
    if (IsNegativeText(text)) return KeyError(path, "'" + text + "': must not be negative");
    auto d = ParseDuration(text);
    if (!d.ok()) return KeyError(path, d.status().message());
    if (*d < min) {
      return KeyError(path, "'" + text + "': must be at least " + FormatDuration(min));
    }
    *out = *d;
    return Status::Ok();
  };
}

Reader OptionalDuration(std::optional<Millis>* out, Millis min) {
  return [out, min](const YAML::Node& node, const std::string& path) -> Status {
    Millis value{0};
    MAINTD_RETURN_IF_ERROR(Duration(&value, min)(node, path));
    *out = value;
    return Status::Ok();
  };
}

Reader Size(int64_t* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "a size such as 4096, 64KiB, 1GiB", &text));
    if (IsNegativeText(text)) return KeyError(path, "'" + text + "': must not be negative");
    auto size = ParseSize(text);
    if (!size.ok()) return KeyError(path, size.status().message());
    *out = *size;
    return Status::Ok();
  };
}

Reader Int(int64_t* out, int64_t min) {
  return [out, min](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "a whole number", &text));
    if (IsNegativeText(text)) return KeyError(path, "'" + text + "': must not be negative");
    if (text.empty() || text.size() > 30 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return KeyError(path, "'" + text + "' is not a whole number");
    }
    errno = 0;
    long long v = std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE) return KeyError(path, "'" + text + "' is too large");
    if (v < min) {
      return KeyError(path, "'" + text + "': must be at least " + std::to_string(min));
    }
    *out = v;
    return Status::Ok();
  };
}

Reader Number(double* out, double min, double max) {
  return [out, min, max](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "a number", &text));
    if (IsNegativeText(text) && min >= 0) {
      return KeyError(path, "'" + text + "': must not be negative");
    }
    char* end = nullptr;
    double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
    bool digits = text.find_first_of("0123456789") != std::string::npos;
    if (text.empty() || end != text.c_str() + text.size() || !digits || !std::isfinite(v)) {
      return KeyError(path, "'" + text + "' is not a number");
    }
    if (v < min || v > max) {
      char buf[96];
      if (std::isinf(max)) {
        std::snprintf(buf, sizeof buf, "must be at least %g", min);
      } else {
        std::snprintf(buf, sizeof buf, "must be between %g and %g", min, max);
      }
      return KeyError(path, "'" + text + "': " + buf);
    }
    *out = v;
    return Status::Ok();
  };
}

Reader Bool(bool* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "true or false", &text));
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true" || lower == "yes" || lower == "on") {
      *out = true;
    } else if (lower == "false" || lower == "no" || lower == "off") {
      *out = false;
    } else {
      return KeyError(path, "'" + text + "' is not true or false");
    }
    return Status::Ok();
  };
}

Reader String(std::string* out, bool allow_empty) {
  return [out, allow_empty](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "a string", &text));
    if (!allow_empty && text.empty()) return KeyError(path, "must not be empty");
    *out = text;
    return Status::Ok();
  };
}

Reader AbsolutePath(std::string* out, bool allow_empty) {
  return [out, allow_empty](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "an absolute path", &text));
    if (text.empty()) {
      if (allow_empty) {
        *out = "";
        return Status::Ok();
      }
      return KeyError(path, "must not be empty");
    }
    if (text[0] != '/') {
      return KeyError(path, "'" + text + "' is not an absolute path (after ${VAR} expansion)");
    }
    std::string normal = std::filesystem::path(text).lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    *out = normal;
    return Status::Ok();
  };
}

Reader TimeOfDayOrOff(std::optional<TimeOfDay>* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "a time of day such as \"03:00\"", &text));
    if (text == "off" || text == "false") {
      *out = std::nullopt;
      return Status::Ok();
    }
    auto t = ParseTimeOfDay(text);
    if (!t.ok()) return KeyError(path, t.status().message() + " or \"off\"");
    *out = *t;
    return Status::Ok();
  };
}

Reader TimeOfDayOrAnyTime(std::optional<TimeOfDay>* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "a time of day such as \"03:00\"", &text));
    if (text.empty()) {
      *out = std::nullopt;
      return Status::Ok();
    }
    auto t = ParseTimeOfDay(text);
    if (!t.ok()) return KeyError(path, t.status().message() + " or \"\" (any time)");
    *out = *t;
    return Status::Ok();
  };
}

Reader Disk(DiskThreshold* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "a percentage (10%) or a size (1GiB)", &text));
    if (IsNegativeText(text)) return KeyError(path, "'" + text + "': must not be negative");
    auto t = ParseDiskThreshold(text);
    if (!t.ok()) return KeyError(path, t.status().message());
    *out = *t;
    return Status::Ok();
  };
}

Reader OneOf(std::string* out, std::vector<std::string> values) {
  return [out, values](const YAML::Node& node, const std::string& path) -> Status {
    std::string names;
    for (const auto& v : values) names += (names.empty() ? "" : ", ") + v;
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "one of " + names, &text));
    if (std::find(values.begin(), values.end(), text) == values.end()) {
      return KeyError(path, "'" + text + "' is not one of " + names);
    }
    *out = text;
    return Status::Ok();
  };
}

}  // namespace maintd::yaml_config
