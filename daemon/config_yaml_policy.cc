// The schema of `defaults:` (and each database's overrides) and of the rule lists.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include "daemon/config_yaml_internal.h"

namespace maintd::yaml_config {
namespace {

constexpr double kNoMax = std::numeric_limits<double>::infinity();

std::vector<Field> CheckpointFields(CheckpointPolicy* c) {
  using M = CheckpointMode;
  return {
      {"every", Duration(&c->every)},
      {"mode", Enum(&c->mode, {M::kNone, M::kPassive, M::kFull, M::kRestart, M::kTruncate})},
      {"truncate_wal_above", Size(&c->truncate_wal_above)},
  };
}

std::vector<Field> AnalyzeFields(AnalyzePolicy* a) {
  using M = AnalyzeMode;
  return {
      {"daily_at", TimeOfDayOrOff(&a->daily_at)},
      {"mode", Enum(&a->mode, {M::kLimited, M::kFull, M::kOptimize})},
      {"analysis_limit", Int(&a->analysis_limit, 0)},
  };
}

// "auto", or a boolean as Bool reads it (true/yes/on, false/no/off).
Reader ConvertAutoVacuumReader(ConvertAutoVacuum* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "auto, true or false", &text));
    if (text == "auto") {
      *out = ConvertAutoVacuum::kAuto;
      return Status::Ok();
    }
    bool b = false;
    if (!Bool(&b)(node, path).ok()) {
      return KeyError(path, "'" + text + "' is not one of auto, true, false");
    }
    *out = b ? ConvertAutoVacuum::kTrue : ConvertAutoVacuum::kFalse;
    return Status::Ok();
  };
}

std::vector<Field> VacuumFields(VacuumPolicy* v) {
  return {
      {"check_every", Duration(&v->check_every)},
      {"trigger_free_ratio", Number(&v->trigger_free_ratio, 0, 1)},
      {"min_free_pages", Int(&v->min_free_pages, 0)},
      {"pages_per_step", Int(&v->pages_per_step, 1)},
      {"pause_between_steps", Duration(&v->pause_between_steps)},
      {"max_lock_hold", Duration(&v->max_lock_hold, Millis(1))},
      {"convert_auto_vacuum", ConvertAutoVacuumReader(&v->convert_auto_vacuum)},
      {"max_full_vacuum_stall", Duration(&v->max_full_vacuum_stall)},
      {"convert_at", TimeOfDayOrAnyTime(&v->convert_at)},
      {"full_when_no_auto_vacuum", Bool(&v->full_when_no_auto_vacuum)},
      {"min_free_disk_factor", Number(&v->min_free_disk_factor, 1, kNoMax)},
  };
}

std::vector<Field> HealthFields(HealthPolicy* h) {
  return {
      {"quick_check_every", Duration(&h->quick_check_every)},
      {"integrity_check_daily_at", TimeOfDayOrOff(&h->integrity_check_daily_at)},
      {"size_warning", Size(&h->size_warning)},
      {"size_critical", Size(&h->size_critical)},
      {"wal_warning", Size(&h->wal_warning)},
      {"wal_pin_warning", Duration(&h->wal_pin_warning)},
      {"wal_pin_critical", Duration(&h->wal_pin_critical)},
      {"free_disk_warning", Disk(&h->free_disk_warning)},
  };
}

std::vector<Field> BackupFields(BackupPolicy* b) {
  using M = VerifyMode;
  return {
      {"every", Duration(&b->every)},
      {"dir", AbsolutePath(&b->dir, /*allow_empty=*/true)},
      {"keep", Int(&b->keep, 1)},
      {"verify", Enum(&b->verify, {M::kNone, M::kQuick, M::kFull})},
  };
}

std::vector<Field> JournalRetentionFields(JournalRetention* j) {
  return {
      {"vacuum_log", Duration(&j->vacuum_log)},
      {"health_checks", Duration(&j->health_checks)},
      {"metrics", Duration(&j->metrics)},
  };
}

Reader TimeFormatReader(TimeFormat* out) {
  return Enum(out, {TimeFormat::kUnix, TimeFormat::kUnixMs, TimeFormat::kIso8601});
}

// Columns a rule names must be distinct, or its UPDATE would be meaningless.
Status CheckDistinct(const std::string& rule_path,
                     const std::vector<std::pair<const char*, const std::string*>>& columns) {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].second->empty()) continue;
    for (size_t j = 0; j < i; ++j) {
      if (*columns[i].second == *columns[j].second) {
        return KeyError(ChildPath(rule_path, columns[i].first),
                        "'" + *columns[i].second + "' is already used as " + columns[j].first);
      }
    }
  }
  return Status::Ok();
}

