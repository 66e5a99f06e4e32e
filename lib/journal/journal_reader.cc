#include "lib/journal/journal_reader.h"

#include "lib/sqlite/statement.h"

namespace maintd {

Result<std::vector<LastOutcome>> ReadLastOutcomes(Connection& conn, const std::string& db_path) {
  std::vector<LastOutcome> out;
  auto tables = conn.QueryInt(
      "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
      "('sqlite_vacuum_log','sqlite_health_checks')");
  if (!tables.ok()) return tables.status();
  if (*tables < 2) return out;

  // One scan to find the newest id per check (and table), then rowid lookups.
  auto stmt = conn.Prepare(
      "SELECT h.check_type, h.status, h.checked_ts, h.details, t.tbl FROM "
      "(SELECT max(id) AS id, json_extract(details, '$.table') AS tbl "
      " FROM sqlite_health_checks WHERE db_path=?1 AND json_valid(details) "
      " GROUP BY check_type, tbl) t "
      "JOIN sqlite_health_checks h ON h.id = t.id ORDER BY h.check_type, t.tbl");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, db_path);
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    LastOutcome o;
    o.job = stmt->Text(0);
    if (!stmt->IsNull(4)) o.job += ":" + stmt->Text(4);
    o.status = stmt->Text(1);
    o.at = stmt->Text(2);
    o.details = nlohmann::json::parse(stmt->Text(3), nullptr, false);
    if (o.details.is_discarded()) o.details = nlohmann::json::object();
    out.push_back(std::move(o));
  }
  auto vac = conn.Prepare(
      "SELECT vacuum_type, status, started_ts, pages_freed, bytes_freed, duration_ms, "
      "error_message FROM sqlite_vacuum_log WHERE db_path=?1 ORDER BY id DESC LIMIT 1");
  if (!vac.ok()) return vac.status();
  vac->Bind(1, db_path);
  auto row = vac->Step();
  if (!row.ok()) return row.status();
  if (*row) {
    LastOutcome o;
    o.job = "vacuum";
    o.status = vac->Text(1);
    o.at = vac->Text(2);
    o.details = {{"vacuum_type", vac->Text(0)},
                 {"pages_freed", vac->Int(3)},
                 {"bytes_freed", vac->Int(4)},
                 {"duration_ms", vac->Int(5)}};
    if (!vac->IsNull(6)) o.details["error"] = vac->Text(6);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace maintd
