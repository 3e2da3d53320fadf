// SyslogServer: receives syslog over UDP, TCP (RFC 6587) and TLS (RFC 5425) and appends every
// accepted message to the spool as a kSyslog envelope, attributed to the organisation the
// SenderMap gives for the sender's address or client certificate.
//
// Design:
// - One io_context run by `threads` threads (1 by default); every connection and UDP socket
//   works on its own strand. All the Asio code lives in syslog_server.cpp.
// - Messages are framed, not parsed: TCP and TLS streams are cut by SyslogStreamFramer (octet
//   counting and LF framing, mixed freely), a UDP datagram is one message (trailing CR/LF/NUL
//   stripped). Nothing that is a valid RFC 5424 or RFC 3164 message is refused.
// - Acknowledgement is TCP flow control. Every complete message of one socket read is appended
//   as one IngestQueue::Append batch (split at `max_batch`), and the socket is read again only
//   after the spool has the batch. When the spool is full the batch is retried every 50 ms and
//   the socket is not read meanwhile: the kernel buffers fill and the sender blocks. Nothing is
//   dropped, and the idle timeout does not run while a connection waits for the spool.
// - UDP cannot be slowed down: datagrams arriving while the spool is full are dropped and
//   counted. Ready datagrams are drained in batches of up to `max_batch` per Append.
// - Senders not in the map are refused: a TCP connection is closed at accept, a TLS connection
//   after the handshake (a certificate may identify it), a UDP datagram is dropped. A "*" entry
//   in the map accepts everyone (sender_map.hpp).
// - TLS: TLS 1.2 or later; a sender that ends the stream with close_notify gets one back.
//   With `tls_client_ca_file` set, a client certificate is required and verified against it,
//   and both cert-sha256 and cert-cn matches apply. Without a CA a client certificate is still
//   requested (never required) when the map has certificate entries, and only cert-sha256 matches
//   apply: a pinned fingerprint needs no CA, a name does.
// - A message over `max_message_bytes` is counted and skipped; the stream stays in step. A
//   malformed frame (an absurd octet count, a stream ending inside a counted message) is
//   counted and the connection is closed, after the messages framed before it were appended.
// - Connections beyond `max_connections` (TCP and TLS together) are closed at accept; a
//   connection that sends nothing for `idle_timeout_ms` is closed.
// - Stop() closes the listeners, stops reading, gives every connection one more attempt to
//   append what it has framed, and returns once every connection is closed (or after a grace
//   period of 5 s). A half-received message of an open connection is not appended.
//
// Metrics (names and labels are a contract; docs/ingest-sources.md):
//   yagura_syslog_messages_total{transport,org_id,sensor}  messages appended to the spool
//   yagura_syslog_bytes_total{transport,org_id,sensor}     their bytes (without framing)
//   yagura_syslog_rejected_total{transport,reason}         reason: unknown_sender, oversized,
//       malformed_frame, spool_full (UDP drops; streams cut off by Stop() on a full spool),
//       spool_error, tls_handshake, connection_limit
//   yagura_syslog_backpressure_total{transport}            times a stream paused on a full spool
//   yagura_syslog_connections{transport}                   gauge: open TCP/TLS connections
//
// Thread-safety: Start, endpoints and Stop may be called from any thread; Stop is idempotent
// and also run by the destructor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "core/result.hpp"
#include "pipeline/ingest_queue.hpp"
#include "pipeline/sender_map.hpp"

namespace yagura::pipeline {

struct SyslogServerOptions {
  // Listen addresses, "ADDR:PORT" or "[IPV6]:PORT"; port 0 picks any free port (see
  // SyslogServer::endpoints()).
  std::vector<std::string> udp;
  std::vector<std::string> tcp;
  std::vector<std::string> tls;
  std::string tls_cert_file;       // PEM chain, required when `tls` is not empty
  std::string tls_key_file;        // PEM private key
  std::string tls_client_ca_file;  // when set, client certificates are required and verified
  size_t max_message_bytes = 64 * 1024;
  size_t max_connections = 1024;
  int64_t idle_timeout_ms = 600000;
  size_t max_batch = 4096;  // messages per IngestQueue::Append
  int threads = 1;
};

class SyslogServer {
 public:
  // Binds every listener (failing on the first that cannot be bound, with nothing left open)
  // and starts the I/O threads. The sender map is copied; `queue` and `metrics` must outlive
  // the server.
  static Result<std::unique_ptr<SyslogServer>> Start(SyslogServerOptions options,
                                                     const SenderMap& senders, IngestQueue& queue,
                                                     Metrics& metrics);
  ~SyslogServer();
  SyslogServer(const SyslogServer&) = delete;
  SyslogServer& operator=(const SyslogServer&) = delete;

  // The bound listeners with their actual ports: "udp 127.0.0.1:40123", "tls [::1]:6514".
  [[nodiscard]] std::vector<std::string> endpoints() const;

  void Stop();

  struct Impl;

 private:
  explicit SyslogServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::pipeline
