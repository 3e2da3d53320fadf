// Compile-then-execute: Compile() turns a BinXML token stream (a template definition, or a plain
// fragment) into ops, once for every template that reads differently (CompileOrReuse); Execute()
// walks the ops of one template instance with its values. Start tags are written lazily
// ("<Name attrs" first, then ">" or "/>" once the first content, or the end, shows whether the
// element is empty), which is what lets a single pass produce libevtx's layout without building
// a tree.
#include "event/binxml.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

#include <xxhash.h>
#if defined(__x86_64__)
// The library's AVX2 and AVX-512 forms, chosen when first called, instead of its SSE2 one:
// outline shapes are hashed once a record (a kilobyte or two).
#define XXH_DISPATCH_DISABLE_REPLACE
#include <xxh_x86dispatch.h>
#endif

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace yagura::event::binxml {
namespace {

uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t U32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint64_t U64(const uint8_t* p) { return U32(p) | static_cast<uint64_t>(U32(p + 4)) << 32; }

constexpr char HEX_UPPER[] = "0123456789ABCDEF";
constexpr char HEX_LOWER[] = "0123456789abcdef";

// (std::to_chars writes two digits a step, in place; a digit a step and a reversed copy were
// 2% of rendering.)
void AppendUnsigned(uint64_t value, TextBuffer& out) {
  constexpr size_t MAX_DIGITS = 20;
  char* at = out.Extend(MAX_DIGITS);
  char* end = std::to_chars(at, at + MAX_DIGITS, value).ptr;
  out.Truncate(out.size() - static_cast<size_t>(at + MAX_DIGITS - end));
}

void AppendSigned(int64_t value, TextBuffer& out) {
  if (value < 0) {
    out.Push('-');
    AppendUnsigned(~static_cast<uint64_t>(value) + 1, out);
  } else {
    AppendUnsigned(static_cast<uint64_t>(value), out);
  }
}

// "0x" and `digits` lower-case hex digits, zero-padded.
void AppendHex(uint64_t value, int digits, TextBuffer& out) {
  char* at = out.Extend(2 + static_cast<size_t>(digits));
  at[0] = '0';
  at[1] = 'x';
  for (int i = digits - 1; i >= 0; --i) {
    at[2 + i] = HEX_LOWER[value & 0xf];
    value >>= 4;
  }
}

void AppendDigits(uint32_t value, int digits, char* at) {
  for (int i = digits - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t days, int64_t& year, uint32_t& month, uint32_t& day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const uint32_t doe = static_cast<uint32_t>(days - era * 146097);
  const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint32_t mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
}

// FILETIME (100 ns ticks since 1601-01-01) as "YYYY-MM-DDTHH:MM:SS.fffffff00Z".
bool AppendFileTime(uint64_t ticks, TextBuffer& out) {
  constexpr uint64_t TICKS_PER_DAY = 864000000000ULL;
  constexpr int64_t DAYS_1601_TO_1970 = 134774;
  const int64_t days = static_cast<int64_t>(ticks / TICKS_PER_DAY) - DAYS_1601_TO_1970;
  uint64_t rest = ticks % TICKS_PER_DAY;
  int64_t year = 0;
  uint32_t month = 0;
  uint32_t day = 0;
  CivilFromDays(days, year, month, day);
  if (year > 9999) return false;
  const uint32_t fraction = static_cast<uint32_t>(rest % 10000000);
  rest /= 10000000;
  char* at = out.Extend(30);
  AppendDigits(static_cast<uint32_t>(year), 4, at);
  at[4] = '-';
  AppendDigits(month, 2, at + 5);
  at[7] = '-';
  AppendDigits(day, 2, at + 8);
  at[10] = 'T';
  AppendDigits(static_cast<uint32_t>(rest / 3600), 2, at + 11);
  at[13] = ':';
  AppendDigits(static_cast<uint32_t>(rest / 60 % 60), 2, at + 14);
  at[16] = ':';
  AppendDigits(static_cast<uint32_t>(rest % 60), 2, at + 17);
  at[19] = '.';
  AppendDigits(fraction, 7, at + 20);
  at[27] = '0';
  at[28] = '0';
  at[29] = 'Z';
  return true;
}

void AppendGuid(const uint8_t* p, TextBuffer& out) {
  char* at = out.Extend(38);
  auto hex = [&](uint64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      at[i] = HEX_UPPER[value & 0xf];
      value >>= 4;
    }
    at += digits;
  };
  *at++ = '{';
  hex(U32(p), 8);
  *at++ = '-';
  hex(U16(p + 4), 4);
  *at++ = '-';
  hex(U16(p + 6), 4);
  *at++ = '-';
  hex(p[8], 2);
  hex(p[9], 2);
  *at++ = '-';
  for (int i = 10; i < 16; ++i) hex(p[i], 2);
  *at = '}';
}

bool AppendSid(const uint8_t* p, size_t size, TextBuffer& out) {
  if (size < 8) return false;
  const size_t count = p[1];
  if (size != 8 + 4 * count) return false;
  uint64_t authority = 0;
  for (int i = 2; i < 8; ++i) authority = authority << 8 | p[i];
  out.Append("S-", 2);
  AppendUnsigned(p[0], out);
  out.Push('-');
  AppendUnsigned(authority, out);
  for (size_t i = 0; i < count; ++i) {
    out.Push('-');
    AppendUnsigned(U32(p + 8 + 4 * i), out);
  }
  return true;
}

bool IsLeapYear(uint32_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

// SYSTEMTIME (year, month, day of week, day, hour, minute, second, milliseconds) as
// "YYYY-MM-DDTHH:MM:SS.mmmZ". libevtx prints fields it considers invalid as raw hex words
// instead; those (and anything near the edges) are left to it.
bool AppendSystemTime(const uint8_t* p, TextBuffer& out) {
  static constexpr uint8_t DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const uint32_t year = U16(p);
  const uint32_t month = U16(p + 2);
  const uint32_t weekday = U16(p + 4);
  const uint32_t day = U16(p + 6);
  const uint32_t hour = U16(p + 8);
  const uint32_t minute = U16(p + 10);
  const uint32_t second = U16(p + 12);
  const uint32_t millisecond = U16(p + 14);
  if (year < 1601 || year > 9999 || month < 1 || month > 12 || weekday > 6 || day < 1 ||
      hour > 23 || minute > 59 || second > 59 || millisecond > 999) {
    return false;
  }
  const uint32_t days = DAYS[month - 1] + (month == 2 && IsLeapYear(year) ? 1 : 0);
  if (day > days) return false;
  char* at = out.Extend(24);
  AppendDigits(year, 4, at);
  at[4] = '-';
  AppendDigits(month, 2, at + 5);
  at[7] = '-';
  AppendDigits(day, 2, at + 8);
  at[10] = 'T';
  AppendDigits(hour, 2, at + 11);
  at[13] = ':';
  AppendDigits(minute, 2, at + 14);
  at[16] = ':';
  AppendDigits(second, 2, at + 17);
  at[19] = '.';
  AppendDigits(millisecond, 3, at + 20);
  at[23] = 'Z';
  return true;
}

// The XML escape of an ASCII character, or nullptr. libevtx escapes only these three, and only
// in element content; attribute values are written as they are.
inline const char* EscapeOf(uint32_t c, size_t& length) {
  switch (c) {
    case '&':
      length = 5;
      return "&amp;";
    case '<':
      length = 4;
      return "&lt;";
    case '>':
      length = 4;
      return "&gt;";
    default:
      return nullptr;
  }
}

// Whether an XML reader finds a name where it was written: none of the bytes that end a name,
// start markup or quote, and no '!' or '?' that would make "<Name" a declaration or a
// processing instruction.
bool ReadsBackAsName(const char* text, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    switch (text[i]) {
      case ' ':
      case '\t':
      case '\r':
      case '\n':
      case '/':
      case '>':
      case '<':
      case '=':
      case '"':
      case '\'':
      case '&':
      case '!':
      case '?':
        return false;
      default:
        break;
    }
  }
  return true;
}

}  // namespace

void TextBuffer::Grow(size_t n) {
  size_t want = std::max<size_t>({size_ + n, data_.size() * 2, 256});
  data_.resize(want);
}

bool AppendUtf16(const uint8_t* data, size_t units, bool escape, TextBuffer& out) {
  size_t i = 0;
  // One leading byte-order mark is dropped.
  if (units > 0 && (U16(data) == 0xfeff || U16(data) == 0xfffe)) i = 1;
  // At most 3 bytes of UTF-8 per unit (a surrogate pair: 4 bytes for 2 units), 5 when escaped.
  char* at = out.Extend((units - i) * (escape ? 5 : 3));
  char* const begin = at;
  const size_t reserved = (units - i) * (escape ? 5 : 3);
  for (; i < units; ++i) {
#if defined(__SSE2__)
    // Eight units as ASCII that needs no escaping (most of every event), written as they are;
    // false (nothing written) otherwise.
    auto plain_block = [&](size_t from, char* to) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 2 * from));
      const __m128i high = _mm_and_si128(v, _mm_set1_epi16(static_cast<short>(0xff80)));
      if (_mm_movemask_epi8(_mm_cmpeq_epi16(high, _mm_setzero_si128())) != 0xffff) return false;
      const __m128i bytes = _mm_packus_epi16(v, v);
      __m128i special = _mm_cmpeq_epi8(bytes, _mm_setzero_si128());
      if (escape) {
        special = _mm_or_si128(special, _mm_cmpeq_epi8(bytes, _mm_set1_epi8('&')));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(bytes, _mm_set1_epi8('<')));
        special = _mm_or_si128(special, _mm_cmpeq_epi8(bytes, _mm_set1_epi8('>')));
      }
      if ((_mm_movemask_epi8(special) & 0xff) != 0) return false;
      _mm_storel_epi64(reinterpret_cast<__m128i*>(to), bytes);
      return true;
    };
    while (units - i >= 8 && plain_block(i, at)) {
      at += 8;
      i += 8;
    }
    if (i >= units) break;
    // The last few units of a text of eight or more: the block of its last eight, when plain,
    // is written over the bytes its first units already gave (plain units give one byte each,
    // so those are the same bytes), instead of a unit at a time.
    if (units >= 8 && units - i < 8) {
      const size_t back = 8 - (units - i);
      if (plain_block(units - 8, at - back)) {
        at += units - i;
        break;
      }
    }
