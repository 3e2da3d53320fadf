#include "pipeline/syslog_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/envelope.hpp"

namespace yagura::pipeline {
namespace {

namespace fs = std::filesystem;
using Payloads = std::vector<std::string>;

// Waits for `condition` with a generous deadline; the tests never assert a duration.
bool WaitUntil(const std::function<bool()>& condition, int seconds = 20) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

struct Message {
  std::string payload;
  std::string org_id;
  std::string sensor_id;
  std::string logsource;
  std::string peer;
  std::string transport;
  PayloadKind kind;
};

// A connected socket to 127.0.0.1 or ::1.
int Connect(int type, uint16_t port, bool ipv6 = false) {
  int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int result;
  if (ipv6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(port);
    address.sin6_addr = in6addr_loopback;
    result = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    result = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  if (result != 0) {
    ::close(fd);
    return -1;
  }
  if (type == SOCK_STREAM) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  timeval timeout{30, 0};  // a safety net against a hanging test, not an assertion
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

std::string LocalEndpoint(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

// True when the peer closed the connection (EOF or reset) rather than sending anything.
bool ClosedByPeer(int fd) {
  char byte;
  ssize_t got = ::recv(fd, &byte, 1, 0);
  return got == 0 || (got < 0 && errno == ECONNRESET);
}

std::string Counted(std::string_view message) {
  return std::to_string(message.size()) + " " + std::string(message);
}

class SyslogServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "yagura-syslog-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    OpenSpool({});
  }
  void TearDown() override {
    server_.reset();
    queue_.reset();
    spool_.reset();
    fs::remove_all(dir_);
  }

  void OpenSpool(SpoolOptions options) {
    options.dir = (dir_ / "spool").string();
    auto spool = Spool::Open(options);
    ASSERT_TRUE(spool) << spool.error().ToString();
    spool_ = std::move(*spool);
    queue_ = std::make_unique<IngestQueue>(*spool_);
  }

  static SenderMap Map(std::vector<SyslogSender> senders) {
    auto map = SenderMap::Build(std::move(senders));
    EXPECT_TRUE(map) << map.error().ToString();
    return map ? std::move(*map) : SenderMap();
  }
  static SenderMap Loopback() {
    return Map({SyslogSender{"lo", "org-a", "product=linux", "127.0.0.1"}});
  }

  void StartServer(SyslogServerOptions options, const SenderMap& senders) {
    auto server = SyslogServer::Start(std::move(options), senders, *queue_, metrics_);
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
  }
  // The port of the first endpoint of `transport` ("udp 127.0.0.1:40123").
  uint16_t Port(std::string_view transport) {
    for (const std::string& endpoint : server_->endpoints()) {
      if (endpoint.starts_with(std::string(transport) + " ")) {
        return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
      }
    }
    ADD_FAILURE() << "no " << transport << " endpoint";
    return 0;
  }

  std::vector<Message> Take() {
    std::vector<Message> messages;
    auto records = queue_->Read(cursor_, 1000000);
    EXPECT_TRUE(records);
    for (const SpoolRecord& record : *records) {
      auto envelope = DecodeEnvelope(record.payload);
      EXPECT_TRUE(envelope.has_value());
      cursor_ = record.seq + 1;
      if (!envelope) continue;
      messages.push_back({std::string(envelope->payload), std::string(envelope->org_id),
                          std::string(envelope->sensor_id), std::string(envelope->logsource),
                          std::string(envelope->peer), std::string(envelope->transport),
                          envelope->kind});
    }
    return messages;
  }
  // Waits until `count` more messages are in the spool; returns them (and any more).
  std::vector<Message> TakeAtLeast(size_t count) {
    std::vector<Message> all;
    WaitUntil([&] {
      for (Message& message : Take()) all.push_back(std::move(message));
      return all.size() >= count;
    });
    return all;
  }
  static Payloads PayloadsOf(const std::vector<Message>& messages) {
    Payloads payloads;
    for (const Message& message : messages) payloads.push_back(message.payload);
    return payloads;
  }

  double Rejected(std::string_view transport, std::string_view reason) {
    return metrics_
        .GetCounter("yagura_syslog_rejected_total", "",
                    {{"transport", std::string(transport)}, {"reason", std::string(reason)}})
        .Value();
  }
  double Connections(std::string_view transport) {
    return metrics_
        .GetGauge("yagura_syslog_connections", "", {{"transport", std::string(transport)}})
        .Value();
  }

  fs::path dir_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<IngestQueue> queue_;
  Metrics metrics_;
  std::unique_ptr<SyslogServer> server_;
  uint64_t cursor_ = 1;
};

TEST_F(SyslogServerTest, EndpointsReportTheBoundPorts) {
  SyslogServerOptions options;
  options.udp = {"127.0.0.1:0"};
  options.tcp = {"127.0.0.1:0", "localhost:0"};
  StartServer(options, Loopback());
  std::vector<std::string> endpoints = server_->endpoints();
  ASSERT_EQ(endpoints.size(), 3u);
  EXPECT_TRUE(endpoints[0].starts_with("udp 127.0.0.1:"));
  EXPECT_TRUE(endpoints[1].starts_with("tcp 127.0.0.1:"));
  EXPECT_NE(Port("udp"), 0);
  EXPECT_NE(endpoints[1], endpoints[2]);
}

TEST_F(SyslogServerTest, StartErrors) {
  SenderMap map = Loopback();
  auto error = [&](SyslogServerOptions options) {
    auto server = SyslogServer::Start(std::move(options), map, *queue_, metrics_);
    return server ? std::string("<started>") : server.error().ToString();
  };
  EXPECT_NE(error({}).find("no syslog listener"), std::string::npos);
  SyslogServerOptions bad_port;
  bad_port.tcp = {"127.0.0.1:99999"};
  EXPECT_NE(error(bad_port).find("invalid port"), std::string::npos);
  SyslogServerOptions bad_host;
  bad_host.udp = {"host.example:514"};
  EXPECT_NE(error(bad_host).find("not an IP address"), std::string::npos);
  SyslogServerOptions tls_without_cert;
  tls_without_cert.tls = {"127.0.0.1:0"};
  EXPECT_NE(error(tls_without_cert).find("certificate"), std::string::npos);
  // A port already taken: the error names it, and nothing stays bound.
  SyslogServerOptions first;
  first.tcp = {"127.0.0.1:0"};
  StartServer(first, map);
  SyslogServerOptions taken;
  taken.udp = {"127.0.0.1:0"};
  taken.tcp = {"127.0.0.1:" + std::to_string(Port("tcp"))};
  EXPECT_NE(error(taken).find("bind"), std::string::npos);
}

TEST_F(SyslogServerTest, UdpDatagramsAreMessages) {
  SyslogServerOptions options;
  options.udp = {"127.0.0.1:0"};
  options.max_message_bytes = 200;
  StartServer(options, Loopback());
  int fd = Connect(SOCK_DGRAM, Port("udp"));
  ASSERT_GE(fd, 0);
  std::string peer = LocalEndpoint(fd);
  ASSERT_TRUE(SendAll(fd, "<13>Nov 26 06:00:01 host sshd[42]: Failed password\n"));
  ASSERT_TRUE(SendAll(fd, "<34>1 2026-11-26T06:00:00Z host app - - - two\nlines\r\n"));
  ASSERT_TRUE(SendAll(fd, "<1>" + std::string(300, 'x')));  // oversized: dropped, counted
  ASSERT_TRUE(SendAll(fd, "<14>after the big one"));
  std::vector<Message> messages = TakeAtLeast(3);
  ::close(fd);
  ASSERT_EQ(PayloadsOf(messages), (Payloads{"<13>Nov 26 06:00:01 host sshd[42]: Failed password",
                                            "<34>1 2026-11-26T06:00:00Z host app - - - two\nlines",
                                            "<14>after the big one"}));
  EXPECT_EQ(messages[0].kind, PayloadKind::kSyslog);
  EXPECT_EQ(messages[0].org_id, "org-a");
  EXPECT_EQ(messages[0].sensor_id, "lo");
  EXPECT_EQ(messages[0].logsource, "product=linux");
  EXPECT_EQ(messages[0].peer, peer);
  EXPECT_EQ(messages[0].transport, "udp");
  EXPECT_EQ(Rejected("udp", "oversized"), 1);
  MetricLabels labels = {{"transport", "udp"}, {"org_id", "org-a"}, {"sensor", "lo"}};
  // The counters follow the spool append that hands the messages on, a moment later.
  EXPECT_TRUE(WaitUntil([&] {
    return metrics_.GetCounter("yagura_syslog_messages_total", "", labels).Value() == 3;
  }));
  EXPECT_EQ(metrics_.GetCounter("yagura_syslog_messages_total", "", labels).Value(), 3);
  EXPECT_GT(metrics_.GetCounter("yagura_syslog_bytes_total", "", labels).Value(), 100);
}

TEST_F(SyslogServerTest, TcpMixedFramingSplitAtEveryByte) {
  SyslogServerOptions options;
  options.tcp = {"127.0.0.1:0"};
  StartServer(options, Loopback());
  const std::string first = "<34>1 2026-11-26T06:00:00Z host app - - - octet\ncounted";
  const std::string second = "<13>Nov 26 06:00:01 host sshd[42]: LF framed";
  const std::string third = "<14>last one, CRLF";
  std::string stream = Counted(first) + second + "\n" + third + "\r\n";
  for (size_t split = 0; split <= stream.size(); ++split) {
    int fd = Connect(SOCK_STREAM, Port("tcp"));
    ASSERT_GE(fd, 0);
    std::string peer = LocalEndpoint(fd);
    ASSERT_TRUE(SendAll(fd, std::string_view(stream).substr(0, split)));
    ASSERT_TRUE(SendAll(fd, std::string_view(stream).substr(split)));
    ::shutdown(fd, SHUT_WR);
    std::vector<Message> messages = TakeAtLeast(3);
    ASSERT_EQ(PayloadsOf(messages), (Payloads{first, second, third})) << "split " << split;
    EXPECT_EQ(messages[2].peer, peer);
    EXPECT_EQ(messages[2].transport, "tcp");
    EXPECT_EQ(messages[2].org_id, "org-a");
    EXPECT_TRUE(ClosedByPeer(fd));  // the server closes after the end of the stream
    ::close(fd);
  }
  // A last line without LF is a message once the sender ends the stream.
  int fd = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_TRUE(SendAll(fd, "<1>a\n<2>b without LF"));
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(PayloadsOf(TakeAtLeast(2)), (Payloads{"<1>a", "<2>b without LF"}));
  ::close(fd);
  EXPECT_TRUE(WaitUntil([&] { return Connections("tcp") == 0; }));
}

TEST_F(SyslogServerTest, UnknownSendersAreRefused) {
  SyslogServerOptions options;
  options.udp = {"127.0.0.1:0"};
  options.tcp = {"127.0.0.1:0"};
  StartServer(options, Map({SyslogSender{"lan", "org-a", "", "10.0.0.0/8"}}));
  int tcp_fd = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_GE(tcp_fd, 0);
  SendAll(tcp_fd, "<1>refused\n");  // may already fail: the server closed at accept
  EXPECT_TRUE(ClosedByPeer(tcp_fd));
  ::close(tcp_fd);
  int udp_fd = Connect(SOCK_DGRAM, Port("udp"));
  ASSERT_TRUE(SendAll(udp_fd, "<1>refused"));
  ::close(udp_fd);
  EXPECT_TRUE(WaitUntil([&] { return Rejected("udp", "unknown_sender") == 1; }));
  EXPECT_EQ(Rejected("tcp", "unknown_sender"), 1);
  EXPECT_TRUE(Take().empty());
}

TEST_F(SyslogServerTest, CatchAllAcceptsEveryone) {
  SyslogServerOptions options;
  options.tcp = {"127.0.0.1:0"};
  StartServer(options, Map({SyslogSender{"lan", "org-a", "", "10.0.0.0/8"},
                            SyslogSender{"anyone", "org-any", "", "*"}}));
  int fd = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_TRUE(SendAll(fd, "<1>hello\n"));
  std::vector<Message> messages = TakeAtLeast(1);
  ::close(fd);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].org_id, "org-any");
  EXPECT_EQ(messages[0].sensor_id, "anyone");
}

TEST_F(SyslogServerTest, OversizedMessagesAreSkippedAndTheStreamGoesOn) {
  SyslogServerOptions options;
  options.tcp = {"127.0.0.1:0"};
  options.max_message_bytes = 100;
  StartServer(options, Loopback());
  int fd = Connect(SOCK_STREAM, Port("tcp"));
  std::string big(500, 'B');
  ASSERT_TRUE(SendAll(fd, "<1>small\n<2>" + big + "\n<3>after line\n" + Counted("<4>" + big) +
                              Counted("<5>after counted") + "<6>still here\n"));
  std::vector<Message> messages = TakeAtLeast(4);
  EXPECT_EQ(PayloadsOf(messages),
            (Payloads{"<1>small", "<3>after line", "<5>after counted", "<6>still here"}));
  EXPECT_EQ(Rejected("tcp", "oversized"), 2);
  ::close(fd);
}

TEST_F(SyslogServerTest, MalformedFrameClosesTheConnection) {
  SyslogServerOptions options;
  options.tcp = {"127.0.0.1:0"};
  StartServer(options, Loopback());
  int fd = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_TRUE(SendAll(fd, "<1>before\n12345678901234567 <2>absurd count\n<3>after\n"));
  EXPECT_TRUE(ClosedByPeer(fd));
  ::close(fd);
  EXPECT_EQ(PayloadsOf(Take()), (Payloads{"<1>before"}));
  EXPECT_EQ(Rejected("tcp", "malformed_frame"), 1);

  // A stream that ends inside an octet-counted message.
  fd = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_TRUE(SendAll(fd, "<1>complete\n50 <2>cut short"));
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(ClosedByPeer(fd));
  ::close(fd);
  EXPECT_TRUE(WaitUntil([&] { return Rejected("tcp", "malformed_frame") == 2; }));
  EXPECT_EQ(PayloadsOf(Take()), (Payloads{"<1>complete"}));

  // The server is unharmed.
  fd = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_TRUE(SendAll(fd, "<1>fine\n"));
  EXPECT_EQ(PayloadsOf(TakeAtLeast(1)), (Payloads{"<1>fine"}));
  ::close(fd);
}

TEST_F(SyslogServerTest, ConnectionLimitAndIdleTimeout) {
  SyslogServerOptions options;
  options.tcp = {"127.0.0.1:0"};
  options.max_connections = 1;
  options.idle_timeout_ms = 300;
  StartServer(options, Loopback());
  int first = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_TRUE(SendAll(first, "<1>first\n"));
  EXPECT_EQ(PayloadsOf(TakeAtLeast(1)), (Payloads{"<1>first"}));
  int second = Connect(SOCK_STREAM, Port("tcp"));
  EXPECT_TRUE(ClosedByPeer(second));
  ::close(second);
  EXPECT_EQ(Rejected("tcp", "connection_limit"), 1);
  // The first connection says nothing more and is closed as idle.
  EXPECT_TRUE(ClosedByPeer(first));
  ::close(first);
  EXPECT_TRUE(WaitUntil([&] { return Connections("tcp") == 0; }));
  int third = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_TRUE(SendAll(third, "<1>third\n"));
  EXPECT_EQ(PayloadsOf(TakeAtLeast(1)), (Payloads{"<1>third"}));
  ::close(third);
}

TEST_F(SyslogServerTest, Ipv6Loopback) {
  SyslogServerOptions options;
  options.udp = {"[::1]:0"};
  options.tcp = {"[::1]:0"};
  auto server = SyslogServer::Start(options, Map({SyslogSender{"lo6", "org-6", "", "::1"}}),
                                    *queue_, metrics_);
  if (!server) GTEST_SKIP() << "no IPv6 loopback: " << server.error().ToString();
  server_ = std::move(*server);
  EXPECT_TRUE(server_->endpoints()[0].starts_with("udp [::1]:"));
  int udp_fd = Connect(SOCK_DGRAM, Port("udp"), true);
  ASSERT_GE(udp_fd, 0);
  std::string peer = LocalEndpoint(udp_fd);
  ASSERT_TRUE(SendAll(udp_fd, "<1>over udp6"));
  std::vector<Message> messages = TakeAtLeast(1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].peer, peer);
  EXPECT_TRUE(peer.starts_with("[::1]:"));
  int tcp_fd = Connect(SOCK_STREAM, Port("tcp"), true);
  ASSERT_TRUE(SendAll(tcp_fd, "<1>over tcp6\n"));
  messages = TakeAtLeast(1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].org_id, "org-6");
  ::close(udp_fd);
  ::close(tcp_fd);
}

