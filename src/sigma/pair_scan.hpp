// PairScan: whether any of a few literals occurs in a text, in one SIMD pass.
//
// The keyword prefilter asks this of every Windows event's raw bytes, for about twenty long
// literals ("sekurlsa::", "gentilkiwi.com"); Hyperscan answered at about 3 GB/s, a tenth of the
// detection time. Here each literal is represented by a run of two or three of its bytes (a
// "gram"), chosen so that few and rare grams cover them all ("::" covers most of those); a pass
// over the text compares 32 positions at a time (64 with AVX-512) against the grams, and only
// where a gram occurs are the literals that contain it compared in full. Three bytes are rarer
// than two: with pairs only, "im" stood for "mimidrv.sys" and "mimilib.dll", and it occurs
// about five times in every Windows event ("SystemTime", "Image"), each a comparison that
// found nothing; "mim" does not occur at all. Letters are compared with bit 5 set on both sides,
// which folds ASCII case (and maps a few punctuation bytes onto others: more candidates, never
// fewer). The same pass can also look for what makes a text unsafe to test by its bytes (a
// byte outside ASCII; in JSON, a `\u` or `\/` escape: see keyword_prefilter.hpp).
// Thread-safety: immutable after Build().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace yagura::sigma {

class PairScan {
 public:
  struct Literal {
    std::string text;  // ASCII
    bool cased = false;
  };
  static constexpr size_t MAX_GRAMS = 6;

  // Null when the literals do not suit it: empty, one shorter than two bytes or not ASCII, or
  // more than MAX_GRAMS grams needed to cover them.
  [[nodiscard]] static std::unique_ptr<PairScan> Build(const std::vector<Literal>& literals);

  // What else makes Scan() answer true: text that might spell a literal otherwise than as
  // itself. kJson: a byte outside ASCII (simple case folding maps a few non-ASCII letters to
  // ASCII ones), a `\u` or a `\/` escape. kFoldsToAscii, for text as it is: one of those few
  // letters (U+0130, U+017F LONG S, U+212A KELVIN SIGN), found from the folding table.
  enum class Guard : uint8_t { kNone, kFoldsToAscii, kJson };

  // Whether one of the literals occurs in `text`, or the guard finds what it looks for. Reads
  // up to 64 bytes past the end of `text` (records carry RECORD_PADDING readable bytes).
  [[nodiscard]] bool Scan(std::string_view text, Guard guard) const;

  // The two ways Scan() goes, 32 and 64 bytes a step (the second needs AVX-512BW); public so
  // that tests can hold both to the same answers.
  [[nodiscard]] bool ScanAvx2(std::string_view text, Guard guard) const;
  [[nodiscard]] bool ScanAvx512(std::string_view text, Guard guard) const;
  [[nodiscard]] static bool HasAvx512();

  // The chosen grams (bit 5 set on every byte), for tests.
  [[nodiscard]] std::vector<std::string> grams() const;

 private:
  PairScan() = default;
  // The AVX-512 pass over the blocks of `text` that start in [from, to) (from a multiple of 64).
  [[nodiscard]] bool ScanAvx512Blocks(std::string_view text, Guard guard, size_t from,
                                      size_t to) const;
  // The JSON pass of the keyword prefilter, built for a number of pairs and triples: the gram
  // bytes stay in registers, and a step is one test of one vector that holds every reason to
  // look closer; a step that has one is looked at again by ScanAvx512Blocks.
  template <size_t PAIRS, size_t TRIPLES>
  [[nodiscard]] bool ScanJsonAvx512(std::string_view text) const;
  using JsonPass = bool (PairScan::*)(std::string_view) const;
  // The pass for so many pairs and triples; null when there is none, or no AVX-512.
  static JsonPass JsonPassFor(size_t pairs, size_t triples);
  JsonPass json_pass_ = nullptr;
  struct Candidate {
    uint32_t literal = 0;
    uint32_t offset = 0;  // where the gram starts in the literal
  };
  struct Gram {
    uint8_t bytes[3] = {};  // bit 5 set
    uint8_t length = 2;     // 2 or 3
    std::vector<Candidate> candidates;
    // The bytes (bit 5 set) that come before the gram in its literals, and whether one starts
    // with it: a gram found after any other byte starts none of them. "::" occurs in IPv6
    // addresses ("::ffff:…" after a ';' or a space), where comparing it with every literal that
    // holds "::" was most of the scan's cost in DNS events.
    uint64_t before[4] = {};
    bool starts_literal = false;
    [[nodiscard]] bool MayFollow(const char* data, size_t at) const {
      if (starts_literal) return true;
      if (at == 0) return false;
      const uint8_t byte = static_cast<uint8_t>(static_cast<uint8_t>(data[at - 1]) | 0x20);
      return (before[byte >> 6] >> (byte & 63)) & 1;
    }
  };
  bool Verify(std::string_view text, size_t at, const Gram& gram) const;
  // Whether a gram found at bit i of `candidates` (position at + i) starts one of its literals.
  bool Candidates(std::string_view text, size_t at, uint64_t candidates) const;
  // Whether a backslash at bit i of `candidates`, followed by `u` or `/`, starts an escape.
  static bool Escapes(std::string_view text, size_t at, uint64_t candidates);
  // Whether a byte at bit i of `candidates` starts a code point that folds to ASCII.
  static bool FoldsToAscii(std::string_view text, size_t at, uint64_t candidates);

  std::vector<Literal> literals_;
  std::vector<Gram> grams_;  // the pairs first
  size_t pair_count_ = 0;
};

}  // namespace yagura::sigma
