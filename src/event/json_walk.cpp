// The walk mirrors JsonFlattener's simdjson walk step by step (flatten.cpp): the same names
// are built in the same order, asked of the sink at the same points, and the same values are
// added. Where the simdjson path leaves a value unread (an unwanted scalar, an object nobody
// reads below), the walk still validates it as it steps over it: declining costs a second
// parse, accepting something simdjson rejects would change the scan's results.
#include "event/json_walk.hpp"

#include <immintrin.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace yagura::event {

namespace {

constexpr int MAX_DEPTH = 64;
constexpr int MAX_NUMBER_DIGITS = 18;

[[gnu::always_inline]] inline const char* SkipSpace(const char* at, const char* end) {
  while (at < end && (*at == ' ' || *at == '\n' || *at == '\r' || *at == '\t')) ++at;
  return at;
}

// What may follow a scalar: whitespace or the next structural byte.
[[gnu::always_inline]] inline bool EndsScalar(char c) {
  return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

[[gnu::always_inline]] inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The length of the well-formed UTF-8 sequence at `at` (its first byte 0x80 or above), or 0.
// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF (what simdjson accepts).
size_t Utf8SequenceLength(const char* at, const char* end) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(at[i]); };
  const auto continuation = [&](size_t i) { return (byte(i) & 0xC0) == 0x80; };
  const uint8_t lead = byte(0);
  const auto available = static_cast<size_t>(end - at);
  if (lead >= 0xC2 && lead <= 0xDF) return available >= 2 && continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (available < 3 || !continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;  // overlong
    if (lead == 0xED && byte(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (available < 4 || !continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;  // overlong
    if (lead == 0xF4 && byte(1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// The end of the run of digits at `p`, at most `end`: eight bytes at a time, a byte being a
// digit when its high nibble and that of the byte plus 6 are both 3. The record's padding
// covers the loads past `end`. (A byte from 0xFA on carries into the next one: that one lies
// after the run's end, which is all that is looked for.) Byte by byte, a number of the
// benchmark corpus took 55 instructions on average, now 48: most are one or two digits.
[[gnu::always_inline]] inline const char* DigitsEnd(const char* p, const char* end) {
  constexpr uint64_t HIGH_NIBBLES = 0xF0F0F0F0F0F0F0F0ULL;
  constexpr uint64_t THREES = 0x3030303030303030ULL;
  constexpr uint64_t SIXES = 0x0606060606060606ULL;
  while (p < end) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    const uint64_t other =
        ((word & HIGH_NIBBLES) ^ THREES) | (((word + SIXES) & HIGH_NIBBLES) ^ THREES);
    if (other != 0) {
      p += __builtin_ctzll(other) / 8;
      return p < end ? p : end;
    }
    p += 8;
  }
  return end;
}

// The end of the number at `at`, or nullptr when it is not one the walk takes: the JSON
// grammar without an exponent, at most MAX_NUMBER_DIGITS digits on either side of the point.
const char* NumberEnd(const char* at, const char* end) {
  const char* p = at;
  if (p < end && *p == '-') ++p;
  if (p >= end || !IsDigit(*p)) return nullptr;
  const char* digits = p;
  if (*p == '0') {
    ++p;
  } else {
    p = DigitsEnd(p, end);
  }
  if (p - digits > MAX_NUMBER_DIGITS) return nullptr;
  if (p < end && *p == '.') {
    ++p;
    const char* fraction = p;
    p = DigitsEnd(p, end);
    if (p == fraction || p - fraction > MAX_NUMBER_DIGITS) return nullptr;
  }
  if (p >= end || !EndsScalar(*p)) return nullptr;  // an exponent, or anything else
  return p;
}

// The end of `literal` at `at`, or nullptr.
const char* LiteralEnd(const char* at, const char* end, std::string_view literal) {
  if (static_cast<size_t>(end - at) <= literal.size()) return nullptr;
  if (std::memcmp(at, literal.data(), literal.size()) != 0) return nullptr;
  const char* past = at + literal.size();
  return EndsScalar(*past) ? past : nullptr;
}

// The bytes that may follow a backslash: the escapes JSON allows but \u (left to simdjson).
constexpr std::array<bool, 256> SIMPLE_ESCAPES = [] {
  std::array<bool, 256> table{};
  for (char c : std::string_view("\"\\/bfnrt")) table[static_cast<uint8_t>(c)] = true;
  return table;
}();

// The string at `at` ('"'): its closing quote, or nullptr to decline. `escaped`: it holds an
// escape. 32 bytes at a time: a quote, a backslash, a control character or a byte of a
// multi-byte character is a bit of the block's mask (a signed compare with 0x20 finds the last
// two), and the bits are taken in turn without loading the block again, so the backslashes of
// a Windows path cost a bit each. The record's padding covers loads past its end; what lies
// there is never taken. (Blocks of 64 bytes by AVX-512BW, with the framer's arithmetic for
// runs of backslashes, were slower: most strings end within their first 32 bytes.)
[[gnu::noinline]] const char* StringEndSlow(const char* at, const char* end, bool& escaped) {
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i space = _mm256_set1_epi8(0x20);
  const char* block = at + 1;
  while (block < end) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block));
    const __m256i special =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(bytes, quote),
                                        _mm256_cmpeq_epi8(bytes, backslash)),
                        _mm256_cmpgt_epi8(space, bytes));
    auto mask = static_cast<uint32_t>(_mm256_movemask_epi8(special));
    size_t next = 32;  // where the next block starts, from `block`
    while (mask != 0) {
      const auto i = static_cast<size_t>(std::countr_zero(mask));
      const char* p = block + i;
      if (p >= end) return nullptr;
      const char c = *p;
      if (c == '"') return p;
      size_t taken = 0;  // bytes of this escape or character
      if (c == '\\') {
        if (p + 1 >= end || !SIMPLE_ESCAPES[static_cast<uint8_t>(p[1])]) return nullptr;
        escaped = true;
        taken = 2;
      } else if (static_cast<uint8_t>(c) < 0x20) {
        return nullptr;  // a raw control character
      } else {
        taken = Utf8SequenceLength(p, end);
        if (taken == 0) return nullptr;
      }
      if (i + taken >= 32) {
        next = i + taken;
        break;
      }
      mask &= ~((uint32_t{1} << (i + taken)) - 1);
    }
    block += next;
  }
  return nullptr;
}

// The common case inline: the closing quote is the first special byte of the first 32 (keys,
// and most values). Called out of line for every string, the scan's setup and the call were
// a fifth of a --no-detect scan.
[[gnu::always_inline]] inline const char* StringEnd(const char* at, const char* end,
                                                    bool& escaped) {
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + 1));
  const __m256i special = _mm256_or_si256(
      _mm256_or_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('"')),
                      _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('\\'))),
      _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), bytes));
  const auto mask = static_cast<uint32_t>(_mm256_movemask_epi8(special));
  if (mask != 0) {
    const char* p = at + 1 + std::countr_zero(mask);
    if (p < end && *p == '"') return p;
  }
  return StringEndSlow(at, end, escaped);
}

