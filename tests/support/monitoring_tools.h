#pragma once
// Helpers of the monitoring tests (tests/monitoring): the Prometheus tools (Debian's
// `prometheus` package, installed by scripts/setup-deps.sh for the tests), the shipped files
// under docs/monitoring/, and the PromQL in them.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/http.h"

namespace maintd::test {

// Absolute path of `name` on $PATH; "" when absent.
std::string FindProgram(const std::string& name);
// A TCP port free on 127.0.0.1 right now (bound to port 0, then released).
int FreeLoopbackPort();
// A file of the source tree, e.g. "docs/monitoring/alerts.yaml".
std::string SourceFile(const std::string& relative);

// Runs `argv` to completion (stdin from `stdin_file` or /dev/null), killed after 60 s;
// returns the exit code and writes stdout+stderr to *output.
int RunTool(const std::vector<std::string>& argv, std::string* output,
            const std::string& stdin_file = "");

// The `expr:` lines of a rules file (one-line expressions only: a `|` or `>` block fails
// the test, so that no expression escapes the checks).
std::vector<std::string> AlertExpressions(const std::string& rules_path);
// Every `expr` of the dashboard's panels.
std::vector<std::string> DashboardExpressions(const nlohmann::json& dashboard);
// The instant-vector selectors in a PromQL expression: metric name plus its braces, if any
// (`up{job="x"}`, `sqlite_maintd_free_pages`). Function names and keywords are skipped.
std::vector<std::string> Selectors(const std::string& expr);
// The metric names (sqlite_maintd_*, process_*) an expression reads.
std::vector<std::string> MetricNames(const std::string& expr);

// GET over loopback asking the server to close the connection after the reply (servers
// that keep it open otherwise, e.g. Prometheus). Status 0 when nothing came.
HttpReply HttpGet(int port, const std::string& path);

// "a b&c" -> "a%20b%26c".
std::string UrlEncode(const std::string& text);

}  // namespace maintd::test
