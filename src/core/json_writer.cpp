#include "core/json_writer.hpp"

#include <immintrin.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "core/time.hpp"

namespace yagura {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid.
size_t ValidUtf8Length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t need;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { need = 1; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { need = 2; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { need = 3; min = 0x10000; }
  else return 0;
  if (i + need >= s.size()) return 0;  // truncated sequence
  uint32_t cp = c & (0x3F >> need);
  for (size_t k = 1; k <= need; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return need + 1;
}

}  // namespace

namespace {

// Bit i set where byte i of the 32 at `at` needs escaping. Signed bytes below 0x20 are the
// control characters and everything from 0x80 on.
uint32_t SpecialBytes32(const char* at) {
  const __m256i space = _mm256_set1_epi8(0x20);
  const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\');
  const __m256i chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
  return static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_or_si256(
      _mm256_cmpgt_epi8(space, chunk),
      _mm256_or_si256(_mm256_cmpeq_epi8(chunk, quote), _mm256_cmpeq_epi8(chunk, backslash)))));
}

// The same for the 8 bytes at `at`, in a word: the high bit of byte i is set where byte i needs
// escaping.
uint64_t SpecialBytes8(const char* at) {
  constexpr uint64_t ONES = 0x0101010101010101ULL;
  constexpr uint64_t HIGHS = 0x8080808080808080ULL;
  constexpr uint64_t LOWS = 0x7f7f7f7f7f7f7f7fULL;
  uint64_t word;
  std::memcpy(&word, at, sizeof word);
  // Bytes that are zero, exactly (no borrow runs from one byte into the next).
  auto zero_bytes = [](uint64_t v) { return ~(((v & LOWS) + LOWS) | v | LOWS); };
  const uint64_t low7 = word & LOWS;
  const uint64_t below_space = ~(low7 + (0x80 - 0x20) * ONES) & HIGHS;  // 7 low bits < 0x20
  return (word & HIGHS) | below_space | zero_bytes(word ^ ('"' * ONES)) |
         zero_bytes(word ^ ('\\' * ONES));
}

}  // namespace

size_t JsonPlainRunEnd(std::string_view text, size_t from) {
  const char* data = text.data();
  const size_t size = text.size();
  for (; from + 32 <= size; from += 32) {
    const uint32_t special = SpecialBytes32(data + from);
    if (special != 0) return from + static_cast<size_t>(__builtin_ctz(special));
  }
  if (from >= size) return size;
  // The rest in one more block that ends with the text and overlaps what was classified (its
  // bytes before `from` masked off), in 8-byte words for shorter texts: values in event JSON are
  // mostly short, and went byte by byte.
  if (size >= 32) {
    const size_t last = size - 32;
    const uint32_t special = SpecialBytes32(data + last) & (~uint32_t{0} << (from - last));
    return special != 0 ? last + static_cast<size_t>(__builtin_ctz(special)) : size;
  }
  for (; from + 8 <= size; from += 8) {
    const uint64_t special = SpecialBytes8(data + from);
    if (special != 0) return from + static_cast<size_t>(__builtin_ctzll(special)) / 8;
  }
  if (from >= size) return size;
  if (size >= 8) {
    const size_t last = size - 8;
    const uint64_t special = SpecialBytes8(data + last) & (~uint64_t{0} << (8 * (from - last)));
    return special != 0 ? last + static_cast<size_t>(__builtin_ctzll(special)) / 8 : size;
  }
  for (; from < size; ++from) {
    const auto c = static_cast<unsigned char>(data[from]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
  }
  return from;
}

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      const size_t end = JsonPlainRunEnd(text, i);
      out.append(text.data() + i, end - i);
      i = end;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      static constexpr char HEX[] = "0123456789abcdef";
      const char escape[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
      out.append(escape, sizeof escape);
      ++i;
      continue;
    }
    size_t len = ValidUtf8Length(text, i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
  out.push_back('"');
}

void JsonWriter::Separate() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = true;
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_.push_back('{');
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::EndObject() {
  out_.push_back('}');
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_.push_back('[');
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::EndArray() {
  out_.push_back(']');
  need_comma_ = true;
  return *this;
}
JsonWriter& JsonWriter::Key(std::string_view key) {
  Separate();
  AppendJsonString(out_, key);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::WrittenKey(QuotedKey key) {
  Separate();
  out_.append(key.text());
  need_comma_ = false;
  return *this;
}
JsonWriter& JsonWriter::String(std::string_view value) {
  Separate();
  AppendJsonString(out_, value);
  return *this;
}
JsonWriter& JsonWriter::Int(int64_t value) {
  Separate();
  out_ += std::to_string(value);
  return *this;
}
JsonWriter& JsonWriter::Uint(uint64_t value) {
  Separate();
  out_ += std::to_string(value);
  return *this;
}
JsonWriter& JsonWriter::Double(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  // Same text as printf's "%.6g", without the locale-aware printf machinery (lists of scored
  // incidents write one number per row).
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 6);
  out_.append(buf, end);
  return *this;
}
JsonWriter& JsonWriter::Bool(bool value) {
  Separate();
  out_ += value ? "true" : "false";
  return *this;
}
JsonWriter& JsonWriter::Null() {
  Separate();
  out_ += "null";
  return *this;
}
JsonWriter& JsonWriter::TimeOrNull(const std::optional<int64_t>& ms) {
  return ms ? String(FormatTimestampMs(*ms)) : Null();
}
JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_.append(json);
  return *this;
}

}  // namespace yagura
