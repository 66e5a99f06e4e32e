#pragma once
// Pieces of the Prometheus text exposition format (0.0.4), shared by daemon/metrics.cc and
// daemon/process_metrics.cc. Pure functions that append to a string.

#include <string>

namespace maintd::metrics_text {

// The shortest text that reads back as `v`; NaN, +Inf and -Inf as the format spells them.
void AppendNumber(std::string& out, double v);
// A label value between double quotes, escaped as the format requires (\\, \", \n).
void AppendLabelValue(std::string& out, const std::string& value);
// "# HELP name help\n# TYPE name type\n".
void AppendHeader(std::string& out, const char* name, const char* type, const char* help);
// "name value\n", for series without labels.
void AppendPlain(std::string& out, const char* name, double value);

}  // namespace maintd::metrics_text
