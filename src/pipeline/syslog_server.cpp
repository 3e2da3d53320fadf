// SyslogServer (see syslog_server.hpp): the only translation unit of the pipeline that sees
// Asio, so that its compile cost is paid once.
//
// Structure: Impl owns the io_context, the TCP/TLS acceptors and the UDP sockets. A Connection
// (templated on plain TCP or TLS) reads, frames into a list of encoded envelopes, appends them,
// and only then reads again; its handlers run on its strand. Connections register in a table of
// weak pointers so that Stop() can reach them; their destructor unregisters them.
#include "pipeline/syslog_server.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "core/time.hpp"
#include "pipeline/envelope.hpp"
#include "pipeline/syslog_framing.hpp"

namespace yagura::pipeline {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using udp = boost::asio::ip::udp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr auto FULL_RETRY_INTERVAL = std::chrono::milliseconds(50);
constexpr auto ACCEPT_RETRY_INTERVAL = std::chrono::milliseconds(100);
constexpr auto STOP_GRACE = std::chrono::seconds(5);
constexpr auto STOP_POLL_INTERVAL = std::chrono::milliseconds(5);
constexpr int64_t MAX_HANDSHAKE_TIMEOUT_MS = 30000;
constexpr size_t READ_BUFFER_BYTES = 128 * 1024;
constexpr size_t UDP_BUFFER_BYTES = 65536;         // larger than any UDP payload
constexpr int UDP_RECEIVE_BUFFER_BYTES = 4 << 20;  // absorbs bursts while a batch is appended

constexpr std::string_view MESSAGES_METRIC = "yagura_syslog_messages_total";
constexpr std::string_view MESSAGES_HELP = "Syslog messages appended to the spool.";
constexpr std::string_view BYTES_METRIC = "yagura_syslog_bytes_total";
constexpr std::string_view BYTES_HELP = "Bytes of syslog messages appended to the spool.";
constexpr std::string_view REJECTED_METRIC = "yagura_syslog_rejected_total";
constexpr std::string_view REJECTED_HELP =
    "Syslog messages, datagrams or connections refused, by reason.";
constexpr std::string_view BACKPRESSURE_METRIC = "yagura_syslog_backpressure_total";
constexpr std::string_view BACKPRESSURE_HELP =
    "Times a syslog stream stopped reading because the spool was full.";
constexpr std::string_view CONNECTIONS_METRIC = "yagura_syslog_connections";
constexpr std::string_view CONNECTIONS_HELP = "Open syslog TCP and TLS connections.";

// IngestQueue says FULL when the spool is at its limit or this batch would cross it: retry later.
bool IsSpoolFull(const Error& error) {
  return error.message == IngestQueue::FULL;
}

net::ip::address Unmapped(const net::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::string EndpointText(const net::ip::address& raw, uint16_t port) {
  net::ip::address address = Unmapped(raw);
  if (address.is_v6()) return fmt::format("[{}]:{}", address.to_string(), port);
  return fmt::format("{}:{}", address.to_string(), port);
}

const SyslogSender* SenderFor(const SenderMap& senders, const net::ip::address& address) {
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    return senders.ForAddressBytes(std::span<const uint8_t>(bytes.data(), bytes.size()));
  }
  auto bytes = address.to_v6().to_bytes();
  return senders.ForAddressBytes(std::span<const uint8_t>(bytes.data(), bytes.size()));
}

Result<std::pair<net::ip::address, uint16_t>> ParseListen(const std::string& listen) {
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
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return Fail("invalid port in listen address '" + listen + "'");
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  error_code ec;
  net::ip::address address = net::ip::make_address(host, ec);
  if (ec) {
    return Fail("invalid listen address '" + listen + "': '" + host + "' is not an IP address");
  }
  return std::make_pair(address, static_cast<uint16_t>(port));
}

std::string Hex(const unsigned char* bytes, size_t size) {
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex.push_back(DIGITS[bytes[i] >> 4]);
    hex.push_back(DIGITS[bytes[i] & 15]);
  }
  return hex;
}

// The SHA-256 fingerprint and the subject common name of the peer's certificate (empty when
// it sent none).
std::pair<std::string, std::string> PeerCertificate(SSL* ssl) {
  X509* certificate = SSL_get1_peer_certificate(ssl);
  if (certificate == nullptr) return {};
  std::pair<std::string, std::string> result;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &length) == 1) {
    result.first = Hex(digest, length);
  }
  X509_NAME* subject = X509_get_subject_name(certificate);
  int index = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    int size = ASN1_STRING_to_UTF8(&utf8, data);
    if (size > 0) result.second.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(size));
    OPENSSL_free(utf8);
  }
  X509_free(certificate);
  return result;
}

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void RequestStop() = 0;
};

