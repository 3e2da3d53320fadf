// Regex: a compiled Sigma |re pattern with search semantics (a match anywhere counts).
//
// RE2 runs every pattern it accepts, in linear time. Patterns RE2 rejects (lookarounds,
// backreferences, possessive quantifiers...) fall back to PCRE2 with JIT. Flags i/m/s map to
// the engines' case-insensitive, multi-line and dot-all options; inline flags like `(?i)` work
// in both. Thread-safety: Search() is const and safe from any number of threads; PCRE2 match
// data lives in a thread_local buffer, so a search allocates nothing after a thread's first call.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace re2 {
class RE2;
}

namespace yagura::sigma {

class Regex {
 public:
  struct Flags {
    bool ignore_case = false;
    bool multiline = false;
    bool dotall = false;
  };

  // Compiles `pattern`; the error names both engines' complaints when neither accepts it.
  [[nodiscard]] static Result<std::shared_ptr<const Regex>> Compile(std::string_view pattern,
                                                                    Flags flags);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Whether the pattern matches somewhere in `text`.
  [[nodiscard]] bool Search(std::string_view text) const;
  // The same, always asked of the engine: without the atom test below (tests compare the two).
  [[nodiscard]] bool SearchWithEngine(std::string_view text) const;

  // Literal pieces one of which every match contains (RE2's prefilter atoms, lower case), or
  // none when the pattern has no such set. On ASCII text, Search() answers false without the
  // engine when none of them occurs (ASCII case-insensitively); most values a rule tests hold
  // none, and starting the engine cost more than looking for a few literals.
  [[nodiscard]] const std::vector<std::string>& atoms() const { return atoms_; }

  [[nodiscard]] const std::string& pattern() const { return pattern_; }
  [[nodiscard]] Flags flags() const { return flags_; }
  // True when the pattern runs on PCRE2 (RE2 rejected it).
  [[nodiscard]] bool uses_pcre() const { return pcre_ != nullptr; }

 private:
  Regex() = default;
  std::string pattern_;
  Flags flags_;
  std::unique_ptr<re2::RE2> re2_;
  void* pcre_ = nullptr;  // pcre2_code_8*, kept opaque so users need not include pcre2.h
  // `.{N,}` (rules that flag very long values): a run of at least N characters, counted
  // directly on ASCII text. RE2 unrolls the repetition into N states and spent milliseconds
  // per value on it; 0 when the pattern has another shape.
  size_t min_run_ = 0;
  bool run_crosses_newlines_ = false;
  std::vector<std::string> atoms_;
};

}  // namespace yagura::sigma