// Whether a key (inside the record, so its padding follows) holds a space: one compare for
// keys of up to 32 bytes, where a call to memchr for each EventData key cost more.
[[gnu::always_inline]] inline bool HasSpace(std::string_view key) {
  if (key.size() > 32) return key.find(' ') != std::string_view::npos;
  const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(key.data()));
  const auto spaces = static_cast<uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi8(' '))));
  const uint32_t inside = key.size() == 32 ? ~uint32_t{0} : (uint32_t{1} << key.size()) - 1;
  return (spaces & inside) != 0;
}

}  // namespace

JsonWalker::JsonWalker(EventSink& sink) : sink_(sink) { name_.reserve(1024); }

bool JsonWalker::Flatten(std::string_view json) {
  end_ = json.data() + json.size();
  depth_ = 0;
  name_.clear();
  const char* at = SkipSpace(json.data(), end_);
  if (at >= end_ || *at != '{') return false;
  at = FlattenObject(at, 0, false);
  if (at == nullptr) return false;
  return SkipSpace(at, end_) == end_;
}

std::string_view JsonWalker::Unescape(const char* at, const char* close) {
  // The runs between backslashes are copied 32 bytes at a time; the arena gives 32 bytes more
  // than the text needs, for the last run's store. The loads stay within the record's padding.
  const char* p = at + 1;
  char* const out = sink_.event().arena().Allocate(static_cast<size_t>(close - p) + 32);
  char* o = out;
  const __m256i backslash = _mm256_set1_epi8('\\');
  while (p < close) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), bytes);
    const auto mask =
        static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(bytes, backslash)));
    const auto run = static_cast<size_t>(mask != 0 ? std::countr_zero(mask) : 32);
    if (run >= static_cast<size_t>(close - p)) {
      o += close - p;
      break;
    }
    p += run;
    o += run;
    if (mask == 0) continue;
    switch (p[1]) {  // StringEnd let only these escapes through
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      default: *o++ = p[1]; break;  // '"', '\\', '/'
    }
    p += 2;
  }
  return {out, static_cast<size_t>(o - out)};
}

