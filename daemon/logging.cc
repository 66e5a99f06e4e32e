#include "daemon/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace maintd {

Status SetupLogging(const std::string& level, const std::string& format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + level +
                                   "' (trace, debug, info, warn, error)");
  }
  if (format != "text" && format != "json") {
    return Status::InvalidArgument("unknown log format '" + format + "' (text, json)");
  }
  auto logger = spdlog::stderr_logger_mt("maintd-" + std::to_string(reinterpret_cast<uintptr_t>(&level)));
  if (format == "json") {
    // One JSON object per line. Messages are escaped by the callers through fmt's "{:?}"?
    // No: spdlog has no JSON escaping, so the message is emitted by JsonEscape in the
    // pattern formatter below.
    logger->set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"sqlite-maintd","msg":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace maintd
