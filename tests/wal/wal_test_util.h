#pragma once
// A WAL database for the WAL pin tests: an application connection of the test process
// keeps it open (so the WAL stays), and Commit() adds rows through it.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/support/test_util.h"

namespace maintd::test {

class WalDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeWalDb(db_, 100, 100);
    app_ = std::make_unique<HeldConnection>(db_);
    app_->Exec("SELECT count(*) FROM items");
  }
  void Commit(int n = 1) {
    for (int i = 0; i < n; ++i) app_->Exec("INSERT INTO items(body) VALUES (randomblob(300))");
  }

  TempDir dir_;
  std::string db_ = dir_.File("app.db");
  std::unique_ptr<HeldConnection> app_;
};

}  // namespace maintd::test
