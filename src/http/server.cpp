// Server: Boost.Beast sessions over plain TCP or TLS, the only translation unit that sees Beast.
//
// Design:
// - One io_context run by `threads` threads. Every connection gets its own strand, so a
//   session's handlers never run concurrently, while different connections use all threads.
//   Handlers run synchronously inside the session's read completion (they may block on the
//   database; that is why there are several I/O threads).
// - A request is read in two steps (header, then body) so that the header and body limits are
//   enforced by Beast's parser before the body is buffered, and so that "Expect: 100-continue"
//   gets its interim response instead of making the client wait.
// - Errors a client can cause are answered with a JSON error and the connection is closed
//   (400 malformed, 413 body too large, 431 header too large). After such an answer the socket
//   is half-closed and the rest of the client's upload is drained for a moment, because closing
//   a socket with unread data sends a reset that can destroy the answer in flight.
// - Stop() may be called from any thread: it flips an atomic, closes the acceptor on its strand,
//   asks every session (on its strand) to close if it is idle or to close after its current
//   response, and polls until no session is left or the grace period is over; then it stops the
//   io_context so that Run() returns.
#include "http/server.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "http/static_files.hpp"

namespace yagura::http {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view CONTINUE_RESPONSE = "HTTP/1.1 100 Continue\r\n\r\n";
// How long and how much of a refused upload is read and discarded before closing.
constexpr auto DRAIN_TIMEOUT = std::chrono::seconds(2);
constexpr size_t DRAIN_LIMIT_BYTES = 4 * 1024 * 1024;
constexpr auto STOP_POLL_INTERVAL = std::chrono::milliseconds(20);

// RFC 9110 IMF-fixdate, built by hand: strftime's day and month names follow the locale.
std::string HttpDate() {
  static constexpr const char* DAYS[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", DAYS[utc.tm_wday % 7],
                utc.tm_mday, MONTHS[utc.tm_mon % 12], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return buffer;
}

bool IsHttpParseError(const beast::error_code& ec) {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_method).category();
  return ec.category() == category;
}

bool ResponseMayHaveBody(int status) { return status >= 200 && status != 204 && status != 304; }

std::string RemoteAddress(const tcp::socket& socket) {
  beast::error_code ec;
  tcp::endpoint endpoint = socket.remote_endpoint(ec);
  if (ec) return {};
  net::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  std::string host;
  std::string port_text;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Fail("invalid listen address '" + listen + "': expected [ipv6]:port");
    }
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return Fail("invalid listen address '" + listen + "': expected host:port");
    }
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return Fail("invalid port in listen address '" + listen + "'");
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec)
    return Fail("invalid listen address '" + listen + "': '" + host + "' is not an IP address");
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

bool FileReadable(const std::string& path) {
  std::ifstream file(path);
  return file.good();
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Asks the session to finish: close now if idle, else after the response in progress.
  virtual void RequestStop() = 0;
};

// Everything a session needs from its server; Server::Impl (private to Server) wraps it.
struct ServerCore {
  ServerCore(ServerOptions server_options, const Router& server_router)
      : options(std::move(server_options)),
        router(server_router),
        io(std::max(1, options.threads)) {}

  ~ServerCore() {
    io.stop();
    // Sessions still owned by pending handlers are destroyed with `io`; the members they touch
    // in their destructors are declared before it.
  }

  void DoAccept();
  void OnAccept(const beast::error_code& ec, tcp::socket socket);
  void RejectBusy(tcp::socket& socket);
  void PollStop();
  void Register(uint64_t id, std::weak_ptr<SessionBase> session) {
    std::lock_guard lock(sessions_mutex);
    sessions.emplace(id, std::move(session));
  }
  void Unregister(uint64_t id) {
    std::lock_guard lock(sessions_mutex);
    sessions.erase(id);
    active.fetch_sub(1);
  }

  ServerOptions options;
  const Router& router;

  // Declared before `io`: sessions destroyed along with io's pending handlers use them.
  std::atomic<int> active{0};
  std::atomic<bool> stopping{false};
  std::mutex sessions_mutex;
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions;
  uint64_t next_session_id = 0;  // only touched on the acceptor's strand
  std::optional<ssl::context> tls;

