#include "lib/config/config.h"

namespace maintd {

const char* ToString(CheckpointMode m) {
  switch (m) {
    case CheckpointMode::kNone: return "none";
    case CheckpointMode::kPassive: return "passive";
    case CheckpointMode::kFull: return "full";
    case CheckpointMode::kRestart: return "restart";
    case CheckpointMode::kTruncate: return "truncate";
  }
  return "?";
}
const char* ToString(AnalyzeMode m) {
  switch (m) {
    case AnalyzeMode::kLimited: return "limited";
    case AnalyzeMode::kFull: return "full";
    case AnalyzeMode::kOptimize: return "optimize";
  }
  return "?";
}
const char* ToString(ShutdownVacuum m) {
  switch (m) {
    case ShutdownVacuum::kIncremental: return "incremental";
    case ShutdownVacuum::kFull: return "full";
    case ShutdownVacuum::kNone: return "none";
  }
  return "?";
}
const char* ToString(ConvertAutoVacuum m) {
  switch (m) {
    case ConvertAutoVacuum::kAuto: return "auto";
    case ConvertAutoVacuum::kTrue: return "true";
    case ConvertAutoVacuum::kFalse: return "false";
  }
  return "?";
}

const char* ToString(VerifyMode m) {
  switch (m) {
    case VerifyMode::kNone: return "none";
    case VerifyMode::kQuick: return "quick";
    case VerifyMode::kFull: return "full";
  }
  return "?";
}
const char* ToString(TimeFormat m) {
  switch (m) {
    case TimeFormat::kUnix: return "unix";
    case TimeFormat::kUnixMs: return "unix_ms";
    case TimeFormat::kIso8601: return "iso8601";
  }
  return "?";
}
const char* ToString(LogFormat m) { return m == LogFormat::kJson ? "json" : "text"; }
const char* ToString(MetricsDetail m) { return m == MetricsDetail::kSummary ? "summary" : "full"; }
const char* ToString(AttemptsDirection d) { return d == AttemptsDirection::kDown ? "down" : "up"; }

}  // namespace maintd
