#pragma once
// Internal to daemon/config_yaml*.cc: a table-driven walker over yaml-cpp nodes and typed
// readers for each kind of value. Nothing here throws on bad input: every reader returns a
// Status whose message is "<key path>: <reason>"; the boundary (config_yaml.cc) prefixes the
// source and turns it into Status::Config. yaml-cpp itself may still throw; the boundary
// catches that too.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/core/status.h"

namespace maintd::yaml_config {

// Reads the value of one key (or one list item). `path` names it in messages, e.g.
// "databases[0].vacuum.trigger_free_ratio".
using Reader = std::function<Status(const YAML::Node& value, const std::string& path)>;

struct Field {
  std::string key;
  Reader read;
};

// Key -> explanation, for keys that are valid somewhere else ("lease_requeue is allowed
// only in a databases: entry").
using Hints = std::map<std::string, std::string>;

// "<path>: <reason>" (path "" is the top level).
Status KeyError(const std::string& path, const std::string& reason);
std::string ChildPath(const std::string& path, const std::string& key);
std::string IndexPath(const std::string& path, size_t index);
// "a map", "a list", "a string", "nothing" for messages.
std::string KindOf(const YAML::Node& node);

// Applies `fields` to the map `node`, key by key in document order; keys not present keep
// their current values (this is how per-database overrides merge over `defaults:`). A null
// node is an empty map. Rejects non-maps, non-scalar keys, duplicate keys and unknown keys
// (naming the closest known key, or the hint). Merge keys (`<<: *anchor`, a map or a list of
// maps) are honoured; explicit keys win over merged ones.
Status ReadMap(const YAML::Node& node, const std::string& path, const std::vector<Field>& fields,
               const Hints* hints = nullptr);
// Calls `item` for each element of the list `node` (null = empty list).
Status ReadList(const YAML::Node& node, const std::string& path, const Reader& item);
// A reader for a nested map.
Reader Section(std::vector<Field> fields, const Hints* hints = nullptr);

// The text of a scalar; errors for null, maps and lists. `expected` is e.g. "a duration".
Status ScalarText(const YAML::Node& node, const std::string& path, const std::string& expected,
                  std::string* out);

// Readers. Each rejects negative numbers and values of the wrong kind.
Reader Duration(Millis* out, Millis min = Millis(0));  // "5m"; min > 0 forbids 0
Reader OptionalDuration(std::optional<Millis>* out, Millis min);
Reader Size(int64_t* out);                           // "64MiB"
Reader Int(int64_t* out, int64_t min);               // plain whole number >= min
Reader Number(double* out, double min, double max);  // min <= x <= max
Reader Bool(bool* out);                              // true/false (yes/no, on/off)
Reader String(std::string* out, bool allow_empty);
Reader AbsolutePath(std::string* out, bool allow_empty);  // normalized, no trailing '/'
Reader TimeOfDayOrOff(std::optional<TimeOfDay>* out);     // "03:00", "03:00Z", "off"
Reader TimeOfDayOrAnyTime(std::optional<TimeOfDay>* out);  // "03:00", "03:00Z", "" (nullopt)
Reader Disk(DiskThreshold* out);                          // "10%" or a size
Reader OneOf(std::string* out, std::vector<std::string> values);

template <typename E>
Reader Enum(E* out, std::vector<E> values) {
  return [out, values](const YAML::Node& node, const std::string& path) -> Status {
    std::string names;
    for (E v : values) names += std::string(names.empty() ? "" : ", ") + ToString(v);
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "one of " + names, &text));
    for (E v : values) {
      if (text == ToString(v)) {
        *out = v;
        return Status::Ok();
      }
    }
    return KeyError(path, "'" + text + "' is not one of " + names);
  };
}

// The keys of `defaults:` (and of a database entry's policy), in documentation order.
std::vector<Field> PolicyFields(DatabasePolicy* policy);
// Checks between keys of a merged policy (size_critical >= size_warning, ...).
Status CheckPolicy(const DatabasePolicy& policy, const std::string& path);
// `lease_requeue:` and `retention:` lists, with their cross-key checks.
Reader LeaseRequeueRules(std::vector<LeaseRequeueRule>* out);
Reader RetentionRules(std::vector<RetentionRule>* out);

// Text-level steps (config_yaml_text.cc). "<source>: line N: <reason>".
Status LineError(const std::string& source, size_t line, const std::string& reason);
// UTF-8 only, no control characters but tab, LF and CR. `when` is appended to the reason.
Status CheckEncoding(const std::string& text, const std::string& source, const char* when);
// Parses `text` as exactly one YAML document (empty text: a null node). Config errors for
// bad YAML, more than one document, deep nesting, and inputs on which yaml-cpp would not
// terminate. May still throw std::bad_alloc; the caller catches.
Result<YAML::Node> LoadOneDocument(const std::string& text, const std::string& source);

}  // namespace maintd::yaml_config
