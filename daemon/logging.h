#pragma once
// spdlog setup: text or JSON lines on stderr (journald and log collectors read stderr).
// Every log line of a job run names the database and the job: use LogJob().

#include <string>

#include "lib/core/status.h"

namespace maintd {

// Sets the default logger. level: trace|debug|info|warn|error; format: text|json.
// InvalidArgument for an unknown level or format.
Status SetupLogging(const std::string& level, const std::string& format);

}  // namespace maintd
