#include "daemon/http_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

namespace maintd {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds kConnectionDeadline{10};
constexpr uint32_t kHeaderLimit = 8 * 1024;
constexpr uint64_t kBodyLimit = 1024;
// A streamed body is written in pieces of about this size: large enough that the socket
// writes stay cheap, small enough to be nothing next to the daemon's memory.
constexpr size_t kPieceBytes = 64 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpHandlers handlers)
      : stream_(std::move(socket)), handlers_(std::move(handlers)) {}

  void Start() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kConnectionDeadline);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->OnRead(ec);
                     });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return Close();
    if (ec) {
      // Malformed or too large: answer 400 when the socket still works, then close.
      if (ec == beast::error::timeout) return Close();
      return Respond(http::status::bad_request, "text/plain", "bad request\n", 11);
    }
    const auto& req = parser_->get();
    std::string target(req.target());
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      return Respond(http::status::method_not_allowed, "text/plain", "read-only: GET only\n",
                     req.version());
    }
    if (target == "/healthz") {
      return Respond(http::status::ok, "text/plain", "ok\n", req.version());
    }
    if (target == "/readyz") {
      bool ready = handlers_.ready && handlers_.ready();
      return Respond(ready ? http::status::ok : http::status::service_unavailable, "text/plain",
                     ready ? "ready\n" : "not ready\n", req.version());
    }
    if (target == "/metrics") {
      BodyPieces body = handlers_.metrics ? handlers_.metrics() : nullptr;
      if (!body) body = [](std::string&, size_t) { return false; };
      return Stream(std::move(body), req.version(), req.method() == http::verb::head);
    }
    Respond(http::status::not_found, "text/plain", "not found: /healthz /readyz /metrics\n",
            req.version());
  }

  void Respond(http::status status, const char* type, std::string body, unsigned version) {
    auto res = std::make_shared<http::response<http::string_body>>(status, version);
    res->set(http::field::server, "sqlite-maintd");
    res->set(http::field::content_type, type);
    res->set(http::field::connection, "close");
    res->body() = std::move(body);
    res->keep_alive(false);
    res->prepare_payload();
    stream_.expires_after(kConnectionDeadline);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code, size_t) {
                        self->Close();
                      });
  }

  // 200 with a body written piece by piece: each piece is a chunk for HTTP/1.1; for
  // HTTP/1.0 (no chunks) the body simply ends where the connection closes. A HEAD gets the
  // header only.
  void Stream(BodyPieces body, unsigned version, bool head) {
    body_ = std::move(body);
    chunked_ = version >= 11;
    auto res = std::make_shared<http::response<http::empty_body>>(http::status::ok, version);
    res->set(http::field::server, "sqlite-maintd");
    res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res->set(http::field::connection, "close");
    res->keep_alive(false);
    res->chunked(chunked_);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    stream_.expires_after(kConnectionDeadline);
    http::async_write_header(stream_, *sr,
                             [self = shared_from_this(), res, sr, head](beast::error_code ec, size_t) {
                               if (ec || head) return self->Close();
                               self->WritePiece();
                             });
  }

  void WritePiece() {
    piece_.clear();
    bool more = body_(piece_, kPieceBytes);
    if (piece_.empty() && more) return WritePiece();
    auto next = [self = shared_from_this(), more](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      if (more) return self->WritePiece();
      if (!self->chunked_) return self->Close();
      asio::async_write(self->stream_, http::make_chunk_last(),
                        [self](beast::error_code, size_t) { self->Close(); });
    };
    stream_.expires_after(kConnectionDeadline);
    if (piece_.empty()) return next({}, 0);
    if (chunked_) {
      return asio::async_write(stream_, http::make_chunk(asio::buffer(piece_)), std::move(next));
    }
    asio::async_write(stream_, asio::buffer(piece_), std::move(next));
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{kHeaderLimit};
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpHandlers handlers_;  // a copy: sessions may outlive the server object
  BodyPieces body_;        // the body being streamed
  bool chunked_ = false;
  std::string piece_;      // the piece being written (one at a time)
};

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& loop, HttpHandlers h) : acceptor(loop), handlers(std::move(h)) {}

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(s), self->handlers)->Start();
      self->Accept();
    });
  }

  tcp::acceptor acceptor;
  HttpHandlers handlers;
};

HttpServer::HttpServer(asio::io_context& loop, HttpHandlers handlers)
    : impl_(std::make_shared<Impl>(loop, std::move(handlers))) {}

HttpServer::~HttpServer() { Close(); }

Status HttpServer::Listen(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Status::Config("'" + address + "' is not host:port");
  }
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  beast::error_code ec;
  auto ip = asio::ip::make_address(host, ec);
  if (ec) return Status::Config("'" + host + "' is not an IP address (a host name is not resolved)");
  unsigned long port_number = 0;
  try {
    port_number = std::stoul(port);
  } catch (...) {
    return Status::Config("'" + port + "' is not a port");
  }
  if (port_number > 65535) return Status::Config("port " + port + " is out of range");
  tcp::endpoint endpoint(ip, static_cast<unsigned short>(port_number));
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string what = "cannot listen on " + address + ": " + ec.message();
    namespace errc = boost::system::errc;
    if (ec == errc::address_in_use || ec == errc::address_not_available) {
      return Status::Busy(what);
    }
    if (ec == errc::permission_denied || ec == errc::operation_not_permitted) {
      return Status::Config(what);
    }
    return Status::IoError(what);
  }
  impl_->Accept();
  return Status::Ok();
}

unsigned short HttpServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::Close() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace maintd
