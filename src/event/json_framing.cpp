#include "event/json_framing.hpp"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

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

// The position of the first byte at or after `pos` that ends ordinary string content (a quote,
// a backslash or a newline), or `size`. String values are most of an event's bytes, so they
// are skipped 32 bytes at a time (AVX2; the build targets Haswell and later).
size_t SkipStringContent(const char* data, size_t pos, size_t size) {
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i newline = _mm256_set1_epi8('\n');
  while (pos + 32 <= size) {
    __m256i chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + pos));
    __m256i hits = _mm256_or_si256(
        _mm256_or_si256(_mm256_cmpeq_epi8(chunk, quote), _mm256_cmpeq_epi8(chunk, backslash)),
        _mm256_cmpeq_epi8(chunk, newline));
    auto mask = static_cast<uint32_t>(_mm256_movemask_epi8(hits));
    if (mask) return pos + static_cast<size_t>(std::countr_zero(mask));
    pos += 32;
  }
  while (pos < size && !STRING_SPECIAL[static_cast<unsigned char>(data[pos])]) ++pos;
  return pos;
}

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
    if (line_records_ && at_line_start_ && !array_mode_ && pos_ >= no_line_record_before_) {
      Frame frame = LineRecord(data, size);
      if (frame.kind == Kind::kRecord) return frame;
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

JsonFramer::Frame JsonFramer::LineRecord(const char* data, size_t size) {
  const void* found = std::memchr(data + pos_, '\n', size - pos_);
  if (found == nullptr) return {Kind::kNeedMore};
  const size_t newline = static_cast<size_t>(static_cast<const char*>(found) - data);
  size_t end = newline;
  while (end > pos_ && (data[end - 1] == ' ' || data[end - 1] == '\t' || data[end - 1] == '\r')) {
    --end;
  }
  if (end - pos_ < 2 || end - pos_ > max_line_record_ || data[end - 1] != '}') {
    return {Kind::kNeedMore};
  }
  last_line_ = {pos_, line_, newline + 1};
  Frame frame{Kind::kRecord, pos_, end, line_, {}, true};
  pos_ = newline + 1;
  ++line_;
  at_line_start_ = true;
  return frame;
}

namespace {

// One 64-byte block of a record, classified at once (AVX2 compares, carry-less multiply for
// the string mask). Valid JSON is framed here without a per-byte loop; whatever is unusual
// (a backslash outside a string, a raw newline inside one, a `{` right after a newline) is left
// to the byte-by-byte scanner, which owns the exact error behaviour.
struct BlockState {
  uint64_t line;
  uint32_t depth;
  bool in_string;
  bool escape;  // the next byte is escaped (a backslash ended the previous block)
  bool at_line_start;
};

enum class BlockOutcome : uint8_t { kContinue, kRecordEnd, kFallBack };

uint64_t ByteMask(const __m256i lo, const __m256i hi, char c) {
  const __m256i needle = _mm256_set1_epi8(c);
  auto low = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, needle)));
  auto high = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, needle)));
  return uint64_t{low} | (uint64_t{high} << 32);
}

// The bytes of a block the framer looks at, a bit per byte.
struct BlockMasks {
  uint64_t quotes, backslashes, newlines, left_braces, opens, closes;
};

BlockMasks ClassifyAvx2(const char* block) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32));
  BlockMasks m;
  m.quotes = ByteMask(lo, hi, '"');
  m.backslashes = ByteMask(lo, hi, '\\');
  m.newlines = ByteMask(lo, hi, '\n');
  m.left_braces = ByteMask(lo, hi, '{');
  m.opens = m.left_braces | ByteMask(lo, hi, '[');
  m.closes = ByteMask(lo, hi, '}') | ByteMask(lo, hi, ']');
  return m;
}

// The same with AVX-512BW, where a compare gives the 64-bit mask itself: seven instructions
// instead of forty-odd, and the framer is a tenth of reading a JSON file.
__attribute__((target("avx512f,avx512bw"))) BlockMasks ClassifyAvx512(const char* block) {
  const __m512i bytes = _mm512_loadu_si512(block);
  BlockMasks m;
  m.quotes = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('"'));
  m.backslashes = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('\\'));
  m.newlines = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('\n'));
  m.left_braces = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('{'));
  m.opens = m.left_braces | _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('['));
  m.closes = _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8('}')) |
             _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(']'));
  return m;
}