TEST_F(SyslogServerTest, FullSpoolBlocksTheSenderAndLosesNothing) {
  SpoolOptions spool_options;
  spool_options.segment_bytes = 64 * 1024;
  spool_options.max_total_bytes = 1024 * 1024;
  spool_options.fsync = FsyncPolicy::kNever;
  queue_.reset();
  spool_.reset();
  OpenSpool(spool_options);
  SyslogServerOptions options;
  options.tcp = {"127.0.0.1:0"};
  StartServer(options, Loopback());

  auto message = [](size_t i) {
    char head[64];
    std::snprintf(head, sizeof head, "<13>Nov 26 06:00:01 host app: message %08zu ", i);
    return std::string(head) + std::string(150, 'p');
  };
  int fd = Connect(SOCK_STREAM, Port("tcp"));
  ASSERT_GE(fd, 0);
  int small = 16 * 1024;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  // Phase 1: nobody consumes. The spool fills, the server stops reading, the kernel buffers
  // fill, and the sender's writes return EAGAIN for good.
  size_t sent = 0;      // messages completely written
  std::string pending;  // the unwritten rest of the current message
  bool blocked = false;
  auto write_some = [&](size_t limit) {
    while (sent < limit || !pending.empty()) {
      if (pending.empty()) pending = message(sent) + "\n";
      ssize_t written = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
      if (written < 0) {
        EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
        return false;
      }
      pending.erase(0, static_cast<size_t>(written));
      if (pending.empty()) ++sent;
    }
    return true;
  };
  constexpr size_t MAX_MESSAGES = 400000;  // ~80 MB: far beyond spool and kernel buffers
  WaitUntil(
      [&] {
        // EAGAIN once the server has paused on the full spool: with no consumer it never resumes.
        if (!write_some(MAX_MESSAGES)) {
          blocked =
              metrics_.GetCounter("yagura_syslog_backpressure_total", "", {{"transport", "tcp"}})
                  .Value() > 0;
        }
        return blocked || sent >= MAX_MESSAGES;
      },
      60);
  ASSERT_TRUE(blocked) << "the sender never blocked; sent " << sent;
  EXPECT_LT(queue_->next_seq() - 1, sent);  // the spool holds only part of what was sent

  // Phase 2: a consumer reads and trims; the sender finishes; everything arrives in order.
  size_t total = sent + (pending.empty() ? 0 : 1);
  size_t received = 0;
  bool in_order = true;
  bool finished = WaitUntil(
      [&] {
        write_some(total);
        for (const Message& m : Take()) {
          if (m.payload != message(received)) in_order = false;
          ++received;
        }
        EXPECT_TRUE(queue_->Trim(cursor_));
        return received >= total;
      },
      120);
  EXPECT_TRUE(finished) << received << " of " << total;
  EXPECT_TRUE(in_order);
  EXPECT_EQ(received, total);
  EXPECT_EQ(Rejected("tcp", "spool_full"), 0);
  ::close(fd);
}

