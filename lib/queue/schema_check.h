#pragma once
// Checks the lease_requeue and retention rules of one database against its real schema
// (CONTRACT.md section 3: "every table and column named must exist in that database";
// "keep_where must compile as a single expression").
//
// Run at config load (daemon start, SIGHUP, validate-config) and again by each rule's job
// before it writes, since the schema may change while the daemon runs.

#include <string>

#include "lib/config/config.h"
#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

// Opens db.path read-only and validates every rule of `db`:
//  - the table exists, is an ordinary rowid table (not a view, virtual or WITHOUT ROWID
//    table: the jobs address rows by rowid);
//  - every column named exists (case-insensitively, as SQLite resolves names);
//  - keep_where is ONE SQL expression over the table: no ';', it compiles inside
//    "SELECT 1 FROM <table> WHERE (<expr>)" with nothing left over, and its parentheses
//    balance outside string literals (so "1) OR (1" is refused);
//  - archive_to's directory exists; archive_after and archive_to come together and
//    archive_after <= delete_after; if the archive database already holds the table, it has
//    every column of the source;
//  - lease rules: the owner column is not NOT NULL when owner_reset_value is SQL NULL; and
//    (here only, not in CheckLeaseRule) the time column's values fit time_format
//    (lib/queue/time_unit_check.h).
// Returns Status::Config with "databases[<name>].<lease_requeue|retention>[i].<key>: reason"
// for the first problem found; NotFound/IoError when the database cannot be opened.
Status CheckRulesAgainstSchema(const ResolvedDatabase& db);

// The same checks for one rule through an open connection (used by the jobs at run time).
Status CheckLeaseRule(Connection& conn, const std::string& db_name, size_t index,
                      const LeaseRequeueRule& rule);
Status CheckRetentionRule(Connection& conn, const std::string& db_name, size_t index,
                          const RetentionRule& rule);

// Only the lexical part of the keep_where check (no ';', balanced parentheses outside
// quotes, not empty). "" when fine, else the reason.
std::string KeepWhereLexicalProblem(const std::string& expr);

}  // namespace maintd