#endif
    uint32_t code = U16(data + 2 * i);
    if (code == 0) break;  // strings end at their first NUL
    if (code < 0x80) {
      size_t length = 0;
      const char* escaped = escape ? EscapeOf(code, length) : nullptr;
      if (escaped != nullptr) {
        std::memcpy(at, escaped, length);
        at += length;
      } else {
        *at++ = static_cast<char>(code);
      }
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      // libevtx combines a surrogate pair as 0xFC01 + (high - 0xD800) * 1024 + (low - 0xDC00),
      // not 0x10000 + ...; that is reproduced. Unpaired surrogates are left to it.
      if (code >= 0xdc00 || i + 1 >= units) {
        out.Truncate(out.size() - reserved);
        return false;
      }
      const uint32_t low = U16(data + 2 * (i + 1));
      if (low < 0xdc00 || low > 0xdfff) {
        out.Truncate(out.size() - reserved);
        return false;
      }
      code = 0xfc01 + ((code - 0xd800) << 10) + (low - 0xdc00);
      ++i;
    }
    if (code < 0x800) {
      *at++ = static_cast<char>(0xc0 | code >> 6);
      *at++ = static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      *at++ = static_cast<char>(0xe0 | code >> 12);
      *at++ = static_cast<char>(0x80 | (code >> 6 & 0x3f));
      *at++ = static_cast<char>(0x80 | (code & 0x3f));
    } else {
      *at++ = static_cast<char>(0xf0 | code >> 18);
      *at++ = static_cast<char>(0x80 | (code >> 12 & 0x3f));
      *at++ = static_cast<char>(0x80 | (code >> 6 & 0x3f));
      *at++ = static_cast<char>(0x80 | (code & 0x3f));
    }
  }
  const size_t written = static_cast<size_t>(at - begin);
  out.Truncate(out.size() - reserved + written);
  // libevtx fails on a text that is a single escaped character ("<" alone, not "<<" or "a<").
  if (escape && (written == 4 || written == 5) && begin[0] == '&' &&
      (std::memcmp(begin, "&lt;", 4) == 0 || std::memcmp(begin, "&gt;", 4) == 0 ||
       (written == 5 && std::memcmp(begin, "&amp;", 5) == 0))) {
    return false;
  }
  return true;
}

bool AppendValue(uint8_t type, const uint8_t* data, size_t size, bool escape, TextBuffer& out) {
  switch (type) {
    case kStringType:
      if (size % 2 != 0) return false;
      return AppendUtf16(data, size / 2, escape, out);
    case kAnsiStringType:
      // Written unescaped by libevtx; only plain ASCII, since other bytes depend on a code page.
      for (size_t i = 0; i < size && data[i] != 0; ++i) {
        if (data[i] >= 0x80) return false;
        out.Push(static_cast<char>(data[i]));
      }
      return true;
    case kInt8Type:
      if (size != 1) return false;
      AppendSigned(static_cast<int8_t>(data[0]), out);
      return true;
    case kUInt8Type:
      if (size != 1) return false;
      AppendUnsigned(data[0], out);
      return true;
    case kInt16Type:
      if (size != 2) return false;
      AppendSigned(static_cast<int16_t>(U16(data)), out);
      return true;
    case kUInt16Type:
      if (size != 2) return false;
      AppendUnsigned(U16(data), out);
      return true;
    case kInt32Type:
      if (size != 4) return false;
      AppendSigned(static_cast<int32_t>(U32(data)), out);
      return true;
    case kUInt32Type:
      if (size != 4) return false;
      AppendUnsigned(U32(data), out);
      return true;
    case kInt64Type:
      if (size != 8) return false;
      AppendSigned(static_cast<int64_t>(U64(data)), out);
      return true;
    case kUInt64Type:
      if (size != 8) return false;
      AppendUnsigned(U64(data), out);
      return true;
    case kBoolType:
      if (size != 4) return false;
      if (U32(data) != 0) {
        out.Append("true", 4);
      } else {
        out.Append("false", 5);
      }
      return true;
    case kBinaryType: {
      char* at = out.Extend(2 * size);
      for (size_t i = 0; i < size; ++i) {
        at[2 * i] = HEX_UPPER[data[i] >> 4];
        at[2 * i + 1] = HEX_UPPER[data[i] & 0xf];
      }
      return true;
    }
    case kGuidType:
      if (size != 16) return false;
      AppendGuid(data, out);
      return true;
    case kSizeTType:
      if (size == 4) {
        AppendUnsigned(U32(data), out);
      } else if (size == 8) {
        AppendUnsigned(U64(data), out);
      } else {
        return false;
      }
      return true;
    case kFileTimeType:
      if (size != 8) return false;
      return AppendFileTime(U64(data), out);
    case kSysTimeType:
      if (size != 16) return false;
      return AppendSystemTime(data, out);
    case kSidType:
      return AppendSid(data, size, out);
    case kHexInt32Type:
      if (size != 4) return false;
      AppendHex(U32(data), 8, out);
      return true;
    case kHexInt64Type:
      if (size != 8) return false;
      AppendHex(U64(data), 16, out);
      return true;
    default:
      // Null, reals (libevtx has its own float printing, with its own rounding), handles,
      // BinXML and arrays are not plain values here.
      return false;
  }
}

