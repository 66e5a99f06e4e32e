#include "tests/support/reader.h"

#include <atomic>
#include <filesystem>

namespace maintd::test {

std::string ReaderBinary() {
  return std::filesystem::path(MAINTD_BINARY).parent_path().string() + "/maintd-test-reader";
}

std::string Reader::NextName(const std::string& work_dir) {
  static std::atomic<int> n{0};
  return work_dir + "/reader-" + std::to_string(++n);
}

Reader::Reader(const std::string& db, const std::string& work_dir, bool extra_connection)
    : base_(NextName(work_dir)),
      process_(extra_connection
                   ? std::vector<std::string>{ReaderBinary(), db, "--ready", base_ + ".ready",
                                              "--release", base_ + ".release",
                                              "--extra-connection"}
                   : std::vector<std::string>{ReaderBinary(), db, "--ready", base_ + ".ready",
                                              "--release", base_ + ".release"},
               {}, work_dir) {}

bool Reader::WaitReading(std::chrono::milliseconds timeout) {
  return WaitFor([&] { return std::filesystem::exists(base_ + ".ready"); }, timeout);
}

bool Reader::Release(std::chrono::milliseconds timeout) {
  WriteFile(base_ + ".release", "go\n");
  return WaitFor([&] { return std::filesystem::exists(base_ + ".ready.released"); }, timeout);
}

}  // namespace maintd::test