template <typename Visit>
const char* JsonWalker::Members(const char* at, Visit&& visit) {
  if (++depth_ > MAX_DEPTH) return nullptr;
  const char* p = SkipSpace(at + 1, end_);
  if (p >= end_) return nullptr;
  if (*p == '}') {
    --depth_;
    return p + 1;
  }
  while (true) {
    if (*p != '"') return nullptr;
    bool escaped = false;
    const char* close = StringEnd(p, end_, escaped);
    if (close == nullptr || escaped) return nullptr;  // escaped keys: left to simdjson
    const std::string_view key(p + 1, static_cast<size_t>(close - p - 1));
    p = SkipSpace(close + 1, end_);
    if (p >= end_ || *p != ':') return nullptr;
    p = SkipSpace(p + 1, end_);
    if (p >= end_) return nullptr;
    p = visit(key, p);
    if (p == nullptr) return nullptr;
    p = SkipSpace(p, end_);
    if (p >= end_) return nullptr;
    if (*p == '}') {
      --depth_;
      return p + 1;
    }
    if (*p != ',') return nullptr;
    p = SkipSpace(p + 1, end_);
    if (p >= end_) return nullptr;
  }
}

template <typename Visit>
const char* JsonWalker::Elements(const char* at, Visit&& visit) {
  if (++depth_ > MAX_DEPTH) return nullptr;
  const char* p = SkipSpace(at + 1, end_);
  if (p >= end_) return nullptr;
  if (*p == ']') {
    --depth_;
    return p + 1;
  }
  while (true) {
    p = visit(p);
    if (p == nullptr) return nullptr;
    p = SkipSpace(p, end_);
    if (p >= end_) return nullptr;
    if (*p == ']') {
      --depth_;
      return p + 1;
    }
    if (*p != ',') return nullptr;
    p = SkipSpace(p + 1, end_);
    if (p >= end_) return nullptr;
  }
}

const char* JsonWalker::Skip(const char* at) {
  switch (*at) {
    case '"': {
      bool escaped = false;
      const char* close = StringEnd(at, end_, escaped);
      return close == nullptr ? nullptr : close + 1;
    }
    case '{':
      return Members(at, [&](std::string_view, const char* value) { return Skip(value); });
    case '[':
      return Elements(at, [&](const char* value) { return Skip(value); });
    case 't':
      return LiteralEnd(at, end_, "true");
    case 'f':
      return LiteralEnd(at, end_, "false");
    case 'n':
      return LiteralEnd(at, end_, "null");
    default:
      return NumberEnd(at, end_);
  }
}

const char* JsonWalker::FlattenObject(const char* at, size_t prefix_length, bool nested) {
  return Members(at, [&](std::string_view key, const char* value) -> const char* {
    if (prefix_length == 0 && !nested && *value == '{') {
      if (key == "Event") return FlattenWindowsEvent(value);  // evtx_dump's shape
      if (key == "winlog") return FlattenWinlog(value);       // Winlogbeat's
    }
    name_.resize(prefix_length);
    if (prefix_length > 0) name_.push_back('.');
    name_.append(key);
    return FlattenValue(value, nested);
  });
}