// --- ChunkRenderer ---------------------------------------------------------------------------

namespace {
OutlineShapeId ShapeOfWords(const std::vector<uint64_t>& words);  // (below, by template ids)
}  // namespace

void ChunkRenderer::SetChunk(const uint8_t* chunk, size_t size) {
  // Element keys must differ between chunks (and renderers): their compiled templates differ.
  static std::atomic<uint64_t> chunks_set{0};
  chunk_serial_ = chunks_set.fetch_add(1, std::memory_order_relaxed) + 1;
  chunk_ = chunk;
  // Offsets are 32-bit and cache keys twice that: anything larger than a chunk is refused
  // (every record then fails as outside the chunk).
  size_ = size <= MAX_CHUNK_SIZE ? size : 0;
  templates_.clear();
  if (reusable_.empty()) reusable_.resize(REUSABLE_TEMPLATES);
  // Every chunk of a log defines its templates again, and compiling them was a seventh of
  // rendering; the ops stay for the next chunks until they outgrow their budget.
  if (ops_.size() > KEPT_OPS || pool_.size() > KEPT_POOL_BYTES || fused_.size() > KEPT_FUSED) {
    ops_.clear();
    fused_.clear();
    pool_.Clear();
    std::fill(reusable_.begin(), reusable_.end(), ReusableTemplate{});
    ClearTraces();  // they name templates by their ops
  } else if (traces_.size() >= KEPT_TRACES || trace_steps_.size() >= KEPT_TRACE_STEPS ||
             trace_text_.size() >= KEPT_TRACE_TEXT) {
    ClearTraces();
  }
}

bool ChunkRenderer::RenderRecord(uint32_t begin, uint32_t end, TextBuffer& out,
                                 std::vector<OutlineStep>* outline) {
  const size_t out_begin = out.size();
  if (!RenderOnce(begin, end, out, outline, outline_only_ && outline != nullptr)) return false;
  if (!compact_ || !outline->empty()) return true;
  // No outline after all: the caller reads the XML, so the record is written again as XML.
  out.Truncate(out_begin);
  return RenderOnce(begin, end, out, outline, false);
}

bool ChunkRenderer::RenderOnce(uint32_t begin, uint32_t end, TextBuffer& out,
                               std::vector<OutlineStep>* outline, bool compact) {
  compact_ = compact;
  if (outline != nullptr) outline->clear();
  shape_words_.clear();
  shape_keyed_ = true;
  outline_shape_ = {};
  if (end > size_ || begin > end) return Fail("record outside the chunk");
  out_ = &out;
  outline_ = outline;
  outline_valid_ = true;
  elements_.clear();
  min_depth_ = 0;
  values_.clear();
  in_start_tag_ = false;
  in_attribute_ = false;
  attribute_written_ = false;
  dropping_ = false;
  over_limit_ = false;
  work_ = 0;
  error_ = "";
  if (!RenderFragment(begin, end, 0)) return false;
  if (!elements_.empty()) return Fail("elements left open at the end of the record");
  if (out.size() == 0) return Fail("record without elements");
  // Outline offsets are 32-bit (records are far smaller than that unless a caller lifts the
  // output limit).
  if (outline != nullptr && (!outline_valid_ || out.size() > UINT32_MAX)) outline->clear();
  if (outline != nullptr && !outline->empty() && shape_keyed_) {
    outline_shape_ = ShapeOfWords(shape_words_);
  }
  return true;
}

bool ChunkRenderer::RenderFragment(uint32_t begin, uint32_t end, int nesting) {
  if (nesting > MAX_NESTING) return Fail("BinXML values nested too deeply");
  uint32_t pos = begin;
  while (pos < end && chunk_[pos] == 0x0f) {
    if (end - pos < 4) return Fail("truncated fragment header");
    pos += 4;
  }
  if (pos >= end) return Fail("empty BinXML fragment");
  if (chunk_[pos] == 0x0c) return RenderTemplateInstance(pos, end, nesting);
  // A fragment without a template: compiled (and cached) like a template without values.
  const uint32_t key = pos * 2 + 1;
  size_t entry = templates_.size();
  for (size_t i = 0; i < templates_.size(); ++i) {
    if (templates_[i].key == key) {
      entry = i;
      break;
    }
  }
  if (entry == templates_.size() && !CompileOrReuse(pos, end, key, false, entry)) return false;
  const Compiled code = templates_[entry];
  instance_descriptors_ = nullptr;
  return Execute(code, values_.size(), values_.size(), nesting);
}

bool ChunkRenderer::RenderTemplateInstance(uint32_t& pos, uint32_t end, int nesting) {
  if (end - pos < 10) return Fail("truncated template instance");
  const uint32_t definition = U32(chunk_ + pos + 6);
  pos += 10;
  uint32_t data_size = 0;
  if (definition == pos) {
    // The definition follows inline (its first use in the chunk); skip over it.
    if (end - pos < 24) return Fail("truncated template definition");
    data_size = U32(chunk_ + pos + 20);
    if (data_size > end - pos - 24) return Fail("template definition overruns the record");
    pos += 24 + data_size;
  } else {
    if (definition > size_ || size_ - definition < 24) return Fail("template offset out of range");
    data_size = U32(chunk_ + definition + 20);
    if (data_size > size_ - definition - 24) return Fail("template definition overruns the chunk");
  }
  const uint32_t key = definition * 2;
  size_t entry = templates_.size();
  for (size_t i = 0; i < templates_.size(); ++i) {
    if (templates_[i].key == key) {
      entry = i;
      break;
    }
  }
  if (entry == templates_.size() &&
      !CompileOrReuse(definition + 24, definition + 24 + data_size, key, true, entry)) {
    return false;
  }
  const Compiled code = templates_[entry];

  if (end - pos < 4) return Fail("truncated template values");
  const uint32_t count = U32(chunk_ + pos);
  pos += 4;
  if (count > (end - pos) / 4) return Fail("template value count overruns the record");
  uint32_t data = pos + count * 4;
  const uint32_t descriptors = pos;
  const size_t values_begin = values_.size();
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* descriptor = chunk_ + pos + 4 * i;
    const uint32_t size = U16(descriptor);
    if (size > end - data) {
      values_.resize(values_begin);
      return Fail("template value overruns the record");
    }
    values_.push_back(Value{descriptor[2], data, size});
    data += size;
  }
  pos = data;
  instance_descriptors_ = chunk_ + descriptors;
  const bool ok = Execute(code, values_begin, values_.size(), nesting);
  values_.resize(values_begin);
  return ok;
}

bool ChunkRenderer::ReadName(uint32_t offset, uint32_t& pos, uint32_t end, uint32_t& text,
                             uint32_t& length) {
  if (offset > size_ || size_ - offset < 8) return Fail("name offset out of range");
  const uint32_t units = U16(chunk_ + offset + 6);
  const uint32_t bytes = 8 + 2 * units + 2;
  if (bytes > size_ - offset) return Fail("name overruns the chunk");
  if (offset == pos) {
    if (bytes > end - pos) return Fail("inline name overruns its fragment");
    pos += bytes;
  }
  text = static_cast<uint32_t>(pool_.size());
  if (!AppendUtf16(chunk_ + offset + 8, units, false, pool_)) return Fail("bad UTF-16 in a name");
  length = static_cast<uint32_t>(pool_.size()) - text;
  if (length == 0) return Fail("empty name");
  return true;
}