TEST_F(SyslogServerTest, StopEndsConnectionsAndListeners) {
  SyslogServerOptions options;
  options.tcp = {"127.0.0.1:0"};
  options.udp = {"127.0.0.1:0"};
  StartServer(options, Loopback());
  uint16_t port = Port("tcp");
  int fd = Connect(SOCK_STREAM, port);
  ASSERT_TRUE(SendAll(fd, "<1>before stop\n<2>half a mess"));
  EXPECT_EQ(PayloadsOf(TakeAtLeast(1)), (Payloads{"<1>before stop"}));
  server_->Stop();
  EXPECT_TRUE(ClosedByPeer(fd));
  ::close(fd);
  EXPECT_EQ(Connections("tcp"), 0);
  EXPECT_LT(Connect(SOCK_STREAM, port), 0);  // nothing listens any more
  server_->Stop();                           // idempotent
  EXPECT_TRUE(Take().empty());               // the half message was not taken for whole
}

// --- TLS --------------------------------------------------------------------------------------

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertDeleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Cert = std::unique_ptr<X509, CertDeleter>;

Cert MakeCertificate(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                     bool ca) {
  static long serial = 1;
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, NID_basic_constraints,
                                                  ca ? "critical,CA:TRUE" : "CA:FALSE");
  X509_add_ext(cert.get(), extension, -1);
  X509_EXTENSION_free(extension);
  X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