// owner_reset_value: null (SQL NULL), a plain number (integer or real) or a string. A quoted
// scalar is always a string, so "0" writes the text '0' and 0 the integer.
Reader SqlValueReader(SqlValue* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    if (!node.IsDefined() || node.IsNull()) {
      *out = SqlValue{};
      return Status::Ok();
    }
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(node, path, "null, a number or a string", &text));
    SqlValue v;
    v.kind = SqlValue::Kind::kText;
    v.text = text;
    bool plain = node.Tag() != "!";
    size_t digits = !text.empty() && text[0] == '-' ? 1 : 0;  // an optional leading '-'
    bool integer = plain && text.size() > digits && text.size() <= 20 &&
                   text.find_first_not_of("0123456789", digits) == std::string::npos;
    if (integer) {
      errno = 0;
      v.integer = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) return KeyError(path, "'" + text + "' is too large");
      v.kind = SqlValue::Kind::kInteger;
    } else if (plain && text.find_first_of("0123456789") != std::string::npos &&
               text.find_first_not_of("-+.0123456789eE") == std::string::npos) {
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (end == text.c_str() + text.size() && std::isfinite(d)) {
        v.kind = SqlValue::Kind::kReal;
        v.real = d;
      }
    }
    *out = v;
    return Status::Ok();
  };
}

// Cross-key checks of one lease rule, after its keys were read. `expires_given` and
// `stale_after_given`: the keys were written (not defaults).
Status CheckLeaseRuleKeys(const std::string& path, LeaseRequeueRule* r, bool expires_given,
                          bool stale_after_given) {
  if (r->table.empty()) {
    return KeyError(ChildPath(path, "table"), "required key is missing (the table to requeue)");
  }
  if (!r->heartbeat_column.empty()) {
    if (expires_given && !r->expires_column.empty()) {
      return KeyError(ChildPath(path, "heartbeat_column"),
                      "expires_column and heartbeat_column are alternatives: set exactly one, "
                      "found both");
    }
    r->expires_column.clear();  // its default applies to expiry rules only
  } else if (r->expires_column.empty()) {
    return KeyError(ChildPath(path, "expires_column"),
                    "a rule needs exactly one of expires_column (when the lease ends) and "
                    "heartbeat_column (when its holder last beat), found neither");
  } else if (stale_after_given) {
    return KeyError(ChildPath(path, "stale_after"), "requires heartbeat_column");
  }
  MAINTD_RETURN_IF_ERROR(CheckDistinct(path, {{"status_column", &r->status_column},
                                              {"expires_column", &r->expires_column},
                                              {"heartbeat_column", &r->heartbeat_column},
                                              {"owner_column", &r->owner_column},
                                              {"attempts_column", &r->attempts_column}}));
  if (r->leased_value == r->queued_value) {
    return KeyError(ChildPath(path, "queued_value"), "must differ from leased_value");
  }
  if (r->owner_reset_value.kind != SqlValue::Kind::kNull && r->owner_column.empty()) {
    return KeyError(ChildPath(path, "owner_reset_value"), "requires owner_column");
  }
  bool down = r->attempts_direction == AttemptsDirection::kDown;
  if (down && r->attempts_column.empty()) {
    return KeyError(ChildPath(path, "attempts_direction"),
                    "down requires attempts_column (the column counting the runs left)");
  }
  if (down && r->max_attempts > 0) {
    return KeyError(ChildPath(path, "max_attempts"),
                    "is not used with attempts_direction: down (the row goes to dead_value when "
                    "its runs-left counter is at 0): remove it");
  }
  if (r->max_attempts > 0 && r->attempts_column.empty()) {
    return KeyError(ChildPath(path, "max_attempts"),
                    "requires attempts_column (the column counting attempts)");
  }
  if ((r->max_attempts > 0 || down) &&
      (r->dead_value == r->leased_value || r->dead_value == r->queued_value)) {
    return KeyError(ChildPath(path, "dead_value"),
                    "must differ from leased_value and queued_value");
  }
  return Status::Ok();
}

Status ReadLeaseRule(const YAML::Node& node, const std::string& path, LeaseRequeueRule* r) {
  bool expires_given = false, stale_after_given = false;
  auto noting = [](bool* given, Reader read) -> Reader {
    return [given, read](const YAML::Node& value, const std::string& key_path) {
      *given = true;
      return read(value, key_path);
    };
  };
  const std::vector<Field> fields = {
      {"table", String(&r->table, false)},
      {"every", Duration(&r->every)},
      {"status_column", String(&r->status_column, false)},
      {"leased_value", String(&r->leased_value, true)},
      {"queued_value", String(&r->queued_value, true)},
      {"expires_column", noting(&expires_given, String(&r->expires_column, true))},
      {"heartbeat_column", String(&r->heartbeat_column, true)},
      {"stale_after", noting(&stale_after_given, Duration(&r->stale_after, Millis(1)))},
      {"time_format", TimeFormatReader(&r->time_format)},
      {"grace", Duration(&r->grace)},
      {"owner_column", String(&r->owner_column, true)},
      {"owner_reset_value", SqlValueReader(&r->owner_reset_value)},
      {"attempts_column", String(&r->attempts_column, true)},
      {"attempts_direction",
       Enum(&r->attempts_direction, {AttemptsDirection::kUp, AttemptsDirection::kDown})},
      {"max_attempts", Int(&r->max_attempts, 0)},
      {"dead_value", String(&r->dead_value, true)},
      {"batch", Int(&r->batch, 1)},
  };
  MAINTD_RETURN_IF_ERROR(ReadMap(node, path, fields));
  return CheckLeaseRuleKeys(path, r, expires_given, stale_after_given);
}

