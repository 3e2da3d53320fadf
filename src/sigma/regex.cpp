// RE2 first, PCRE2 for what RE2 cannot run (see regex.hpp).
#include "sigma/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include "sigma/case_fold.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma {

namespace {

// Per-thread PCRE2 match data, created on a thread's first PCRE2 search and reused: one ovector
// pair is enough because we only ask whether there is a match.
struct ThreadMatchData {
  pcre2_match_data* data = nullptr;
  ~ThreadMatchData() {
    if (data != nullptr) pcre2_match_data_free(data);
  }
  pcre2_match_data* Get() {
    if (data == nullptr) data = pcre2_match_data_create(1, nullptr);
    return data;
  }
};

thread_local ThreadMatchData thread_match_data;

// Atoms shorter than this are left out by RE2 (the part of the pattern they stand for then
// demands nothing), and patterns needing more than MAX_ATOMS get no atom test: looking for
// each would cost about what the engine does.
constexpr int MIN_ATOM_LENGTH = 3;
constexpr size_t MAX_ATOMS = 8;


// RE2's prefilter for the pattern alone. Its atoms form an AND/OR tree that every match
// satisfies on the lower-cased text; the tree is monotone, so when it fails with no atom
// present, any match contains at least one of them. Atoms outside ASCII are not used: Unicode
// case folding maps a few non-ASCII letters to ASCII ones, and the test below folds ASCII only.
std::vector<std::string> NecessaryAtoms(const std::string& pattern, const RE2::Options& options) {
  re2::FilteredRE2 filter(MIN_ATOM_LENGTH);
  int id = 0;
  if (filter.Add(pattern, options, &id) != RE2::NoError) return {};
  std::vector<std::string> atoms;
  filter.Compile(&atoms);
  if (atoms.empty() || atoms.size() > MAX_ATOMS) return {};
  std::vector<int> passing;
  filter.AllPotentials({}, &passing);
  if (!passing.empty()) return {};  // the pattern can match without any atom
  for (const std::string& atom : atoms)
    if (atom.empty() || !IsAscii(atom)) return {};
  return atoms;
}

}  // namespace

Result<std::shared_ptr<const Regex>> Regex::Compile(std::string_view pattern, Flags flags) {
  std::shared_ptr<Regex> regex(new Regex());
  regex->pattern_ = std::string(pattern);
  regex->flags_ = flags;
  {
    // `.{N,}`, optionally after `(?s)`: see min_run_.
    std::string_view rest = pattern;
    bool dotall = flags.dotall;
    if (rest.starts_with("(?s)")) {
      dotall = true;
      rest.remove_prefix(4);
    }
    if (rest.starts_with(".{") && rest.ends_with(",}") && rest.size() > 4) {
      std::string_view digits = rest.substr(2, rest.size() - 4);
      size_t n = 0;
      bool ok = digits.size() <= 6;
      for (char c : digits) {
        ok = ok && c >= '0' && c <= '9';
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      if (ok && n > 0) {
        regex->min_run_ = n;
        regex->run_crosses_newlines_ = dotall;
      }
    }
  }

  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(!flags.ignore_case);
  options.set_dot_nl(flags.dotall);
  options.set_encoding(RE2::Options::EncodingUTF8);
  // RE2 has no multi-line option outside POSIX mode; the inline flag is equivalent.
  std::string re2_pattern = flags.multiline ? "(?m)" + regex->pattern_ : regex->pattern_;
  auto re2 = std::make_unique<RE2>(re2_pattern, options);
  if (re2->ok()) {
    regex->atoms_ = NecessaryAtoms(re2_pattern, options);
    regex->re2_ = std::move(re2);
    return std::shared_ptr<const Regex>(std::move(regex));
  }
  std::string re2_error = re2->error();

  uint32_t pcre_options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
  if (flags.ignore_case) pcre_options |= PCRE2_CASELESS;
  if (flags.multiline) pcre_options |= PCRE2_MULTILINE;
  if (flags.dotall) pcre_options |= PCRE2_DOTALL;
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(regex->pattern_.data()), regex->pattern_.size(),
                    pcre_options, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof message);
    return Fail("invalid regular expression '" + regex->pattern_ + "': " + re2_error +
                " (PCRE2: " + reinterpret_cast<const char*>(message) + " at offset " +
                std::to_string(error_offset) + ")");
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // best effort: the interpreter still works
  regex->pcre_ = code;
  return std::shared_ptr<const Regex>(std::move(regex));
}

Regex::~Regex() {
  if (pcre_ != nullptr) pcre2_code_free(static_cast<pcre2_code*>(pcre_));
}

bool Regex::Search(std::string_view text) const {
  if (min_run_ != 0) {
    bool ascii = true;
    for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (ascii) {
      // On ASCII text a character is a byte; `.` stops at newlines unless dot-all.
      if (run_crosses_newlines_) return text.size() >= min_run_;
      size_t run = 0;
      for (char c : text) {
        run = c == '\n' ? 0 : run + 1;
        if (run >= min_run_) return true;
      }
      return false;
    }
  }
  if (!atoms_.empty() && IsAscii(text)) {
    bool any = false;
    for (const std::string& atom : atoms_) {
      if ((any = ContainsAscii(text, atom, /*cased=*/false))) break;
    }
    if (!any) return false;
  }
  return SearchWithEngine(text);
}

bool Regex::SearchWithEngine(std::string_view text) const {
  if (re2_) return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re2_);
  static constexpr char EMPTY[] = "";
  const char* subject = text.data() != nullptr ? text.data() : EMPTY;
  int rc = pcre2_match(static_cast<pcre2_code*>(pcre_), reinterpret_cast<PCRE2_SPTR>(subject),
                       text.size(), 0, 0, thread_match_data.Get(), nullptr);
  return rc >= 0;
}

}  // namespace yagura::sigma