struct SenderCounters {
  Counter* messages = nullptr;
  Counter* bytes = nullptr;
};

}  // namespace

struct SyslogServer::Impl {
  Impl(SyslogServerOptions server_options, const SenderMap& sender_map, IngestQueue& ingest,
       Metrics& registry)
      : options(std::move(server_options)),
        senders(sender_map),
        queue(ingest),
        metrics(registry),
        tcp_connections(
            &registry.GetGauge(CONNECTIONS_METRIC, CONNECTIONS_HELP, {{"transport", "tcp"}})),
        tls_connections(
            &registry.GetGauge(CONNECTIONS_METRIC, CONNECTIONS_HELP, {{"transport", "tls"}})),
        io(std::max(1, options.threads)) {}

  ~Impl();

  void Reject(std::string_view transport, std::string_view reason, double amount = 1.0) {
    metrics
        .GetCounter(REJECTED_METRIC, REJECTED_HELP,
                    {{"transport", std::string(transport)}, {"reason", std::string(reason)}})
        .Increment(amount);
  }
  SenderCounters CountersFor(std::string_view transport, const SyslogSender& sender) {
    MetricLabels labels = {
        {"transport", std::string(transport)}, {"org_id", sender.org_id}, {"sensor", sender.name}};
    return {&metrics.GetCounter(MESSAGES_METRIC, MESSAGES_HELP, labels),
            &metrics.GetCounter(BYTES_METRIC, BYTES_HELP, labels)};
  }
  void Register(uint64_t id, std::weak_ptr<ConnectionBase> connection) {
    std::lock_guard lock(registry_mutex);
    registry.emplace(id, std::move(connection));
  }
  void Unregister(uint64_t id) {
    std::lock_guard lock(registry_mutex);
    registry.erase(id);
  }
  int64_t HandshakeTimeoutMs() const {
    return std::clamp<int64_t>(options.idle_timeout_ms, 1, MAX_HANDSHAKE_TIMEOUT_MS);
  }
  void Stop();

  SyslogServerOptions options;
  const SenderMap senders;
  IngestQueue& queue;
  Metrics& metrics;
  Gauge* tcp_connections;
  Gauge* tls_connections;

  // Declared before `io`: connections destroyed along with io's pending handlers use them.
  std::atomic<bool> stopping{false};
  std::atomic<size_t> open_connections{0};
  std::atomic<uint64_t> next_id{0};
  std::mutex registry_mutex;
  std::unordered_map<uint64_t, std::weak_ptr<ConnectionBase>> registry;
  std::optional<ssl::context> tls;
  bool verified_names = false;  // a client CA verifies certificates: cert-cn applies

  net::io_context io;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::unique_ptr<class SyslogAcceptor>> acceptors;
  std::vector<std::unique_ptr<class SyslogUdpListener>> udp_listeners;
  std::vector<std::string> endpoints;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  bool stopped = false;
};

