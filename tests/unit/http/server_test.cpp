// Server tests against a real listener on 127.0.0.1 (port 0), with a small blocking client on
// POSIX sockets for plain HTTP and the curl CLI for HTTPS. Sockets get a receive timeout only as
// a safety net so that a broken server fails a test instead of hanging it; no assertion depends
// on how long anything takes.
#include "http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

namespace yagura::http {
namespace {

// --- a tiny blocking HTTP client --------------------------------------------------------------

class Connection {
 public:
  explicit Connection(uint16_t port, int family = AF_INET) {
    fd_ = ::socket(family, SOCK_STREAM, 0);
    timeval timeout{15, 0};  // safety net only
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    int rc;
    if (family == AF_INET) {
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(port);
      ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
      rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    } else {
      sockaddr_in6 address{};
      address.sin6_family = AF_INET6;
      address.sin6_port = htons(port);
      ::inet_pton(AF_INET6, "::1", &address.sin6_addr);
      rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    }
    connected_ = rc == 0;
  }
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response: the header, then Content-Length bytes of body (none for HEAD).
  // Returns the raw text; empty if the connection closed first.
  std::string ReadResponse(bool head = false) {
    size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::exchange(pending_, {});
    }
    header_end += 4;
    size_t length = 0;
    std::string header = Lower(pending_.substr(0, header_end));
    size_t at = header.find("\r\ncontent-length:");
    if (at != std::string::npos && !head) length = std::stoul(header.substr(at + 17));
    while (pending_.size() < header_end + length) {
      if (!Fill()) break;
    }
    std::string response = pending_.substr(0, header_end + length);
    pending_.erase(0, response.size());
    return response;
  }

  // Reads until the server closes the connection (or errors). True on a clean close or reset.
  bool ReadToEnd(std::string* out = nullptr) {
    while (Fill()) {
    }
    if (out) *out = std::exchange(pending_, {});
    return !timed_out_;
  }

  static std::string Lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }

 private:
  bool Fill() {
    char buffer[16384];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) timed_out_ = true;
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool timed_out_ = false;
  std::string pending_;
};

int Status(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(response.c_str() + 9);
}

