#include "lib/jobs/integrity_gate.h"

#include <spdlog/spdlog.h>

#include "lib/core/units.h"
#include "lib/inspect/db_stats.h"
#include "lib/jobs/health_checks.h"

namespace maintd {

namespace {

constexpr char kNotePrefix[] = "integrity=critical ";

// "2026-11-30T10:00:00Z": one word, so the note splits on spaces.
std::string FormatIsoUtc(SystemTime t) {
  std::string s = FormatSqliteUtc(t);
  s[10] = 'T';
  return s + "Z";
}

Result<SystemTime> ParseIsoUtc(std::string s) {
  if (s.size() != 20 || s[10] != 'T' || s.back() != 'Z') {
    return Status::InvalidArgument("not an ISO time: " + s);
  }
  s[10] = ' ';
  s.pop_back();
  return ParseSqliteUtc(s);
}

}  // namespace

std::string IntegrityNote(const IntegrityState& s) {
  if (s.verdict != IntegrityVerdict::kCorrupt) return "";
  return std::string(kNotePrefix) + "at=" + FormatIsoUtc(s.at) + " source=" + s.source +
         " problem=" + s.problem;
}

std::optional<IntegrityState> ParseIntegrityNote(const std::string& note) {
  if (note.rfind(kNotePrefix, 0) != 0) return std::nullopt;
  IntegrityState s;
  s.verdict = IntegrityVerdict::kCorrupt;
  s.source = "lock file";
  std::string rest = note.substr(sizeof kNotePrefix - 1);
  auto field = [&](const std::string& key, bool to_end) -> std::string {
    size_t at = rest.find(key + "=");
    if (at == std::string::npos) return "";
    size_t begin = at + key.size() + 1;
    size_t end = to_end ? std::string::npos : rest.find(' ', begin);
    return rest.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  };
  if (auto at = ParseIsoUtc(field("at", false)); at.ok()) s.at = *at;
  s.problem = field("problem", true);
  return s;
}

IntegrityGate::IntegrityGate(IntegrityGateOptions options, std::optional<IntegrityState> initial)
    : options_(std::move(options)) {
  if (initial) state_ = *initial;
}

IntegrityState IntegrityGate::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

bool IntegrityGate::RecentSound(const IntegrityState& s) const {
  return s.verdict == IntegrityVerdict::kSound && options_.clock->Now() - s.at < options_.recent;
}

void IntegrityGate::Record(IntegrityVerdict verdict, const std::string& source,
                           const std::string& problem) {
  if (verdict == IntegrityVerdict::kNotChecked) return;
  IntegrityState next;
  next.verdict = verdict;
  next.at = options_.clock->Now();
  next.source = source;
  next.problem = problem;
  next.this_process = true;
  bool changed;
  {
    std::lock_guard lock(mu_);
    changed = state_.verdict != verdict || !state_.this_process;
    state_ = next;
  }
  if (changed && options_.write_note) options_.write_note(IntegrityNote(next));
}

std::optional<IntegrityState> IntegrityGate::FromJournal() const {
  bool central = !options_.journal->central_path.empty();
  if (central && !FileExists(options_.journal->central_path)) return std::nullopt;
  auto journal = Journal::Open(std::string(options_.path), *options_.journal, *options_.clock,
                               JournalAccess::kRead);
  if (!journal.ok()) return std::nullopt;
  auto newest = (*journal)->NewestIntegrityCheck();
  if (!newest.ok() || !newest->has_value()) return std::nullopt;  // unreadable: no evidence
  const PastIntegrityCheck& row = **newest;
  IntegrityState s;
  s.verdict =
      row.status == HealthStatus::kCritical ? IntegrityVerdict::kCorrupt : IntegrityVerdict::kSound;
  s.at = row.at;
  s.source = "journal " + row.check_type;
  s.problem = row.problem;
  return s;
}

Status IntegrityGate::Refusal(const IntegrityState& known) const {
  return Status::Corrupt(
      "database " + std::string(options_.path) +
      " is corrupt: its last integrity result is critical (" + known.source + " at " +
      FormatIsoUtc(known.at) + (known.problem.empty() ? "" : ": " + known.problem) +
      "); nothing is written to it. After repairing or restoring it, `sqlite-maintd once --job "
      "health " +
      std::string(options_.path) + "` checks it again");
}

Status IntegrityGate::Admit(const ResolvedDatabase& settings, StopToken& stop,
                            std::vector<CheckRow>* gate_rows) {
  IntegrityState known = state();
  if (known.verdict == IntegrityVerdict::kCorrupt) return Refusal(known);
  if (RecentSound(known)) return Status::Ok();
  if (auto evidence = FromJournal()) {
    if (evidence->verdict == IntegrityVerdict::kCorrupt) {
      {
        std::lock_guard lock(mu_);
        state_ = *evidence;
      }
      return Refusal(*evidence);
    }
    if (RecentSound(*evidence)) {
      std::lock_guard lock(mu_);
      state_ = *evidence;
      return Status::Ok();
    }
  }
  // Check now, read-only: nothing is written before the verdict.
  OpenOptions ro;
  ro.read_only = true;
  ro.busy_timeout = settings.policy.busy_timeout;
  const std::string path(options_.path);
  auto conn = Connection::Open(path, ro);
  if (!conn.ok()) {
    if (conn.status().code() == StatusCode::kCorrupt) {
      Record(IntegrityVerdict::kCorrupt, "quick_check", conn.status().message());
      return Status::Corrupt("database " + path + " is corrupt: " + conn.status().message());
    }
    return conn.status();
  }
  ScopedInterruptible interruptible(stop, *conn);
  auto checked = RunIntegrityCheck(*conn, /*full=*/false);
  if (!checked.ok()) return checked.status();
  checked->row.details["reason"] = "integrity gate: before the first write";
  std::string problem = FirstProblem(checked->row);
  if (gate_rows != nullptr) gate_rows->push_back(checked->row);
  if (checked->corrupt) {
    Record(IntegrityVerdict::kCorrupt, "quick_check", problem);
    spdlog::critical("db={} quick_check failed: {}; nothing will be written to it", settings.name,
                     problem);
    return Status::Corrupt("database " + path + " is corrupt (quick_check: " + problem +
                           "); nothing was written to it");
  }
  Record(IntegrityVerdict::kSound, "quick_check", "");
  return Status::Ok();
}

}  // namespace maintd