// The bytes of a block escaped by a backslash, given its backslashes and whether a backslash
// at the end of the block before escapes its first byte; `escape_out` tells whether one at its
// end escapes the next block's first byte. A byte is escaped when the run of backslashes just
// before it has an odd length. Without a loop: adding a run's first bit to the backslashes
// carries through the run and sets the bit just past it, and a run that starts at an even
// place has an odd length when it ends before an odd place (and the other way round). Windows
// paths put several runs in most blocks, and a loop over them mispredicted its exits.
uint64_t EscapedBytes(uint64_t backslashes, bool escape_in, bool& escape_out) {
  constexpr uint64_t EVEN = 0x5555555555555555;
  const uint64_t first = escape_in ? 1 : 0;
  const uint64_t runs = backslashes & ~first;  // an escaped backslash is a plain byte
  const uint64_t starts = runs & ~(runs << 1);
  uint64_t past_even_runs = 0;
  uint64_t past_odd_runs = 0;
  (void)__builtin_add_overflow(runs, starts & EVEN, &past_even_runs);
  // A run from an odd place to the block's end has an odd length.
  escape_out = __builtin_add_overflow(runs, starts & ~EVEN, &past_odd_runs);
  return (past_even_runs & ~runs & ~EVEN) | (past_odd_runs & ~runs & EVEN) | first;
}

// Classifies block[0, 64). On kRecordEnd `end` is the offset just past the closing brace.
// `ignored_line_start`: bit 0 when the block starts at the record's own first brace.
// Inlined into the loops below, so that the masks stay in registers.
[[gnu::always_inline]] inline BlockOutcome ScanBlock(const BlockMasks& masks,
                                                     bool line_start_matters,
                                                     uint64_t ignored_line_start,
                                                     BlockState& state, size_t& end) {
  const auto [quotes, backslashes, newlines, left_braces, opens, closes] = masks;

  bool escape_out = false;
  const uint64_t escaped = EscapedBytes(backslashes, state.escape, escape_out);
  const uint64_t real_quotes = quotes & ~escaped;
  // Inside-string mask: bit i is the parity of real quotes up to and including i, so an
  // opening quote and the string's bytes are set and the closing quote is clear.
  const __m128i product = _mm_clmulepi64_si128(
      _mm_set_epi64x(0, static_cast<int64_t>(real_quotes)), _mm_set1_epi8(static_cast<char>(0xFF)), 0);
  uint64_t in_string = static_cast<uint64_t>(_mm_cvtsi128_si64(product));
  if (state.in_string) in_string = ~in_string;

  if ((newlines & in_string) || (backslashes & ~in_string)) return BlockOutcome::kFallBack;
  const uint64_t line_starts = ((newlines << 1) | (state.at_line_start ? 1 : 0)) & ~ignored_line_start;
  if (line_start_matters && (left_braces & ~in_string & line_starts)) return BlockOutcome::kFallBack;

  // Braces outside strings, in order: the record ends where the depth returns to zero. It
  // cannot in a block with fewer closing braces than the depth at its start (most blocks of a
  // record, in nested JSON): those are counted, not followed.
  uint32_t depth = state.depth;
  const auto closing = static_cast<uint32_t>(std::popcount(closes & ~in_string));
  if (closing < depth) {
    depth += static_cast<uint32_t>(std::popcount(opens & ~in_string)) - closing;
  } else {
    for (uint64_t rest = (opens | closes) & ~in_string; rest; rest &= rest - 1) {
      unsigned at = static_cast<unsigned>(std::countr_zero(rest));
      if ((opens >> at) & 1) {
        ++depth;
        continue;
      }
      if (depth > 0) --depth;
      if (depth == 0) {
        const uint64_t before = at == 0 ? 0 : (~uint64_t{0} >> (64 - at));
        state.line += static_cast<uint64_t>(std::popcount(newlines & before));
        state.depth = 0;
        state.in_string = false;
        state.escape = false;
        state.at_line_start = false;
        end = at + 1;
        return BlockOutcome::kRecordEnd;
      }
    }
  }
  state.depth = depth;
  state.line += static_cast<uint64_t>(std::popcount(newlines));
  state.in_string = (in_string >> 63) & 1;
  state.escape = escape_out;
  // The byte scanner's `at_line_start` follows the bytes it handles outside strings (opening
  // quotes included, closing quotes not): it holds when the last of them is a newline.
  const uint64_t outside = (~in_string & ~real_quotes) | (real_quotes & in_string);
  if (outside) state.at_line_start = (newlines >> (63 - std::countl_zero(outside))) & 1;
  return BlockOutcome::kContinue;
}

// ScanBlock over the full blocks from `pos` on, until one ends the record or falls back (then
// `pos` is that block's start and `state` the state before it) or no full block is left. One
// loop per instruction set, so that classifying a block is inlined: called for each block, its
// masks went back and forth through memory and it was a third of the framer's time.
__attribute__((target("avx512f,avx512bw"))) BlockOutcome ScanBlocksAvx512(
    const char* data, size_t& pos, size_t size, size_t record_start, bool line_start_matters,
    BlockState& state, size_t& end) {
  BlockState local = state;
  BlockOutcome outcome = BlockOutcome::kContinue;
  size_t at = pos;
  for (; at + 64 <= size; at += 64) {
    outcome = ScanBlock(ClassifyAvx512(data + at), line_start_matters,
                        at == record_start ? 1 : 0, local, end);
    if (outcome != BlockOutcome::kContinue) break;
  }
  pos = at;
  state = local;
  return outcome;
}

