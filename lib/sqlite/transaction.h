#pragma once
// BEGIN IMMEDIATE ... COMMIT with rollback in the destructor (never throws there).
//
// Write jobs must use BEGIN IMMEDIATE: a deferred transaction that upgrades from read to
// write fails at once with SQLITE_BUSY whatever the busy_timeout (SQLITE_FACTS.md). The busy
// handler applies while BEGIN IMMEDIATE waits for the write lock; on top of it Begin retries
// with backoff until `retry_for` has passed, then returns kBusy.

#include <chrono>

#include "lib/core/status.h"
#include "lib/sqlite/connection.h"

namespace maintd {

class Transaction {
 public:
  // retry_for: total extra time to keep retrying after BUSY (0 = only the busy handler).
  static Result<Transaction> BeginImmediate(Connection& conn,
                                            std::chrono::milliseconds retry_for = {});

  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();  // rolls back unless committed

  Status Commit();
  Status Rollback();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;  // null once committed or rolled back
};

}  // namespace maintd