bool ChunkRenderer::Compile(uint32_t begin, uint32_t end, uint32_t key, bool in_template,
                            size_t& entry) {
  if (templates_.size() >= MAX_TEMPLATES) return Fail("too many templates in one chunk");
  const size_t ops_begin = ops_.size();
  const size_t pool_begin = pool_.size();
  auto fail = [&](const char* message) {
    ops_.resize(ops_begin);
    pool_.Truncate(pool_begin);
    return Fail(message);
  };
  auto need = [&](uint32_t pos, uint32_t n) { return n <= end - pos; };
  uint32_t pos = begin;
  int depth = 0;
  bool in_attribute = false;  // attribute values are not escaped
  bool done = false;
  while (!done) {
    if (pos >= end) {
      // A plain fragment may simply end; a template definition ends with end-of-stream.
      if (in_template || depth != 0) return fail("BinXML ends inside an element");
      break;
    }
    if (++work_ > MAX_WORK) return fail("record too complex");
    const uint8_t token = chunk_[pos];
    Op op{};
    switch (token) {
      case 0x00:
        ++pos;
        done = true;
        continue;
      case 0x0f:
        if (!need(pos, 4)) return fail("truncated fragment header");
        pos += 4;
        continue;
      case 0x01:
      case 0x41: {
        // Token, dependency identifier (16 bits), data size, name offset. Some writers leave
        // the identifier out of elements outside templates; libevtx does not read those, and
        // neither does this renderer (the record fails and is left to libevtx).
        constexpr uint32_t header = 11;
        if (!need(pos, header)) return fail("truncated element");
        const uint32_t name = U32(chunk_ + pos + header - 4);
        pos += header;
        // Pooled as "<Name" and, right after it, "</Name>\n": one copy each when rendering.
        op.code = OpCode::kOpenElement;
        op.text = static_cast<uint32_t>(pool_.size());
        pool_.Push('<');
        uint32_t text = 0;
        uint32_t length = 0;
        if (!ReadName(name, pos, end, text, length)) return fail(error_);
        op.plain = ReadsBackAsName(pool_.data() + text, length);
        op.length = length + 1;
        op.close = static_cast<uint32_t>(pool_.size());
        op.close_length = length + 4;
        pool_.Append("</", 2);
        CopyWithinPool(text, length);
        pool_.Append(">\n", 2);
        in_attribute = false;
        if (token == 0x41) {
          if (!need(pos, 4)) return fail("truncated attribute list");
          pos += 4;  // attribute list size: the attributes follow as tokens
        }
        if (++depth > MAX_ELEMENT_DEPTH) return fail("elements nested too deeply");
        break;
      }
      case 0x02:
        op.code = OpCode::kCloseStart;
        ++pos;
        in_attribute = false;
        break;
      case 0x03:
        op.code = OpCode::kCloseEmpty;
        ++pos;
        in_attribute = false;
        if (--depth < 0) return fail("unbalanced empty element");
        break;
      case 0x04:
        op.code = OpCode::kEndElement;
        ++pos;
        if (--depth < 0) return fail("unbalanced end element");
        break;
      case 0x05:
      case 0x45: {
        if (!need(pos, 4)) return fail("truncated value");
        if (chunk_[pos + 1] != kStringType) return fail("value token of a non-string type");
        const uint32_t units = U16(chunk_ + pos + 2);
        pos += 4;
        if (!need(pos, 2 * units)) return fail("truncated value text");
        if (in_attribute && units == 0) return fail("empty attribute text");
        op.code = OpCode::kText;
        op.text = static_cast<uint32_t>(pool_.size());
        if (!AppendUtf16(chunk_ + pos, units, !in_attribute, pool_)) return fail("bad UTF-16 in a value");
        op.length = static_cast<uint32_t>(pool_.size()) - op.text;
        pos += 2 * units;
        break;
      }
      case 0x06:
      case 0x46: {
        if (!need(pos, 5)) return fail("truncated attribute");
        const uint32_t name = U32(chunk_ + pos + 1);
        pos += 5;
        // Pooled as ` Name="`.
        op.code = OpCode::kAttribute;
        op.text = static_cast<uint32_t>(pool_.size());
        pool_.Push(' ');
        uint32_t text = 0;
        uint32_t length = 0;
        if (!ReadName(name, pos, end, text, length)) return fail(error_);
        op.plain = ReadsBackAsName(pool_.data() + text, length);
        pool_.Append("=\"", 2);
        op.length = length + 3;
        in_attribute = true;
        break;
      }
      case 0x07:
      case 0x47: {
        if (!need(pos, 3)) return fail("truncated CDATA section");
        const uint32_t units = U16(chunk_ + pos + 1);
        pos += 3;
        if (!need(pos, 2 * units)) return fail("truncated CDATA section");
        op.code = OpCode::kCData;
        op.text = static_cast<uint32_t>(pool_.size());
        if (!AppendUtf16(chunk_ + pos, units, false, pool_)) return fail("bad UTF-16 in CDATA");
        op.length = static_cast<uint32_t>(pool_.size()) - op.text;
        pos += 2 * units;
        break;
      }
      case 0x08:
      case 0x48:
        if (!need(pos, 3)) return fail("truncated character reference");
        op.code = OpCode::kCharRef;
        op.index = U16(chunk_ + pos + 1);
        pos += 3;
        break;
      case 0x09:
      case 0x49: {
        if (!need(pos, 5)) return fail("truncated entity reference");
        const uint32_t name = U32(chunk_ + pos + 1);
        pos += 5;
        op.code = OpCode::kEntityRef;
        if (!ReadName(name, pos, end, op.text, op.length)) return fail(error_);
        break;
      }
      case 0x0a: {
        if (!need(pos, 5)) return fail("truncated processing instruction");
        const uint32_t name = U32(chunk_ + pos + 1);
        pos += 5;
        op.code = OpCode::kPITarget;
        if (!ReadName(name, pos, end, op.text, op.length)) return fail(error_);
        break;
      }
      case 0x0b: {
        if (!need(pos, 3)) return fail("truncated processing instruction");
        const uint32_t units = U16(chunk_ + pos + 1);
        pos += 3;
        if (!need(pos, 2 * units)) return fail("truncated processing instruction");
        op.code = OpCode::kPIData;
        op.text = static_cast<uint32_t>(pool_.size());
        if (!AppendUtf16(chunk_ + pos, units, false, pool_)) return fail("bad UTF-16 in a PI");
        op.length = static_cast<uint32_t>(pool_.size()) - op.text;
        pos += 2 * units;
        break;
      }
      case 0x0d:
      case 0x0e:
        if (!need(pos, 4)) return fail("truncated substitution");
        op.code = OpCode::kSubstitution;
        op.optional = token == 0x0e;
        op.index = U16(chunk_ + pos + 1);
        pos += 4;
        break;
      default:
        return fail("unknown BinXML token");
    }
    if (pool_.size() - pool_begin > MAX_TEMPLATE_TEXT) return fail("template text too large");
    ops_.push_back(op);
  }
  if (depth != 0) return fail("BinXML ends inside an element");
  const size_t fused_begin = fused_.size();
  Fuse(ops_begin);
  entry = templates_.size();
  Compiled& code = templates_.emplace_back();
  code.key = key;
  code.first_op = static_cast<uint32_t>(ops_begin);
  code.op_count = static_cast<uint32_t>(ops_.size() - ops_begin);
  SetElementKeys(code, pool_begin, fused_begin);
  return true;
}

