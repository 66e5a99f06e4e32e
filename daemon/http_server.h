#pragma once
// GET /healthz, /readyz, /metrics on the daemon's io_context (Boost.Beast), CONTRACT.md
// section 8. Read-only: nothing over HTTP changes state. Robust to slow or malformed
// clients: every connection has a 10 s deadline (renewed for each piece of a streamed
// body), headers and body are size-limited, one request per connection, errors close only
// that connection. /metrics is streamed: chunked transfer encoding to HTTP/1.1 clients, the
// body up to the close to HTTP/1.0 ones, so the text is never held whole (~100 MB for
// 10,000 databases).
//
// Threads: everything runs on the loop thread; the handlers must be cheap (they are: an
// atomic flag, and the metrics text written one piece at a time between socket writes).

#include <functional>
#include <memory>
#include <string>

#include "lib/core/asio.h"
#include "lib/core/status.h"

namespace maintd {

// A response body written piece by piece: appends the next piece (whole lines of about
// `bytes` or more) to `out`, returns false once the last piece is written.
using BodyPieces = std::function<bool(std::string& out, size_t bytes)>;

struct HttpHandlers {
  std::function<bool()> ready;          // /readyz: 200 when true, else 503
  std::function<BodyPieces()> metrics;  // /metrics body, a fresh source per request
};

class HttpServer {
 public:
  HttpServer(asio::io_context& loop, HttpHandlers handlers);
  ~HttpServer();
  // Listens on "host:port" ("127.0.0.1:9187", "[::1]:9187", ":9187" = all interfaces).
  // Errors, by what would fix them: Busy when the address is in use or not (yet) on this
  // host (waiting may help: exit 75); Config when the host is not an IP address or binding
  // is not permitted (e.g. a port below 1024: exit 78); IoError otherwise. The message names
  // the address and the reason.
  Status Listen(const std::string& address);
  // The port actually bound (useful with port 0 in tests).
  unsigned short port() const;
  void Close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace maintd
