#include "tests/support/monitoring_tools.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace maintd::test {

std::string FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string SourceFile(const std::string& relative) {
  return std::string(MAINTD_SOURCE_DIR) + "/" + relative;
}

int RunTool(const std::vector<std::string>& argv, std::string* output,
            const std::string& stdin_file) {
  TempDir logs;
  std::string out_path = logs.File("out");
  pid_t pid = fork();
  if (pid == 0) {
    std::string in = stdin_file.empty() ? "/dev/null" : stdin_file;
    if (!freopen(in.c_str(), "r", stdin) || !freopen(out_path.c_str(), "w", stdout)) _exit(127);
    dup2(STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  bool done = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; },
                      std::chrono::seconds(60));
  if (!done) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  *output = ReadFile(out_path);
  return done && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> AlertExpressions(const std::string& rules_path) {
  std::ifstream in(rules_path);
  static const std::regex kExpr(R"(^\s*expr:\s*(.*?)\s*$)");
  std::vector<std::string> exprs;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_match(line, m, kExpr)) continue;
    std::string expr = m[1];
    EXPECT_TRUE(!expr.empty() && expr[0] != '|' && expr[0] != '>')
        << rules_path << ": keep each expr on one line: " << line;
    exprs.push_back(expr);
  }
  return exprs;
}

std::vector<std::string> DashboardExpressions(const nlohmann::json& dashboard) {
  std::vector<std::string> exprs;
  for (const auto& panel : dashboard.at("panels")) {
    if (!panel.contains("targets")) continue;
    for (const auto& target : panel.at("targets")) exprs.push_back(target.at("expr"));
  }
  return exprs;
}

namespace {

// PromQL words that look like metric names: functions, aggregations, keywords.
bool IsPromqlWord(const std::string& word, char next) {
  static const std::set<std::string> kWords{
      "by",     "without", "on",     "ignoring", "group_left", "group_right", "and",
      "or",     "unless",  "bool",   "offset",   "sum",        "min",         "max",
      "avg",    "count",   "stddev", "stdvar",   "topk",       "bottomk",     "quantile",
      "group",  "count_values"};
  return next == '(' || kWords.count(word) > 0;
}

}  // namespace

std::vector<std::string> Selectors(const std::string& expr) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < expr.size()) {
    char c = expr[i];
    if (c == '"' || c == '\'') {  // a string: skip it whole
      size_t end = expr.find(c, i + 1);
      i = end == std::string::npos ? expr.size() : end + 1;
      continue;
    }
    if (c == '(' && i > 0) {
      // `by (a, b)` and `on (...)` hold label names, not selectors: skip the list.
      size_t back = expr.find_last_not_of(' ', i - 1);
      size_t word_start = expr.find_last_not_of("abcdefghijklmnopqrstuvwxyz_", back);
      std::string word = expr.substr(word_start + 1, back - word_start);
      if (word == "by" || word == "without" || word == "on" || word == "ignoring") {
        i = expr.find(')', i) + 1;
        continue;
      }
    }
    if (c == '[') {  // a range or subquery: durations, not names
      i = expr.find(']', i) + 1;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = i;
      while (i < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[i])) ||
                                 expr[i] == '_' || expr[i] == ':')) {
        ++i;
      }
      if (start > 0 && std::isdigit(static_cast<unsigned char>(expr[start - 1]))) continue;
      std::string word = expr.substr(start, i - start);
      size_t next_pos = expr.find_first_not_of(' ', i);
      char next = next_pos == std::string::npos ? '\0' : expr[next_pos];
      if (IsPromqlWord(word, next)) continue;
      if (next == '{') {
        size_t close = next_pos;  // the closing brace, not one inside a label value
        for (char quote = 0; close < expr.size(); ++close) {
          char ch = expr[close];
          if (quote != 0 && ch == '\\') {
            ++close;
          } else if (quote != 0) {
            if (ch == quote) quote = 0;
          } else if (ch == '"' || ch == '\'') {
            quote = ch;
          } else if (ch == '}') {
            break;
          }
        }
        out.push_back(word + expr.substr(next_pos, close - next_pos + 1));
        i = close + 1;
      } else {
        out.push_back(word);
      }
      continue;
    }
    ++i;
  }
  return out;
}

std::vector<std::string> MetricNames(const std::string& expr) {
  std::vector<std::string> names;
  for (const std::string& s : Selectors(expr)) {
    std::string name = s.substr(0, s.find('{'));
    if (name.rfind("sqlite_maintd_", 0) == 0 || name.rfind("process_", 0) == 0) {
      names.push_back(name);
    }
  }
  return names;
}

HttpReply HttpGet(int port, const std::string& path) {
  return RawHttp(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace maintd::test