namespace {

// Templates by what they compile to, process-wide: the same template compiled in another chunk,
// by another renderer or thread, gets the same id, and its elements the same outline keys, so
// that what readers decide per key (field names, record plans) lasts the whole scan instead of
// one chunk. A template is known by the 128-bit XXH3 hash of its content (names and literal
// text, not chunk offsets) under a seed drawn for the process: keeping the content to compare
// cost a cache miss per line of it for every template of every chunk. Two templates given one
// id would need a collision of that hash under a seed nobody outside the process knows.
// Bounded: past the limit, templates are keyed per chunk as before.
class TemplateIds {
 public:
  static constexpr size_t MAX_TEMPLATES = size_t{1} << 16;
  [[nodiscard]] XXH128_hash_t HashOf(std::string_view content) const {
#if defined(__x86_64__)
    return XXH3_128bits_withSeed_dispatch(content.data(), content.size(), seed_);
#else
    return XXH3_128bits_withSeed(content.data(), content.size(), seed_);
#endif
  }
  // The id of the content of `hash`; 0 when the limit is reached.
  uint64_t IdOf(const XXH128_hash_t& hash) {
    std::lock_guard lock(mutex_);
    auto found = ids_.find(hash);
    if (found != ids_.end()) return found->second;
    if (ids_.size() >= MAX_TEMPLATES) return 0;
    const uint64_t id = ids_.size() + 1;
    ids_.emplace(hash, id);
    return id;
  }

 private:
  struct HashOfHash {
    size_t operator()(const XXH128_hash_t& hash) const { return hash.low64; }
  };
  struct SameHash {
    bool operator()(const XXH128_hash_t& a, const XXH128_hash_t& b) const {
      return XXH128_isEqual(a, b) != 0;
    }
  };
  const uint64_t seed_ = std::random_device{}() | uint64_t{std::random_device{}()} << 32;
  std::mutex mutex_;
  std::unordered_map<XXH128_hash_t, uint64_t, HashOfHash, SameHash> ids_;
};

TemplateIds& SharedTemplateIds() {
  static TemplateIds ids;
  return ids;
}

// Under the templates' seed: two shapes given one id would need a collision of that hash.
OutlineShapeId ShapeOfWords(const std::vector<uint64_t>& words) {
  const XXH128_hash_t hash = SharedTemplateIds().HashOf(std::string_view(
      reinterpret_cast<const char*>(words.data()), words.size() * sizeof(uint64_t)));
  OutlineShapeId shape{hash.low64, hash.high64};
  if (!shape.known()) shape.low = 1;  // (zero says "not known")
  return shape;
}

}  // namespace

// The canonical content: a byte saying whether the stream is a template definition, then each
// token Compile() reads, in order: its byte, what it reads of the token (a substitution's index,
// a character reference, a text's length and UTF-16), and for a name offset the name itself
// (its length and UTF-16) wherever in the chunk it lies. Left out is what Compile() skips:
// element sizes, dependency ids, attribute list sizes, the fields of an inline name before its
// length, and every chunk offset. Compile() reads nothing else, so streams of one canonical
// content compile to the same ops. Every check here is one Compile() makes too; where one
// fails, Compile() runs and reports it.
bool ChunkRenderer::CanonicalContent(uint32_t begin, uint32_t end, bool in_template,
                                     size_t& tokens, std::string_view& content) {
  // Written through a pointer into canonical_, grown (rarely) where a piece would not fit:
  // a vector's insert per piece was most of this pass.
  size_t used = 0;
  auto room = [&](size_t n) {
    if (canonical_.size() - used < n) canonical_.resize(std::max(2 * canonical_.size(), used + n + 4096));
    return canonical_.data() + used;
  };
  auto put_byte = [&](uint8_t byte) {
    *room(1) = byte;
    ++used;
  };
  auto put_two = [&](const uint8_t* bytes) {
    std::memcpy(room(2), bytes, 2);
    used += 2;
  };
  auto put = [&](const uint8_t* bytes, size_t n) {
    std::memcpy(room(n), bytes, n);
    used += n;
  };
  auto need = [&](uint32_t pos, uint32_t n) { return n <= end - pos; };
  // As ReadName() reads it: the length and characters go in, an inline name is stepped over.
  auto name = [&](uint32_t offset, uint32_t& pos) {
    if (offset > size_ || size_ - offset < 8) return false;
    const uint32_t units = U16(chunk_ + offset + 6);
    const uint32_t bytes = 8 + 2 * units + 2;
    if (bytes > size_ - offset) return false;
    if (offset == pos) {
      if (bytes > end - pos) return false;
      pos += bytes;
    }
    put(chunk_ + offset + 6, 2 + 2 * size_t{units});
    return true;
  };
  // A token of `header` bytes at `pos` whose name offset lies at pos + name_at.
  auto named = [&](uint32_t& pos, uint32_t header, uint32_t name_at) {
    if (!need(pos, header)) return false;
    const uint32_t offset = U32(chunk_ + pos + name_at);
    pos += header;
    return name(offset, pos);
  };
  // A length-prefixed text at `pos`: its count of units at pos + count_at, its UTF-16 after
  // `header` bytes.
  auto text = [&](uint32_t& pos, uint32_t header, uint32_t count_at) {
    if (!need(pos, header)) return false;
    const uint32_t units = U16(chunk_ + pos + count_at);
    put_two(chunk_ + pos + count_at);
    pos += header;
    if (!need(pos, 2 * units)) return false;
    put(chunk_ + pos, 2 * size_t{units});
    pos += 2 * units;
    return true;
  };
  put_byte(in_template ? 1 : 0);
  uint32_t pos = begin;
  tokens = 0;
  while (pos < end) {
    // Names can be long and named over and over: past what Compile() accepts, it decides.
    if (used > MAX_TEMPLATE_TEXT) return false;
    ++tokens;
    const uint8_t token = chunk_[pos];
    put_byte(token);
    switch (token) {
      case 0x00:
        content = {reinterpret_cast<const char*>(canonical_.data()), used};
        return true;
      case 0x0f:
        if (!need(pos, 4)) return false;
        pos += 4;
        break;
      case 0x01:
      case 0x41:
        if (!named(pos, 11, 7)) return false;
        if (token == 0x41) {
          if (!need(pos, 4)) return false;
          pos += 4;
        }
        break;
      case 0x02:
      case 0x03:
      case 0x04:
        ++pos;
        break;
      case 0x05:
      case 0x45:
        if (!need(pos, 4) || chunk_[pos + 1] != kStringType) return false;
        if (!text(pos, 4, 2)) return false;
        break;
      case 0x06:
      case 0x46:
      case 0x09:
      case 0x49:
      case 0x0a:
        if (!named(pos, 5, 1)) return false;
        break;
      case 0x07:
      case 0x47:
      case 0x0b:
        if (!text(pos, 3, 1)) return false;
        break;
      case 0x08:
      case 0x48:
      case 0x0d:
      case 0x0e:
        // A character reference (3 bytes) or a substitution (4): the 16 bits after the token.
        if (!need(pos, token == 0x08 || token == 0x48 ? 3 : 4)) return false;
        put_two(chunk_ + pos + 1);
        pos += token == 0x08 || token == 0x48 ? 3 : 4;
        break;
      default:
        return false;
    }
  }
  put_byte(0xff);  // the stream ran to `end` (only a plain fragment may)
  content = {reinterpret_cast<const char*>(canonical_.data()), used};
  return true;
}

bool ChunkRenderer::CompileOrReuse(uint32_t begin, uint32_t end, uint32_t key, bool in_template,
                                   size_t& entry) {
  if (templates_.size() >= MAX_TEMPLATES) return Fail("too many templates in one chunk");
  size_t tokens = 0;
  std::string_view content;
  // Compile() counts a unit of work per token; reused ops count the same, so that a record
  // fails as too complex whether its templates were compiled or reused.
  if (!CanonicalContent(begin, end, in_template, tokens, content) || work_ > MAX_WORK ||
      tokens > MAX_WORK - work_) {
    return Compile(begin, end, key, in_template, entry);
  }
  const XXH128_hash_t hash = SharedTemplateIds().HashOf(content);
  ReusableTemplate* set = &reusable_[hash.low64 & (REUSABLE_TEMPLATES - 2)];
  for (size_t way = 0; way < 2; ++way) {
    if (!set[way].used || set[way].low != hash.low64 || set[way].high != hash.high64) continue;
    if (way == 1) std::swap(set[0], set[1]);
    work_ += tokens;
    entry = templates_.size();
    templates_.push_back(set[0].code);
    templates_.back().key = key;
    ++templates_reused_;
    return true;
  }
  if (!Compile(begin, end, key, in_template, entry)) return false;
  const Compiled& code = templates_[entry];
  // Ops keyed by this chunk (past 65,536 distinct templates) hold for this chunk only.
  if ((code.element_keys >> 63) != 0) {
    set[1] = set[0];
    set[0] = ReusableTemplate{hash.low64, hash.high64, true, code};
  }
  return true;
}

