#include "lib/journal/journal_reader.h"

#include "lib/sqlite/statement.h"

namespace maintd {

namespace {

// Row kinds of the statements below.
constexpr int64_t kHealthRow = 0;
constexpr int64_t kVacuumRow = 1;
constexpr int64_t kLitestreamRow = 2;

// Columns: kind, job, status, at, then per kind:
//   health: details, table          vacuum: pages_freed, bytes_freed, duration_ms, error
// then the row's db_path and id. `db_filter` ("db_path=?1 AND " or "") picks one database
// or all. The newest row of each group comes from SQLite's bare columns beside max(id)
// (lang_select.html, "bare columns in an aggregate query"): no join, one pass per table.
// The vacuum arm without GROUP BY yields one row even when empty (id NULL: skipped).
std::string OutcomesSql(const std::string& db_filter, bool litestream) {
  std::string sql =
      "SELECT 0, check_type, status, checked_ts, details, json_extract(details, '$.table') AS tbl, "
      "NULL, NULL, db_path, max(id) FROM sqlite_health_checks WHERE " + db_filter +
      "json_valid(details) GROUP BY db_path, check_type, tbl "
      "UNION ALL "
      "SELECT 1, vacuum_type, status, started_ts, pages_freed, bytes_freed, duration_ms, "
      "error_message, db_path, max(id) FROM sqlite_vacuum_log" +
      (db_filter.empty() ? std::string(" GROUP BY db_path") : " WHERE db_path=?1");
  if (litestream) {
    sql += " UNION ALL SELECT 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL "
           "FROM sqlite_master WHERE type='table' AND name='_litestream_seq'";
  }
  return sql;
}

LastOutcome HealthOutcome(const Statement& s, bool details) {
  LastOutcome o;
  o.job = s.Text(1);
  if (!s.IsNull(5)) o.job += ":" + s.Text(5);
  o.status = s.Text(2);
  o.at = s.Text(3);
  if (!details) return o;
  o.details = nlohmann::json::parse(s.Text(4), nullptr, false);
  if (o.details.is_discarded()) o.details = nlohmann::json::object();
  return o;
}

LastOutcome VacuumOutcome(const Statement& s, bool details) {
  LastOutcome o;
  o.job = "vacuum";
  o.status = s.Text(2);
  o.at = s.Text(3);
  if (!details) return o;
  o.details = {{"vacuum_type", s.Text(1)},
               {"pages_freed", s.Int(4)},
               {"bytes_freed", s.Int(5)},
               {"duration_ms", s.Int(6)}};
  if (!s.IsNull(7)) o.details["error"] = s.Text(7);
  return o;
}

// Steps `stmt` to the end; `row(kind)` sees each row that stands for something.
template <typename Row>
Status EachRow(Statement& stmt, Row row) {
  while (true) {
    auto more = stmt.Step();
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
    if (stmt.Int(0) != kLitestreamRow && stmt.IsNull(9)) continue;  // no vacuum run
    row(stmt.Int(0));
  }
}

// Which of the journal tables (and Litestream's) exist: for when the one statement could
// not be prepared.
struct Tables {
  int journal = 0;
  bool litestream = false;
};
Result<Tables> ExistingTables(Connection& conn) {
  auto stmt = conn.Prepare(
      "SELECT name FROM sqlite_master WHERE type='table' AND name IN "
      "('sqlite_vacuum_log','sqlite_health_checks','_litestream_seq')");
  if (!stmt.ok()) return stmt.status();
  Tables t;
  while (true) {
    auto more = stmt->Step();
    if (!more.ok()) return more.status();
    if (!*more) return t;
    if (stmt->Text(0) == "_litestream_seq") {
      t.litestream = true;
    } else {
      ++t.journal;
    }
  }
}

}  // namespace

Result<JournalView> ReadJournalView(Connection& conn, const std::string& db_path,
                                    bool details) {
  JournalView view;
  auto stmt = conn.Prepare(OutcomesSql("db_path=?1 AND ", true));
  if (!stmt.ok()) {
    // Most likely a database the journal was never created in ("no such table").
    auto tables = ExistingTables(conn);
    if (!tables.ok()) return tables.status();
    if (tables->journal == 2) return stmt.status();
    view.litestream = tables->litestream;
    return view;
  }
  stmt->Bind(1, db_path);
  MAINTD_RETURN_IF_ERROR(EachRow(*stmt, [&](int64_t kind) {
    if (kind == kHealthRow) view.outcomes.push_back(HealthOutcome(*stmt, details));
    if (kind == kVacuumRow) view.outcomes.push_back(VacuumOutcome(*stmt, details));
    if (kind == kLitestreamRow) view.litestream = true;
  }));
  return view;
}

Result<std::vector<LastOutcome>> ReadLastOutcomes(Connection& conn, const std::string& db_path) {
  auto view = ReadJournalView(conn, db_path);
  if (!view.ok()) return view.status();
  return std::move(view->outcomes);
}

Result<std::map<std::string, std::vector<LastOutcome>>> ReadLastOutcomesByDatabase(
    Connection& conn, const std::set<std::string>& db_paths) {
  std::map<std::string, std::vector<LastOutcome>> out;
  auto stmt = conn.Prepare(OutcomesSql("", false));
  if (!stmt.ok()) {
    auto tables = ExistingTables(conn);
    if (!tables.ok()) return tables.status();
    if (tables->journal == 2) return stmt.status();
    return out;
  }
  MAINTD_RETURN_IF_ERROR(EachRow(*stmt, [&](int64_t kind) {
    std::string path = stmt->Text(8);
    if (db_paths.count(path) == 0) return;  // skip before parsing its details
    out[path].push_back(kind == kHealthRow ? HealthOutcome(*stmt, true)
                                           : VacuumOutcome(*stmt, true));
  }));
  return out;
}

}  // namespace maintd
