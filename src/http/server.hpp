// Server: the HTTP(S) listener of `yagura serve` (Boost.Beast, asynchronous).
//
// Connections are accepted and read asynchronously on `threads` I/O threads; each complete
// request is handed to the router on the same thread (handlers may block on the database, so
// there are as many threads as cores). Limits protect the process from hostile clients: header
// size (431) and body size (413), malformed requests (400), read timeouts, and a cap on
// simultaneous connections (503). Every response carries the security headers
// (SecurityHeaders() in static_files.hpp), default_headers, Date and Content-Length (except
// 204/304).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "http/router.hpp"

namespace yagura::http {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; [::1]:port for IPv6; port 0 = any free
  std::string tls_certificate;            // PEM files; both set = HTTPS only
  std::string tls_private_key;
  size_t max_body_bytes = 16 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  int threads = 2;
  int read_timeout_seconds = 30;
  int max_connections = 1024;
  // Added to every response after the security headers (replacing any of the same name); a
  // handler's headers replace both.
  std::vector<std::pair<std::string, std::string>> default_headers;
  // Called once per finished request (method, route pattern or path, status, seconds), on the
  // I/O thread after the response was written. Requests refused before routing (400, 413, 431)
  // arrive with an empty route, and with an empty method when the request line was unreadable.
  std::function<void(const Request&, int status, double seconds)> on_request;
};

// Thread-safety: Start() then Run() from one thread; Stop() from any thread (it only posts work
// to the I/O threads, so it is also fine to call it from a thread that waits for signals, but
// not from inside an asynchronous signal handler). Destroy the Server after Run() returned.
class Server {
 public:
  Server(ServerOptions options, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts listening; returns the bound port (useful with port 0). Fails with a
  // readable message for a bad listen address, an address in use, or unreadable/invalid TLS
  // files (a key that does not match the certificate included).
  Result<uint16_t> Start();
  // Blocks until Stop(); runs the I/O threads.
  void Run();
  // Stops accepting, lets in-flight requests finish (up to `grace_seconds`), then returns from
  // Run(). Safe to call from a signal-handling thread.
  void Stop(int grace_seconds = 10);
  [[nodiscard]] uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::http
