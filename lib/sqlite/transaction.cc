#include "lib/sqlite/transaction.h"

#include <algorithm>
#include <thread>

namespace maintd {

Result<Transaction> Transaction::BeginImmediate(Connection& conn,
                                                std::chrono::milliseconds retry_for) {
  auto deadline = std::chrono::steady_clock::now() + retry_for;
  std::chrono::milliseconds backoff(5);
  while (true) {
    Status s = conn.Exec("BEGIN IMMEDIATE");
    if (s.ok()) return Transaction(&conn);
    if (!s.busy() || std::chrono::steady_clock::now() + backoff > deadline) return s;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(200));
  }
}

Transaction::~Transaction() {
  if (conn_ != nullptr) (void)Rollback();
}

Status Transaction::Commit() {
  if (conn_ == nullptr) return Status::Failed("transaction already finished");
  Status s = conn_->Exec("COMMIT");
  if (s.ok()) {
    conn_ = nullptr;
    return s;
  }
  // COMMIT can fail with BUSY (readers in rollback mode); the transaction stays open and
  // the destructor rolls it back.
  return s;
}

Status Transaction::Rollback() {
  if (conn_ == nullptr) return Status::Ok();
  Connection* conn = conn_;
  conn_ = nullptr;
  if (!conn->InTransaction()) return Status::Ok();  // SQLite already rolled back
  return conn->Exec("ROLLBACK");
}

}  // namespace maintd