BlockOutcome ScanBlocksAvx2(const char* data, size_t& pos, size_t size, size_t record_start,
                            bool line_start_matters, BlockState& state, size_t& end) {
  BlockState local = state;
  BlockOutcome outcome = BlockOutcome::kContinue;
  size_t at = pos;
  for (; at + 64 <= size; at += 64) {
    outcome = ScanBlock(ClassifyAvx2(data + at), line_start_matters,
                        at == record_start ? 1 : 0, local, end);
    if (outcome != BlockOutcome::kContinue) break;
  }
  pos = at;
  state = local;
  return outcome;
}

}  // namespace

bool JsonFramer::HasWideBlocks() {
  static const bool available = __builtin_cpu_supports("avx512bw");
  return available;
}

JsonFramer::Frame JsonFramer::ScanRecord(const char* data, size_t size, bool eof) {
  // The scan state lives in locals while the loop runs (stores through `data`, a char
  // pointer, would otherwise force every member back to memory on every byte) and is written
  // back on every way out.
  size_t pos = pos_;
  uint64_t line = line_;
  uint32_t depth = depth_;
  bool in_string = in_string_;
  bool escape = escape_;
  bool at_line_start = at_line_start_;
  auto save = [&] {
    pos_ = pos;
    line_ = line;
    depth_ = depth;
    in_string_ = in_string;
    escape_ = escape;
    at_line_start_ = at_line_start;
  };
  size_t scalar_until = 0;  // after a block the fast path declined, bytes go one by one
  while (pos < size) {
    if (block_scanning_ && pos >= scalar_until && pos + 64 <= size) {
      BlockState state{line, depth, in_string, escape, at_line_start};
      size_t end = 0;
      // A `{` at a line start inside a record that began at a line start is the next value
      // (the byte scanner reports it); the record's own first brace is not.
      const BlockOutcome outcome =
          wide_blocks_ ? ScanBlocksAvx512(data, pos, size, record_start_,
                                          record_at_line_start_, state, end)
                       : ScanBlocksAvx2(data, pos, size, record_start_, record_at_line_start_,
                                        state, end);
      line = state.line;
      depth = state.depth;
      in_string = state.in_string;
      escape = state.escape;
      at_line_start = state.at_line_start;
      switch (outcome) {
        case BlockOutcome::kContinue:  // fewer than 64 bytes are left
          continue;
        case BlockOutcome::kRecordEnd:
          line = state.line;
          depth = 0;
          in_string = false;
          escape = false;
          at_line_start = false;
          pos += end;
          save();
          in_record_ = false;
          if (discarding_) {
            discarding_ = false;
            return {Kind::kError, 0, 0, record_line_, discard_message_};
          }
          return {Kind::kRecord, record_start_, pos_, record_line_, {}};
        case BlockOutcome::kFallBack:  // the block at `pos` goes byte by byte
          scalar_until = pos + 64;
          break;
      }
    }
    if (in_string) {
      if (escape) {
        escape = false;
        if (data[pos] != '\n') {
          ++pos;
          continue;
        }
      } else {
        pos = SkipStringContent(data, pos, size);
        if (pos == size) break;
      }
      char c = data[pos];
      if (c == '\\') {
        escape = true;
        ++pos;
      } else if (c == '"') {
        in_string = false;
        ++pos;
      } else {  // a raw newline: the string was never closed
        ++pos;
        ++line;
        at_line_start = true;
        save();
        return EndRecordWithError("unterminated string in JSON value");
      }
      continue;
    }
    char c = data[pos];
    if (at_line_start && c == '{' && record_at_line_start_ && pos != record_start_) {
      save();
      return EndRecordWithError("incomplete JSON value (a new value starts on the next line)");
    }
    at_line_start = false;
    if (!STRUCTURE_SPECIAL[static_cast<unsigned char>(c)]) {
      ++pos;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        ++depth;
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;
        if (depth == 0) {
          ++pos;
          save();
          in_record_ = false;
          if (discarding_) {
            discarding_ = false;
            return {Kind::kError, 0, 0, record_line_, discard_message_};
          }
          return {Kind::kRecord, record_start_, pos_, record_line_, {}};
        }
        break;
      case '\n':
        ++line;
        at_line_start = true;
        break;
      default:
        break;
    }
    ++pos;
  }
  save();
  if (eof) {
    if (discarding_) return EndRecordWithError(discard_message_);
    return EndRecordWithError("incomplete JSON value at end of input");
  }
  return {Kind::kNeedMore, 0, 0, 0, {}};
}

}  // namespace yagura::event
