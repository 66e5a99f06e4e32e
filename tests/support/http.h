#pragma once
// Plain HTTP over loopback for the end-to-end tests of the daemon's endpoints.

#include <string>

#include "tests/support/test_util.h"

namespace maintd::test {

struct HttpReply {
  int status = 0;
  std::string headers;  // the status line and headers, lower-cased
  std::string body;
};

// One raw request over loopback, read until the server closes (5 s at most); a chunked
// body is decoded. Status 0 when nothing came back (HTTP/1.0 replies included).
HttpReply RawHttp(int port, const std::string& request);
HttpReply Get(int port, const std::string& path);
// The port the daemon logged it listens on ("(port N)"), waiting up to 10 s; 0 when none.
int PortFromLog(ChildProcess& daemon);

}  // namespace maintd::test
