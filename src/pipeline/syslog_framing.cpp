// RFC 6587 framing as a byte-at-a-time state machine with bulk copies for message bodies
// (see syslog_framing.hpp).
#include "pipeline/syslog_framing.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace yagura::pipeline {

void SyslogStreamFramer::Deliver(std::string_view message, SyslogFrameSink& sink) {
  while (!message.empty() && (message.back() == '\r' || message.back() == '\n' ||
                              message.back() == '\0')) {
    message.remove_suffix(1);
  }
  if (!message.empty()) sink.OnMessage(message);
}

void SyslogStreamFramer::Feed(std::string_view bytes, SyslogFrameSink& sink) {
  size_t i = 0;
  while (i < bytes.size()) {
    switch (state_) {
      case State::kStart: {
        char c = bytes[i];
        if (c == '\n' || c == '\r' || c == '\0' || c == ' ') {
          ++i;  // stray separators between messages
        } else if (c >= '0' && c <= '9') {
          state_ = State::kCount;
          count_ = 0;
          count_digits_ = 0;
        } else {
          state_ = State::kLine;
        }
        break;
      }
      case State::kCount: {
        char c = bytes[i];
        if (c >= '0' && c <= '9') {
          count_ = count_ * 10 + static_cast<uint64_t>(c - '0');
          ++i;
          if (++count_digits_ > 10) {
            sink.OnFramingError("octet count longer than 10 digits");
            state_ = State::kSkipLine;
          }
        } else if (c == ' ' && count_digits_ > 0 && count_ > 0) {
          ++i;
          if (count_ > max_message_bytes_) {
            sink.OnFramingError(fmt::format("message of {} bytes exceeds the limit of {}", count_,
                                            max_message_bytes_));
            state_ = State::kSkipCounted;
          } else {
            buffer_.clear();
            state_ = State::kCounted;
          }
        } else {
          // Not an octet count after all ("2024-05-01 ..." from a sender without PRI): read the
          // digits seen so far and the rest as one non-transparent line.
          buffer_ = std::to_string(count_);
          if (count_digits_ > buffer_.size()) buffer_.insert(0, count_digits_ - buffer_.size(), '0');
          state_ = State::kLine;
        }
        break;
      }
      case State::kCounted: {
        size_t take = std::min<uint64_t>(count_ - buffer_.size(), bytes.size() - i);
        buffer_.append(bytes.substr(i, take));
        i += take;
        if (buffer_.size() == count_) {
          Deliver(buffer_, sink);
          buffer_.clear();
          state_ = State::kStart;
        }
        break;
      }
      case State::kSkipCounted: {
        size_t take = std::min<uint64_t>(count_, bytes.size() - i);
        count_ -= take;
        i += take;
        if (count_ == 0) state_ = State::kStart;
        break;
      }
      case State::kLine: {
        const char* start = bytes.data() + i;
        const void* end = std::memchr(start, '\n', bytes.size() - i);
        size_t length = end ? static_cast<const char*>(end) - start : bytes.size() - i;
        if (buffer_.size() + length > max_message_bytes_) {
          sink.OnFramingError(fmt::format("line longer than the limit of {} bytes",
                                          max_message_bytes_));
          buffer_.clear();
          state_ = State::kSkipLine;
          break;  // the skip state consumes up to the LF
        }
        if (end != nullptr) {
          if (buffer_.empty()) {
            Deliver(std::string_view(start, length), sink);
          } else {
            buffer_.append(start, length);
            Deliver(buffer_, sink);
            buffer_.clear();
          }
          i += length + 1;
          state_ = State::kStart;
        } else {
          buffer_.append(start, length);
          i += length;
        }
        break;
      }
      case State::kSkipLine: {
        const void* end = std::memchr(bytes.data() + i, '\n', bytes.size() - i);
        if (end == nullptr) {
          i = bytes.size();
        } else {
          i = static_cast<const char*>(end) - bytes.data() + 1;
          state_ = State::kStart;
        }
        break;
      }
    }
  }
}

void SyslogStreamFramer::Finish(SyslogFrameSink& sink) {
  if (state_ == State::kLine && !buffer_.empty()) Deliver(buffer_, sink);
  if (state_ == State::kCounted) {
    sink.OnFramingError(fmt::format("connection closed {} bytes into a message of {}",
                                    buffer_.size(), count_));
  }
  if (state_ == State::kCount) sink.OnFramingError("connection closed inside an octet count");
  buffer_.clear();
  state_ = State::kStart;
}

}  // namespace yagura::pipeline