void WritePem(const fs::path& path, X509* cert, EVP_PKEY* key) {
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  if (cert) PEM_write_X509(file, cert);
  if (key) PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(file);
}

std::string Fingerprint(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  X509_digest(cert, EVP_sha256(), digest, &size);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

class SyslogTlsTest : public SyslogServerTest {
 protected:
  void SetUp() override {
    SyslogServerTest::SetUp();
    // OpenSSL writes with write(2): a refused client must not die of SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    ca_key_.reset(EVP_EC_gen("P-256"));
    ca_ = MakeCertificate(ca_key_.get(), "Test CA", nullptr, nullptr, true);
    server_key_.reset(EVP_EC_gen("P-256"));
    server_cert_ = MakeCertificate(server_key_.get(), "localhost", ca_.get(), ca_key_.get(), false);
    client_a_key_.reset(EVP_EC_gen("P-256"));
    client_a_ = MakeCertificate(client_a_key_.get(), "client-a", ca_.get(), ca_key_.get(), false);
    client_b_key_.reset(EVP_EC_gen("P-256"));
    client_b_ = MakeCertificate(client_b_key_.get(), "client-b", ca_.get(), ca_key_.get(), false);
    rogue_key_.reset(EVP_EC_gen("P-256"));
    rogue_ = MakeCertificate(rogue_key_.get(), "client-b", nullptr, nullptr, false);  // self-signed
    WritePem(dir_ / "ca.pem", ca_.get(), nullptr);
    WritePem(dir_ / "server.pem", server_cert_.get(), nullptr);
    WritePem(dir_ / "server.key", nullptr, server_key_.get());
  }

  SyslogServerOptions TlsOptions(bool with_ca) {
    SyslogServerOptions options;
    options.tls = {"127.0.0.1:0"};
    options.tls_cert_file = (dir_ / "server.pem").string();
    options.tls_key_file = (dir_ / "server.key").string();
    if (with_ca) options.tls_client_ca_file = (dir_ / "ca.pem").string();
    return options;
  }
  SenderMap CertificateMap() {
    return Map({SyslogSender{"fw-a", "org-a", "product=fortigate",
                             "cert-sha256:" + Fingerprint(client_a_.get())},
                SyslogSender{"fw-b", "org-b", "", "cert-cn:client-b"}});
  }

  // Connects over TLS (verifying the server against the CA), sends `data`, ends the stream
  // and reports whether the server accepted it: false when the server refused the handshake
  // or closed without reading (with TLS 1.3 the client learns that only when it reads).
  bool SendTls(X509* cert, EVP_PKEY* key, std::string_view data) {
    SSL_CTX* context = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(context, (dir_ / "ca.pem").c_str(), nullptr);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (cert) {
      SSL_CTX_use_certificate(context, cert);
      SSL_CTX_use_PrivateKey(context, key);
    }
    int fd = Connect(SOCK_STREAM, Port("tls"));
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, fd);
    bool ok =
        SSL_connect(ssl) == 1 && SSL_write(ssl, data.data(), static_cast<int>(data.size())) > 0;
    if (ok) {
      SSL_shutdown(ssl);  // close_notify: the end of the stream
      // The server closes after taking everything; a refused client sees an alert instead.
      char byte;
      int got = SSL_read(ssl, &byte, 1);
      int error = SSL_get_error(ssl, got);
      ok = got <= 0 && error == SSL_ERROR_ZERO_RETURN;
    }
    SSL_free(ssl);
    SSL_CTX_free(context);
    ::close(fd);
    ERR_clear_error();
    return ok;
  }

  Key ca_key_, server_key_, client_a_key_, client_b_key_, rogue_key_;
  Cert ca_, server_cert_, client_a_, client_b_, rogue_;
};

