// SyslogStreamFramer: cuts a syslog TCP (or TLS) byte stream into messages, RFC 6587.
//
// Senders use one of two framings, and real ones mix them per connection, so the framing is
// decided per message: a message that starts with a digit is octet-counted ("57 <34>1 ..."),
// anything else is non-transparent and ends at LF. Trailing CR, LF and NUL bytes of a message
// (CRLF senders, NUL trailers, counts that include the LF) are dropped. Bytes arrive in arbitrary pieces; a partial message waits in the
// framer until the rest comes. A message over the size limit is reported once and skipped —
// its bytes are read and dropped, never buffered — so one abusive sender cannot exhaust memory,
// and the stream stays in step for the messages that follow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace yagura::pipeline {

class SyslogFrameSink {
 public:
  virtual ~SyslogFrameSink() = default;
  // One complete message, without its framing. The view is valid during the call only.
  virtual void OnMessage(std::string_view message) = 0;
  // A message that could not be framed: oversized, or a malformed octet count.
  virtual void OnFramingError(std::string_view reason) = 0;
};

class SyslogStreamFramer {
 public:
  explicit SyslogStreamFramer(size_t max_message_bytes = 64 * 1024)
      : max_message_bytes_(max_message_bytes) {}

  // Feeds the next bytes of the stream.
  void Feed(std::string_view bytes, SyslogFrameSink& sink);
  // The connection ended: a last non-transparent message without LF is delivered; an
  // incomplete octet-counted one is reported.
  void Finish(SyslogFrameSink& sink);

  // Bytes held for an incomplete message (bounded by the size limit plus a count).
  [[nodiscard]] size_t buffered() const { return buffer_.size(); }

 private:
  enum class State { kStart, kCount, kCounted, kLine, kSkipCounted, kSkipLine };
  void Deliver(std::string_view message, SyslogFrameSink& sink);

  size_t max_message_bytes_;
  State state_ = State::kStart;
  std::string buffer_;
  uint64_t count_ = 0;       // octet count being read, or bytes still expected
  size_t count_digits_ = 0;
};

}  // namespace yagura::pipeline