const char* JsonWalker::FlattenValue(const char* at, bool nested) {
  const NameTable::Entry* entry = sink_.Lookup(name_);
  const FieldId id = entry != nullptr ? entry->id : NO_FIELD;
  const int rank = entry != nullptr ? entry->time_rank : -1;
  const bool children = sink_.all_values() || (entry != nullptr && entry->prefix);
  switch (*at) {
    case '{': {
      if (id == NO_FIELD && !children) return Skip(at);
      if (id == NO_FIELD) return FlattenObject(at, name_.size(), nested);
      // The object itself is read by some rule: its text, then the fields below it (one level
      // of re-reading, as the simdjson path does).
      const char* past = Skip(at);
      if (past == nullptr) return nullptr;
      sink_.Add(id, rank, FieldValue{std::string_view(at, static_cast<size_t>(past - at)),
                                     ValueType::kObject});
      if (!children || nested) return past;
      return FlattenObject(at, name_.size(), true) != nullptr ? past : nullptr;
    }
    case '[': {
      if (id == NO_FIELD && !children && !sink_.WantsUnlisted(rank)) return Skip(at);
      return FlattenArray(at, nested);
    }
    default:
      if (id == NO_FIELD && !sink_.WantsUnlisted(rank)) return Skip(at);
      return Leaf(at, id, rank);
  }
}

const char* JsonWalker::FlattenNamed(const char* at, std::string_view name) {
  if (*at == '{' || *at == '[') {
    name_.assign(name);
    return FlattenValue(at, false);
  }
  // FlattenValue's way with a scalar, without copying the name.
  const NameTable::Entry* entry = sink_.Lookup(name);
  const FieldId id = entry != nullptr ? entry->id : NO_FIELD;
  const int rank = entry != nullptr ? entry->time_rank : -1;
  if (id == NO_FIELD && !sink_.WantsUnlisted(rank)) return Skip(at);
  return Leaf(at, id, rank);
}

const char* JsonWalker::FlattenArray(const char* at, bool nested) {
  // Every element is a value of the array's own field; object elements flatten below it.
  const size_t length = name_.size();
  const char* past = Elements(at, [&](const char* element) {
    name_.resize(length);
    return FlattenValue(element, nested);
  });
  name_.resize(length);
  return past;
}

const char* JsonWalker::Leaf(const char* at, FieldId id, int rank) {
  switch (*at) {
    case '"': {
      bool escaped = false;
      const char* close = StringEnd(at, end_, escaped);
      if (close == nullptr) return nullptr;
      const std::string_view text =
          escaped ? Unescape(at, close)
                  : std::string_view(at + 1, static_cast<size_t>(close - at - 1));
      sink_.Add(id, rank, FieldValue{text, ValueType::kString});
      return close + 1;
    }
    case 't':
    case 'f': {
      const bool flag = *at == 't';
      const char* past = LiteralEnd(at, end_, flag ? "true" : "false");
      if (past == nullptr) return nullptr;
      sink_.Add(id, rank,
                FieldValue{flag ? std::string_view("true") : std::string_view("false"),
                           ValueType::kBool});
      return past;
    }
    case 'n': {
      const char* past = LiteralEnd(at, end_, "null");
      if (past == nullptr) return nullptr;
      sink_.Add(id, rank, FieldValue{std::string_view(), ValueType::kNull});
      return past;
    }
    default: {
      const char* past = NumberEnd(at, end_);
      if (past == nullptr) return nullptr;
      sink_.Add(id, rank,
                FieldValue{std::string_view(at, static_cast<size_t>(past - at)),
                           ValueType::kNumber});
      return past;
    }
  }
}

// --- evtx_dump shape (flatten.cpp says which key goes where) -------------------------------

