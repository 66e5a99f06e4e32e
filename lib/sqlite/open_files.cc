#include "lib/sqlite/open_files.h"

#include <map>
#include <mutex>

namespace maintd {
namespace {

struct Counts {
  int64_t open_now = 0;
  int64_t opened = 0;  // since the process started
};

struct Registry {
  std::mutex mu;
  std::map<FileId, Counts> files;  // guarded by mu
};

Registry& TheRegistry() {
  static Registry* registry = new Registry();  // never destroyed: used by static Connections
  return *registry;
}

bool StatId(const std::string& path, struct stat& st, FileId& id) {
  if (::stat(path.c_str(), &st) != 0) return false;
  id = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  return true;
}

}  // namespace

OpenFileRegistration::OpenFileRegistration(OpenFileRegistration&& o) noexcept
    : id_(o.id_), active_(o.active_) {
  o.active_ = false;
}

OpenFileRegistration& OpenFileRegistration::operator=(OpenFileRegistration&& o) noexcept {
  if (this != &o) {
    Release();
    id_ = o.id_;
    active_ = o.active_;
    o.active_ = false;
  }
  return *this;
}

OpenFileRegistration::~OpenFileRegistration() { Release(); }

void OpenFileRegistration::Release() {
  if (!active_) return;
  active_ = false;
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.files.find(id_);
  if (it != r.files.end() && it->second.open_now > 0) --it->second.open_now;
}

OpenFileRegistration OpenRegistered(const std::string& path, const std::function<bool()>& open) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  if (!open()) return {};
  struct stat st {};
  FileId id;
  if (!StatId(path, st, id)) return {};
  Counts& c = r.files[id];
  ++c.open_now;
  ++c.opened;
  return OpenFileRegistration(id);
}

bool ReadIfNoConnectionOpen(const std::string& path,
                            const std::function<void(const struct stat&)>& read) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  struct stat st {};
  FileId id;
  if (!StatId(path, st, id)) return false;
  auto it = r.files.find(id);
  if (it != r.files.end() && it->second.open_now > 0) return false;
  read(st);
  return true;
}

namespace {
Counts CountsFor(const std::string& path) {
  struct stat st {};
  FileId id;
  if (!StatId(path, st, id)) return {};
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.files.find(id);
  return it == r.files.end() ? Counts{} : it->second;
}
}  // namespace

int64_t ConnectionsOpenedOn(const std::string& path) { return CountsFor(path).opened; }
int64_t ConnectionsOpenOn(const std::string& path) { return CountsFor(path).open_now; }

}  // namespace maintd
