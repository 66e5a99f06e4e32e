// `vacuum [--incremental [--pages N] | --full | --into PATH] DB`: prints pages and bytes
// freed and the duration. A maintainer command: takes the database's lock (exit 75 when held).
//
//   (no flag)      what the policy allows, without the trigger threshold: incremental on an
//                  auto_vacuum=incremental database; on auto_vacuum=none a full VACUUM when
//                  convert_auto_vacuum (which switches it to incremental) or
//                  full_when_no_auto_vacuum is set, else refused (exit 1) with a hint.
//   --incremental  incremental vacuum in lock-budgeted steps (all free pages, or about N
//                  with --pages); refused on auto_vacuum=none, where it frees nothing.
//   --full         full VACUUM in place (switching to incremental when convert_auto_vacuum).
//   --into PATH    VACUUM INTO a new file: a compacted copy, the database is not changed.
// In-place runs are refused on a database whose last integrity result is critical (a
// quick_check runs first when none is recent), full ones also on Litestream databases and
// when free disk is below min_free_disk_factor x size (lib/vacuum/full.h). Each in-place run
// is one sqlite_vacuum_log row (`incremental` or `full`) plus metric rows.
// Exit codes: 0 done; 1 refused or failed; 2 usage (e.g. the --into target exists);
// 75 busy past busy_timeout or another maintainer holds the database.
#include <cstdio>
#include <iostream>

#include "daemon/commands.h"
#include "lib/inspect/db_stats.h"
#include "lib/vacuum/run.h"

namespace maintd {

namespace {

struct VacuumCommandOptions {
  bool incremental = false;
  int64_t pages = 0;
  bool full = false;
  std::string into;
  std::string db;
};

// Which method the flags and the database call for; Refused with a hint when none fits.
Result<VacuumMethod> ChooseMethod(const VacuumCommandOptions& o, const DbStats& stats,
                                  const VacuumPolicy& policy, bool* convert) {
  *convert = false;
  if (!o.into.empty()) return VacuumMethod::kInto;
  bool none = stats.auto_vacuum == 0;
  if (o.full) {
    *convert = none && policy.convert_auto_vacuum;
    return VacuumMethod::kFull;
  }
  if (none && !o.incremental && (policy.convert_auto_vacuum || policy.full_when_no_auto_vacuum)) {
    *convert = policy.convert_auto_vacuum;
    return VacuumMethod::kFull;
  }
  if (none) {
    return Status::Refused(
        "auto_vacuum is none on this database: incremental vacuum frees nothing there. Use "
        "--full (a full VACUUM blocks writers while it runs; with convert_auto_vacuum: true it "
        "also switches the database to auto_vacuum=incremental)");
  }
  return VacuumMethod::kIncremental;
}

void Print(const VacuumRun& run, bool convert) {
  char hold[32];
  std::snprintf(hold, sizeof hold, "%.1f", run.max_lock_hold_ms);
  std::cout << "pages_freed=" << run.pages_freed << " bytes_freed=" << run.bytes_freed
            << " duration_ms=" << run.duration_ms << " method=" << ToString(run.method);
  if (run.method == VacuumMethod::kIncremental) {
    std::cout << " steps=" << run.steps << " max_lock_hold_ms=" << hold;
  }
  if (run.method != VacuumMethod::kInto) {
    std::cout << " freelist_before=" << run.freelist_before
              << " freelist_after=" << run.freelist_after;
  } else {
    std::cout << " copy_bytes=" << run.file_size_after;
  }
  if (convert && run.auto_vacuum_after >= 0) {
    std::cout << " auto_vacuum=" << AutoVacuumName(run.auto_vacuum_after);
  }
  if (run.checkpoint_busy) std::cout << " checkpoint_busy=1";
  std::cout << "\n";
}

int RunVacuumCommand(CommandEnv& env, const VacuumCommandOptions& o) {
  if (o.pages < 0) {
    env.Fail(Status::InvalidArgument("--pages must be positive"));
    return env.exit_code;
  }
  auto maintained = env.AcquireDatabase(o.db);
  if (!maintained) return env.exit_code;
  const ResolvedDatabase db = maintained->db();
  const VacuumPolicy& policy = db.policy.vacuum;
  auto conn = maintained->OpenConnection();
  if (!conn.ok()) {
    env.Fail(conn.status());
    return env.exit_code;
  }
  StopToken stop;  // nothing stops a one-shot command but a signal, which kills it
  ScopedInterruptible interruptible(stop, *conn);
  if (o.into.empty()) {
    Status safe = maintained->EnsureSafeToWrite(*conn);
    if (!safe.ok()) {
      env.Fail(safe);
      return env.exit_code;
    }
  } else if (maintained->known_corrupt()) {
    env.Fail(Status::Corrupt("last integrity result for " + db.path +
                             " is critical; VACUUM INTO refused"));
    return env.exit_code;
  }
  auto stats = ReadDbStats(*conn);
  if (!stats.ok()) {
    env.Fail(stats.status());
    return env.exit_code;
  }
  bool convert = false;
  auto method = ChooseMethod(o, *stats, policy, &convert);
  if (!method.ok()) {
    env.Fail(method.status());
    return env.exit_code;
  }

  VacuumRequest req;
  req.method = *method;
  req.log_type = *method == VacuumMethod::kIncremental ? "incremental" : "full";
  req.incremental.pages_per_step = policy.pages_per_step;
  req.incremental.pause_between_steps = policy.pause_between_steps;
  req.incremental.max_lock_hold = policy.max_lock_hold;
  req.incremental.max_pages = o.pages;
  req.incremental.checkpoint = !stats->litestream;
  req.full.into = o.into;
  req.full.convert_to_incremental = convert;
  req.full.min_free_disk_factor = policy.min_free_disk_factor;
  req.full.checkpoint_wait = policy.max_lock_hold;
  auto journal = maintained->OpenJournal();
  VacuumRun run = ExecuteVacuum(*conn, journal.get(), req, stop);
  if (journal && run.started && run.method != VacuumMethod::kInto) {
    (void)journal->RecordMetrics(run.Metrics(req.log_type));
  }
  if (!run.journal_status.ok()) {
    std::cerr << "sqlite-maintd: warning: journal write failed: " << run.journal_status.message()
              << "\n";
  }
  if (run.started) Print(run, convert);
  if (!run.status.ok()) {
    env.Fail(run.status);
    return env.exit_code;
  }
  return 0;
}

}  // namespace

void AddVacuumCommand(CLI::App& app, CommandEnv& env) {
  auto o = std::make_shared<VacuumCommandOptions>();
  auto* cmd = app.add_subcommand(
      "vacuum", "incremental or full VACUUM (or VACUUM INTO); prints pages and bytes freed");
  auto* inc = cmd->add_flag("--incremental", o->incremental,
                            "incremental vacuum in short steps that let writers in");
  auto* pages =
      cmd->add_option("--pages", o->pages, "with --incremental: free about N pages, then stop")
          ->check(CLI::PositiveNumber);
  auto* full = cmd->add_flag("--full", o->full, "full VACUUM in place (blocks writers)");
  auto* into = cmd->add_option("--into", o->into, "VACUUM INTO a new file (PATH must not exist)");
  pages->needs(inc);
  inc->excludes(full)->excludes(into);
  full->excludes(into);
  cmd->add_option("DB", o->db, "database path or configured name")->required();
  cmd->callback([&env, o] { env.exit_code = RunVacuumCommand(env, *o); });
}

}  // namespace maintd