TEST_F(SyslogTlsTest, ClientCertificatesMapToOrganisations) {
  StartServer(TlsOptions(true), CertificateMap());
  std::string first = "<34>1 2026-11-26T06:00:00Z fw app - - - over tls";
  EXPECT_TRUE(SendTls(client_a_.get(), client_a_key_.get(), Counted(first) + Counted("<1>second")));
  std::vector<Message> messages = TakeAtLeast(2);
  ASSERT_EQ(PayloadsOf(messages), (Payloads{first, "<1>second"}));
  EXPECT_EQ(messages[0].org_id, "org-a");
  EXPECT_EQ(messages[0].sensor_id, "fw-a");
  EXPECT_EQ(messages[0].logsource, "product=fortigate");
  EXPECT_EQ(messages[0].transport, "tls");
  EXPECT_TRUE(messages[0].peer.starts_with("127.0.0.1:"));

  EXPECT_TRUE(SendTls(client_b_.get(), client_b_key_.get(), "<2>by name\n"));
  messages = TakeAtLeast(1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].org_id, "org-b");
  EXPECT_EQ(messages[0].payload, "<2>by name");
}

TEST_F(SyslogTlsTest, WithACaAClientCertificateIsRequired) {
  StartServer(TlsOptions(true), CertificateMap());
  EXPECT_FALSE(SendTls(nullptr, nullptr, "<1>no certificate\n"));
  EXPECT_TRUE(WaitUntil([&] { return Rejected("tls", "tls_handshake") == 1; }));
  // A self-signed certificate with a mapped name is not verified by the CA.
  EXPECT_FALSE(SendTls(rogue_.get(), rogue_key_.get(), "<1>rogue\n"));
  EXPECT_TRUE(WaitUntil([&] { return Rejected("tls", "tls_handshake") == 2; }));
  EXPECT_TRUE(Take().empty());
}