namespace {

using Core = SyslogServer::Impl;

// One TCP or TLS connection: read, frame, append, read again.
template <bool TLS>
class Connection : public ConnectionBase,
                   public SyslogFrameSink,
                   public std::enable_shared_from_this<Connection<TLS>> {
 public:
  using Stream = std::conditional_t<TLS, ssl::stream<tcp::socket>, tcp::socket>;
  static constexpr std::string_view TRANSPORT = TLS ? "tls" : "tcp";

  Connection(Core& core, uint64_t id, tcp::socket socket, std::string peer,
             const SyslogSender* address_sender)
      : core_(core),
        id_(id),
        peer_(std::move(peer)),
        sender_(address_sender),
        framer_(core.options.max_message_bytes),
        stream_(MakeStream(core, std::move(socket))),
        timer_(stream_.get_executor()),
        retry_(stream_.get_executor()),
        chunk_(core.options.max_batch) {
    core_.open_connections.fetch_add(1);
    ConnectionGauge()->Increment();
  }

  ~Connection() override {
    ConnectionGauge()->Decrement();
    core_.open_connections.fetch_sub(1);
    core_.Unregister(id_);
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Begin(); });
  }

  void RequestStop() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stop_requested_ = true;
      error_code ec;
      if (self->waiting_for_peer_) self->Lowest().cancel(ec);  // reading or handshaking
      self->retry_.cancel();  // a stalled batch gets its last attempt now
    });
  }

  // SyslogFrameSink: encode each message into the pending batch.
  void OnMessage(std::string_view message) override {
    if (malformed_) return;  // the connection is out of step: nothing after it is trusted
    if (pending_count_ == pending_.size()) pending_.emplace_back();
    std::string& record = pending_[pending_count_++];
    record.clear();
    Envelope envelope;
    envelope.kind = PayloadKind::kSyslog;
    envelope.org_id = sender_->org_id;
    envelope.sensor_id = sender_->name;
    envelope.logsource = sender_->logsource;
    envelope.received_at = received_at_;
    envelope.peer = peer_;
    envelope.transport = TRANSPORT;
    envelope.payload = message;
    EncodeEnvelope(envelope, record);
    pending_bytes_.push_back(message.size());
  }
  void OnFramingError(std::string_view reason) override {
    if (reason.find("the limit") != std::string_view::npos) {
      core_.Reject(TRANSPORT, "oversized");  // skipped by the framer; the stream stays in step
      return;
    }
    if (!malformed_) core_.Reject(TRANSPORT, "malformed_frame");
    malformed_ = true;
  }

 private:
  static Stream MakeStream(Core& core, tcp::socket socket) {
    if constexpr (TLS) {
      return Stream(std::move(socket), *core.tls);
    } else {
      return socket;
    }
  }
  Gauge* ConnectionGauge() const { return TLS ? core_.tls_connections : core_.tcp_connections; }
  tcp::socket& Lowest() {
    if constexpr (TLS) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // Closes the socket when `timeout_ms` passes before the next Disarm() or Arm().
  void Arm(int64_t timeout_ms) {
    uint64_t generation = ++timer_generation_;
    timer_.expires_after(std::chrono::milliseconds(std::max<int64_t>(1, timeout_ms)));
    timer_.async_wait([self = this->shared_from_this(), generation](const error_code& ec) {
      if (ec || generation != self->timer_generation_) return;
      error_code ignored;
      self->Lowest().cancel(ignored);
    });
  }
  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void Begin() {
    if (core_.stopping.load()) return Close();
    if constexpr (TLS) {
      waiting_for_peer_ = true;
      Arm(core_.HandshakeTimeoutMs());
      stream_.async_handshake(
          ssl::stream_base::server,
          [self = this->shared_from_this()](const error_code& ec) { self->OnHandshake(ec); });
    } else {
      Identified(sender_);
    }
  }

  void OnHandshake(const error_code& ec) {
    waiting_for_peer_ = false;
    Disarm();
    if (ec) {
      if (!stop_requested_) core_.Reject(TRANSPORT, "tls_handshake");
      return Close();
    }
    if constexpr (TLS) {
      auto [fingerprint, common_name] = PeerCertificate(stream_.native_handle());
      bool verified =
          core_.verified_names && SSL_get_verify_result(stream_.native_handle()) == X509_V_OK;
      const SyslogSender* by_certificate =
          core_.senders.ForCertificate(fingerprint, verified ? common_name : std::string());
      Identified(by_certificate != nullptr ? by_certificate : sender_);
    }
  }

  void Identified(const SyslogSender* sender) {
    if (sender == nullptr) {
      core_.Reject(TRANSPORT, "unknown_sender");
      return Close();
    }
    sender_ = sender;
    counters_ = core_.CountersFor(TRANSPORT, *sender);
    ReadMore();
  }

  void ReadMore() {
    if (stop_requested_ || core_.stopping.load()) return Close();
    waiting_for_peer_ = true;
    Arm(core_.options.idle_timeout_ms);
    stream_.async_read_some(net::buffer(read_buffer_.data(), read_buffer_.size()),
                            [self = this->shared_from_this()](const error_code& ec, size_t size) {
                              self->OnRead(ec, size);
                            });
  }

  void OnRead(const error_code& ec, size_t size) {
    waiting_for_peer_ = false;
    Disarm();
    received_at_ = FormatTimestampMs(NowMs());
    if (size > 0) framer_.Feed(std::string_view(read_buffer_.data(), size), *this);
    if (ec) {
      bool clean_end = ec == net::error::eof;
      if constexpr (TLS) clean_end = clean_end || ec == ssl::error::stream_truncated;
      // At the end of the stream an unterminated last line is a message; after a reset, a
      // timeout or Stop() it may be half of one and is dropped with the framer.
      if (clean_end) framer_.Finish(*this);
      close_notify_received_ = TLS && ec == net::error::eof;
      ended_ = true;
    }
    Flush();
  }

  // Appends the pending batch in chunks of at most max_batch, then reads on (or closes).
  void Flush() {
    if (closed_) return;
    while (flushed_ < pending_count_) {
      size_t count = std::min(chunk_, pending_count_ - flushed_);
      views_.clear();
      for (size_t i = flushed_; i < flushed_ + count; ++i) views_.emplace_back(pending_[i]);
      auto appended = core_.queue.Append(views_);
      if (!appended) {
        if (!IsSpoolFull(appended.error())) {
          core_.Reject(TRANSPORT, "spool_error", static_cast<double>(pending_count_ - flushed_));
          std::fprintf(stderr, "syslog: cannot append to the spool: %s\n",
                       appended.error().ToString().c_str());
          return Close();
        }
        if (stop_requested_ || core_.stopping.load()) {
          // Stop() does not wait for space: what is left was never acknowledged beyond TCP.
          core_.Reject(TRANSPORT, "spool_full", static_cast<double>(pending_count_ - flushed_));
          return Close();
        }
        if (!stalled_)
          core_.metrics
              .GetCounter(BACKPRESSURE_METRIC, BACKPRESSURE_HELP,
                          {{"transport", std::string(TRANSPORT)}})
              .Increment();
        stalled_ = true;
        // A batch bigger than the free space would never fit: try smaller pieces.
        if (count > 1) chunk_ = std::max<size_t>(1, count / 2);
        retry_.expires_after(FULL_RETRY_INTERVAL);
        retry_.async_wait([self = this->shared_from_this()](const error_code&) { self->Flush(); });
        return;
      }
      size_t bytes = 0;
      for (size_t i = flushed_; i < flushed_ + count; ++i) bytes += pending_bytes_[i];
      counters_.messages->Increment(static_cast<double>(count));
      counters_.bytes->Increment(static_cast<double>(bytes));
      flushed_ += count;
    }
    stalled_ = false;
    chunk_ = core_.options.max_batch;
    pending_count_ = 0;
    flushed_ = 0;
    pending_bytes_.clear();
    if (malformed_ || ended_) return Close();
    ReadMore();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    retry_.cancel();
    if constexpr (TLS) {
      // RFC 5425: a sender that closed the stream cleanly gets a closure alert back.
      if (close_notify_received_ && !malformed_) {
        Arm(std::min<int64_t>(core_.HandshakeTimeoutMs(), 5000));
        stream_.async_shutdown(
            [self = this->shared_from_this()](const error_code&) { self->CloseSocket(); });
        return;
      }
    }
    CloseSocket();
  }
  void CloseSocket() {
    Disarm();
    error_code ec;
    Lowest().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close(ec);
  }

  Core& core_;
  uint64_t id_;
  std::string peer_;
  const SyslogSender* sender_;
  SenderCounters counters_;
  SyslogStreamFramer framer_;
  Stream stream_;
  net::steady_timer timer_;
  net::steady_timer retry_;
  uint64_t timer_generation_ = 0;
  std::array<char, READ_BUFFER_BYTES> read_buffer_;
  std::string received_at_;
  // The batch framed from the last read: encoded envelopes (reused between reads), their
  // payload sizes, and how many of them are already in the spool.
  std::vector<std::string> pending_;
  std::vector<size_t> pending_bytes_;
  std::vector<std::string_view> views_;
  size_t pending_count_ = 0;
  size_t flushed_ = 0;
  size_t chunk_;
  bool waiting_for_peer_ = false;
  bool stop_requested_ = false;
  bool stalled_ = false;
  bool malformed_ = false;
  bool ended_ = false;
  bool closed_ = false;
  bool close_notify_received_ = false;
};

}  // namespace

