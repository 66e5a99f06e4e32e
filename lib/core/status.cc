#include "lib/core/status.h"

namespace maintd {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kBusy: return "busy";
    case StatusCode::kLockHeld: return "lock held";
    case StatusCode::kCorrupt: return "corrupt";
    case StatusCode::kInterrupted: return "interrupted";
    case StatusCode::kIoError: return "I/O error";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kConfig: return "configuration error";
    case StatusCode::kRefused: return "refused";
    case StatusCode::kFailed: return "failed";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kBusy:
    case StatusCode::kLockHeld: return 75;
    case StatusCode::kInvalidArgument: return 2;
    case StatusCode::kConfig: return 78;
    default: return 1;
  }
}

}  // namespace maintd