void ChunkRenderer::SetElementKeys(Compiled& code, size_t pool_begin, size_t fused_begin) {
  // What the template's ops render, whatever the chunk: the ops with their places in the pool
  // and in fused_ made relative to the template's (compiling it appended to both), seven words
  // each, then its stretch of the pool and its fused attributes. Stored word by word: a struct
  // built on the stack and copied in was read back before its stores had landed.
  constexpr size_t OP_WORDS = 7;
  static_assert(sizeof(FusedAttribute) == 16);
  const size_t ops_begin = code.first_op;
  const size_t op_bytes = code.op_count * OP_WORDS * sizeof(uint32_t);
  const size_t pool_bytes = pool_.size() - pool_begin;
  const size_t fused_bytes = (fused_.size() - fused_begin) * sizeof(FusedAttribute);
  const size_t bytes = op_bytes + pool_bytes + fused_bytes;
  std::vector<uint32_t>& content = key_content_;
  content.resize((bytes + sizeof(uint32_t) - 1) / sizeof(uint32_t));
  uint32_t* word = content.data();
  for (size_t i = ops_begin; i < ops_.size(); ++i, word += OP_WORDS) {
    const Op& op = ops_[i];
    word[0] = op.length != 0 ? static_cast<uint32_t>(op.text - pool_begin) : 0;
    word[1] = op.length;
    word[2] = op.close_length != 0 ? static_cast<uint32_t>(op.close - pool_begin) : 0;
    word[3] = op.close_length;
    word[4] = op.fused_count != 0 ? static_cast<uint32_t>(op.fused_begin - fused_begin) : 0;
    word[5] = op.index | uint32_t{op.fused_count} << 16;
    word[6] = static_cast<uint32_t>(op.code) |
              static_cast<uint32_t>(op.optional | op.closes_start << 1 | op.plain << 2 |
                                    op.literal_start << 3)
                  << 8;
  }
  char* at = reinterpret_cast<char*>(content.data()) + op_bytes;
  if (pool_bytes != 0) std::memcpy(at, pool_.data() + pool_begin, pool_bytes);
  if (fused_bytes != 0) std::memcpy(at + pool_bytes, fused_.data() + fused_begin, fused_bytes);
  const std::string_view whole(reinterpret_cast<const char*>(content.data()), bytes);
  // The renderer's own table first: a chunk mostly holds the templates of the chunk before, and
  // the shared table costs a lock and, a chunk later, cache misses.
  const XXH128_hash_t hash = SharedTemplateIds().HashOf(whole);
  KnownTemplate& known = known_templates_[hash.low64 & (KNOWN_TEMPLATES - 1)];
  if (known.id == 0 || known.low != hash.low64 || known.high != hash.high64) {
    known = KnownTemplate{hash.low64, hash.high64, SharedTemplateIds().IdOf(hash)};
  }
  const uint64_t id = known.id;
  // Keyed by content: the top bit, the template's id, the op's place in the template. Else by
  // chunk: this chunk's serial and the op's place among the chunk's ops (which only grow until
  // the next chunk). None where the place would not fit its 24 bits.
  constexpr uint64_t OP_LIMIT = uint64_t{1} << ELEMENT_KEY_OP_BITS;
  if (id != 0) {
    code.element_keys = uint64_t{1} << 63 | id << ELEMENT_KEY_OP_BITS;
    code.keyed_ops = static_cast<uint32_t>(std::min<uint64_t>(code.op_count, OP_LIMIT));
  } else if (chunk_serial_ < (uint64_t{1} << 31)) {  // keys by chunk stay below 2^55
    code.element_keys = chunk_serial_ << ELEMENT_KEY_OP_BITS | code.first_op;
    code.keyed_ops = static_cast<uint32_t>(
        std::min<uint64_t>(code.op_count, OP_LIMIT - std::min<uint64_t>(OP_LIMIT, code.first_op)));
  } else {
    code.keyed_ops = 0;
  }
}

// Appends a copy of pool_ bytes to pool_ (the source is found after the pool has grown).
void ChunkRenderer::CopyWithinPool(uint32_t text, uint32_t length) {
  char* at = pool_.Extend(length);
  std::memcpy(at, pool_.data() + text, length);
}

// Folds into each start tag the attributes whose value is literal text (Name="SubjectUserSid")
// and the close-start token after them, so the common <Data Name="..."> costs one op, not
// five. Such attributes are always written, so the output is the same either way.
void ChunkRenderer::Fuse(size_t ops_begin) {
  const size_t end = ops_.size();
  size_t write = ops_begin;
  for (size_t i = ops_begin; i < end; ++i) {
    Op op = ops_[i];
    if (op.code == OpCode::kOpenElement) {
      size_t j = i + 1;
      const size_t text = pool_.size();
      bool fused = false;
      op.fused_begin = static_cast<uint32_t>(fused_.size());
      op.fused_count = 0;
      while (j + 2 < end && ops_[j].code == OpCode::kAttribute && ops_[j + 1].code == OpCode::kText &&
             ops_[j + 1].length != 0 && op.fused_count < UINT16_MAX &&
             (ops_[j + 2].code == OpCode::kAttribute || ops_[j + 2].code == OpCode::kCloseStart ||
              ops_[j + 2].code == OpCode::kCloseEmpty)) {
        if (!fused) {
          CopyWithinPool(op.text, op.length);
          fused = true;
        }
        // ` Name="` then the value: the outline's name starts after the space.
        FusedAttribute attribute;
        attribute.name = static_cast<uint32_t>(pool_.size() - text + 1);
        attribute.name_length = ops_[j].length - 3;
        attribute.value = static_cast<uint32_t>(pool_.size() - text + ops_[j].length);
        attribute.value_length = ops_[j + 1].length;
        CopyWithinPool(ops_[j].text, ops_[j].length);
        CopyWithinPool(ops_[j + 1].text, ops_[j + 1].length);
        if (!ops_[j].plain ||
            std::memchr(pool_.data() + text + attribute.value, '"', attribute.value_length) != nullptr) {
          op.plain = false;
        }
        fused_.push_back(attribute);
        ++op.fused_count;
        pool_.Push('"');
        j += 2;
      }
      if (fused) {
        op.text = static_cast<uint32_t>(text);
        op.length = static_cast<uint32_t>(pool_.size() - text);
      }
      op.literal_start = j < end && (ops_[j].code == OpCode::kCloseStart ||
                                     ops_[j].code == OpCode::kCloseEmpty);
      if (j < end && ops_[j].code == OpCode::kCloseStart) {
        op.closes_start = true;
        ++j;
        // <Name attrs>%value%</Name>, most elements of every event: one op.
        if (j + 1 < end && ops_[j].code == OpCode::kSubstitution &&
            ops_[j + 1].code == OpCode::kEndElement) {
          op.code = OpCode::kLeafSubstitution;
          op.index = ops_[j].index;
          op.optional = ops_[j].optional;
          j += 2;
        }
      }
      ops_[write++] = op;
      i = j - 1;
      continue;
    }
    ops_[write++] = op;
  }
  ops_.resize(write);
}