class SyslogAcceptor {
 public:
  SyslogAcceptor(Core& core, bool tls)
      : core_(core),
        tls_(tls),
        acceptor_(net::make_strand(core.io)),
        retry_(acceptor_.get_executor()) {}

  Result<std::string> Listen(const std::string& listen) {
    auto parsed = ParseListen(listen);
    if (!parsed) return tl::unexpected(parsed.error());
    tcp::endpoint endpoint(parsed->first, parsed->second);
    error_code ec;
    auto fail = [&](std::string_view what) {
      return Fail(fmt::format("cannot listen on {} ({}): {}: {}", listen, tls_ ? "tls" : "tcp",
                              what, ec.message()));
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail("socket");
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return fail("setsockopt");
    acceptor_.bind(endpoint, ec);
    if (ec) return fail("bind");
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    tcp::endpoint bound = acceptor_.local_endpoint(ec);
    return fmt::format("{} {}", tls_ ? "tls" : "tcp", EndpointText(bound.address(), bound.port()));
  }

  void Accept() {
    acceptor_.async_accept(
        net::make_strand(core_.io),
        [this](const error_code& ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
  }

  void Close() {
    net::post(acceptor_.get_executor(), [this] {
      error_code ec;
      acceptor_.close(ec);
      retry_.cancel();
    });
  }

 private:
  void OnAccept(const error_code& ec, tcp::socket socket) {
    if (core_.stopping.load() || ec == net::error::operation_aborted) return;
    std::string_view transport = tls_ ? "tls" : "tcp";
    if (ec) {
      // Out of descriptors and the like: wait a little instead of spinning.
      retry_.expires_after(ACCEPT_RETRY_INTERVAL);
      retry_.async_wait([this](const error_code& wait_ec) {
        if (!wait_ec && !core_.stopping.load()) Accept();
      });
      return;
    }
    error_code peer_ec;
    tcp::endpoint remote = socket.remote_endpoint(peer_ec);
    if (peer_ec) return Accept();  // already gone
    const SyslogSender* sender = SenderFor(core_.senders, remote.address());
    bool refuse_sender = sender == nullptr && (!tls_ || !core_.senders.HasCertificateMatches());
    if (core_.open_connections.load() >= core_.options.max_connections) {
      core_.Reject(transport, "connection_limit");
      socket.close(peer_ec);
    } else if (refuse_sender) {
      core_.Reject(transport, "unknown_sender");
      socket.close(peer_ec);
    } else {
      uint64_t id = core_.next_id.fetch_add(1);
      std::string peer = EndpointText(remote.address(), remote.port());
      if (tls_) {
        auto typed = std::make_shared<Connection<true>>(core_, id, std::move(socket),
                                                        std::move(peer), sender);
        core_.Register(id, typed);
        typed->Start();
      } else {
        auto typed = std::make_shared<Connection<false>>(core_, id, std::move(socket),
                                                         std::move(peer), sender);
        core_.Register(id, typed);
        typed->Start();
      }
    }
    Accept();
  }

  Core& core_;
  bool tls_;
  tcp::acceptor acceptor_;
  net::steady_timer retry_;
};

// One UDP socket: waits until datagrams are ready, drains up to max_batch of them without
// blocking, appends them as one batch, waits again.
class SyslogUdpListener {
 public:
  explicit SyslogUdpListener(Core& core)
      : core_(core), socket_(net::make_strand(core.io)), buffer_(UDP_BUFFER_BYTES) {}

  Result<std::string> Listen(const std::string& listen) {
    auto parsed = ParseListen(listen);
    if (!parsed) return tl::unexpected(parsed.error());
    udp::endpoint endpoint(parsed->first, parsed->second);
    error_code ec;
    auto fail = [&](std::string_view what) {
      return Fail(fmt::format("cannot listen on {} (udp): {}: {}", listen, what, ec.message()));
    };
    socket_.open(endpoint.protocol(), ec);
    if (ec) return fail("socket");
    socket_.set_option(net::socket_base::reuse_address(true), ec);
    if (ec) return fail("setsockopt");
    error_code ignored;  // best effort: the kernel may cap it
    socket_.set_option(net::socket_base::receive_buffer_size(UDP_RECEIVE_BUFFER_BYTES), ignored);
    socket_.bind(endpoint, ec);
    if (ec) return fail("bind");
    socket_.non_blocking(true, ec);
    if (ec) return fail("non-blocking mode");
    udp::endpoint bound = socket_.local_endpoint(ec);
    return "udp " + EndpointText(bound.address(), bound.port());
  }

  void Wait() {
    socket_.async_wait(udp::socket::wait_read, [this](const error_code& ec) {
      if (ec || core_.stopping.load()) return;
      Drain();
      Wait();
    });
  }

  void Close() {
    net::post(socket_.get_executor(), [this] {
      error_code ec;
      socket_.close(ec);
    });
  }

 private:
  struct Received {
    const SyslogSender* sender;
    size_t bytes;
  };

  void Drain() {
    std::string received_at = FormatTimestampMs(NowMs());
    size_t count = 0;
    received_.clear();
    while (count < core_.options.max_batch) {
      udp::endpoint from;
      error_code ec;
      size_t size = socket_.receive_from(net::buffer(buffer_.data(), buffer_.size()), from, 0, ec);
      if (ec == net::error::would_block || ec == net::error::try_again) break;
      if (ec) break;  // nothing sensible to do with a datagram socket error but wait again
      const SyslogSender* sender = SenderFor(core_.senders, from.address());
      if (sender == nullptr) {
        core_.Reject("udp", "unknown_sender");
        continue;
      }
      if (size > core_.options.max_message_bytes) {
        core_.Reject("udp", "oversized");
        continue;
      }
      std::string_view message(buffer_.data(), size);
      while (!message.empty() &&
             (message.back() == '\n' || message.back() == '\r' || message.back() == '\0')) {
        message.remove_suffix(1);
      }
      if (message.empty()) continue;
      if (count == batch_.size()) batch_.emplace_back();
      std::string& record = batch_[count++];
      record.clear();
      std::string peer = EndpointText(from.address(), from.port());
      Envelope envelope;
      envelope.kind = PayloadKind::kSyslog;
      envelope.org_id = sender->org_id;
      envelope.sensor_id = sender->name;
      envelope.logsource = sender->logsource;
      envelope.received_at = received_at;
      envelope.peer = peer;
      envelope.transport = "udp";
      envelope.payload = message;
      EncodeEnvelope(envelope, record);
      received_.push_back({sender, message.size()});
    }
    if (count == 0) return;
    views_.clear();
    for (size_t i = 0; i < count; ++i) views_.emplace_back(batch_[i]);
    auto appended = core_.queue.Append(views_);
    if (!appended) {
      // UDP cannot be slowed down: what does not fit is dropped, and counted.
      bool full = IsSpoolFull(appended.error());
      core_.Reject("udp", full ? "spool_full" : "spool_error", static_cast<double>(count));
      if (!full) {
        std::fprintf(stderr, "syslog: cannot append to the spool: %s\n",
                     appended.error().ToString().c_str());
      }
      return;
    }
    for (const Received& item : received_) {
      auto it = counters_.find(item.sender);
      if (it == counters_.end()) {
        it = counters_.emplace(item.sender, core_.CountersFor("udp", *item.sender)).first;
      }
      it->second.messages->Increment();
      it->second.bytes->Increment(static_cast<double>(item.bytes));
    }
  }

  Core& core_;
  udp::socket socket_;
  std::vector<char> buffer_;
  std::vector<std::string> batch_;  // encoded envelopes, reused between drains
  std::vector<std::string_view> views_;
  std::vector<Received> received_;
  std::unordered_map<const SyslogSender*, SenderCounters> counters_;
};

SyslogServer::Impl::~Impl() {
  Stop();
  // Sockets before the io_context they belong to; connections still owned by pending handlers
  // go with `io` and only touch the members declared before it.
  acceptors.clear();
  udp_listeners.clear();
}

void SyslogServer::Impl::Stop() {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) return;
  stopped = true;
  stopping.store(true);
  for (auto& acceptor : acceptors) acceptor->Close();
  for (auto& listener : udp_listeners) listener->Close();
  // Copy first: locking a weak pointer may make this thread the last owner, and the
  // connection's destructor takes registry_mutex.
  std::vector<std::weak_ptr<ConnectionBase>> connections;
  {
    std::lock_guard lock(registry_mutex);
    for (const auto& [id, connection] : registry) connections.push_back(connection);
  }
  for (const auto& weak : connections) {
    if (auto connection = weak.lock()) connection->RequestStop();
  }
  connections.clear();
  auto deadline = Clock::now() + STOP_GRACE;
  while (open_connections.load() > 0 && Clock::now() < deadline && !threads.empty()) {
    std::this_thread::sleep_for(STOP_POLL_INTERVAL);
  }
  work.reset();
  io.stop();
  for (std::thread& thread : threads) thread.join();
  threads.clear();
}

SyslogServer::SyslogServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SyslogServer::~SyslogServer() = default;

void SyslogServer::Stop() { impl_->Stop(); }

std::vector<std::string> SyslogServer::endpoints() const { return impl_->endpoints; }

Result<std::unique_ptr<SyslogServer>> SyslogServer::Start(SyslogServerOptions options,
                                                          const SenderMap& senders,
                                                          IngestQueue& queue, Metrics& metrics) {
  if (options.max_message_bytes == 0) return Fail("max_message_bytes must be positive");
  if (options.max_batch == 0) return Fail("max_batch must be positive");
  if (options.udp.empty() && options.tcp.empty() && options.tls.empty()) {
    return Fail("no syslog listener configured");
  }
  auto impl = std::make_unique<Impl>(std::move(options), senders, queue, metrics);
  const SyslogServerOptions& opts = impl->options;

  if (!opts.tls.empty()) {
    if (opts.tls_cert_file.empty() || opts.tls_key_file.empty()) {
      return Fail("syslog over TLS needs a certificate and a private key");
    }
    for (const std::string* path : {&opts.tls_cert_file, &opts.tls_key_file}) {
      if (!std::ifstream(*path).good()) return Fail("cannot read TLS file '" + *path + "'");
    }
    impl->tls.emplace(ssl::context::tls_server);
    ssl::context& context = *impl->tls;
    error_code ec;
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                        ec);
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    // Resumed TLS handshakes fail without an id context once client certificates are checked.
    static constexpr unsigned char RESUMPTION_CONTEXT[] = "yagura-syslog";
    SSL_CTX_set_session_id_context(context.native_handle(), RESUMPTION_CONTEXT,
                                   sizeof RESUMPTION_CONTEXT - 1);
    context.use_certificate_chain_file(opts.tls_cert_file, ec);
    if (ec) return Fail("invalid TLS certificate '" + opts.tls_cert_file + "': " + ec.message());
    context.use_private_key_file(opts.tls_key_file, ssl::context::pem, ec);
    if (ec) return Fail("invalid TLS private key '" + opts.tls_key_file + "': " + ec.message());
    if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
      return Fail("the TLS private key '" + opts.tls_key_file +
                  "' does not match the certificate '" + opts.tls_cert_file + "'");
    }
    if (!opts.tls_client_ca_file.empty()) {
      if (!std::ifstream(opts.tls_client_ca_file).good()) {
        return Fail("cannot read TLS client CA file '" + opts.tls_client_ca_file + "'");
      }
      context.load_verify_file(opts.tls_client_ca_file, ec);
      if (ec) {
        return Fail("invalid TLS client CA '" + opts.tls_client_ca_file + "': " + ec.message());
      }
      context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
      impl->verified_names = true;
    } else if (impl->senders.HasCertificateMatches()) {
      // Ask for a certificate so a pinned fingerprint can match, but accept any (or none):
      // without a CA, the fingerprint is the whole check.
      context.set_verify_mode(ssl::verify_peer);
      context.set_verify_callback([](bool, ssl::verify_context&) { return true; });
    }
  }

