// `once [--job NAME] [DB...]`: every enabled job (or one) once against each database, now.
#include <iostream>

#include "daemon/commands.h"
#include "lib/core/log_context.h"
#include "lib/jobs/registry.h"

namespace maintd {

namespace {

struct OnceOptions {
  std::string job;
  std::vector<std::string> dbs;
};

// 1 when anything failed, else 78 when a rule does not fit the database's schema (the
// config needs fixing), else 75 when something was busy or locked, else 0.
int CombineExit(int current, int next) {
  for (int code : {1, 78, 75}) {
    if (current == code || next == code) return code;
  }
  return std::max(current, next);
}

int RunOnce(CommandEnv& env, const OnceOptions& opts) {
  auto config = env.LoadConfig();
  if (!config.ok()) {
    env.Fail(config.status());
    return env.exit_code;
  }
  if (!opts.job.empty() && !IsKnownJobName(opts.job)) {
    env.Fail(Status::InvalidArgument("unknown job '" + opts.job + "' (jobs: " +
                                     KnownJobNamesText() + ")"));
    return env.exit_code;
  }
  auto targets = env.Targets(*config, opts.dbs);
  if (!targets.ok()) {
    env.Fail(targets.status());
    return env.exit_code;
  }
  std::string busy_hint;  // printed once at the end
  int exit_code = 0;
  StopToken stop;
  ProgressLine progress(env.progress);  // outlives every `maintained` below
  for (const ResolvedDatabase& db : *targets) {
    ScopedLogContext db_log_context(db.name);  // db (and job) fields of the log lines
    MaintainerOptions options = env.MaintainerOptionsFor(*config, db);
    options.progress = &progress;
    auto maintained = MaintainedDatabase::Acquire(db, options);
    if (!maintained.ok()) {
      std::cerr << "sqlite-maintd: " << db.name << ": " << maintained.status().message() << "\n";
      if (std::string hint = WhatToDo(maintained.status()); !hint.empty()) {
        std::cerr << "sqlite-maintd: " << hint << "\n";
      }
      exit_code = CombineExit(exit_code, ExitCodeFor(maintained.status()));
      continue;
    }
    std::vector<std::shared_ptr<Job>> jobs;
    if (opts.job.empty()) {
      for (auto& scheduled : JobsFor(db)) jobs.push_back(scheduled.job);
    } else {
      jobs = MakeJobs(opts.job, db);
      if (jobs.empty()) {
        std::cout << db.name << " " << opts.job << " nothing to do (no rules configured)\n";
      }
    }
    for (auto& job : jobs) {
      ScopedLogContext job_log_context(db.name, job->name());
      progress.SetLabel(db.name + " " + job->name());
      JobOutcome out = (*maintained)->Run(*job, JobTrigger::kOnce, stop);
      progress.Clear();
      std::cout << db.name << " " << out.job << " " << ToString(out.status)
                << (out.skipped ? " skipped" : "") << " " << out.duration_ms << "ms "
                << (out.error.ok() ? out.report.summary : out.error.message()) << "\n";
      int code = 0;
      if (out.error.busy()) {
        code = 75;
        busy_hint = WhatToDo(out.error);
      }
      else if (out.error.code() == StatusCode::kConfig) code = 78;
      else if (!out.error.ok()) code = 1;
      else if (out.status == HealthStatus::kCritical) code = 1;
      exit_code = CombineExit(exit_code, code);
    }
  }
  if (!busy_hint.empty()) std::cerr << "sqlite-maintd: " << busy_hint << "\n";
  return exit_code;
}

}  // namespace

void AddOnceCommand(CLI::App& app, CommandEnv& env) {
  auto opts = std::make_shared<OnceOptions>();
  auto* cmd = app.add_subcommand(
      "once", "run every enabled job (or one) once against each database, now, and exit");
  cmd->add_option("--job", opts->job, "only this job (" + KnownJobNamesText() + ")");
  cmd->add_option("DB", opts->dbs, "database paths or configured names (default: all)");
  AddProgressFlags(cmd, env);
  cmd->callback([&env, opts] { env.exit_code = RunOnce(env, *opts); });
}

}  // namespace maintd