Status ReadRetentionRule(const YAML::Node& node, const std::string& path, RetentionRule* r) {
  Reader keep_where = [&](const YAML::Node& value, const std::string& key_path) -> Status {
    std::string text;
    MAINTD_RETURN_IF_ERROR(ScalarText(value, key_path, "an SQL expression", &text));
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return KeyError(key_path, "must be a non-empty SQL expression when present");
    }
    if (text.find(';') != std::string::npos) {
      return KeyError(key_path, "must be a single SQL expression: ';' is not allowed");
    }
    r->keep_where = text;
    return Status::Ok();
  };
  const std::vector<Field> fields = {
      {"table", String(&r->table, false)},
      {"time_column", String(&r->time_column, false)},
      {"time_format", TimeFormatReader(&r->time_format)},
      {"archive_after", OptionalDuration(&r->archive_after, Millis(1))},
      {"archive_to", AbsolutePath(&r->archive_to, false)},
      {"delete_after", Duration(&r->delete_after, Millis(1))},
      {"keep_where", keep_where},
      {"batch", Int(&r->batch, 1)},
      {"pause_between_batches", Duration(&r->pause_between_batches)},
      {"dry_run", Bool(&r->dry_run)},
      {"every", Duration(&r->every)},
  };
  MAINTD_RETURN_IF_ERROR(ReadMap(node, path, fields));
  if (r->table.empty()) {
    return KeyError(ChildPath(path, "table"), "required key is missing (the table to prune)");
  }
  if (r->archive_after.has_value() && r->archive_to.empty()) {
    return KeyError(ChildPath(path, "archive_after"),
                    "requires archive_to (the archive database's absolute path)");
  }
  if (!r->archive_after.has_value() && !r->archive_to.empty()) {
    return KeyError(ChildPath(path, "archive_to"),
                    "requires archive_after (how old rows must be to be archived)");
  }
  if (r->archive_after.has_value() && *r->archive_after > r->delete_after) {
    return KeyError(ChildPath(path, "archive_after"),
                    FormatDuration(*r->archive_after) + " must not be longer than delete_after (" +
                        FormatDuration(r->delete_after) +
                        "): rows would be deleted before they are archived");
  }
  return Status::Ok();
}

}  // namespace

std::vector<Field> PolicyFields(DatabasePolicy* p) {
  return {
      {"busy_timeout", Duration(&p->busy_timeout)},
      {"checkpoint", Section(CheckpointFields(&p->checkpoint))},
      {"analyze", Section(AnalyzeFields(&p->analyze))},
      {"vacuum", Section(VacuumFields(&p->vacuum))},
      {"health", Section(HealthFields(&p->health))},
      {"backup", Section(BackupFields(&p->backup))},
      {"journal_retention", Section(JournalRetentionFields(&p->journal_retention))},
  };
}

Status CheckPolicy(const DatabasePolicy& p, const std::string& path) {
  const HealthPolicy& h = p.health;
  if (h.wal_pin_critical < h.wal_pin_warning) {
    return KeyError(ChildPath(path, "health.wal_pin_critical"),
                    FormatDuration(h.wal_pin_critical) + " is below wal_pin_warning (" +
                        FormatDuration(h.wal_pin_warning) + ")");
  }
  if (h.size_warning > 0 && h.size_critical > 0 && h.size_critical < h.size_warning) {
    return KeyError(ChildPath(path, "health.size_critical"), FormatSize(h.size_critical) +
                                                                 " is below size_warning (" +
                                                                 FormatSize(h.size_warning) + ")");
  }
  return Status::Ok();
}

Reader LeaseRequeueRules(std::vector<LeaseRequeueRule>* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::vector<LeaseRequeueRule> rules;
    MAINTD_RETURN_IF_ERROR(
        ReadList(node, path, [&rules](const YAML::Node& item, const std::string& item_path) {
          LeaseRequeueRule rule;
          MAINTD_RETURN_IF_ERROR(ReadLeaseRule(item, item_path, &rule));
          rules.push_back(std::move(rule));
          return Status::Ok();
        }));
    *out = std::move(rules);
    return Status::Ok();
  };
}

Reader RetentionRules(std::vector<RetentionRule>* out) {
  return [out](const YAML::Node& node, const std::string& path) -> Status {
    std::vector<RetentionRule> rules;
    MAINTD_RETURN_IF_ERROR(
        ReadList(node, path, [&rules](const YAML::Node& item, const std::string& item_path) {
          RetentionRule rule;
          MAINTD_RETURN_IF_ERROR(ReadRetentionRule(item, item_path, &rule));
          rules.push_back(std::move(rule));
          return Status::Ok();
        }));
    *out = std::move(rules);
    return Status::Ok();
  };
}

}  // namespace maintd::yaml_config