  net::io_context io;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> accept_retry;
  std::optional<net::steady_timer> stop_timer;
  Clock::time_point stop_deadline;
  uint16_t port = 0;
  bool started = false;
};

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool TLS = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... Args>
  Session(ServerCore& server, uint64_t id, std::string remote, Args&&... args)
      : server_(server),
        id_(id),
        remote_(std::move(remote)),
        stream_(std::forward<Args>(args)...) {}

  ~Session() override { server_.Unregister(id_); }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Begin, this->shared_from_this()));
  }

  void RequestStop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      // A session waiting for the next request (or for the TLS handshake) is idle: closing it
      // loses nothing. A busy one notices `stopping` after its response and closes then.
      if (self->idle_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  auto& Lowest() { return beast::get_lowest_layer(stream_); }
  std::chrono::seconds Timeout() const {
    return std::chrono::seconds(std::max(1, server_.options.read_timeout_seconds));
  }

  void Begin() {
    if (server_.stopping.load()) return;
    if constexpr (TLS) {
      idle_ = true;
      Lowest().expires_after(Timeout());
      stream_.async_handshake(
          ssl::stream_base::server,
          beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this()));
    } else {
      ReadHeader();
    }
  }

  void OnHandshake(beast::error_code ec) {
    idle_ = false;
    if (ec) return;  // not TLS, or a failed handshake: nothing to answer to
    ReadHeader();
  }

  void ReadHeader() {
    if (server_.stopping.load()) return Close();
    parser_.emplace();
    parser_->header_limit(
        static_cast<uint32_t>(std::min<size_t>(server_.options.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(server_.options.max_body_bytes);
    request_ = Request{};
    idle_ = true;
    Lowest().expires_after(Timeout());
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnHeader, this->shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t) {
    idle_ = false;
    started_ = Clock::now();
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    request_.method = std::string(header.method_string());
    request_.target = std::string(header.target());
    if (parser_->is_done()) return Handle();
    auto expect = header[bhttp::field::expect];
    if (header.version() >= 11 && beast::iequals(expect, "100-continue")) {
      Lowest().expires_after(Timeout());
      net::async_write(stream_, net::buffer(CONTINUE_RESPONSE.data(), CONTINUE_RESPONSE.size()),
                       [self = this->shared_from_this()](beast::error_code write_ec, size_t) {
                         if (write_ec) return;
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    Lowest().expires_after(Timeout());
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnBody, this->shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    Handle();
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream) return Close();
    if (ec == bhttp::error::body_limit) {
      return SendError(
          413, "payload_too_large",
          "the request body exceeds " + std::to_string(server_.options.max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      return SendError(431, "header_too_large",
                       "the request header exceeds " +
                           std::to_string(server_.options.max_header_bytes) + " bytes");
    }
    if (IsHttpParseError(ec) && ec != bhttp::error::partial_message) {
      return SendError(400, "bad_request", "malformed HTTP request");
    }
    // Timeouts, resets, cancellation by Stop(), TLS errors: the session just ends and its
    // destructor closes the socket.
  }

  void SendError(int status, std::string_view code, const std::string& message) {
    Write(Response::Error(status, code, message), /*keep_alive=*/false, /*drain=*/true, false);
  }

  void Handle() {
    auto& message = parser_->get();
    request_.headers = Headers{};
    for (const auto& field : message) {
      request_.headers.Add(field.name_string(), std::string(field.value()));
    }
    request_.body = std::move(message.body());
    request_.remote_address = remote_;
    request_.tls = TLS;
    bool head = message.method() == bhttp::verb::head;
    bool keep_alive = message.keep_alive();
    version_ = message.version();

    Response response;
    auto decoded = DecodeTarget(request_.target, request_);
    if (decoded) decoded = CheckDecodedText(request_);
    if (!decoded) {
      response = Response::Error(400, "bad_request", decoded.error().message);
    } else {
      try {
        response = server_.router.Dispatch(request_);
      } catch (const std::exception& error) {
        std::fprintf(stderr, "http: %s %s failed: %s\n", request_.method.c_str(),
                     request_.path.c_str(), error.what());
        response = Response::Error(500, "internal_error", "internal server error");
      }
    }
    auto connection = response.headers.Get("connection");
    if (connection && beast::iequals(*connection, "close")) keep_alive = false;
    Write(std::move(response), keep_alive, /*drain=*/false, head);
  }

  void Write(Response response, bool keep_alive, bool drain, bool head) {
    drain_ = drain;
    close_ = !keep_alive || server_.stopping.load();
    status_ = response.status;

    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(response.status));
    // The security headers go on every response, errors included; the configured defaults and
    // then the handler's own headers may replace them (a stricter policy for attachments).
    for (const auto& [name, value] : SecurityHeaders()) response_.set(name, value);
    for (const auto& [name, value] : server_.options.default_headers) {
      response_.set(name, value);
    }
    std::optional<std::string> head_length;
    std::set<std::string, std::less<>> replaced;
    for (const auto& [name, value] : response.headers.all()) {
      if (name == "content-length") {
        head_length = value;
        continue;
      }
      if (name == "connection" || name == "transfer-encoding" || name == "date") continue;
      // A handler's header replaces a default header of the same name; repeated handler
      // headers (Set-Cookie) are all kept.
      // Known fields go in by enum so that they get their canonical spelling on the wire.
      bhttp::field field = bhttp::string_to_field(name);
      if (replaced.insert(name).second) response_.erase(name);
      if (field != bhttp::field::unknown) {
        response_.insert(field, value);
      } else {
        response_.insert(name, value);
      }
    }
    response_.set(bhttp::field::date, HttpDate());
    response_.keep_alive(!close_);
    if (!ResponseMayHaveBody(response.status)) {
      // RFC 9110: no body and no Content-Length for 1xx, 204 and 304.
    } else if (head) {
      uint64_t length = response.body.size();
      if (head_length) {
        uint64_t parsed = 0;
        auto [end, error] =
            std::from_chars(head_length->data(), head_length->data() + head_length->size(), parsed);
        if (error == std::errc() && end == head_length->data() + head_length->size()) {
          length = parsed;
        }
      }
      response_.content_length(length);
    } else {
      response_.body() = std::move(response.body);
      response_.content_length(response_.body().size());
    }

    Lowest().expires_after(Timeout());
    bhttp::async_write(stream_, response_,
                       beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (server_.options.on_request) {
      double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
      try {
        server_.options.on_request(request_, status_, seconds);
      } catch (const std::exception& error) {
        std::fprintf(stderr, "http: request callback failed: %s\n", error.what());
      }
    }
    if (ec) return;
    if (close_ || server_.stopping.load()) return drain_ ? Drain() : Close();
    ReadHeader();
  }

  // Closing and draining only wait for the peer, so Stop() may cut them short (idle_).
  void Close() {
    beast::error_code ec;
    idle_ = true;
    if constexpr (TLS) {
      Lowest().expires_after(std::chrono::seconds(DRAIN_TIMEOUT));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  // Half-closes, then reads and discards what the client still sends (see the file comment).
  void Drain() {
    if constexpr (TLS) {
      return Close();
    } else {
      beast::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      idle_ = true;
      Lowest().expires_after(DRAIN_TIMEOUT);
      DrainMore();
    }
  }

  void DrainMore() {
    if (drained_ >= DRAIN_LIMIT_BYTES) return;
    if (!drain_buffer_) drain_buffer_ = std::make_unique<char[]>(DRAIN_CHUNK);
    stream_.async_read_some(net::buffer(drain_buffer_.get(), DRAIN_CHUNK),
                            [self = this->shared_from_this()](beast::error_code ec, size_t bytes) {
                              if (ec) return;
                              self->drained_ += bytes;
                              self->DrainMore();
                            });
  }

  static constexpr size_t DRAIN_CHUNK = 16 * 1024;

  ServerCore& server_;
  uint64_t id_;
  std::string remote_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  Request request_;
  unsigned version_ = 11;
  int status_ = 0;
  bool idle_ = false;
  bool close_ = false;
  bool drain_ = false;
  size_t drained_ = 0;
  std::unique_ptr<char[]> drain_buffer_;
  Clock::time_point started_ = Clock::now();
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, const Router& router) : core(std::move(options), router) {}
  ServerCore core;
};

void ServerCore::DoAccept() {
  acceptor->async_accept(
      net::make_strand(io),
      [this](const beast::error_code& ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void ServerCore::OnAccept(const beast::error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
  if (ec) {
    // Usually EMFILE/ENFILE: retry a little later rather than spinning on the error.
    std::fprintf(stderr, "http: accept failed: %s\n", ec.message().c_str());
    accept_retry.emplace(acceptor->get_executor());
    accept_retry->expires_after(std::chrono::milliseconds(100));
    accept_retry->async_wait([this](const beast::error_code& wait_ec) {
      if (!wait_ec && acceptor->is_open()) DoAccept();
    });
    return;
  }
  if (stopping.load()) {
    beast::error_code ignored;
    socket.close(ignored);
  } else if (active.load() >= std::max(1, options.max_connections)) {
    RejectBusy(socket);
  } else {
    active.fetch_add(1);
    uint64_t id = ++next_session_id;
    std::string remote = RemoteAddress(socket);
    std::shared_ptr<SessionBase> base;
    if (tls) {
      auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          *this, id, std::move(remote), std::move(socket), *tls);
      base = session;
      Register(id, base);
      session->Start();
    } else {
      auto session = std::make_shared<Session<beast::tcp_stream>>(*this, id, std::move(remote),
                                                                  std::move(socket));
      base = session;
      Register(id, base);
      session->Start();
    }
  }
  DoAccept();
}

// Over the connection cap: a best-effort 503 (plain HTTP only; a TLS client cannot read it
// before a handshake), without blocking the acceptor, then close.
void ServerCore::RejectBusy(tcp::socket& socket) {
  beast::error_code ec;
  if (!tls) {
    std::string body = Response::Error(503, "unavailable", "too many connections").body;
    std::string text =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Connection: close\r\nRetry-After: 1\r\nDate: " +
        HttpDate() + "\r\n";
    for (const auto& [name, value] : SecurityHeaders()) text += name + ": " + value + "\r\n";
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    socket.non_blocking(true, ec);
    socket.write_some(net::buffer(text), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  socket.close(ec);
}

void ServerCore::PollStop() {
  if (active.load() == 0 || Clock::now() >= stop_deadline) {
    io.stop();
    return;
  }
  stop_timer->expires_after(STOP_POLL_INTERVAL);
  stop_timer->async_wait([this](const beast::error_code&) { PollStop(); });
}

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() = default;

Result<uint16_t> Server::Start() {
  ServerCore& impl = impl_->core;
  if (impl.started) return Fail("the server is already started");
  const ServerOptions& options = impl.options;
  auto endpoint = ParseListen(options.listen);
  if (!endpoint) return tl::unexpected(endpoint.error());

  bool has_cert = !options.tls_certificate.empty();
  bool has_key = !options.tls_private_key.empty();
  if (has_cert != has_key) {
    return Fail("TLS needs both a certificate and a private key");
  }
  if (has_cert) {
    for (const std::string* path : {&options.tls_certificate, &options.tls_private_key}) {
      if (!FileReadable(*path)) return Fail("cannot read TLS file '" + *path + "'");
    }
    impl.tls.emplace(ssl::context::tls_server);
    ssl::context& context = *impl.tls;
    beast::error_code ec;
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                        ec);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    context.use_certificate_chain_file(options.tls_certificate, ec);
    if (ec) {
      impl.tls.reset();
      return Fail("invalid TLS certificate '" + options.tls_certificate + "': " + ec.message());
    }
    context.use_private_key_file(options.tls_private_key, ssl::context::pem, ec);
    if (ec &&
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
      impl.tls.reset();
      return Fail("the TLS private key '" + options.tls_private_key +
                  "' does not match the certificate '" + options.tls_certificate + "'");
    }
    if (ec) {
      impl.tls.reset();
      return Fail("invalid TLS private key '" + options.tls_private_key + "': " + ec.message());
    }
    if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
      impl.tls.reset();
      return Fail("the TLS private key '" + options.tls_private_key +
                  "' does not match the certificate '" + options.tls_certificate + "'");
    }
  }

  beast::error_code ec;
  impl.acceptor.emplace(net::make_strand(impl.io));
  tcp::acceptor& acceptor = *impl.acceptor;
  auto fail = [&](std::string_view what) {
    std::string message =
        "cannot listen on " + options.listen + ": " + std::string(what) + ": " + ec.message();
    impl.acceptor.reset();
    return Fail(std::move(message));
  };
  acceptor.open(endpoint->protocol(), ec);
  if (ec) return fail("socket");
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return fail("setsockopt");
  acceptor.bind(*endpoint, ec);
  if (ec) return fail("bind");
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  impl.port = acceptor.local_endpoint(ec).port();
  impl.started = true;
  impl.DoAccept();
  return impl.port;
}

void Server::Run() {
  ServerCore& impl = impl_->core;
  auto run = [&impl] {
    while (true) {
      try {
        impl.io.run();
        return;
      } catch (const std::exception& error) {
        std::fprintf(stderr, "http: I/O thread error: %s\n", error.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, impl.options.threads); ++i) threads.emplace_back(run);
  run();
  for (std::thread& thread : threads) thread.join();
}

void Server::Stop(int grace_seconds) {
  ServerCore& impl = impl_->core;
  if (impl.stopping.exchange(true)) return;
  if (impl.acceptor) {
    net::post(impl.acceptor->get_executor(), [&impl] {
      beast::error_code ec;
      impl.acceptor->close(ec);
      if (impl.accept_retry) impl.accept_retry->cancel();
    });
  }
  // Copy first: locking a weak_ptr may make us the last owner, and the session's destructor
  // takes sessions_mutex.
  std::vector<std::weak_ptr<SessionBase>> sessions;
  {
    std::lock_guard lock(impl.sessions_mutex);
    for (const auto& [id, session] : impl.sessions) sessions.push_back(session);
  }
  for (const auto& weak : sessions) {
    if (auto session = weak.lock()) session->RequestStop();
  }
  net::post(impl.io, [&impl, grace_seconds] {
    impl.stop_deadline = Clock::now() + std::chrono::seconds(std::max(0, grace_seconds));
    impl.stop_timer.emplace(impl.io);
    impl.PollStop();
  });
}

uint16_t Server::port() const { return impl_->core.port; }

}  // namespace yagura::http