const char* JsonWalker::FlattenWindowsEvent(const char* at) {
  return Members(at, [&](std::string_view key, const char* value) -> const char* {
    if (key == "System") return FlattenSystem(value);
    if (key == "EventData") return FlattenEventData(value);
    if (key == "UserData") return FlattenUserData(value);
    if (key.empty() || key[0] == '#') return Skip(value);
    name_.assign("Event.");
    name_.append(key);
    return FlattenValue(value, false);
  });
}

const char* JsonWalker::FlattenWinlog(const char* at) {
  return Members(at, [&](std::string_view key, const char* value) -> const char* {
    if (key == "event_data" || key == "user_data") return FlattenEventData(value);
    if (const std::string_view windows = WinlogWindowsName(key); !windows.empty())
      return FlattenNamed(value, windows);
    name_.assign("winlog.");
    name_.append(key);
    return FlattenValue(value, false);
  });
}

const char* JsonWalker::FlattenAttributes(const char* at, std::string_view element,
                                          bool skip_xmlns) {
  if (*at != '{') return Skip(at);
  return Members(at, [&](std::string_view attribute, const char* value) -> const char* {
    if (skip_xmlns && attribute.substr(0, 5) == "xmlns") return Skip(value);
    name_.assign(element);
    name_.push_back('_');
    name_.append(attribute);
    return FlattenValue(value, false);
  });
}

const char* JsonWalker::FlattenSystem(const char* at) {
  if (*at != '{') return Skip(at);
  return Members(at, [&](std::string_view element, const char* child) -> const char* {
    if (*child != '{') return FlattenNamed(child, element);
    if (!sink_.WantsElement(element)) return Skip(child);
    return Members(child, [&](std::string_view part_key, const char* part) -> const char* {
      if (part_key == "#text") return FlattenNamed(part, element);
      if (part_key == "#attributes") return FlattenAttributes(part, element, false);
      return Skip(part);
    });
  });
}

const char* JsonWalker::FlattenEventData(const char* at) {
  if (*at != '{') return Skip(at);
  return Members(at, [&](std::string_view key, const char* child) -> const char* {
    if (key.empty() || key[0] == '#') return Skip(child);
    // Defender writes "Threat Name"; Sigma rules say ThreatName.
    if (!HasSpace(key)) {
      if (*child != '{') return FlattenNamed(child, key);
      return Members(child, [&](std::string_view part_key, const char* part) -> const char* {
        return part_key == "#text" ? FlattenNamed(part, key) : Skip(part);
      });
    }
    name_.clear();
    for (char c : key) {
      if (c != ' ') name_.push_back(c);
    }
    if (*child != '{') return FlattenValue(child, false);
    // {"#text": ...} carries the element's text (unnamed Data elements); attributes are dropped.
    const size_t length = name_.size();
    return Members(child, [&](std::string_view part_key, const char* part) -> const char* {
      if (part_key != "#text") return Skip(part);
      name_.resize(length);
      return FlattenValue(part, false);
    });
  });
}

const char* JsonWalker::FlattenUserData(const char* at) {
  if (*at != '{') return Skip(at);
  return Members(at, [&](std::string_view wrapper_name, const char* content) -> const char* {
    if (wrapper_name.empty() || wrapper_name[0] == '#') return Skip(content);
    if (*content != '{') return FlattenNamed(content, wrapper_name);
    return Members(content, [&](std::string_view child_name, const char* child) -> const char* {
      if (child_name.empty() || child_name[0] == '#') return Skip(child);
      name_.assign(child_name);
      return FlattenUserElement(child);
    });
  });
}

// name_ holds the element's name. Deeper elements are named by their own element name.
const char* JsonWalker::FlattenUserElement(const char* at) {
  if (*at != '{') return FlattenValue(at, false);
  // The name must survive name_ being reused below: a copy in the arena (no heap).
  const std::string_view own = sink_.event().arena().Store(name_);
  return Members(at, [&](std::string_view part_key, const char* part) -> const char* {
    if (part_key == "#text") return FlattenNamed(part, own);
    if (part_key == "#attributes") return FlattenAttributes(part, own, true);
    if (part_key.empty()) return Skip(part);
    name_.assign(part_key);
    return FlattenUserElement(part);
  });
}

}  // namespace yagura::event