void ChunkRenderer::Indent(size_t depth) {
  if (depth == 0 || compact_) return;
  char* at = out_->Extend(2 * depth);
  std::memset(at, ' ', 2 * depth);
}

bool ChunkRenderer::FailValue(const Value& value) {
  std::snprintf(error_buffer_, sizeof(error_buffer_),
                "value of type 0x%02x and %u bytes not rendered natively", value.type, value.size);
  error_ = error_buffer_;
  return false;
}

bool ChunkRenderer::OpenElement(const Op& op, uint64_t key) {
  const size_t depth = elements_.size();
  if (depth >= MAX_ELEMENT_DEPTH) return Fail("elements nested too deeply");
  const size_t content_mark = out_->size();
  bool parent_start_open = false;
  bool parent_has_children = false;
  if (depth != 0) {
    // libevtx keeps either text or child elements, never both: leave such records to it.
    Element& parent = elements_.back();
    if (parent.pieces != 0) return Fail("mixed content");
    parent_start_open = parent.start_open;
    parent_has_children = parent.has_children;
    if (parent.start_open) {
      if (!compact_) out_->Append(">\n", 2);
      parent.start_open = false;
    }
    parent.has_children = true;
  } else if (content_mark != 0) {
    return Fail("a second root element");
  }
  // Filled in place: a whole Element copied in after piecewise stores stalls the CPU.
  Element& element = elements_.push();
  element.close = op.close;
  element.close_length = op.close_length;
  element.content_mark = content_mark;
  element.tag_offset = out_->size();
  element.start_open = true;
  element.has_children = false;
  element.pieces = 0;
  element.parent_start_open = parent_start_open;
  element.parent_has_children = parent_has_children;
  element.outline_mark = outline_ != nullptr ? outline_->size() : 0;
  Indent(depth);
  if (outline_ != nullptr) {
    if (!op.plain) OutlineUnreadable();
    const size_t at = out_->size();  // "<Name" and the fused attributes
    Outline(OutlineStep::kOpen, at + 1, op.close_length - 4, static_cast<uint32_t>(key),
            static_cast<uint32_t>(key >> 32), key,
            op.literal_start ? OutlineStep::LITERAL_START : 0);
    for (uint32_t k = 0; k < op.fused_count; ++k) {
      const FusedAttribute& attribute = fused_[op.fused_begin + k];
      // (The element's key fixes its literal attributes: their places name them.)
      Outline(OutlineStep::kAttribute, at + attribute.name, attribute.name_length,
              at + attribute.value, attribute.value_length,
              KindWord(OutlineStep::kAttribute, k));
    }
  }
  out_->Append(pool_.data() + op.text, op.length);
  in_start_tag_ = !op.closes_start;
  return true;
}

bool ChunkRenderer::EndElement() {
  if (in_start_tag_ || elements_.empty()) return Fail("end of no element");
  // (Still there after the pop: nothing opens an element before this returns.)
  const Element& top = elements_.back();
  elements_.pop_back();
  if (elements_.size() < min_depth_) min_depth_ = elements_.size();
  if (dropping_) {
    // An optional substitution without a value removes its element altogether; the parent is
    // as it was before the element opened (empty again, if it was its only child).
    dropping_ = false;
    out_->Truncate(top.content_mark);
    if (outline_ != nullptr) {
      outline_->resize(top.outline_mark);
      shape_words_.resize(top.outline_mark);
    }
    if (!elements_.empty()) {
      elements_.back().start_open = top.parent_start_open;
      elements_.back().has_children = top.parent_has_children;
    }
    return true;
  }
  if (compact_) {
    // Nothing to write: the outline step says where the element ends.
  } else if (top.start_open) {
    out_->Append("/>\n", 3);
  } else {
    if (top.has_children) Indent(elements_.size());
    out_->Append(pool_.data() + top.close, top.close_length);
  }
  Outline(OutlineStep::kClose, 0, 0, 0, 0, KindWord(OutlineStep::kClose));
  return true;
}

// The one piece of content an element may have (libevtx mangles several: "pre" + value +
// "post" comes out as value + "post", so such elements are left to it).
bool ChunkRenderer::BeginContentPiece() {
  if (in_start_tag_) return Fail("content inside a start tag");
  if (elements_.empty()) return Fail("content outside the root element");
  Element& top = elements_.back();
  if (top.pieces != 0 || top.has_children) return Fail("mixed content");
  top.pieces = 1;
  return true;
}

// Text content goes after a ">" written in advance, which is taken back if the text turns out
// empty (the element then closes as "<Name/>").
size_t ChunkRenderer::OpenText() {
  if (!compact_) out_->Push('>');
  return out_->size();
}

void ChunkRenderer::CloseText(size_t mark) {
  if (out_->size() == mark) {
    if (!compact_) out_->Truncate(mark - 1);
  } else {
    elements_.back().start_open = false;
    Outline(OutlineStep::kText, 0, 0, mark, out_->size() - mark, KindWord(OutlineStep::kText));
  }
}

bool ChunkRenderer::BeginAttributePiece() {
  if (attribute_pieces_ != 0) return Fail("attribute with several values");
  attribute_pieces_ = 1;
  return true;
}

void ChunkRenderer::WriteAttributeName() {
  attribute_at_ = out_->size();
  out_->Append(pool_.data() + attribute_name_, attribute_length_);
  attribute_written_ = true;
}

bool ChunkRenderer::FinishAttribute() {
  if (!in_attribute_) return true;
  in_attribute_ = false;
  if (attribute_written_) {
    if (outline_ != nullptr) {
      // ` Name="` then the value, which must not end early at a quote of its own.
      const size_t value = attribute_at_ + attribute_length_;
      const size_t value_length = out_->size() - value;
      if (std::memchr(out_->data() + value, '"', value_length) != nullptr) OutlineUnreadable();
      Outline(OutlineStep::kAttribute, attribute_at_ + 1, attribute_length_ - 3, value,
              value_length, attribute_key_);
    }
    if (!compact_) out_->Push('"');
  } else if (!attribute_omitted_) {
    return Fail("attribute without a value");
  }
  return true;
}

bool ChunkRenderer::Substitute(const Op& op, const Value& value, int nesting) {
  if (in_attribute_) {
    if (!BeginAttributePiece()) return false;
    if (value.type == kNullType) {
      if (!op.optional) return Fail("null value in a normal substitution");
      attribute_omitted_ = true;
      return true;
    }
    // libevtx fails on empty attribute values and repeats the attribute for arrays.
    if (value.size == 0 || (value.type & kArrayFlag) != 0 || value.type == kBinXmlType) {
      return FailValue(value);
    }
    WriteAttributeName();
    const size_t begin = out_->size();
    if (!AppendValue(value.type, chunk_ + value.offset, value.size, false, *out_)) {
      return FailValue(value);
    }
    if (recording_ != nullptr) {
      RecordValue(PieceKind::kAttributeValue, op.index, begin, out_->size(), 0);
    }
    return true;
  }
  if (value.type == kBinXmlType) {
    // Child elements rendered from a nested fragment.
    if (in_start_tag_) return Fail("content inside a start tag");
    if (!elements_.empty() && elements_.back().pieces != 0) return Fail("mixed content");
    if (recording_ != nullptr) return RecordNested(op.index, value, nesting);
    return RenderFragment(value.offset, value.offset + value.size, nesting + 1);
  }
  if (!BeginContentPiece()) return false;
  if (value.type == kNullType) {
    if (!op.optional) return Fail("null value in a normal substitution");
    if (!elements_.back().start_open) return Fail("optional value after content");
    // (Removing the element takes back text and steps: a replay does not.)
    if (recording_ != nullptr) recording_->ok = false;
    dropping_ = true;
    return true;
  }
  if ((value.type & kArrayFlag) != 0) {
    if (recording_ != nullptr) recording_->ok = false;
    return WriteArray(value);
  }
  const size_t mark = OpenText();
  if (!AppendValue(value.type, chunk_ + value.offset, value.size, true, *out_)) {
    return FailValue(value);
  }
  if (recording_ != nullptr) {
    RecordValue(PieceKind::kContent, op.index, mark, out_->size(), outline_->size());
  }
  // ANSI strings are the one content libevtx leaves unescaped: a '<' in one would read back
  // as markup.
  if (value.type == kAnsiStringType && outline_ != nullptr &&
      std::memchr(out_->data() + mark, '<', out_->size() - mark) != nullptr) {
    OutlineUnreadable();
  }
  CloseText(mark);
  return true;
}