  for (const std::string& listen : impl->options.udp) {
    auto listener = std::make_unique<SyslogUdpListener>(*impl);
    auto bound = listener->Listen(listen);
    if (!bound) return tl::unexpected(bound.error());
    impl->endpoints.push_back(*bound);
    impl->udp_listeners.push_back(std::move(listener));
  }
  for (bool tls : {false, true}) {
    for (const std::string& listen : tls ? impl->options.tls : impl->options.tcp) {
      auto acceptor = std::make_unique<SyslogAcceptor>(*impl, tls);
      auto bound = acceptor->Listen(listen);
      if (!bound) return tl::unexpected(bound.error());
      impl->endpoints.push_back(*bound);
      impl->acceptors.push_back(std::move(acceptor));
    }
  }

  for (auto& listener : impl->udp_listeners) listener->Wait();
  for (auto& acceptor : impl->acceptors) acceptor->Accept();
  impl->work.emplace(impl->io.get_executor());
  Core* core = impl.get();
  for (int i = 0; i < std::max(1, core->options.threads); ++i) {
    core->threads.emplace_back([core] {
      while (true) {
        try {
          core->io.run();
          return;
        } catch (const std::exception& error) {
          std::fprintf(stderr, "syslog: I/O thread error: %s\n", error.what());
        }
      }
    });
  }
  return std::unique_ptr<SyslogServer>(new SyslogServer(std::move(impl)));
}

}  // namespace yagura::pipeline