std::string Body(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

std::string HeaderValue(const std::string& response, std::string name) {
  std::string lower = Connection::Lower(response.substr(0, response.find("\r\n\r\n") + 2));
  size_t at = lower.find("\r\n" + Connection::Lower(name) + ":");
  if (at == std::string::npos) return "(absent)";
  size_t start = at + 3 + name.size();
  size_t end = lower.find("\r\n", start);
  std::string value = response.substr(start, end - start);
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  return value;
}

std::string Get(std::string_view path, std::string_view extra = {}) {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

std::string Post(std::string_view path, std::string_view body) {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

// --- the server under test ---------------------------------------------------------------------

struct Recorded {
  std::string method;
  std::string route;
  int status;
};

class TestServer {
 public:
  TestServer(ServerOptions options, const Router& router) {
    options.on_request = [this](const Request& request, int status, double seconds) {
      std::lock_guard lock(mutex_);
      recorded_.push_back({request.method, request.route, status});
      changed_.notify_all();
    };
    server_ = std::make_unique<Server>(std::move(options), router);
  }
  ~TestServer() {
    server_->Stop(5);
    if (thread_.joinable()) thread_.join();
  }

  Result<uint16_t> Start() {
    auto port = server_->Start();
    if (port) thread_ = std::thread([this] { server_->Run(); });
    return port;
  }
  Server& server() { return *server_; }
  void JoinRun() { thread_.join(); }
  // The callback runs after the response is written, so it may trail the client a little.
  std::vector<Recorded> WaitRecorded(size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(15), [&] { return recorded_.size() >= count; });
    return recorded_;
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Recorded> recorded_;
};

Router MakeRouter() {
  Router router;
  router.Add("GET", "/hello", [](Request& request) {
    Response response = Response::Text(200, "hi", "text/plain");
    response.headers.Set("x-remote", request.remote_address);
    response.headers.Set("x-tls", request.tls ? "yes" : "no");
    return response;
  });
  router.Add("POST", "/echo", [](Request& request) {
    std::string content_type(request.headers.Get("content-type").value_or("none"));
    return Response::Text(200, request.method + " " + content_type + " " + request.body,
                          "text/plain");
  });
  router.Add("GET", "/items/{name}", [](Request& request) {
    std::string body = "name=" + std::string(request.PathParam("name")) + " path=" + request.path;
    for (const auto& [key, value] : request.query) body += " " + key + "=" + value;
    return Response::Text(200, body, "text/plain");
  });
  router.Add("GET", "/boom", [](Request&) -> Response { throw std::runtime_error("hidden"); });
  router.Add("GET", "/cookies", [](Request&) {
    Response response = Response::Json(200, "{}");
    response.headers.Add("Set-Cookie", "a=1");
    response.headers.Add("Set-Cookie", "b=2");
    response.headers.Set("X-Frame-Options", "SAMEORIGIN");  // overrides a default header
    return response;
  });
  router.Add("GET", "/empty", [](Request&) {
    Response response;
    response.status = 204;
    return response;
  });
  return router;
}

ServerOptions BaseOptions() {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 2;
  options.default_headers = {{"X-Content-Type-Options", "nosniff"}, {"X-Frame-Options", "DENY"}};
  return options;
}

TEST(Server, GetAndPostRoundTrip) {
  Router router = MakeRouter();
  TestServer server(BaseOptions(), router);
  auto port = server.Start();
  ASSERT_TRUE(port) << port.error().ToString();
  ASSERT_NE(*port, 0);
  EXPECT_EQ(server.server().port(), *port);

  Connection connection(*port);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send(Get("/hello")));
  std::string response = connection.ReadResponse();
  EXPECT_EQ(Status(response), 200) << response;
  EXPECT_EQ(Body(response), "hi");
  EXPECT_EQ(HeaderValue(response, "content-length"), "2");
  EXPECT_EQ(HeaderValue(response, "content-type"), "text/plain");
  EXPECT_EQ(HeaderValue(response, "x-content-type-options"), "nosniff");
  EXPECT_EQ(HeaderValue(response, "x-remote"), "127.0.0.1");
  EXPECT_EQ(HeaderValue(response, "x-tls"), "no");
  EXPECT_TRUE(HeaderValue(response, "date").ends_with(" GMT")) << response;

  Connection second(*port);
  ASSERT_TRUE(
      second.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  "Content-Length: 11\r\n\r\n{\"a\":\"b c\"}"));
  response = second.ReadResponse();
  EXPECT_EQ(Status(response), 200) << response;
  EXPECT_EQ(Body(response), "POST application/json {\"a\":\"b c\"}");

  // Chunked request bodies are reassembled.
  ASSERT_TRUE(
      second.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  response = second.ReadResponse();
  EXPECT_EQ(Body(response), "POST none abcde");
}

TEST(Server, DecodesPathAndQuery) {
  Router router = MakeRouter();
  TestServer server(BaseOptions(), router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  Connection connection(*port);
  ASSERT_TRUE(connection.Send(Get("/items/a%20b%C3%A9?q=x+y%2Bz&flag&amp=%26")));
  std::string response = connection.ReadResponse();
  EXPECT_EQ(Status(response), 200) << response;
  EXPECT_EQ(Body(response), "name=a b\xC3\xA9 path=/items/a b\xC3\xA9 q=x y+z flag= amp=&");
}

TEST(Server, KeepAliveServesSeveralRequestsOnOneConnection) {
  Router router = MakeRouter();
  TestServer server(BaseOptions(), router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  Connection connection(*port);
  ASSERT_TRUE(connection.Send(Get("/hello")));
  std::string first = connection.ReadResponse();
  EXPECT_EQ(Status(first), 200);
  EXPECT_NE(Connection::Lower(HeaderValue(first, "connection")), "close");
  ASSERT_TRUE(connection.Send(Post("/echo", "second")));
  EXPECT_EQ(Body(connection.ReadResponse()), "POST none second");
  // Two pipelined requests in one write are answered in order.
  ASSERT_TRUE(connection.Send(Get("/items/one") + Get("/items/two")));
  EXPECT_EQ(Body(connection.ReadResponse()), "name=one path=/items/one");
  EXPECT_EQ(Body(connection.ReadResponse()), "name=two path=/items/two");
  // "Connection: close" is honoured: answered, then closed.
  ASSERT_TRUE(connection.Send(Get("/hello", "Connection: close\r\n")));
  std::string last = connection.ReadResponse();
  EXPECT_EQ(Status(last), 200);
  EXPECT_EQ(Connection::Lower(HeaderValue(last, "connection")), "close");
  std::string rest;
  EXPECT_TRUE(connection.ReadToEnd(&rest));
  EXPECT_EQ(rest, "");
}

TEST(Server, ErrorsAreJsonAndEveryResponseHasTheStandardHeaders) {
  Router router = MakeRouter();
  TestServer server(BaseOptions(), router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  Connection connection(*port);

  ASSERT_TRUE(connection.Send(Get("/nowhere")));
  std::string response = connection.ReadResponse();
  EXPECT_EQ(Status(response), 404);
  EXPECT_EQ(HeaderValue(response, "content-type"), "application/json");
  EXPECT_NE(Body(response).find(R"("code":"not_found")"), std::string::npos);
  EXPECT_EQ(HeaderValue(response, "x-frame-options"), "DENY");

  ASSERT_TRUE(connection.Send(Post("/hello", "")));
  response = connection.ReadResponse();
  EXPECT_EQ(Status(response), 405);
  EXPECT_EQ(HeaderValue(response, "allow"), "GET, HEAD");

  ASSERT_TRUE(connection.Send(Get("/boom")));
  response = connection.ReadResponse();
  EXPECT_EQ(Status(response), 500);
  EXPECT_NE(Body(response).find(R"("code":"internal_error")"), std::string::npos);
  EXPECT_EQ(Body(response).find("hidden"), std::string::npos);

  ASSERT_TRUE(connection.Send(Get("/cookies")));
  response = connection.ReadResponse();
  EXPECT_EQ(Status(response), 200);
  EXPECT_NE(response.find("Set-Cookie: a=1\r\n"), std::string::npos) << response;
  EXPECT_NE(response.find("Set-Cookie: b=2\r\n"), std::string::npos) << response;
  EXPECT_EQ(HeaderValue(response, "x-frame-options"), "SAMEORIGIN");
  EXPECT_EQ(Connection::Lower(response).find("x-frame-options: deny"), std::string::npos);
  EXPECT_EQ(HeaderValue(response, "x-content-type-options"), "nosniff");

  ASSERT_TRUE(connection.Send(Get("/empty")));
  response = connection.ReadResponse();
  EXPECT_EQ(Status(response), 204);
  EXPECT_EQ(HeaderValue(response, "content-length"), "(absent)");

  // HEAD: the GET route's headers and length, no body; the connection stays usable.
  ASSERT_TRUE(connection.Send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  response = connection.ReadResponse(/*head=*/true);
  EXPECT_EQ(Status(response), 200);
  EXPECT_EQ(HeaderValue(response, "content-length"), "2");
  EXPECT_EQ(Body(response), "");
  ASSERT_TRUE(connection.Send(Get("/hello")));
  EXPECT_EQ(Body(connection.ReadResponse()), "hi");

  std::vector<Recorded> recorded = server.WaitRecorded(7);
  ASSERT_EQ(recorded.size(), 7u);
  EXPECT_EQ(recorded[0].status, 404);
  EXPECT_EQ(recorded[0].route, "");
  EXPECT_EQ(recorded[2].status, 500);
  EXPECT_EQ(recorded[2].route, "/boom");
  EXPECT_EQ(recorded[5].method, "HEAD");
  EXPECT_EQ(recorded[5].route, "/hello");
}

TEST(Server, HostilePathsAre400) {
  Router router = MakeRouter();
  TestServer server(BaseOptions(), router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  for (const char* target :
       {"/items/..", "/items/%2e%2e", "/items/%2E%2e/x", "/a/../items/x", "/items/a%2F..%2F..",
        "/items/a%00b", "/items/a%0Ab", "/items/%zz", "/items/a%2", "/items/a%5c..", "*",
        "http://test/items/x", "/items/x?q=%G0"}) {
    Connection connection(*port);
    ASSERT_TRUE(connection.Send(Get(target)));
    std::string response = connection.ReadResponse();
    EXPECT_EQ(Status(response), 400) << target << "\n" << response;
    EXPECT_NE(Body(response).find(R"("code":"bad_request")"), std::string::npos) << target;
  }
}

TEST(Server, OversizeBodyIs413ThenClose) {
  Router router = MakeRouter();
  ServerOptions options = BaseOptions();
  options.max_body_bytes = 1024;
  TestServer server(options, router);
  auto port = server.Start();
  ASSERT_TRUE(port);

  {
    Connection connection(*port);
    ASSERT_TRUE(connection.Send(Post("/echo", std::string(1024, 'x'))));
    EXPECT_EQ(Status(connection.ReadResponse()), 200);  // exactly at the limit is fine
  }
  {
    Connection connection(*port);
    connection.Send(Post("/echo", std::string(64 * 1024, 'x')));
    std::string response = connection.ReadResponse();
    EXPECT_EQ(Status(response), 413) << response;
    EXPECT_NE(Body(response).find(R"("code":"payload_too_large")"), std::string::npos);
    EXPECT_EQ(Connection::Lower(HeaderValue(response, "connection")), "close");
    EXPECT_TRUE(connection.ReadToEnd());
  }
  {
    // Without Content-Length the limit applies while the chunks arrive.
    Connection connection(*port);
    std::string chunk(1000, 'y');
    connection.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; ++i) connection.Send("3e8\r\n" + chunk + "\r\n");
    connection.Send("0\r\n\r\n");
    EXPECT_EQ(Status(connection.ReadResponse()), 413);
  }
}

TEST(Server, ExpectContinueGetsAnInterimResponse) {
  Router router = MakeRouter();
  TestServer server(BaseOptions(), router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  Connection connection(*port);
  ASSERT_TRUE(connection.Send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  std::string interim = connection.ReadResponse();
  EXPECT_EQ(Status(interim), 100) << interim;
  ASSERT_TRUE(connection.Send("body"));
  EXPECT_EQ(Body(connection.ReadResponse()), "POST none body");
}

TEST(Server, GarbageIs400ThenClose) {
  Router router = MakeRouter();
  TestServer server(BaseOptions(), router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  for (std::string garbage :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n"),
        std::string("GET / HTTP/9.9\r\n\r\n"), std::string("GET\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nContent-Length: nope\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    Connection connection(*port);
    ASSERT_TRUE(connection.Send(garbage));
    std::string response = connection.ReadResponse();
    EXPECT_EQ(Status(response), 400) << garbage << "\n" << response;
    EXPECT_NE(Body(response).find(R"("code":"bad_request")"), std::string::npos);
    EXPECT_TRUE(connection.ReadToEnd());
  }
}

TEST(Server, OversizeHeaderIsRefused) {
  Router router = MakeRouter();
  ServerOptions options = BaseOptions();
  options.max_header_bytes = 1024;
  TestServer server(options, router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  {
    Connection connection(*port);
    ASSERT_TRUE(connection.Send(Get("/hello", "X-Small: " + std::string(500, 'a') + "\r\n")));
    EXPECT_EQ(Status(connection.ReadResponse()), 200);
  }
  {
    Connection connection(*port);
    connection.Send(Get("/hello", "X-Big: " + std::string(4096, 'a') + "\r\n"));
    std::string response = connection.ReadResponse();
    EXPECT_EQ(Status(response), 431) << response;
    EXPECT_NE(Body(response).find(R"("code":"header_too_large")"), std::string::npos);
  }
  {
    // A request line that never ends hits the same limit.
    Connection connection(*port);
    connection.Send("GET /" + std::string(8192, 'a'));
    EXPECT_EQ(Status(connection.ReadResponse()), 431);
  }
}

TEST(Server, IdleConnectionsTimeOut) {
  Router router = MakeRouter();
  ServerOptions options = BaseOptions();
  options.read_timeout_seconds = 1;
  TestServer server(options, router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  Connection connection(*port);
  connection.Send("GET /hel");  // and never finishes
  std::string rest;
  EXPECT_TRUE(connection.ReadToEnd(&rest));  // closed by the server, not by our safety net
  EXPECT_EQ(rest, "");
}

TEST(Server, ConnectionsOverTheCapAreRefused) {
  Router router = MakeRouter();
  ServerOptions options = BaseOptions();
  options.max_connections = 1;
  TestServer server(options, router);
  auto port = server.Start();
  ASSERT_TRUE(port);
  Connection first(*port);
  ASSERT_TRUE(first.Send(Get("/hello")));
  ASSERT_EQ(Status(first.ReadResponse()), 200);  // the first connection's session is live

  Connection second(*port);
  std::string refused;
  EXPECT_TRUE(second.ReadToEnd(&refused));
  EXPECT_EQ(Status(refused), 503) << refused;
  EXPECT_NE(Body(refused).find(R"("code":"unavailable")"), std::string::npos);

  // The first connection is unaffected.
  ASSERT_TRUE(first.Send(Get("/hello")));
  EXPECT_EQ(Status(first.ReadResponse()), 200);
}

TEST(Server, StartReportsBadListenAddresses) {
  Router router = MakeRouter();
  TestServer first(BaseOptions(), router);
  auto port = first.Start();
  ASSERT_TRUE(port);

  ServerOptions options = BaseOptions();
  options.listen = "127.0.0.1:" + std::to_string(*port);
  Server second(options, router);
  auto taken = second.Start();
  ASSERT_FALSE(taken);
  EXPECT_NE(taken.error().message.find("in use"), std::string::npos) << taken.error().message;

  for (const char* listen : {"nonsense", "127.0.0.1:99999", "127.0.0.1:x", "[::1", "host:80"}) {
    ServerOptions bad = BaseOptions();
    bad.listen = listen;
    Server server(bad, router);
    EXPECT_FALSE(server.Start()) << listen;
  }
}

TEST(Server, ListensOnIpv6Loopback) {
  Router router = MakeRouter();
  ServerOptions options = BaseOptions();
  options.listen = "[::1]:0";
  TestServer server(options, router);
  auto port = server.Start();
  if (!port) GTEST_SKIP() << "no IPv6 loopback here: " << port.error().message;
  Connection connection(*port, AF_INET6);
  ASSERT_TRUE(connection.connected());
  ASSERT_TRUE(connection.Send(Get("/hello")));
  std::string response = connection.ReadResponse();
  EXPECT_EQ(Status(response), 200);
  EXPECT_EQ(HeaderValue(response, "x-remote"), "::1");
}

TEST(Server, StopLetsASlowHandlerFinishAndClosesIdleConnections) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router router = MakeRouter();
  router.Add("GET", "/slow", [&](Request&) {
    entered.set_value();
    released.wait();
    return Response::Text(200, "done", "text/plain");
  });
  ServerOptions options = BaseOptions();
  options.threads = 2;
  TestServer server(options, router);
  auto port = server.Start();
  ASSERT_TRUE(port);

  Connection idle(*port);
  ASSERT_TRUE(idle.Send(Get("/hello")));
  ASSERT_EQ(Status(idle.ReadResponse()), 200);

  std::string slow_response;
  std::thread client([&] {
    Connection slow(*port);
    slow.Send(Get("/slow"));
    slow_response = slow.ReadResponse();
  });
  entered.get_future().wait();
  server.server().Stop(60);

  // The idle keep-alive connection is closed while the slow handler is still running.
  std::string rest;
  EXPECT_TRUE(idle.ReadToEnd(&rest));
  EXPECT_EQ(rest, "");

  release.set_value();
  client.join();
  EXPECT_EQ(Status(slow_response), 200) << slow_response;
  EXPECT_EQ(Body(slow_response), "done");
  EXPECT_EQ(Connection::Lower(HeaderValue(slow_response, "connection")), "close");
  server.JoinRun();  // Run() returned

  Connection late(*port);
  EXPECT_FALSE(late.connected());
}

TEST(Server, StopBeforeRunMakesRunReturn) {
  Router router = MakeRouter();
  Server server(BaseOptions(), router);
  ASSERT_TRUE(server.Start());
  server.Stop(1);
  server.Run();  // returns instead of serving forever
  SUCCEED();
}

// --- TLS ---------------------------------------------------------------------------------------

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/yagura-http-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    cert_ = dir_ / "cert.pem";
    key_ = dir_ / "key.pem";
    std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes -days 2 -subj /CN=localhost -keyout " +
        key_.string() + " -out " + cert_.string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string Run(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return output;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    ::pclose(pipe);
    return output;
  }

  std::filesystem::path dir_;
  std::filesystem::path cert_;
  std::filesystem::path key_;
};

TEST_F(TlsTest, ServesHttpsAndRefusesPlainHttp) {
  Router router = MakeRouter();
  ServerOptions options = BaseOptions();
  options.tls_certificate = cert_.string();
  options.tls_private_key = key_.string();
  TestServer server(options, router);
  auto port = server.Start();
  ASSERT_TRUE(port) << port.error().ToString();
  std::string base = "https://127.0.0.1:" + std::to_string(*port);

  std::string output = Run("curl -sk --max-time 20 -D - " + base + "/hello");
  EXPECT_EQ(Status(output), 200) << output;
  EXPECT_EQ(Body(output), "hi");
  EXPECT_EQ(HeaderValue(output, "x-tls"), "yes");

  // TLS 1.1 is refused.
  output =
      Run("curl -sk --max-time 20 --tls-max 1.1 -o /dev/null -w '%{http_code}' " + base + "/hello");
  EXPECT_EQ(output, "000");

  // Keep-alive over TLS: curl reuses the connection for both URLs.
  output = Run("curl -sk --max-time 20 -d 'x=1' " + base + "/echo --next -sk --max-time 20 " +
               base + "/items/b");
  EXPECT_EQ(output, "POST application/x-www-form-urlencoded x=1name=b path=/items/b");

  Connection plain(*port);
  ASSERT_TRUE(plain.Send(Get("/hello")));
  std::string response;
  plain.ReadToEnd(&response);
  EXPECT_EQ(Status(response), 0) << response;
  EXPECT_EQ(response.find("hi"), std::string::npos);

  // The server is still fine after the plain-text attempt.
  output = Run("curl -sk --max-time 20 " + base + "/hello");
  EXPECT_EQ(output, "hi");
}

TEST_F(TlsTest, RefusesToStartWithUnusableFiles) {
  Router router = MakeRouter();
  auto start = [&](std::string cert, std::string key) {
    ServerOptions options = BaseOptions();
    options.tls_certificate = std::move(cert);
    options.tls_private_key = std::move(key);
    Server server(options, router);
    auto port = server.Start();
    return port ? std::string() : port.error().message;
  };
  std::string missing = (dir_ / "missing.pem").string();
  EXPECT_NE(start(missing, key_.string()).find(missing), std::string::npos);
  EXPECT_NE(start(cert_.string(), missing).find(missing), std::string::npos);
  EXPECT_NE(start(cert_.string(), "").find("both"), std::string::npos);

  std::string garbage = (dir_ / "garbage.pem").string();
  std::ofstream(garbage) << "not a certificate\n";
  EXPECT_NE(start(garbage, key_.string()).find("invalid TLS certificate"), std::string::npos);
  EXPECT_NE(start(cert_.string(), garbage).find("invalid TLS private key"), std::string::npos);

  // A key that does not belong to the certificate.
  std::string other_key = (dir_ / "other.pem").string();
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 "
                         "-out " +
                         other_key + " >/dev/null 2>&1")
                            .c_str()),
            0);
  EXPECT_NE(start(cert_.string(), other_key).find("does not match"), std::string::npos);

  EXPECT_EQ(start(cert_.string(), key_.string()), "");
}

}  // namespace
}  // namespace yagura::http