TEST_F(SyslogTlsTest, WithoutACaOnlyPinnedFingerprintsCount) {
  Cert pinned = MakeCertificate(rogue_key_.get(), "anything", nullptr, nullptr, false);
  StartServer(TlsOptions(false),
              Map({SyslogSender{"pinned", "org-p", "", "cert-sha256:" + Fingerprint(pinned.get())},
                   SyslogSender{"named", "org-n", "", "cert-cn:client-b"}}));
  EXPECT_TRUE(SendTls(pinned.get(), rogue_key_.get(), "<1>pinned\n"));
  std::vector<Message> messages = TakeAtLeast(1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].org_id, "org-p");
  // An unverified name identifies nobody, and neither does no certificate.
  EXPECT_FALSE(SendTls(rogue_.get(), rogue_key_.get(), "<1>claims client-b\n"));
  EXPECT_FALSE(SendTls(nullptr, nullptr, "<1>anonymous\n"));
  EXPECT_TRUE(WaitUntil([&] { return Rejected("tls", "unknown_sender") == 2; }));
  EXPECT_TRUE(Take().empty());
}

TEST_F(SyslogTlsTest, AddressMatchesWhenNoCertificateDoes) {
  StartServer(TlsOptions(false), Loopback());
  EXPECT_TRUE(SendTls(nullptr, nullptr, "<1>by address\n"));
  std::vector<Message> messages = TakeAtLeast(1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].org_id, "org-a");
  EXPECT_EQ(messages[0].transport, "tls");
}

}  // namespace
}  // namespace yagura::pipeline
