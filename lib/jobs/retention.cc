#include "lib/jobs/retention.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "lib/inspect/db_stats.h"
#include "lib/jobs/pacing.h"
#include "lib/queue/archive.h"
#include "lib/queue/row_scanner.h"
#include "lib/queue/schema_check.h"
#include "lib/queue/time_expr.h"
#include "lib/sqlite/statement.h"
#include "lib/sqlite/transaction.h"

namespace maintd {
namespace {

constexpr char kArchiveSchema[] = "maintd_archive";
// A delete batch should hold the write lock no longer than this.
constexpr std::chrono::milliseconds kLockHoldBudget{50};

struct Progress {
  int64_t archived = 0;
  int64_t deleted = 0;
  int64_t batches = 0;
  int64_t skipped = 0;                 // selected for deletion but not deleted
  int64_t archive_conflicts = 0;       // archive rowid taken by a different row
  int64_t max_lock_hold_ms = 0;        // longest write transaction on the source
  int64_t smallest_batch = INT64_MAX;  // after shrinking for kLockHoldBudget
  bool stopped = false;
  bool busy = false;
};

class RetentionJob final : public Job {
 public:
  RetentionJob(const ResolvedDatabase& db, size_t index)
      : index_(index), rule_(db.retention.at(index)) {}

  std::string name() const override { return "retention"; }
  Result<JobReport> Run(JobContext& ctx) override;

 private:
  Result<JobReport> DryRun(JobContext& ctx, const TableInfo& info, SystemTime now,
                           std::chrono::steady_clock::time_point start);
  // Archive phase; Ok, or the error that ended it (the caller decides about kBusy).
  Status ArchiveRows(JobContext& ctx, const TableInfo& info, Archive& archive, SystemTime cut,
                     Progress& p);
  Status DeleteRows(JobContext& ctx, const TableInfo& info, bool archived, SystemTime cut,
                    Progress& p);
  JobReport MakeReport(const Progress& p, bool dry_run, int64_t duration_ms) const;

  size_t index_;
  RetentionRule rule_;
};

// In WAL mode the delete batches commit with synchronous=NORMAL, so no fsync happens while
// they hold the write lock. A batch lost to a power cut only leaves rows the next run
// deletes; the archive's commits stay FULL, and the PASSIVE checkpoint after each batch
// syncs the WAL anyway. Restores the connection's setting when done.
class RelaxedSync {
 public:
  explicit RelaxedSync(Connection& conn) : conn_(conn) {
    auto mode = conn.QueryText("PRAGMA main.journal_mode");
    auto sync = conn.QueryInt("PRAGMA main.synchronous");
    if (mode.ok() && *mode == "wal" && sync.ok() && *sync > 1) {
      previous_ = *sync;
      (void)conn.Exec("PRAGMA main.synchronous=NORMAL");
    }
  }
  ~RelaxedSync() {
    if (previous_ >= 0) (void)conn_.Exec("PRAGMA main.synchronous=" + std::to_string(previous_));
  }
  RelaxedSync(const RelaxedSync&) = delete;
  RelaxedSync& operator=(const RelaxedSync&) = delete;

