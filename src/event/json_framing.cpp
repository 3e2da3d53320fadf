#include "event/json_framing.hpp"

#include <array>

namespace yagura::event {
namespace {

// Bytes that end a run of ordinary string content / ordinary text between strings.
constexpr std::array<bool, 256> MakeTable(std::string_view specials) {
  std::array<bool, 256> table{};
  for (char c : specials) table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr auto STRING_SPECIAL = MakeTable("\"\\\n");
constexpr auto STRUCTURE_SPECIAL = MakeTable("\"{}[]\n");

}  // namespace

JsonFramer::Frame JsonFramer::EndRecordWithError(std::string_view message) {
  in_record_ = false;
  discarding_ = false;
  return {Kind::kError, 0, 0, record_line_, message};
}

JsonFramer::Frame JsonFramer::Next(const char* data, size_t size, bool eof) {
  if (in_record_) return ScanRecord(data, size, eof);
  return StartOrSkip(data, size, eof);
}

JsonFramer::Frame JsonFramer::StartOrSkip(const char* data, size_t size, bool eof) {
  while (pos_ < size) {
    if (!started_) {
      if (size - pos_ < 3 && !eof) return {Kind::kNeedMore, 0, 0, 0, {}};
      started_ = true;
      if (size - pos_ >= 3 && static_cast<unsigned char>(data[pos_]) == 0xef &&
          static_cast<unsigned char>(data[pos_ + 1]) == 0xbb &&
          static_cast<unsigned char>(data[pos_ + 2]) == 0xbf) {
        pos_ += 3;
      }
      continue;
    }
    char c = data[pos_];
    if (garbage_) {
      while (pos_ < size) {
        char g = data[pos_];
        if (g == '\n' || (array_mode_ && (g == ',' || g == ']'))) break;
        ++pos_;
      }
      if (pos_ == size && !eof) return {Kind::kNeedMore, 0, 0, 0, {}};
      if (pos_ < size && data[pos_] != ']') {
        if (data[pos_] == '\n') {
          ++line_;
          at_line_start_ = true;
        }
        ++pos_;
      }
      garbage_ = false;
      return {Kind::kError, 0, 0, garbage_line_,
              array_mode_ ? "array element is not a JSON object" : "not a JSON value"};
    }
    switch (c) {
      case '\n':
        ++line_;
        at_line_start_ = true;
        ++pos_;
        continue;
      case ' ':
      case '\t':
      case '\r':
        at_line_start_ = false;
        ++pos_;
        continue;
      case '{':
        break;
      case '[':
        if (array_mode_) break;
        array_mode_ = true;
        at_line_start_ = false;
        ++pos_;
        continue;
      case ',':
      case ']':
        if (array_mode_) {
          if (c == ']') array_mode_ = false;
          at_line_start_ = false;
          ++pos_;
          continue;
        }
        [[fallthrough]];
      default:
        garbage_ = true;
        garbage_line_ = line_;
        continue;
    }
    in_record_ = true;
    record_start_ = pos_;
    record_line_ = line_;
    record_at_line_start_ = at_line_start_;
    depth_ = 0;
    in_string_ = false;
    escape_ = false;
    discarding_ = false;
    return ScanRecord(data, size, eof);
  }
  if (eof && garbage_) {
    garbage_ = false;
    return {Kind::kError, 0, 0, garbage_line_, "not a JSON value"};
  }
  return {Kind::kNeedMore, 0, 0, 0, {}};
}

JsonFramer::Frame JsonFramer::ScanRecord(const char* data, size_t size, bool eof) {
  while (pos_ < size) {
    if (in_string_) {
      if (escape_) {
        escape_ = false;
        if (data[pos_] != '\n') {
          ++pos_;
          continue;
        }
      } else {
        while (pos_ < size && !STRING_SPECIAL[static_cast<unsigned char>(data[pos_])]) ++pos_;
        if (pos_ == size) break;
      }
      char c = data[pos_];
      if (c == '\\') {
        escape_ = true;
        ++pos_;
      } else if (c == '"') {
        in_string_ = false;
        ++pos_;
      } else {  // a raw newline: the string was never closed
        ++pos_;
        ++line_;
        at_line_start_ = true;
        return EndRecordWithError("unterminated string in JSON value");
      }
      continue;
    }
    char c = data[pos_];
    if (at_line_start_ && c == '{' && record_at_line_start_ && pos_ != record_start_) {
      return EndRecordWithError("incomplete JSON value (a new value starts on the next line)");
    }
    at_line_start_ = false;
    if (!STRUCTURE_SPECIAL[static_cast<unsigned char>(c)]) {
      ++pos_;
      continue;
    }
    switch (c) {
      case '"':
        in_string_ = true;
        break;
      case '{':
      case '[':
        ++depth_;
        break;
      case '}':
      case ']':
        if (depth_ > 0) --depth_;
        if (depth_ == 0) {
          ++pos_;
          in_record_ = false;
          if (discarding_) {
            discarding_ = false;
            return {Kind::kError, 0, 0, record_line_, discard_message_};
          }
          return {Kind::kRecord, record_start_, pos_, record_line_, {}};
        }
        break;
      case '\n':
        ++line_;
        at_line_start_ = true;
        break;
      default:
        break;
    }
    ++pos_;
  }
  if (eof) {
    if (discarding_) return EndRecordWithError(discard_message_);
    return EndRecordWithError("incomplete JSON value at end of input");
  }
  return {Kind::kNeedMore, 0, 0, 0, {}};
}

}  // namespace yagura::event
