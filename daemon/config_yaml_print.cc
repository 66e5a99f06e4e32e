// NormalizedYaml: the config printed back as YAML, every key with its effective value.
// Hand-written (no yaml-cpp) so the layout is stable and matches docs/configuration.md.
#include <charconv>
#include <cstdio>
#include <sstream>

#include "daemon/config_yaml.h"

namespace maintd {
namespace {

// A double-quoted YAML string; `$` doubled so that ${VAR} expansion gives it back.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '$':
        out += "$$";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

// Shortest text that reads back as the same double.
std::string Number(double v, bool fixed = false) {
  char buf[64];
  auto r = fixed ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                 : std::to_chars(buf, buf + sizeof buf, v);
  std::string text(buf, r.ptr);
  if (!fixed && text.find_first_of(".e") == std::string::npos) text += ".0";  // reads as a ratio
  return text;
}

std::string Bool(bool b) { return b ? "true" : "false"; }
std::string Time(const std::optional<TimeOfDay>& t) {
  return t ? "\"" + FormatTimeOfDay(*t) + "\"" : "off";
}
std::string Disk(const DiskThreshold& t) {
  return t.bytes > 0 ? FormatSize(t.bytes) : Number(t.percent, true) + "%";
}

class Printer {
 public:
  void Key(int indent, const std::string& key, const std::string& value) {
    out_ << std::string(indent, ' ') << key << ": " << value << "\n";
  }
  void Open(int indent, const std::string& key) {
    out_ << std::string(indent, ' ') << key << ":\n";
  }
  // The first key of a list item: "  - key: value".
  void Item(int indent, const std::string& key, const std::string& value) {
    out_ << std::string(indent, ' ') << "- " << key << ": " << value << "\n";
  }
  std::ostringstream& out() { return out_; }

