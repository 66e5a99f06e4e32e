#include "tests/support/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <regex>

namespace maintd::test {

using std::chrono::seconds;

HttpReply RawHttp(int port, const std::string& request) {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return reply;
  }
  (void)!write(fd, request.data(), request.size());
  std::string all;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) all.append(buf, static_cast<size_t>(n));
  close(fd);
  if (all.rfind("HTTP/1.1 ", 0) == 0) reply.status = std::stoi(all.substr(9, 3));
  auto sep = all.find("\r\n\r\n");
  if (sep == std::string::npos) return reply;
  std::string headers = all.substr(0, sep);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  reply.headers = headers;
  if (headers.find("\r\ntransfer-encoding: chunked") == std::string::npos) {
    reply.body = all.substr(sep + 4);
    return reply;
  }
  // <hex size>\r\n<data>\r\n ... 0\r\n\r\n (other servers than the daemon, e.g. Prometheus)
  for (size_t pos = sep + 4; pos < all.size();) {
    size_t eol = all.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t size = std::stoul(all.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) break;
    reply.body += all.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return reply;
}

HttpReply Get(int port, const std::string& path) {
  return RawHttp(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

int PortFromLog(ChildProcess& daemon) {
  int port = 0;
  WaitFor(
      [&] {
        std::smatch m;
        std::string err = daemon.Stderr();
        if (std::regex_search(err, m, std::regex("\\(port ([0-9]+)\\)"))) {
          port = std::stoi(m[1]);
        }
        return port != 0;
      },
      seconds(10));
  return port;
}

}  // namespace maintd::test
