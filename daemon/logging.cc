#include "daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <string_view>

#include "lib/core/log_context.h"

namespace maintd {

namespace {

// `text` as the inside of a JSON string (quotes, backslashes and control characters
// escaped), so every JSON log line parses whatever it holds.
void AppendJsonEscaped(std::string_view text, spdlog::memory_buf_t& dest) {
  for (char c : text) {
    switch (c) {
      case '"': dest.append(std::string_view("\\\"")); break;
      case '\\': dest.append(std::string_view("\\\\")); break;
      case '\n': dest.append(std::string_view("\\n")); break;
      case '\r': dest.append(std::string_view("\\r")); break;
      case '\t': dest.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          dest.append(std::string_view(buf));
        } else {
          dest.push_back(c);
        }
    }
  }
}

// %* in a pattern: the message, JSON-escaped.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

// %& in a pattern: ,"db":"<name>","job":"<name>" from the logging thread's LogContext
// (lib/core/log_context.h), each only when set. spdlog formats on the logging thread.
class JsonContextFields final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const LogContext& context = CurrentLogContext();
    AppendField("db", context.db, dest);
    AppendField("job", context.job, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonContextFields>();
  }

 private:
  static void AppendField(std::string_view key, const std::string& value,
                          spdlog::memory_buf_t& dest) {
    if (value.empty()) return;
    dest.append(std::string_view(",\""));
    dest.append(key);
    dest.append(std::string_view("\":\""));
    AppendJsonEscaped(value, dest);
    dest.push_back('"');
  }
};

}  // namespace

Status SetupLogging(const std::string& level, const std::string& format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + level +
                                   "' (trace, debug, info, warn, error)");
  }
  if (format != "text" && format != "json") {
    return Status::InvalidArgument("unknown log format '" + format + "' (text, json)");
  }
  static std::atomic<int> generation{0};
  auto logger = spdlog::stderr_logger_mt("maintd-" + std::to_string(generation++));
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(
        spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonEscapedMessage>('*').add_flag<JsonContextFields>('&').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","pid":%P%&,"msg":"%*"})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l %v");
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace maintd
