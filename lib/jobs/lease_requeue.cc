#include "lib/jobs/lease_requeue.h"

#include "lib/jobs/pacing.h"
#include "lib/queue/schema_check.h"
#include "lib/queue/table_info.h"
#include "lib/queue/time_expr.h"
#include "lib/sqlite/statement.h"
#include "lib/sqlite/transaction.h"

namespace maintd {
namespace {

bool CountsDown(const LeaseRequeueRule& r) {
  return r.attempts_direction == AttemptsDirection::kDown && !r.attempts_column.empty();
}

// The moment a lease's time must be before to count as expired.
SystemTime Cutoff(const LeaseRequeueRule& r, SystemTime now) {
  Millis before = r.grace + (r.heartbeat_column.empty() ? Millis(0) : r.stale_after);
  return now - std::chrono::duration_cast<SystemTime::duration>(before);
}

void BindValue(Statement& st, int param, const SqlValue& v) {
  switch (v.kind) {
    case SqlValue::Kind::kNull:
      st.BindNull(param);
      break;
    case SqlValue::Kind::kInteger:
      st.Bind(param, v.integer);
      break;
    case SqlValue::Kind::kReal:
      st.Bind(param, v.real);
      break;
    case SqlValue::Kind::kText:
      st.Bind(param, v.text);
      break;
  }
}

// Parameters: ?1 leased, ?2 cutoff, ?3 batch, ?4 queued, ?5 dead, ?6 max_attempts (up with
// dead-lettering only), ?7 owner_reset_value (with owner_column only).
std::string RequeueSql(const LeaseRequeueRule& r, const TableInfo& info) {
  auto col = [&](const std::string& name) { return QuoteIdentifier(info.FindColumn(name)->name); };
  std::string table = "main." + QuoteIdentifier(info.name);
  std::string status = col(r.status_column);
  std::string time = col(r.heartbeat_column.empty() ? r.expires_column : r.heartbeat_column);
  std::string guard = status + " = ?1 AND " + TimeBeforeSql(time, r.time_format, 2);
  std::string attempts = r.attempts_column.empty() ? "" : col(r.attempts_column);
  std::string counter = "coalesce(" + attempts + ", 0)";
  std::string is_dead = "0";
  if (CountsDown(r)) {
    is_dead = counter + " <= 0";
  } else if (r.max_attempts > 0 && !attempts.empty()) {
    is_dead = counter + " >= ?6";
  }

  std::string set = status + " = CASE WHEN " + is_dead + " THEN ?5 ELSE ?4 END";
  if (!r.owner_column.empty()) {
    std::string owner = col(r.owner_column);
    set += ", " + owner + " = CASE WHEN " + is_dead + " THEN " + owner + " ELSE ?7 END";
  }
  if (!attempts.empty()) {
    set += ", " + attempts + " = CASE WHEN " + is_dead + " THEN " + attempts + " ELSE " +
           counter + (CountsDown(r) ? " - 1" : " + 1") + " END";
  }
  return "UPDATE " + table + " SET " + set + " WHERE " + info.rowid_name + " IN (SELECT " +
         info.rowid_name + " FROM " + table + " WHERE " + guard + " LIMIT ?3) AND " + guard +
         " RETURNING " + status + " = ?5";
}

class LeaseRequeueJob final : public Job {
 public:
  LeaseRequeueJob(const ResolvedDatabase& db, size_t index)
      : index_(index), rule_(db.lease_requeue.at(index)) {}

  std::string name() const override { return "lease_requeue"; }
  Result<JobReport> Run(JobContext& ctx) override;

 private:
  size_t index_;
  LeaseRequeueRule rule_;
};

Result<JobReport> LeaseRequeueJob::Run(JobContext& ctx) {
  auto start = std::chrono::steady_clock::now();
  MAINTD_RETURN_IF_ERROR(CheckLeaseRule(ctx.conn(), ctx.db.name, index_, rule_));
  auto info = ReadTableInfo(ctx.conn(), "main", rule_.table);
  if (!info.ok()) return info.status();
  if (!info->has_value()) return Status::NotFound("no table '" + rule_.table + "'");
  std::string sql = RequeueSql(rule_, **info);

  int64_t requeued = 0, dead = 0, batches = 0;
  bool busy = false, stopped = false;
  while (true) {
    if (ShouldStop(ctx)) {
      stopped = true;
      break;
    }
    auto tx = Transaction::BeginImmediate(ctx.conn());
    if (!tx.ok()) {
      if (tx.status().busy() && batches > 0) {
        busy = true;
        break;
      }
      return tx.status();
    }
    int64_t changed = 0, changed_dead = 0;
    {
      auto st = ctx.conn().Prepare(sql);
      if (!st.ok()) return st.status();
      st->Bind(1, rule_.leased_value);
      BindTime(*st, 2, rule_.time_format, Cutoff(rule_, ctx.clock.Now()));
      st->Bind(3, rule_.batch).Bind(4, rule_.queued_value).Bind(5, rule_.dead_value);
      if (rule_.max_attempts > 0 && !rule_.attempts_column.empty() && !CountsDown(rule_)) {
        st->Bind(6, rule_.max_attempts);
      }
      if (!rule_.owner_column.empty()) BindValue(*st, 7, rule_.owner_reset_value);
      while (true) {
        auto row = st->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        ++changed;
        if (st->Int(0) != 0) ++changed_dead;
      }
    }
    MAINTD_RETURN_IF_ERROR(tx->Commit());
    ++batches;
    requeued += changed - changed_dead;
    dead += changed_dead;
    if (changed < rule_.batch) break;
  }

  int64_t duration_ms = ElapsedMs(start);
  JobReport report;
  nlohmann::json d = {{"table", rule_.table},
                      {"requeued", requeued},
                      {"dead", dead},
                      {"batches", batches},
                      {"duration_ms", duration_ms}};
  if (stopped) d["stopped"] = true;
  if (busy) {
    d["busy"] = true;
    report.status = HealthStatus::kWarning;
  }
  report.checks.push_back({"lease_requeue", report.status, d});
  report.figures.rows_requeued = requeued;
  report.figures.rows_dead = dead;
  nlohmann::json mctx = {{"table", rule_.table}};
  report.metrics.push_back({"lease_requeue.requeued", double(requeued), "rows", mctx});
  report.metrics.push_back({"lease_requeue.dead", double(dead), "rows", mctx});
  report.metrics.push_back({"lease_requeue.duration_ms", double(duration_ms), "ms", mctx});
  report.summary = "lease_requeue " + rule_.table + ": requeued " + std::to_string(requeued) +
                   ", dead-lettered " + std::to_string(dead) + " in " + std::to_string(batches) +
                   (batches == 1 ? " batch" : " batches") + " (" + std::to_string(duration_ms) +
                   " ms)";
  return report;
}

}  // namespace

std::shared_ptr<Job> MakeLeaseRequeueJob(const ResolvedDatabase& db, size_t rule_index) {
  return std::make_shared<LeaseRequeueJob>(db, rule_index);
}

}  // namespace maintd