 private:
  std::ostringstream out_;
};

void PrintPolicy(Printer& p, int in, const DatabasePolicy& d) {
  p.Key(in, "busy_timeout", FormatDuration(d.busy_timeout));
  p.Open(in, "checkpoint");
  p.Key(in + 2, "every", FormatDuration(d.checkpoint.every));
  p.Key(in + 2, "mode", ToString(d.checkpoint.mode));
  p.Key(in + 2, "truncate_wal_above", FormatSize(d.checkpoint.truncate_wal_above));
  p.Open(in, "analyze");
  p.Key(in + 2, "daily_at", Time(d.analyze.daily_at));
  p.Key(in + 2, "mode", ToString(d.analyze.mode));
  p.Key(in + 2, "analysis_limit", std::to_string(d.analyze.analysis_limit));
  const VacuumPolicy& v = d.vacuum;
  p.Open(in, "vacuum");
  p.Key(in + 2, "check_every", FormatDuration(v.check_every));
  p.Key(in + 2, "trigger_free_ratio", Number(v.trigger_free_ratio));
  p.Key(in + 2, "min_free_pages", std::to_string(v.min_free_pages));
  p.Key(in + 2, "pages_per_step", std::to_string(v.pages_per_step));
  p.Key(in + 2, "pause_between_steps", FormatDuration(v.pause_between_steps));
  p.Key(in + 2, "max_lock_hold", FormatDuration(v.max_lock_hold));
  p.Key(in + 2, "convert_auto_vacuum", ToString(v.convert_auto_vacuum));
  p.Key(in + 2, "max_full_vacuum_stall", FormatDuration(v.max_full_vacuum_stall));
  p.Key(in + 2, "convert_at", v.convert_at ? Time(v.convert_at) : "\"\"");
  p.Key(in + 2, "full_when_no_auto_vacuum", Bool(v.full_when_no_auto_vacuum));
  p.Key(in + 2, "min_free_disk_factor", Number(v.min_free_disk_factor));
  const HealthPolicy& h = d.health;
  p.Open(in, "health");
  p.Key(in + 2, "quick_check_every", FormatDuration(h.quick_check_every));
  p.Key(in + 2, "integrity_check_daily_at", Time(h.integrity_check_daily_at));
  p.Key(in + 2, "size_warning", FormatSize(h.size_warning));
  p.Key(in + 2, "size_critical", FormatSize(h.size_critical));
  p.Key(in + 2, "wal_warning", FormatSize(h.wal_warning));
  p.Key(in + 2, "wal_pin_warning", FormatDuration(h.wal_pin_warning));
  p.Key(in + 2, "wal_pin_critical", FormatDuration(h.wal_pin_critical));
  p.Key(in + 2, "free_disk_warning", Disk(h.free_disk_warning));
  p.Open(in, "backup");
  p.Key(in + 2, "every", FormatDuration(d.backup.every));
  p.Key(in + 2, "dir", Quote(d.backup.dir));
  p.Key(in + 2, "keep", std::to_string(d.backup.keep));
  p.Key(in + 2, "verify", ToString(d.backup.verify));
  p.Open(in, "journal_retention");
  p.Key(in + 2, "vacuum_log", FormatDuration(d.journal_retention.vacuum_log));
  p.Key(in + 2, "health_checks", FormatDuration(d.journal_retention.health_checks));
  p.Key(in + 2, "metrics", FormatDuration(d.journal_retention.metrics));
}

std::string Value(const SqlValue& v) {
  switch (v.kind) {
    case SqlValue::Kind::kNull:
      return "null";
    case SqlValue::Kind::kInteger:
      return std::to_string(v.integer);
    case SqlValue::Kind::kReal:
      return Number(v.real);
    case SqlValue::Kind::kText:
      break;
  }
  return Quote(v.text);
}

void PrintLeaseRule(Printer& p, int in, const LeaseRequeueRule& r) {
  p.Item(in, "table", Quote(r.table));
  in += 2;
  p.Key(in, "every", FormatDuration(r.every));
  p.Key(in, "status_column", Quote(r.status_column));
  p.Key(in, "leased_value", Quote(r.leased_value));
  p.Key(in, "queued_value", Quote(r.queued_value));
  if (r.heartbeat_column.empty()) {
    p.Key(in, "expires_column", Quote(r.expires_column));
  } else {
    p.Key(in, "heartbeat_column", Quote(r.heartbeat_column));
    p.Key(in, "stale_after", FormatDuration(r.stale_after));
  }
  p.Key(in, "time_format", ToString(r.time_format));
  p.Key(in, "grace", FormatDuration(r.grace));
  p.Key(in, "owner_column", Quote(r.owner_column));
  p.Key(in, "owner_reset_value", Value(r.owner_reset_value));
  p.Key(in, "attempts_column", Quote(r.attempts_column));
  p.Key(in, "attempts_direction", ToString(r.attempts_direction));
  p.Key(in, "max_attempts", std::to_string(r.max_attempts));
  p.Key(in, "dead_value", Quote(r.dead_value));
  p.Key(in, "batch", std::to_string(r.batch));
}

void PrintRetentionRule(Printer& p, int in, const RetentionRule& r) {
  p.Item(in, "table", Quote(r.table));
  in += 2;
  p.Key(in, "time_column", Quote(r.time_column));
  p.Key(in, "time_format", ToString(r.time_format));
  if (r.archive_after) p.Key(in, "archive_after", FormatDuration(*r.archive_after));
  if (!r.archive_to.empty()) p.Key(in, "archive_to", Quote(r.archive_to));
  p.Key(in, "delete_after", FormatDuration(r.delete_after));
  if (!r.keep_where.empty()) p.Key(in, "keep_where", Quote(r.keep_where));
  p.Key(in, "batch", std::to_string(r.batch));
  p.Key(in, "pause_between_batches", FormatDuration(r.pause_between_batches));
  p.Key(in, "dry_run", Bool(r.dry_run));
  p.Key(in, "every", FormatDuration(r.every));
}

void PrintDatabase(Printer& p, const DatabaseConfig& db) {
  const int in = 4;
  // A name that defaults to the file stem may hold what an explicit name may not (a space:
  // "/data/my app.db"); it is then left out, and loading the output derives it again.
  bool name_allowed = !db.name.empty() && db.name != "." && db.name != "..";
  for (unsigned char c : db.name) {
    if (c == '/' || c == ' ' || c == '\t' || c < 0x20) name_allowed = false;
  }
  if (db.glob.empty() && name_allowed) {
    p.Item(2, "name", Quote(db.name));
    p.Key(in, "path", Quote(db.path));
  } else if (db.glob.empty()) {
    p.Item(2, "path", Quote(db.path));
  } else {
    p.Item(2, "glob", Quote(db.glob));
  }
  p.Key(in, "create_missing", Bool(db.create_missing));
  PrintPolicy(p, in, db.policy);
  if (db.lease_requeue.empty()) {
    p.Key(in, "lease_requeue", "[]");
  } else {
    p.Open(in, "lease_requeue");
    for (const auto& r : db.lease_requeue) PrintLeaseRule(p, in + 2, r);
  }
  if (db.retention.empty()) {
    p.Key(in, "retention", "[]");
  } else {
    p.Open(in, "retention");
    for (const auto& r : db.retention) PrintRetentionRule(p, in + 2, r);
  }
}

}  // namespace

std::string NormalizedYaml(const Config& c) {
  Printer p;
  p.Open(0, "log");
  p.Key(2, "level", c.log_level);
  p.Key(2, "format", ToString(c.log_format));
  p.Open(0, "http");
  p.Key(2, "listen", Quote(c.http_listen));
  p.Key(2, "metrics", ToString(c.http_metrics));
  p.Key(0, "max_concurrent_jobs", std::to_string(c.max_concurrent_jobs));
  p.Key(0, "journal", Quote(c.journal));
  p.Key(0, "lock_dir", Quote(c.lock_dir));
  p.Key(0, "glob_rescan_every", FormatDuration(c.glob_rescan_every));
  p.Open(0, "shutdown");
  p.Key(2, "deadline", FormatDuration(c.shutdown.deadline));
  p.Key(2, "vacuum", ToString(c.shutdown.vacuum));
  p.Key(2, "checkpoint", ToString(c.shutdown.checkpoint));
  p.Key(2, "analyze", Bool(c.shutdown.analyze));
  p.Open(0, "defaults");
  PrintPolicy(p, 2, c.defaults);
  if (c.databases.empty()) {
    p.Key(0, "databases", "[]");
  } else {
    p.Open(0, "databases");
    for (const auto& db : c.databases) PrintDatabase(p, db);
  }
  return p.out().str();
}

}  // namespace maintd