 private:
  Connection& conn_;
  int64_t previous_ = -1;
};

Status ArchiveStep(Archive& archive, const std::vector<int64_t>& ids, Progress& p) {
  auto r = archive.CopyBatch(ids);
  if (!r.ok()) return r.status();
  p.archived += r->copied;
  p.archive_conflicts += r->conflicts;
  ++p.batches;
  return Status::Ok();
}

Status RetentionJob::ArchiveRows(JobContext& ctx, const TableInfo& info, Archive& archive,
                                 SystemTime cut, Progress& p) {
  std::string source = "main." + QuoteIdentifier(info.name);
  // Rows the archive already holds are not copied again. Rows whose archive rowid holds a
  // different row stay selected, so every run counts them in archive_conflicts.
  std::string not_archived = "NOT " + IdenticalCopyExistsSql(info, source, kArchiveSchema);
  auto scanner = RowScanner::Create(ctx.conn(), info, rule_.time_column, rule_.time_format,
                                    rule_.keep_where, cut, not_archived);
  if (!scanner.ok()) return scanner.status();
  bool first = true;
  while (true) {
    if (ShouldStop(ctx)) {
      p.stopped = true;
      return Status::Ok();
    }
    auto ids = scanner->Next(rule_.batch);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return Status::Ok();
    if (!first && !PauseUnlessStopped(ctx, rule_.pause_between_batches)) {
      p.stopped = true;
      return Status::Ok();
    }
    first = false;
    MAINTD_RETURN_IF_ERROR(ArchiveStep(archive, *ids, p));
    ReportProgress(ctx.progress, "archive", static_cast<uint64_t>(p.archived), 0, "rows");
  }
}

Status RetentionJob::DeleteRows(JobContext& ctx, const TableInfo& info, bool archived,
                                SystemTime cut, Progress& p) {
  std::string source = "main." + QuoteIdentifier(info.name);
  std::string sql = "DELETE FROM " + source + " WHERE " + info.rowid_name +
                    " IN (SELECT value FROM json_each(?2)) AND " +
                    TimeBeforeSql(QuoteIdentifier(info.FindColumn(rule_.time_column)->name),
                                  rule_.time_format, 1) +
                    " AND " + NotKeptSql(rule_.keep_where);
  if (archived) sql += " AND " + IdenticalCopyExistsSql(info, source, kArchiveSchema);
  // Litestream owns the checkpoints of the databases it replicates (CONTRACT.md section 4).
  auto litestream =
      ctx.conn().QueryInt("SELECT count(*) FROM main.sqlite_master WHERE name = '_litestream_seq'");
  if (!litestream.ok()) return litestream.status();
  bool checkpoint = *litestream == 0;
  auto scanner = RowScanner::Create(ctx.conn(), info, rule_.time_column, rule_.time_format,
                                    rule_.keep_where, cut, "");
  if (!scanner.ok()) return scanner.status();
  RelaxedSync relaxed(ctx.conn());
  bool first = true;
  int64_t limit = rule_.batch;
  while (true) {
    if (ShouldStop(ctx)) {
      p.stopped = true;
      return Status::Ok();
    }
    auto ids = scanner->Next(limit);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) return Status::Ok();
    if (!first && !PauseUnlessStopped(ctx, rule_.pause_between_batches)) {
      p.stopped = true;
      return Status::Ok();
    }
    first = false;
    auto tx = Transaction::BeginImmediate(ctx.conn());
    if (!tx.ok()) return tx.status();
    auto t0 = std::chrono::steady_clock::now();  // the write lock is held from here
    auto st = ctx.conn().Prepare(sql);
    if (!st.ok()) return st.status();
    BindTime(*st, 1, rule_.time_format, cut);
    st->Bind(2, RowidsJson(*ids));
    auto done = st->Step();
    if (!done.ok()) return done.status();
    int64_t changed = ctx.conn().Changes();
    MAINTD_RETURN_IF_ERROR(tx->Commit());
    int64_t hold_ms = ElapsedMs(t0);
    p.max_lock_hold_ms = std::max(p.max_lock_hold_ms, hold_ms);
    // Keep each write transaction short on a slow or busy machine: halve the batch after
    // one that held the lock too long, grow back towards `batch` after quick ones.
    if (hold_ms > kLockHoldBudget.count()) {
      limit = std::max<int64_t>(1, limit / 2);
    } else if (hold_ms * 4 < kLockHoldBudget.count()) {
      limit = std::min(rule_.batch, limit * 2);
    }
    p.smallest_batch = std::min(p.smallest_batch, limit);
    p.deleted += changed;
    p.skipped += static_cast<int64_t>(ids->size()) - changed;
    ++p.batches;
    ReportProgress(ctx.progress, "delete", static_cast<uint64_t>(p.deleted), 0, "rows");
    // Copy this batch's WAL frames back now, from here, without waiting for anyone
    // (PASSIVE): otherwise the WAL passes the auto-checkpoint threshold and the
    // application's next commit does that work while it holds its transaction open.
    // Best effort: a checkpoint running elsewhere (BUSY) is fine.
    if (checkpoint) {
      Status cs = ctx.conn().Exec("PRAGMA main.wal_checkpoint(PASSIVE)");
      if (cs.code() == StatusCode::kInterrupted) return cs;
    }
  }
}

Result<JobReport> RetentionJob::DryRun(JobContext& ctx, const TableInfo& info, SystemTime now,
                                       std::chrono::steady_clock::time_point start) {
  std::string source = "main." + QuoteIdentifier(info.name);
  std::string tcol = QuoteIdentifier(info.FindColumn(rule_.time_column)->name);
  std::string base = "SELECT count(*) FROM " + source + " WHERE " +
                     TimeBeforeSql(tcol, rule_.time_format, 1) + " AND " +
                     NotKeptSql(rule_.keep_where);
  Progress p;
  std::optional<ReadOnlyAttachment> attachment;
  std::string archive_filter;
  if (!rule_.archive_to.empty() && FileExists(rule_.archive_to)) {
    auto att = ReadOnlyAttachment::Attach(ctx.conn(), rule_.archive_to, kArchiveSchema);
    if (!att.ok()) return att.status();
    attachment.emplace(std::move(*att));
    auto present = ReadTableInfo(ctx.conn(), kArchiveSchema, info.name);
    if (!present.ok()) return present.status();
    if (present->has_value()) {
      archive_filter = " AND NOT " + IdenticalCopyExistsSql(info, source, kArchiveSchema);
    }
  }
  // One read transaction: both counts see the same snapshot. Nothing is written.
  MAINTD_RETURN_IF_ERROR(ctx.conn().Exec("BEGIN"));
  auto count = [&](const std::string& sql, SystemTime cut) -> Result<int64_t> {
    auto st = ctx.conn().Prepare(sql);
    if (!st.ok()) return st.status();
    BindTime(*st, 1, rule_.time_format, cut);
    auto row = st->Step();
    if (!row.ok()) return row.status();
    return st->Int(0);
  };
  Result<int64_t> deleted = count(base, now - rule_.delete_after);
  Result<int64_t> archived = int64_t{0};
  if (deleted.ok() && rule_.archive_after.has_value()) {
    archived = count(base + archive_filter, now - *rule_.archive_after);
  }
  (void)ctx.conn().Exec("COMMIT");
  if (!deleted.ok()) return deleted.status();
  if (!archived.ok()) return archived.status();
  p.deleted = *deleted;
  p.archived = *archived;
  return MakeReport(p, true, ElapsedMs(start));
}

JobReport RetentionJob::MakeReport(const Progress& p, bool dry_run, int64_t duration_ms) const {
  JobReport report;
  nlohmann::json d = {{"table", rule_.table}, {"archived", p.archived},     {"deleted", p.deleted},
                      {"batches", p.batches}, {"duration_ms", duration_ms}, {"dry_run", dry_run}};
  if (!dry_run) {
    d["skipped"] = p.skipped;
    d["max_lock_hold_ms"] = p.max_lock_hold_ms;
    if (p.smallest_batch < rule_.batch) d["smallest_batch"] = p.smallest_batch;
    if (!rule_.archive_to.empty()) d["archive_conflicts"] = p.archive_conflicts;
    if (p.stopped) d["stopped"] = true;
  }
  HealthStatus status = HealthStatus::kHealthy;
  if (p.archive_conflicts > 0 || (!rule_.archive_to.empty() && p.skipped > 0)) {
    status = HealthStatus::kWarning;
    d["note"] =
        "rows without an identical archive copy were kept (archive rowid taken by "
        "another row, or the row changed after it was archived)";
  }
  if (p.busy) {
    status = HealthStatus::kWarning;
    d["busy"] = true;
    d["note"] = "stopped early: the database stayed busy past busy_timeout";
  }
  report.status = status;
  report.checks.push_back({"retention", status, d});
  if (!dry_run) {
    report.figures.rows_purged = p.deleted;
    report.figures.rows_archived = p.archived;
    report.figures.max_lock_hold_ms = static_cast<double>(p.max_lock_hold_ms);
  }
  nlohmann::json ctx = {{"table", rule_.table}};
  report.metrics.push_back({"retention.duration_ms", double(duration_ms), "ms", ctx});
  report.metrics.push_back({"retention.archived", double(p.archived), "rows", ctx});
  report.metrics.push_back({"retention.deleted", double(p.deleted), "rows", ctx});
  if (!dry_run) {
    report.metrics.push_back({"retention.max_lock_hold_ms", double(p.max_lock_hold_ms), "ms", ctx});
  }
  std::string verb = dry_run ? "would archive " : "archived ";
  report.summary = "retention " + rule_.table + (dry_run ? " (dry run): " : ": ") + verb +
                   std::to_string(p.archived) + ", " + (dry_run ? "would delete " : "deleted ") +
                   std::to_string(p.deleted) + " rows" +
                   (dry_run ? "" : " in " + std::to_string(p.batches) + " batches") + " (" +
                   std::to_string(duration_ms) + " ms)" + (p.stopped ? ", stopped early" : "");
  return report;
}

Result<JobReport> RetentionJob::Run(JobContext& ctx) {
  auto start = std::chrono::steady_clock::now();
  MAINTD_RETURN_IF_ERROR(CheckRetentionRule(ctx.conn(), ctx.db.name, index_, rule_));
  auto read = ReadTableInfo(ctx.conn(), "main", rule_.table);
  if (!read.ok()) return read.status();
  if (!read->has_value()) return Status::NotFound("no table '" + rule_.table + "'");
  const TableInfo& info = **read;
  SystemTime now = ctx.clock.Now();
  if (rule_.dry_run) return DryRun(ctx, info, now, start);

  Progress p;
  Status s;
  std::optional<Archive> archive;
  std::optional<ScopedInterruptible> interruptible;
  std::optional<ReadOnlyAttachment> attachment;
  if (!rule_.archive_to.empty()) {
    auto opened = Archive::Open(rule_.archive_to, ctx.db.path, info, ctx.conn().busy_timeout());
    if (!opened.ok()) return opened.status();
    archive.emplace(std::move(*opened));
    interruptible.emplace(ctx.stop, archive->connection());
    auto att = ReadOnlyAttachment::Attach(ctx.conn(), rule_.archive_to, kArchiveSchema);
    if (!att.ok()) return att.status();
    attachment.emplace(std::move(*att));
    s = ArchiveRows(ctx, info, *archive, now - *rule_.archive_after, p);
  }
  if (s.ok() && !p.stopped) {
    s = DeleteRows(ctx, info, archive.has_value(), now - rule_.delete_after, p);
  }
  if (!s.ok()) {
    // Busy after some batches: what was done stands; report it as a warning.
    if (!s.busy() || p.batches == 0) return s;
    p.busy = true;
  }
  return MakeReport(p, false, ElapsedMs(start));
}

}  // namespace

std::shared_ptr<Job> MakeRetentionJob(const ResolvedDatabase& db, size_t rule_index) {
  return std::make_shared<RetentionJob>(db, rule_index);
}

}  // namespace maintd