// The byte size of one item of a fixed-size array type whose libevtx rendering is known, or 0.
static size_t ItemSize(uint8_t type) {
  switch (type) {
    case kUInt8Type:
      return 1;
    case kUInt16Type:
      return 2;
    case kUInt32Type:
    case kHexInt32Type:
      return 4;
    case kUInt64Type:
    case kHexInt64Type:
    case kFileTimeType:
      return 8;
    case kGuidType:
      return 16;
    default:
      return 0;  // signed items come out wrong in libevtx, others fail there
  }
}

// An array in element content: libevtx writes the element once per item, each copy with the
// same start tag. Strings are NUL-terminated one after the other.
bool ChunkRenderer::WriteArray(const Value& value) {
  const Element& top = elements_.back();
  const uint8_t base = value.type & 0x7f;
  const uint8_t* data = chunk_ + value.offset;
  const size_t tag_begin = top.tag_offset;
  const size_t tag_length = out_->size() - tag_begin;
  // Each copy of the element opens as the first did: its outline steps are repeated (their
  // names and values point into the first copy, which holds the same text).
  const size_t open_begin = top.outline_mark;
  const size_t open_end = outline_ != nullptr ? outline_->size() : 0;
  bool first = true;
  bool empty = true;
  auto item = [&](const uint8_t* bytes, size_t size) {
    if (!first) {
      if (compact_) {
        // The repeated steps point into the first copy's text: nothing to write again.
      } else {
        if (empty) {
          out_->Append("/>\n", 3);
        } else {
          out_->Append(pool_.data() + top.close, top.close_length);
        }
        char* at = out_->Extend(tag_length);
        std::memcpy(at, out_->data() + tag_begin, tag_length);
      }
      if (outline_ != nullptr) {
        Outline(OutlineStep::kClose, 0, 0, 0, 0, KindWord(OutlineStep::kClose));
        for (size_t k = open_begin; k < open_end; ++k) {
          const OutlineStep step = (*outline_)[k];
          outline_->push_back(step);
          const uint64_t word = shape_words_[k];
          shape_words_.push_back(word);
        }
      }
    }
    first = false;
    const size_t mark = out_->size();
    if (!compact_) out_->Push('>');
    const size_t value = out_->size();
    if (!AppendValue(base, bytes, size, true, *out_)) return false;
    empty = out_->size() == value;
    if (empty) {
      out_->Truncate(mark);
    } else {
      Outline(OutlineStep::kText, 0, 0, value, out_->size() - value, KindWord(OutlineStep::kText));
    }
    return true;
  };
  if (base == kStringType) {
    if (value.size % 2 != 0) return FailValue(value);
    const size_t units = value.size / 2;
    size_t start = 0;
    for (size_t i = 0; i <= units; ++i) {
      const uint16_t unit = i < units ? U16(data + 2 * i) : 0;
      // How libevtx treats a byte-order mark opening a later item is unknown: leave it to it.
      if (i == start && (unit == 0xfeff || unit == 0xfffe)) return FailValue(value);
      if (unit != 0) continue;
      if (i < units || start < units) {
        if (!item(data + 2 * start, 2 * (i - start))) return FailValue(value);
      }
      start = i + 1;
    }
  } else {
    const size_t size = ItemSize(base);
    if (size == 0 || value.size % size != 0) return FailValue(value);
    for (size_t at = 0; at < value.size; at += size) {
      if (!item(data + at, size)) return FailValue(value);
    }
  }
  elements_.back().start_open = empty;
  return true;
}

bool ChunkRenderer::Interpret(const Compiled& code, size_t values_begin, size_t values_end,
                              int nesting) {
  for (uint32_t i = 0; i < code.op_count; ++i) {
    if (++work_ > MAX_WORK) return Fail("record too complex");
    if (out_->size() > output_limit_) {
      over_limit_ = true;
      return Fail("record text over the size limit");
    }
    // By reference, not copied: a nested fragment compiled by Substitute may move ops_, and no
    // case reads `op` after the call that can.
    const Op& op = ops_[code.first_op + i];
    if (dropping_ && op.code != OpCode::kEndElement) return Fail("content after an omitted value");
    switch (op.code) {
      case OpCode::kOpenElement:
        if (in_start_tag_) return Fail("element inside a start tag");
        if (!OpenElement(op, i < code.keyed_ops ? code.element_keys + i : 0)) return false;
        break;
      case OpCode::kAttribute:
        if (!in_start_tag_) return Fail("attribute outside a start tag");
        if (!FinishAttribute()) return false;
        if (!op.plain) OutlineUnreadable();
        in_attribute_ = true;
        attribute_written_ = false;
        attribute_omitted_ = false;
        attribute_pieces_ = 0;
        attribute_name_ = op.text;
        attribute_length_ = op.length;
        attribute_key_ = i < code.keyed_ops ? code.element_keys + i : 0;
        break;
      case OpCode::kCloseStart:
        if (!in_start_tag_) return Fail("close of no start tag");
        if (!FinishAttribute()) return false;
        in_start_tag_ = false;
        break;
      case OpCode::kCloseEmpty:
        if (!in_start_tag_ || elements_.empty()) return Fail("close of no start tag");
        if (!FinishAttribute()) return false;
        in_start_tag_ = false;
        if (!compact_) out_->Append("/>\n", 3);
        elements_.pop_back();
        if (elements_.size() < min_depth_) min_depth_ = elements_.size();
        Outline(OutlineStep::kClose, 0, 0, 0, 0, KindWord(OutlineStep::kClose));
        break;
      case OpCode::kEndElement:
        if (!EndElement()) return false;
        break;
      case OpCode::kLeafSubstitution:
        // What kOpenElement, kSubstitution and kEndElement do, one after the other.
        work_ += 2;
        if (in_start_tag_) return Fail("element inside a start tag");
        if (!OpenElement(op, i < code.keyed_ops ? code.element_keys + i : 0)) return false;
        if (op.index >= values_end - values_begin) return Fail("substitution index out of range");
        if (!Substitute(op, values_[values_begin + op.index], nesting)) return false;
        if (!EndElement()) return false;
        break;
      case OpCode::kText:
        if (in_attribute_) {
          if (!BeginAttributePiece()) return false;
          WriteAttributeName();
          out_->Append(pool_.data() + op.text, op.length);
        } else {
          if (!BeginContentPiece()) return false;
          const size_t mark = OpenText();
          out_->Append(pool_.data() + op.text, op.length);
          CloseText(mark);
        }
        break;
      case OpCode::kSubstitution:
        if (op.index >= values_end - values_begin) return Fail("substitution index out of range");
        if (!Substitute(op, values_[values_begin + op.index], nesting)) return false;
        break;
      default:
        // CDATA, character and entity references and processing instructions: libevtx renders
        // them oddly or not at all, so they are left to it.
        return Fail("unsupported BinXML construct");
    }
  }
  if (in_start_tag_ || in_attribute_ || dropping_) return Fail("fragment ends inside an element");
  return true;
}

}  // namespace yagura::event::binxml
