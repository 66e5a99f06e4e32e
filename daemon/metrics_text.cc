#include "daemon/metrics_text.h"

#include <charconv>
#include <cmath>

namespace maintd::metrics_text {

void AppendNumber(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    out.append(buf, r.ptr);
  }
}

void AppendLabelValue(std::string& out, const std::string& value) {
  out += '"';
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += '"';
}

void AppendHeader(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void AppendPlain(std::string& out, const char* name, double value) {
  out += name;
  out += ' ';
  AppendNumber(out, value);
  out += '\n';
}

}  // namespace maintd::metrics_text
