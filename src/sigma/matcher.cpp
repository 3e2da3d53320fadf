// The compiled matcher (see matcher.hpp for the contract).
//
// Build. Every predicate of every rule gets a global index. String (glob) and regex predicates
// become *patterns*, deduplicated per field index and numbered globally (a field has an index
// per product of the rules that read it, so an event runs only its own product's); every other
// predicate kind, and whatever cannot be compiled exactly, stays "direct" and is decided by
// Predicate::Test.
// Numeric equality (`EventID: 4688`) is looked up by the parsed value, so event ids can trigger
// the rules that have nothing else to trigger them.
// A caseless glob is looked up on the case-folded value (literal_index.hpp): a plain literal,
// `x*` or `*x` goes to the field's exact index, prefix trie or suffix trie, which cost a hash
// probe or a short walk; contains (`*x*`) goes to the field's contains index, and a glob with
// inner wildcards too, keyed by its longest literal, as a candidate tested on the value
// (Predicate::TestValue) when the literal is found. What is left (globs whose literals are all
// one byte long) goes to the field's "folded" Hyperscan database, also run on the folded value.
// Cased globs and regexes go to the field's "raw" database, run on the value as it is. Keyword
// (field-less) globs are compiled against one buffer holding every folded value of the event
// between 0xFF separators (0xFF never occurs in folded text), one database per rule logsource,
// so keywords cost a scan per event, not one per value, and only for the keyword rules routed
// to the event.
//
// Exactness. Folded lookups are exact (byte equality of folded text is GlobMatch's folded
// equality), and so are cased globs on raw bytes when the pattern is valid UTF-8 without `?`.
// Globs keyed by a literal are candidates (a value can only match if it holds the literal),
// decided on the value they are found in: the event holds the glob when one of its values does.
// Regex hits are only candidates, confirmed with Predicate::Test when (and if) a rule being
// evaluated reads them: on ASCII values Hyperscan (exact or prefilter) finds a superset of
// what RE2/PCRE2 find; on non-ASCII values the engines may disagree on case folding and code
// points, so there every regex of the field becomes a candidate. The rest (cased globs with
// `?`, literals with invalid UTF-8) is direct.
//
// Gating. Each rule's condition is analysed once in three-valued logic, with pattern
// predicates in positive position (under an even number of negations) false unless they fired
// and everything else unknown. If the condition is then definitely false, the rule is "gated":
// it is evaluated only on events where one of its *triggers* fired. For an AND the triggers of
// one false operand suffice, and the operand whose weakest trigger has the longest literal is
// chosen (`.exe` fires on every event, `-EncodedCommand` almost never). Other rules are
// evaluated on every event routed to them. Only triggers are scanned: a Hyperscan pattern that
// is no gated rule's trigger is "lazy", left out of the databases and decided by
// Predicate::Test (once per event) when a rule being evaluated reads it. Gating is therefore
// computed twice: once to choose the triggers, once more allowing only scanned patterns as
// triggers (Hyperscan may have left some out). Literal length is a poor guide for common path
// pieces (`\AppData\`, `\svchost.exe`), so the choice is made again from what fired on the
// events actually seen (Adapt: after the first 4,096 events, then every 131,072), for the rules
// evaluated often; operands whose literals looked about as rare as the chosen one have their
// patterns scanned too, so that choice has somewhere to go. A rule's value when none of its
// triggers fired does not depend on which are chosen, so every choice gives the same results.
//
// Match. Route the event's logsource class to its Route (candidate rules, field indexes to
// run, always-evaluated rules); run the indexes of those fields, recording fired patterns in a
// bitset; collect the gated candidate rules of the fired triggers; evaluate them and the
// always-evaluated ones in ascending order over the same condition tree as the plain
// evaluator. What a field's first value fired is remembered per thread (a direct-mapped cache
// keyed by index, type and raw text) and replayed when the value comes again, as images,
// vendors and hashes do. Bitsets are reset through the lists of what was set, so an event costs
// O(fired), not O(patterns); nothing is allocated once the scratch buffers have grown, except when
// the triggers are chosen again.
#include "sigma/matcher.hpp"

#include "sigma/keyword_prefilter.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstddef>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <xmmintrin.h>

#include "core/large_buffer.hpp"
#include "core/short_compare.hpp"
#include "event/record.hpp"
#include "sigma/case_fold.hpp"
#include "sigma/hs_database.hpp"
#include "sigma/literal_index.hpp"
#include "sigma/modifiers/modifier.hpp"
#include "sigma/router.hpp"
#include "sigma/wildcard.hpp"

namespace yagura::sigma {

namespace {

constexpr uint32_t NONE = UINT32_MAX;
// Bump when the way patterns are generated changes meaning without changing their text.
constexpr uint32_t MATCHER_FORMAT = 3;
constexpr char SEPARATOR = '\xff';  // between values in the keyword buffer

enum class PatternKind : uint8_t {
  kLiteral,  // exact / prefix / suffix index on the folded value: exact
  kFolded,   // folded Hyperscan database: exact
  kRaw,      // cased glob in the raw database: exact
  kRegex,    // regex in the raw database: a candidate, confirmed when a rule reads it
  // A glob with inner wildcards whose longest literal was found in the folded value (the
  // contains index): a candidate, confirmed when a rule reads it.
  kCandidate,
};

// ---- pattern text ----

void AppendHexByte(std::string& out, unsigned char byte) {
  static constexpr char HEX[] = "0123456789abcdef";
  out += "\\x";
  out.push_back(HEX[byte >> 4]);
  out.push_back(HEX[byte & 15]);
}

void AppendEscaped(std::string& out, std::string_view literal) {
  for (char c : literal) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_') {
      out.push_back(c);
    } else {
      AppendHexByte(out, u);
    }
  }
}

bool AllFoldable(const std::vector<GlobToken>& glob) {
  for (const GlobToken& token : glob)
    if (token.kind == GlobToken::Kind::kLiteral && !FoldableLiteral(token.text)) return false;
  return true;
}

bool ValidUtf8(std::string_view text) {
  for (size_t at = 0; at < text.size();)
    if (DecodeUtf8(text, &at) >= INVALID_BYTE_BASE) return false;
  return true;
}

bool HasOne(const std::vector<GlobToken>& glob) {
  for (const GlobToken& token : glob)
    if (token.kind == GlobToken::Kind::kOne) return true;
  return false;
}

// The regex of a caseless glob over folded text. In `keyword` form it runs on the buffer of
// separated values: anchors become the separator and wildcards cannot cross it.
std::string FoldedGlobRegex(const std::vector<GlobToken>& glob, bool keyword) {
  const bool anchored_start = !StartsWithStar(glob);
  const bool anchored_end = !EndsWithStar(glob);
  const std::string star = keyword ? "[^\\xff]*" : ".*";
  // One UTF-8 code point of folded (hence valid) text; folded text has no byte above 0xF4.
  const std::string one = keyword ? "(?:[\\x00-\\x7f\\xc0-\\xf7][\\x80-\\xbf]*)"
                                  : "(?:[\\x00-\\x7f\\xc0-\\xff][\\x80-\\xbf]*)";
  std::string out;
  if (anchored_start) out += keyword ? "\\xff" : "\\A";
  size_t begin = anchored_start ? 0 : 1;
  size_t end = anchored_end ? glob.size() : glob.size() - 1;
  if (end < begin) end = begin;  // the glob `*`
  std::string folded;
  for (size_t i = begin; i < end; ++i) {
    const GlobToken& token = glob[i];
    switch (token.kind) {
      case GlobToken::Kind::kStar: out += star; break;
      case GlobToken::Kind::kOne: out += one; break;
      case GlobToken::Kind::kLiteral:
        FoldText(token.text, folded);
        AppendEscaped(out, folded);
        break;
    }
  }
  if (anchored_end) out += keyword ? "\\xff" : "\\z";
  if (out.empty()) {
    // `*`: any value. A keyword needs at least one value; a field value matches anything.
    out = keyword ? "\\xff[^\\xff]*\\xff" : ".*";
  }
  return out;
}

// Fields whose values repeat across most events of their class: vendors, products, signature
// states, protocols, logon types, the System fields of Windows events. Exact values there are
// poor triggers whatever their length (see Pattern::weight).
bool IsLowCardinalityField(std::string_view name) {
  static constexpr std::string_view FIELDS[] = {
      "Channel",        "Company",         "DestinationIsIpv6", "Enabled",
      "EventType",      "Initiated",       "IntegrityLevel",    "Keywords",
      "Level",          "LogonType",       "Opcode",            "Product",
      "Protocol",       "Provider_Name",   "Signature",         "SignatureStatus",
      "Signed",         "SourceIsIpv6",    "State",             "Status",
      "Task",           "Type",            "Version",           "ElevatedToken",
      "ImpersonationLevel", "AuthenticationPackageName", "LogonProcessName",
  };
  for (std::string_view field : FIELDS)
    if (field == name) return true;
  return false;
}

// ---- three-valued logic for gating ----

enum class Tri : uint8_t { kFalse, kTrue, kUnknown };

// The gating analysis of one node: its value on any event on which none of `triggers` fired
// (kUnknown claims nothing). A rule whose condition comes out kFalse needs evaluating only when
// one of its triggers fired. How often that happens is known once events have been seen:
// `fires` counts how often the triggers fired on them (zero before any event). Before that,
// `weight` guesses it: the literal length of the weakest trigger (`.exe` fires on nearly every
// event, `-EncodedCommand` almost never).
struct GateResult {
  static constexpr uint32_t NEVER = UINT32_MAX;  // no trigger: the value holds unconditionally
  Tri value = Tri::kUnknown;
  std::vector<uint32_t> triggers;
  uint32_t weight = NEVER;
  uint64_t fires = 0;
  // Triggers of the parts not chosen whose literals looked about as rare (ALTERNATIVE_SLACK):
  // scanned too, so that what fires on real events can decide between them (Adapt).
  std::vector<uint32_t> alternatives;
};
constexpr uint32_t ALTERNATIVE_SLACK = 2;

GateResult GateConstant(Tri value) {
  GateResult r;
  r.value = value;
  return r;
}

GateResult GateNot(GateResult r) {
  if (r.value != Tri::kUnknown) r.value = r.value == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
  return r;  // under the same assumption
}

// Merges the assumptions of `parts` into `out`.
void GateUnion(GateResult& out, std::vector<GateResult>& parts) {
  for (GateResult& part : parts) {
    out.triggers.insert(out.triggers.end(), part.triggers.begin(), part.triggers.end());
    out.alternatives.insert(out.alternatives.end(), part.alternatives.begin(),
                            part.alternatives.end());
    out.weight = std::min(out.weight, part.weight);
    out.fires += part.fires;
  }
}

// The part of `parts` with value `value` that is cheapest to assume: the triggers that fired
// least, then the rarest by their literals, then the fewest.
// The others of about the same weight add their triggers to its alternatives.
GateResult* GateBest(std::vector<GateResult>& parts, Tri value) {
  GateResult* best = nullptr;
  for (GateResult& part : parts) {
    if (part.value != value) continue;
    if (!best || part.fires < best->fires ||
        (part.fires == best->fires &&
         (part.weight > best->weight ||
          (part.weight == best->weight && part.triggers.size() < best->triggers.size())))) {
      best = &part;
    }
  }
  if (best == nullptr || best->triggers.empty()) return best;
  for (GateResult& part : parts) {
    if (&part == best || part.value != value || part.weight == GateResult::NEVER ||
        part.weight + ALTERNATIVE_SLACK < best->weight)
      continue;
    best->alternatives.insert(best->alternatives.end(), part.triggers.begin(), part.triggers.end());
    best->alternatives.insert(best->alternatives.end(), part.alternatives.begin(),
                              part.alternatives.end());
  }
  return best;
}

// OR: true if one part is true; false only if every part is, under all their assumptions.
GateResult GateOr(std::vector<GateResult>& parts) {
  if (GateResult* t = GateBest(parts, Tri::kTrue)) return std::move(*t);
  for (GateResult& part : parts)
    if (part.value == Tri::kUnknown) return GateConstant(Tri::kUnknown);
  GateResult out = GateConstant(Tri::kFalse);
  GateUnion(out, parts);
  return out;
}

// AND: false if one part is (the rarest such part is enough); true only if every part is.
GateResult GateAnd(std::vector<GateResult>& parts) {
  if (GateResult* f = GateBest(parts, Tri::kFalse)) return std::move(*f);
  for (GateResult& part : parts)
    if (part.value == Tri::kUnknown) return GateConstant(Tri::kUnknown);
  GateResult out = GateConstant(Tri::kTrue);
  GateUnion(out, parts);
  return out;
}

inline bool TestBit(const std::vector<uint64_t>& bits, uint32_t i) {
  return (bits[i >> 6] >> (i & 63)) & 1;
}
inline void SetBit(std::vector<uint64_t>& bits, uint32_t i) { bits[i >> 6] |= 1ULL << (i & 63); }
inline void ClearBit(std::vector<uint64_t>& bits, uint32_t i) {
  bits[i >> 6] &= ~(1ULL << (i & 63));
}

// The ids a scratch set during one event (fired patterns, touched rules...), to be cleared
// after it: each at most once, so the capacity given up front is never exceeded (the guard
// that would grow it is never taken), and adding one is a store. std::vector's push_back was a
// call of its own from the hot loops (about 2% of matching's instructions with Fire).
class IdList {
 public:
  void Reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    auto grown = std::make_unique<uint32_t[]>(capacity);
    if (size_ != 0) std::memcpy(grown.get(), ids_.get(), size_ * sizeof(uint32_t));
    ids_ = std::move(grown);
    capacity_ = capacity;
  }
  [[gnu::always_inline]] void push_back(uint32_t id) {
    if (size_ == capacity_) [[unlikely]] Reserve(std::max<size_t>(16, capacity_ * 2));
    ids_[size_++] = id;
  }
  void clear() { size_ = 0; }
  [[nodiscard]] size_t size() const { return size_; }
  uint32_t operator[](size_t i) const { return ids_[i]; }
  uint32_t* begin() { return ids_.get(); }
  uint32_t* end() { return ids_.get() + size_; }
  const uint32_t* begin() const { return ids_.get(); }
  const uint32_t* end() const { return ids_.get() + size_; }

 private:
  std::unique_ptr<uint32_t[]> ids_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct Matcher::Impl {
  struct Pattern {
    PatternKind kind = PatternKind::kLiteral;
    uint32_t confirm = NONE;  // kRegex: global index of a predicate that decides it exactly
    uint32_t weight = 0;      // literal bytes it needs: a rough inverse of how often it fires
    // Not scanned: no gated rule needs it as a trigger, so it is decided only when a rule being
    // evaluated reads it (Predicate::Test of `decider`, once per event).
    bool lazy = false;
    uint32_t decider = NONE;  // global index of a predicate with this pattern
    uint32_t index = NONE;    // the field index it belongs to
    // A lazy `*literal*` with an ASCII literal: the literal, in lazy_literals, so that deciding
    // it on ASCII values reads neither the predicate nor its glob (both cold by then).
    uint32_t contains = NONE;
    uint16_t contains_length = 0;
    bool contains_cased = false;
  };
  // Everything that decides the patterns of one field (or of the keywords).
  struct FieldIndex {
    event::FieldId field = event::NO_FIELD;  // NO_FIELD: keywords
    ExactIndex exact;
    LiteralTrie prefixes{LiteralTrie::Direction::kForward};
    LiteralTrie suffixes{LiteralTrie::Direction::kBackward};
    InfixIndex infixes;  // fields of hash indicators only
    ContainsIndex contains;
    uint32_t folded_db = NONE;  // index into databases
    uint32_t raw_db = NONE;
    bool has_literals = false;
    // Numeric equality (`EventID: 4688`): the rule's number -> pattern, sorted; the event value
    // is parsed once, exactly as the predicate parses it.
    std::vector<std::pair<double, uint32_t>> numbers;
    std::vector<uint32_t> regex_patterns;  // kRegex patterns in raw_db
  };

  const RuleSet* rules = nullptr;
  UnrecognisedPolicy policy = UnrecognisedPolicy::kAllRules;
  std::string cache_dir;  // also for the keyword prefilters compiled when first needed

  // Global predicate index = rule_base[rule] + index in rule.predicates.
  std::vector<uint32_t> rule_base;
  std::vector<const Predicate*> predicates;
  std::vector<uint32_t> predicate_pattern;  // pattern id or NONE (direct)

  std::vector<Pattern> patterns;
  std::vector<FieldIndex> indexes;
  std::vector<HsDatabase> databases;
  // Pattern -> the gated rules it triggers (CSR). Chosen first by the literals' lengths, then
  // again from how often the patterns fired on the events seen (Adapt): a rule that needs
  // `\\svchost.exe` as parent AND one of a few rare images is better triggered by the images,
  // though the parent's literal is the longer. Every choice is sound: what a rule is gated on
  // changes how often it is evaluated, never what it matches.
  struct Triggers {
    std::vector<uint32_t> begin;  // per pattern, and one past the last
    std::vector<uint32_t> rules;
    uint64_t generation = 0;  // 0: chosen by the literals; then one more per adaptation
  };
  mutable std::mutex triggers_mutex;
  mutable std::shared_ptr<const Triggers> triggers;  // the latest choice, under the mutex

  std::vector<bool> gated;                          // per rule
  std::vector<std::vector<uint32_t>> rule_indexes;  // per rule: field indexes it reads

  HsScratch prototype_scratch;
  std::unique_ptr<RouteTable> routes;
  // Keyword prefilters by the keyword rules they cover: the classes of one product mostly share
  // them (every Windows class meets the same Windows keyword rules). Null: not coverable.
  // Written only by BuildRoute, which RouteTable calls under its mutex.
  mutable std::map<std::vector<uint32_t>, std::shared_ptr<const LazyKeywordPrefilter>> keyword_prefilters;
  MatcherStats stats;

  // Every rule's condition as one stretch of a shared program: each node followed by its
  // children (preorder), with the size of its subtree so a short-circuit can step over it.
  // Evaluating walks one array instead of the rule's nested vectors (condition, selections,
  // maps, items, groups), and a leaf names its pattern directly.
  struct Op {
    // kAnyOf and kAllOf are an OR and an AND whose children are all leaves: evaluated in one
    // loop rather than a call of Run for each child (value lists of dozens of patterns are
    // common: `CommandLine|contains` with thirty flags).
    enum class Kind : uint8_t {
      kAnd, kOr, kNot, kTrue, kFalse, kFired, kLazy, kDirect, kAnyOf, kAllOf
    };
    Kind kind = Kind::kFalse;
    uint32_t arg = 0;   // kAnd/kOr/kAnyOf/kAllOf: children; kFired/kLazy: pattern; kDirect:
                        // global predicate
    uint32_t size = 1;  // ops in the subtree, this one included
  };
  std::vector<Op> program;
  std::vector<uint32_t> rule_program;  // per rule: where its condition starts

  Route BuildRoute(const event::LogsourceClass& cls) const;
  void CompileConditions();
  void EmitCondition(const Rule& rule, uint32_t base, const Condition& condition);
  void EmitSelection(uint32_t base, const Selection& selection);
  void EmitItem(uint32_t base, const Item& item);
  // Appends an op (`arg`: its children, pattern or predicate) and returns where it is.
  size_t OpenOp(Op::Kind kind, uint32_t arg);
  void CloseOp(size_t at) { program[at].size = static_cast<uint32_t>(program.size() - at); }
  bool Run(const Op* op, const event::Event& event, Matcher::Scratch& s) const;
  // Clears what the scratch found on the event Match saw last (kept for AppendMatchedFields).
  static void ForgetEvent(Matcher::Scratch& s);
  // A leaf (kTrue, kFalse, kFired, kLazy, kDirect), inlined into Run's loops.
  bool RunLeaf(const Op* op, const event::Event& event, Matcher::Scratch& s) const;
  // Predicate::Test of lazy `pattern`'s decider, or what it gave before for the same value.
  bool DecideLazy(uint32_t pattern, const event::Event& event, Matcher::Scratch& s) const;
  // Predicate::Test of the lazy pattern's decider, by its literal where it has one.
  bool TestLazy(uint32_t pattern, const event::Event& event) const;
  std::string lazy_literals;  // Pattern::contains
  // `fires`: how often each pattern fired on the events seen so far (null: none seen).
  GateResult Gate(const Rule& rule, uint32_t base, const Condition& condition, bool positive,
                  const std::vector<uint32_t>* fires) const;
  // Patterns that may serve as triggers in Gate(): those that will be scanned.
  std::vector<bool> scannable;

  // `current` with the triggers chosen again from `fires` (over `events` events) for the rules
  // whose triggers fired often; the others keep theirs.
  [[nodiscard]] std::shared_ptr<const Triggers> ChooseTriggers(const Triggers& current,
                                                               const std::vector<uint32_t>& fires,
                                                               uint64_t events) const;
  // Called by Match every so many events: chooses the triggers again from what fired on this
  // scratch's events, or adopts a newer choice another scratch made.
  void Adapt(Matcher::Scratch& s) const;
  const KeywordPrefilter* PrefilterFor(const event::Event& event, Matcher::Scratch& s,
                                       bool* none) const;
};

class Matcher::Scratch {
 public:
  const Impl* impl = nullptr;  // read by the Hyperscan callback
  HsScratch hs;
  std::vector<uint64_t> fired;        // per pattern
  std::vector<uint64_t> unconfirmed;  // per pattern: a fired regex not yet confirmed
  IdList fired_list;                  // what to clear after the event
  std::vector<uint64_t> touched;      // per rule: gated rules to evaluate
  IdList touched_list;
  std::vector<uint64_t> decided;      // per pattern: a lazy pattern decided for this event
  IdList decided_list;
  std::string folded;    // the folded value being looked up
  std::string keywords;  // every folded value, separated
  std::string keyword_values;  // every value as it is, for KeywordsMayMatchValues
  RouteCache routes;
  // The triggers this scratch goes by, what fired since they were chosen (per pattern, older
  // events halved at each adaptation), and when to choose again.
  std::shared_ptr<const Impl::Triggers> triggers;
  std::vector<uint32_t> fire_counts;
  uint64_t counted_events = 0;  // the events fire_counts stand for (halved with them)
  uint64_t events = 0;
  uint64_t rules_evaluated = 0;
  uint64_t lazy_remembered = 0;
  uint64_t next_adaptation = FIRST_ADAPTATION;
  // The first choice from observation comes early, later ones follow a stream that changes.
  static constexpr uint64_t FIRST_ADAPTATION = 4096;
  static constexpr uint64_t ADAPTATION_INTERVAL = uint64_t{1} << 17;
  // When another scratch is choosing (about 1.5 ms with every SigmaHQ rule), this one matches
  // on with the triggers it has and tries again this many events later: threads of one scan
  // reach their first adaptation together, and one waiting for the other lost that time.
  static constexpr uint64_t ADAPTATION_RETRY = 512;
  // Keyword prefilters `hs` has been grown for (one per route with keyword rules: few).
  std::vector<const KeywordPrefilter*> reserved_prefilters;

  // Values repeat (the same images, companies, hashes on event after event): what a field
  // index fired for a value is remembered, keyed by the index, the value's type and its raw
  // text, and replayed without folding or scanning. Direct-mapped; only values of up to
  // MAX_CACHED_TEXT bytes, and only when they fire at most MAX_PATTERNS patterns. An entry is
  // four cache lines: the first holds the key and the text's first HEAD bytes, which is all a
  // lookup of most values reads (five in six are shorter than 32 bytes); the second the first
  // patterns; the others the rest and the lazy decisions. The rest of a longer text (command
  // lines, hashes) lies in the slot's own stretch of `value_tails`. With the text in a
  // std::string, every lookup took a second miss to the string's block. With room for eight
  // patterns, the commonest images of the benchmark corpus (msedge.exe fires nine) were never
  // remembered: four in five of the Image values computed afresh, a fifth of its command lines.
  // With room for six lazy decisions, a process creation's image decided the rest of the
  // twenty-odd image filters of "Execution of Suspicious File Type Extension" afresh each time.
  struct alignas(64) CachedValue {
    static constexpr size_t MAX_PATTERNS = 24;
    static constexpr size_t HEAD = 48;
    uint64_t hash = 0;
    uint32_t index = NONE;
    uint16_t length = 0;
    event::ValueType type = event::ValueType::kString;
    uint8_t count = 0;
    char head[HEAD];
    uint32_t unconfirmed = 0;  // bit k: patterns[k] fired unconfirmed
    uint32_t patterns[MAX_PATTERNS];
    // Lazy patterns of the field decided on this value when it was the field's only value:
    // the pattern, and in the top bit whether it held.
    static constexpr size_t MAX_LAZY = 22;
    static constexpr uint32_t LAZY_HELD = uint32_t{1} << 31;
    uint8_t lazy_count = 0;
    uint32_t lazy[MAX_LAZY];

    // `tail`: the slot's stretch of value_tails.
    [[nodiscard]] bool Holds(uint32_t i, uint64_t value_hash, const event::FieldValue& value,
                             const char* tail) const {
      if (index != i || hash != value_hash || type != value.type || length != value.text.size())
        return false;
      const size_t in_head = std::min<size_t>(length, HEAD);
      return SameShortBytes(head, value.text.data(), in_head) &&
             (length <= HEAD || std::memcmp(tail, value.text.data() + HEAD, length - HEAD) == 0);
    }
    void Store(const event::FieldValue& value, char* tail) {
      lazy_count = 0;
      length = static_cast<uint16_t>(value.text.size());
      type = value.type;
      const size_t in_head = std::min<size_t>(length, HEAD);
      if (in_head != 0) std::memcpy(head, value.text.data(), in_head);
      if (length > HEAD) std::memcpy(tail, value.text.data() + HEAD, length - HEAD);
    }
  };
  static_assert(sizeof(CachedValue) == 256);
  static_assert(CachedValue::MAX_PATTERNS <= 32);  // bits of `unconfirmed`
  static_assert(offsetof(CachedValue, head) + CachedValue::HEAD == 64);
  static_assert(CachedValue::HEAD <= MAX_SHORT_COMPARE);
  static constexpr size_t VALUE_CACHE_SLOTS = 8192;
  static constexpr size_t MAX_CACHED_TEXT = 256;
  static constexpr size_t TAIL_BYTES = MAX_CACHED_TEXT - CachedValue::HEAD;
  // The slots, then VALUE_CACHE_SLOTS stretches of TAIL_BYTES, in one buffer of 2 MiB pages
  // (core/large_buffer.hpp): 2.7 MB in 4 KiB pages took about 1,050 page faults as a scan
  // went on (the tails as long values came, all the slots when a worker's scratch was made),
  // about 12 ms of a two-thread scan of the benchmark corpus on a virtual machine.
  static constexpr size_t VALUE_CACHE_BYTES = VALUE_CACHE_SLOTS * sizeof(CachedValue);
  static constexpr size_t VALUE_MEMORY_BYTES = VALUE_CACHE_BYTES + VALUE_CACHE_SLOTS * TAIL_BYTES;
  LargeBuffer value_memory;
  CachedValue* value_cache = nullptr;  // VALUE_CACHE_SLOTS, at the start of value_memory
  char* value_tails = nullptr;         // after them
  void AllocateValueCache() {
    static_assert(std::is_trivially_destructible_v<CachedValue>);
    value_memory = MakeLargeBuffer(VALUE_MEMORY_BYTES);
    value_cache = reinterpret_cast<CachedValue*>(value_memory.get());
    for (size_t slot = 0; slot < VALUE_CACHE_SLOTS; ++slot) new (value_cache + slot) CachedValue();
    value_tails = value_memory.get() + VALUE_CACHE_BYTES;
  }
  [[nodiscard]] char* TailOf(const CachedValue* entry) {
    return value_tails + static_cast<size_t>(entry - value_cache) * TAIL_BYTES;
  }
  // Some fields hardly repeat (command lines, process GUIDs, timestamps): hashing and storing
  // their values is wasted. Per field index, the cache is left out when fewer than one lookup
  // in CACHE_MIN_HIT_SHARE hit over a trial of CACHE_TRIAL lookups, and tried again after
  // CACHE_PAUSE values (the stream may change).
  struct CacheUse {
    uint32_t lookups = 0;
    uint32_t hits = 0;
    uint32_t paused = 0;  // values left to skip
  };
  static constexpr uint32_t CACHE_TRIAL = 1024;
  static constexpr uint32_t CACHE_MIN_HIT_SHARE = 4;
  static constexpr uint32_t CACHE_PAUSE = 1u << 16;
  std::vector<CacheUse> cache_use;  // per field index
  // Per field index, the remembered entry of the field's value in this event, when the field
  // has that one value (entry null otherwise): lazy patterns of the field decided during the
  // event are remembered with the value (CachedValue::lazy). The entry may be taken by another
  // field's value later in the event, so it is checked again before use: by its index and hash
  // alone, since no other value of the same index comes in the event (the field has one).
  struct LookedUp {
    CachedValue* entry = nullptr;
    uint64_t hash = 0;
  };
  std::vector<LookedUp> looked_up;
  IdList looked_up_list;
  // Per place in the route's field_indexes, for one event: the hash of the field's first value
  // when it was computed ahead (NO_HASH otherwise), so that every remembered entry the event
  // needs is fetched at once before the first is read. Looked up one after the other, each
  // waited for its own cache miss (the cache is larger than the second-level cache).
  static constexpr uint64_t NO_HASH = 0;
  std::vector<uint64_t> early_hashes;

  [[gnu::always_inline]] void Fire(uint32_t pattern) {
    if (TestBit(fired, pattern)) return;
    SetBit(fired, pattern);
    fired_list.push_back(pattern);
  }
  // A regex that may hold: confirmed (with Predicate::Test) only if a rule needs it.
  [[gnu::always_inline]] void FireUnconfirmed(uint32_t pattern) {
    if (TestBit(fired, pattern)) return;
    SetBit(fired, pattern);
    SetBit(unconfirmed, pattern);
    fired_list.push_back(pattern);
  }
};

void Matcher::ScratchDeleter::operator()(Scratch* scratch) const { delete scratch; }

namespace {

// The two halves of the 128-bit product of `a` and `b`, folded: every bit of both inputs
// reaches every bit of the result.
[[gnu::always_inline]] inline uint64_t MultiplyFold(uint64_t a, uint64_t b) {
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

[[gnu::always_inline]] inline uint64_t Load64(const char* at) {
  uint64_t word;
  std::memcpy(&word, at, sizeof word);
  return word;
}

// The key of a value in the value cache: its text, hashed with its field index and type.
// Never NO_HASH. The text is read in words (two overlapping ones up to 16 bytes, most values),
// each pair folded by one multiplication; XXH3 took about 48 instructions a value, a call
// included. Only the cache's slot depends on it: a remembered value is compared in full, so a
// poor spread of some values costs misses, never a wrong answer. Reads stay within the text.
uint64_t CacheHash(const event::FieldValue& value, uint32_t index) {
  constexpr uint64_t K0 = 0xa0761d6478bd642fULL, K1 = 0xe7037ed1a0b428dbULL,
                     K2 = 0x8ebc6af09c88c6e3ULL;
  const char* text = value.text.data();
  const size_t size = value.text.size();
  const uint64_t seed = ((uint64_t{index} << 8) | static_cast<uint64_t>(value.type)) ^ K0;
  uint64_t a = 0, b = 0, state = seed;
  if (size > 16) {
    size_t at = 0;
    for (; at + 16 < size; at += 16)
      state = MultiplyFold(Load64(text + at) ^ K1, Load64(text + at + 8) ^ state);
    a = Load64(text + size - 16);
    b = Load64(text + size - 8);
  } else if (size >= 8) {
    a = Load64(text);
    b = Load64(text + size - 8);
  } else if (size >= 4) {
    uint32_t first, last;
    std::memcpy(&first, text, sizeof first);
    std::memcpy(&last, text + size - 4, sizeof last);
    a = first;
    b = last;
  } else if (size > 0) {
    a = (uint64_t{static_cast<uint8_t>(text[0])} << 16) |
        (uint64_t{static_cast<uint8_t>(text[size / 2])} << 8) |
        static_cast<uint8_t>(text[size - 1]);
  }
  const uint64_t hash = MultiplyFold(a ^ K1 ^ state, b ^ K2 ^ (uint64_t{size} << 32) ^ seed);
  return hash != Matcher::Scratch::NO_HASH ? hash : 1;
}

int OnMatch(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/,
            unsigned int /*flags*/, void* context) {
  auto& s = *static_cast<Matcher::Scratch*>(context);
  if (s.impl->patterns[id].kind == PatternKind::kRegex) {
    s.FireUnconfirmed(id);
  } else {
    s.Fire(id);
  }
  return 0;
}

}  // namespace

// ---- evaluation ----

size_t Matcher::Impl::OpenOp(Op::Kind kind, uint32_t arg) {
  program.push_back({kind, arg, 1});
  return program.size() - 1;
}

void Matcher::Impl::CompileConditions() {
  program.clear();
  rule_program.assign(rules->rules.size(), 0);
  for (uint32_t r = 0; r < rules->rules.size(); ++r) {
    rule_program[r] = static_cast<uint32_t>(program.size());
    EmitCondition(rules->rules[r], rule_base[r], rules->rules[r].condition);
  }
  for (Op& op : program) {
    if (op.size != op.arg + 1) continue;  // not every child is a single op
    if (op.kind == Op::Kind::kOr) op.kind = Op::Kind::kAnyOf;
    if (op.kind == Op::Kind::kAnd) op.kind = Op::Kind::kAllOf;
  }
}

void Matcher::Impl::EmitCondition(const Rule& rule, uint32_t base, const Condition& condition) {
  switch (condition.kind) {
    case Condition::Kind::kTrue:
      OpenOp(Op::Kind::kTrue, 0);
      return;
    case Condition::Kind::kFalse:
      OpenOp(Op::Kind::kFalse, 0);
      return;
    case Condition::Kind::kNot: {
      const size_t at = OpenOp(Op::Kind::kNot, 1);
      EmitCondition(rule, base, condition.children.front());
      CloseOp(at);
      return;
    }
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr: {
      if (condition.children.size() == 1) {
        EmitCondition(rule, base, condition.children.front());
        return;
      }
      const size_t at =
          OpenOp(condition.kind == Condition::Kind::kAnd ? Op::Kind::kAnd : Op::Kind::kOr,
                 static_cast<uint32_t>(condition.children.size()));
      for (const Condition& child : condition.children) EmitCondition(rule, base, child);
      CloseOp(at);
      return;
    }
    case Condition::Kind::kSelection:
      EmitSelection(base, rule.selections[condition.selection]);
      return;
  }
}

// A selection is an OR of maps, a map an AND of items (as the plain evaluator: an empty map
// holds, an empty selection does not).
void Matcher::Impl::EmitSelection(uint32_t base, const Selection& selection) {
  const bool one_map = selection.maps.size() == 1;
  const size_t selection_at =
      one_map ? 0 : OpenOp(Op::Kind::kOr, static_cast<uint32_t>(selection.maps.size()));
  for (const auto& map : selection.maps) {
    const bool one_item = map.size() == 1;
    const size_t map_at = one_item ? 0 : OpenOp(Op::Kind::kAnd, static_cast<uint32_t>(map.size()));
    for (const Item& item : map) EmitItem(base, item);
    if (!one_item) CloseOp(map_at);
  }
  if (!one_map) CloseOp(selection_at);
}

// An item is an OR (with |all, an AND) of groups, each an OR of predicates; |all over no group
// is false, as in the plain evaluator; |neq negates the whole.
void Matcher::Impl::EmitItem(uint32_t base, const Item& item) {
  const size_t not_at = item.negate ? OpenOp(Op::Kind::kNot, 1) : 0;
  auto emit_leaf = [&](uint32_t local) {
    const uint32_t g = base + local;
    const uint32_t pattern = predicate_pattern[g];
    if (pattern == NONE) {
      OpenOp(Op::Kind::kDirect, g);
    } else {
      OpenOp(patterns[pattern].lazy ? Op::Kind::kLazy : Op::Kind::kFired, pattern);
    }
  };
  if (item.match_all && item.groups.empty()) {
    OpenOp(Op::Kind::kFalse, 0);
  } else {
    const bool one_group = item.groups.size() == 1;
    const size_t item_at =
        one_group ? 0
                  : OpenOp(item.match_all ? Op::Kind::kAnd : Op::Kind::kOr,
                           static_cast<uint32_t>(item.groups.size()));
    for (const auto& group : item.groups) {
      const bool one = group.size() == 1;
      const size_t group_at = one ? 0 : OpenOp(Op::Kind::kOr, static_cast<uint32_t>(group.size()));
      for (uint32_t local : group) emit_leaf(local);
      if (!one) CloseOp(group_at);
    }
    if (!one_group) CloseOp(item_at);
  }
  if (item.negate) CloseOp(not_at);
}

[[gnu::always_inline]] inline bool Matcher::Impl::RunLeaf(const Op* op,
                                                          const event::Event& event,
                                                          Matcher::Scratch& s) const {
  switch (op->kind) {
    case Op::Kind::kFired: {
      const uint32_t pattern = op->arg;
      if (!TestBit(s.fired, pattern)) return false;
      if (TestBit(s.unconfirmed, pattern)) {
        // Decided once per event, for every rule that reads it.
        ClearBit(s.unconfirmed, pattern);
        if (!predicates[patterns[pattern].confirm]->Test(event)) ClearBit(s.fired, pattern);
      }
      return TestBit(s.fired, pattern);
    }
    case Op::Kind::kLazy: {
      const uint32_t pattern = op->arg;
      // Decided once per event, for every rule that reads it.
      if (!TestBit(s.decided, pattern)) {
        SetBit(s.decided, pattern);
        s.decided_list.push_back(pattern);
        if (DecideLazy(pattern, event, s)) SetBit(s.fired, pattern);
      }
      return TestBit(s.fired, pattern);
    }
    case Op::Kind::kDirect:
      return predicates[op->arg]->Test(event);
    case Op::Kind::kTrue:
      return true;
    default:
      return false;
  }
}

bool Matcher::Impl::Run(const Op* op, const event::Event& event, Matcher::Scratch& s) const {
  switch (op->kind) {
    case Op::Kind::kAnyOf: {
      for (const Op *leaf = op + 1, *end = leaf + op->arg; leaf != end; ++leaf)
        if (RunLeaf(leaf, event, s)) return true;
      return false;
    }
    case Op::Kind::kAllOf: {
      for (const Op *leaf = op + 1, *end = leaf + op->arg; leaf != end; ++leaf)
        if (!RunLeaf(leaf, event, s)) return false;
      return true;
    }
    case Op::Kind::kAnd: {
      const Op* child = op + 1;
      for (uint32_t i = 0; i < op->arg; ++i, child += child->size)
        if (!Run(child, event, s)) return false;
      return true;
    }
    case Op::Kind::kOr: {
      const Op* child = op + 1;
      for (uint32_t i = 0; i < op->arg; ++i, child += child->size)
        if (Run(child, event, s)) return true;
      return false;
    }
    case Op::Kind::kNot:
      return !Run(op + 1, event, s);
    default:
      return RunLeaf(op, event, s);
  }
}

bool Matcher::Impl::TestLazy(uint32_t pattern, const event::Event& event) const {
  const Pattern& p = patterns[pattern];
  if (p.contains == NONE) return predicates[p.decider]->Test(event);
  // GlobMatch's `*literal*` with an ASCII literal, value by value: on ASCII text a search of
  // the literal; a value that is not ASCII is left to the predicate, for the whole event.
  const std::string_view literal(lazy_literals.data() + p.contains, p.contains_length);
  for (const event::FieldValue& value : event.Values(indexes[p.index].field)) {
    if (value.type == event::ValueType::kNull) continue;  // no string (predicate.cpp)
    if (!IsAscii(value.text)) return predicates[p.decider]->Test(event);
    if (ContainsAscii(value.text, literal, p.contains_cased)) return true;
  }
  return false;
}

// A lazy pattern of a field with one value is a function of that value (its index, type and
// text): what its decider gave is kept with the value's remembered entry and read back when
// the value comes again, as images, parents and loaded modules do.
bool Matcher::Impl::DecideLazy(uint32_t pattern, const event::Event& event,
                               Matcher::Scratch& s) const {
  const uint32_t i = patterns[pattern].index;
  const Scratch::LookedUp* looked_up = i < s.looked_up.size() ? &s.looked_up[i] : nullptr;
  Scratch::CachedValue* entry = looked_up != nullptr ? looked_up->entry : nullptr;
  if (entry == nullptr || entry->index != i || entry->hash != looked_up->hash)
    return TestLazy(pattern, event);
  for (uint8_t k = 0; k < entry->lazy_count; ++k) {
    if ((entry->lazy[k] & ~Scratch::CachedValue::LAZY_HELD) == pattern) {
      ++s.lazy_remembered;
      return (entry->lazy[k] & Scratch::CachedValue::LAZY_HELD) != 0;
    }
  }
  const bool held = TestLazy(pattern, event);
  if (entry->lazy_count < Scratch::CachedValue::MAX_LAZY)
    entry->lazy[entry->lazy_count++] = pattern | (held ? Scratch::CachedValue::LAZY_HELD : 0);
  return held;
}

GateResult Matcher::Impl::Gate(const Rule& rule, uint32_t base, const Condition& condition,
                               bool positive, const std::vector<uint32_t>* fires) const {
  std::vector<GateResult> parts;
  switch (condition.kind) {
    case Condition::Kind::kTrue: return GateConstant(Tri::kTrue);
    case Condition::Kind::kFalse: return GateConstant(Tri::kFalse);
    case Condition::Kind::kNot: return GateNot(Gate(rule, base, condition.children.front(), !positive, fires));
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr:
      for (const Condition& child : condition.children) parts.push_back(Gate(rule, base, child, positive, fires));
      return condition.kind == Condition::Kind::kAnd ? GateAnd(parts) : GateOr(parts);
    case Condition::Kind::kSelection: break;
  }
  // Pattern predicates in positive position are false unless they fire; in negative position,
  // and direct predicates, are unknown.
  const Selection& selection = rule.selections[condition.selection];
  std::vector<GateResult> maps;
  for (const auto& map : selection.maps) {
    std::vector<GateResult> items;
    for (const Item& item : map) {
      const bool item_positive = positive != item.negate;
      std::vector<GateResult> groups;
      for (const auto& group : item.groups) {
        std::vector<GateResult> alternatives;
        for (uint32_t local : group) {
          uint32_t pattern = predicate_pattern[base + local];
          if (pattern != NONE && item_positive && scannable[pattern]) {
            GateResult r;
            r.value = Tri::kFalse;
            r.triggers.push_back(pattern);
            r.weight = patterns[pattern].weight;
            if (fires != nullptr) r.fires = (*fires)[pattern];
            alternatives.push_back(std::move(r));
          } else {
            alternatives.push_back(GateConstant(Tri::kUnknown));
          }
        }
        groups.push_back(GateOr(alternatives));
      }
      // As the evaluator: |all over no group is false.
      GateResult value = item.match_all && !groups.empty() ? GateAnd(groups) : GateOr(groups);
      items.push_back(item.negate ? GateNot(std::move(value)) : std::move(value));
    }
    maps.push_back(GateAnd(items));
  }
  return GateOr(maps);
}

Route Matcher::Impl::BuildRoute(const event::LogsourceClass& cls) const {
  Route route;
  const size_t rule_count = rules->rules.size();
  route.candidates.assign((rule_count + 63) / 64, 0);
  std::vector<bool> wanted(indexes.size(), false);
  for (uint32_t r = 0; r < rule_count; ++r) {
    if (!RuleApplies(rules->rules[r], cls, policy)) continue;
    route.any_candidate = true;
    SetBit(route.candidates, r);
    if (!gated[r]) route.always.push_back(r);
    for (uint32_t i : rule_indexes[r]) wanted[i] = true;
  }
  for (uint32_t i = 0; i < indexes.size(); ++i) {
    if (!wanted[i]) continue;
    route.field_indexes.push_back(i);
    route.index_fields.push_back(indexes[i].field);
  }
  // The keyword rules of this class get a prefilter of their own (keyword_prefilter.hpp),
  // compiled (or loaded from the cache folder) when first needed.
  std::vector<uint32_t> keyword_rules;
  auto has_keywords = [](const Rule& rule) {
    return std::any_of(rule.predicates.begin(), rule.predicates.end(),
                       [](const Predicate& p) { return p.field == event::NO_FIELD; });
  };
  for (uint32_t r = 0; r < rule_count; ++r)
    if (route.IsCandidate(r) && has_keywords(rules->rules[r])) keyword_rules.push_back(r);
  if (!keyword_rules.empty()) {
    route.keyword_rules = true;
    auto [it, inserted] = keyword_prefilters.try_emplace(keyword_rules);
    if (inserted) {
      it->second = std::make_shared<const LazyKeywordPrefilter>(
          [rule_set = rules, keyword_rules, cache = cache_dir]()
              -> std::shared_ptr<const KeywordPrefilter> {
            auto prefilter = KeywordPrefilter::Build(*rule_set, keyword_rules, cache);
            if (prefilter && *prefilter) return std::move(*prefilter);
            return nullptr;
          });
    }
    route.keyword_prefilter = it->second;
  }
  return route;
}

// ---- build ----

namespace {

// Pattern -> rules lists as a CSR table.
void FillTriggers(const std::vector<std::vector<uint32_t>>& rules_of_pattern,
                  std::vector<uint32_t>& begin, std::vector<uint32_t>& rules) {
  begin.clear();
  rules.clear();
  begin.reserve(rules_of_pattern.size() + 1);
  for (const auto& list : rules_of_pattern) {
    begin.push_back(static_cast<uint32_t>(rules.size()));
    rules.insert(rules.end(), list.begin(), list.end());
  }
  begin.push_back(static_cast<uint32_t>(rules.size()));
}

void SortUnique(std::vector<uint32_t>& list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
}

}  // namespace

Matcher::Matcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Matcher::~Matcher() = default;

Result<std::unique_ptr<Matcher>> Matcher::Build(const RuleSet& rules,
                                                const event::FieldCatalog& catalog,
                                                const MatcherOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  auto impl = std::make_unique<Impl>();
  impl->rules = &rules;
  impl->policy = options.unrecognised;
  impl->cache_dir = options.cache_dir;

  // 1. Classify every predicate; deduplicate patterns per field.
  enum class Shape : uint8_t {
    kExact, kPrefix, kSuffix, kInfix, kContains, kCandidate, kHsFolded, kHsRaw, kHsRegex,
    kNumberEq
  };
  struct PatternKey {
    uint32_t index;
    Shape shape;
    unsigned flags;
    std::string text;
    bool operator<(const PatternKey& o) const {
      return std::tie(index, shape, flags, text) < std::tie(o.index, o.shape, o.flags, o.text);
    }
  };
  struct PendingDb {
    uint32_t index;
    bool folded;
    std::vector<HsPattern> patterns;
  };
  // Keyword patterns are kept apart per rule logsource: an event scans only the keyword
  // databases of the rules routed to it (few), not every keyword of every product. Field
  // patterns are kept apart per rule product, likewise: Linux and macOS rules read
  // `CommandLine` and `Image` too, and a Windows event scanned their regexes (the two of
  // "Potential Container Discovery Via Inodes Listing" cost more than the 34 of Windows
  // rules on that field) and looked up their literals.
  std::map<std::pair<event::FieldId, uint32_t>, uint32_t> index_of_field;  // (field, group)
  std::map<std::tuple<std::string, std::string, std::string>, uint32_t> keyword_groups;
  std::map<std::string, uint32_t> product_groups;
  std::map<PatternKey, uint32_t> pattern_ids;
  std::vector<PendingDb> pending;
  std::vector<std::pair<uint32_t, uint32_t>> db_of_index;  // (folded, raw) pending positions
  std::vector<std::vector<std::tuple<Shape, std::string, uint32_t>>> literals;  // per index
  // A pattern scanned only if it is some rule's trigger (1b): one for Hyperscan, or one for the
  // contains index (`contains`; its folded literal is hs.expression), where it may be a glob
  // keyed by a literal it needs (`candidate`).
  struct PendingPattern {
    uint32_t pattern;
    uint32_t index;
    bool folded;
    bool contains;
    bool candidate;
    HsPattern hs;
  };
  std::vector<PendingPattern> pending_patterns;

  // No HS_FLAG_SINGLEMATCH: Vectorscan 5.4.9 (Debian 12) misses single-byte literals compiled
  // with it on buffers of about 80 bytes and more (a keyword `*i*` against a long value found
  // nothing; the same database without the flag finds it). The fired bitset already reports
  // each pattern once, so the flag only saved callbacks.
  const unsigned hs_flags = HS_FLAG_ALLOWEMPTY;

  // Fields whose `*literal*` values are mostly hash indicators get an InfixIndex for their long
  // contains-literals instead of Hyperscan (literal_index.hpp says why).
  auto infix_literal = [](const Predicate& predicate) -> const std::string* {
    const auto& glob = predicate.glob;
    if (predicate.kind != PredicateKind::kString || predicate.cased ||
        predicate.field == event::NO_FIELD || glob.size() != 3 ||
        glob[0].kind != GlobToken::Kind::kStar || glob[1].kind != GlobToken::Kind::kLiteral ||
        glob[2].kind != GlobToken::Kind::kStar || !AllFoldable(glob) ||
        glob[1].text.size() < InfixIndex::KEY_BYTES)
      return nullptr;
    return &glob[1].text;
  };
  std::set<event::FieldId> infix_fields;
  {
    std::map<event::FieldId, std::pair<size_t, size_t>> counts;  // (long literals, hashes)
    for (const Rule& rule : rules.rules) {
      for (const Predicate& predicate : rule.predicates) {
        const std::string* literal = infix_literal(predicate);
        if (literal == nullptr) continue;
        auto& [total, hashes] = counts[predicate.field];
        ++total;
        size_t run = 0, longest = 0;
        for (char c : *literal) {
          run = std::isxdigit(static_cast<unsigned char>(c)) ? run + 1 : 0;
          longest = std::max(longest, run);
        }
        if (longest >= 16) ++hashes;
      }
    }
    for (const auto& [field, count] : counts)
      if (count.second >= 64 && count.second * 4 >= count.first * 3) infix_fields.insert(field);
  }

  for (uint32_t r = 0; r < rules.rules.size(); ++r) {
    const Rule& rule = rules.rules[r];
    impl->rule_base.push_back(static_cast<uint32_t>(impl->predicates.size()));
    for (const Predicate& predicate : rule.predicates) {
      const auto global = static_cast<uint32_t>(impl->predicates.size());
      impl->predicates.push_back(&predicate);
      impl->predicate_pattern.push_back(NONE);
      const bool keyword = predicate.field == event::NO_FIELD;

      Shape shape;
      std::string text;
      std::string candidate_literal;  // kCandidate: the folded literal it is keyed by
      unsigned flags = hs_flags;
      if (predicate.kind == PredicateKind::kNumber && predicate.op == CompareOp::kEq && !keyword) {
        // Decided by a lookup of the parsed value, so event ids can trigger their rules.
        shape = Shape::kNumberEq;
        double number = predicate.number == 0 ? 0.0 : predicate.number;  // -0 is 0
        text.assign(reinterpret_cast<const char*>(&number), sizeof number);
      } else if (predicate.kind == PredicateKind::kString && !predicate.cased) {
        const auto& glob = predicate.glob;
        if (!AllFoldable(glob)) continue;
        const size_t n = glob.size();
        auto literal_at = [&](size_t i) {
          return i < n && glob[i].kind == GlobToken::Kind::kLiteral;
        };
        auto star_at = [&](size_t i) { return i < n && glob[i].kind == GlobToken::Kind::kStar; };
        shape = Shape::kHsFolded;
        if (!keyword) {
          if (n == 0) {
            shape = Shape::kExact;
          } else if (n == 1 && literal_at(0)) {
            shape = Shape::kExact;
            FoldText(glob[0].text, text);
          } else if (n == 1 && star_at(0)) {
            shape = Shape::kPrefix;  // the empty prefix: any value
          } else if (n == 2 && literal_at(0) && star_at(1)) {
            shape = Shape::kPrefix;
            FoldText(glob[0].text, text);
          } else if (n == 2 && star_at(0) && literal_at(1)) {
            shape = Shape::kSuffix;
            FoldText(glob[1].text, text);
          } else if (n == 3 && star_at(0) && literal_at(1) && star_at(2)) {
            FoldText(glob[1].text, text);
            if (infix_fields.count(predicate.field) != 0 && infix_literal(predicate) != nullptr &&
                text.size() >= InfixIndex::KEY_BYTES) {
              shape = Shape::kInfix;
            } else if (text.size() >= ContainsIndex::MIN_LENGTH &&
                       text.size() <= ContainsIndex::MAX_LENGTH) {
              shape = Shape::kContains;
            }
          } else {
            // Literals between wildcards: a value can match only if it contains the longest.
            const std::string* longest = nullptr;
            for (const GlobToken& token : glob)
              if (token.kind == GlobToken::Kind::kLiteral &&
                  (longest == nullptr || token.text.size() > longest->size()))
                longest = &token.text;
            if (longest != nullptr) {
              FoldText(*longest, candidate_literal);
              if (candidate_literal.size() >= ContainsIndex::MIN_LENGTH &&
                  candidate_literal.size() <= ContainsIndex::MAX_LENGTH)
                shape = Shape::kCandidate;
            }
          }
        }
        if (shape == Shape::kHsFolded || shape == Shape::kCandidate) {
          // For a candidate, the pattern's identity (two globs may share a longest literal).
          text = FoldedGlobRegex(glob, keyword);
          if (!keyword) flags |= HS_FLAG_DOTALL;
        }
      } else if (predicate.kind == PredicateKind::kString) {
        // Cased: raw bytes are exact for valid UTF-8 without `?` (see the file comment).
        bool valid = !HasOne(predicate.glob);
        for (const GlobToken& token : predicate.glob)
          if (token.kind == GlobToken::Kind::kLiteral && !ValidUtf8(token.text)) valid = false;
        if (!valid) continue;
        shape = Shape::kHsRaw;
        text = GlobToRegex(predicate.glob);
        if (text.empty()) text = ".*";
        flags |= HS_FLAG_DOTALL;
      } else if (predicate.kind == PredicateKind::kRegex && predicate.regex) {
        shape = Shape::kHsRegex;
        text = predicate.pattern;
        if (predicate.re_ignore_case) flags |= HS_FLAG_CASELESS;
        if (predicate.re_multiline) flags |= HS_FLAG_MULTILINE;
        if (predicate.re_dotall) flags |= HS_FLAG_DOTALL;
      } else {
        continue;  // direct
      }

      uint32_t group = 0;
      const event::Logsource& ls = rule.info.logsource;
      if (keyword) {
        group = keyword_groups
                    .emplace(std::make_tuple(ls.product, ls.category, ls.service),
                             static_cast<uint32_t>(keyword_groups.size()))
                    .first->second;
      } else {
        group = product_groups.emplace(ls.product, static_cast<uint32_t>(product_groups.size()))
                    .first->second;
      }
      auto [field_it, new_field] = index_of_field.emplace(
          std::make_pair(predicate.field, group), static_cast<uint32_t>(impl->indexes.size()));
      if (new_field) {
        impl->indexes.emplace_back();
        impl->indexes.back().field = predicate.field;
        db_of_index.emplace_back(NONE, NONE);
        literals.emplace_back();
      }
      const uint32_t index = field_it->second;
      auto [it, inserted] = pattern_ids.emplace(PatternKey{index, shape, flags, text},
                                                static_cast<uint32_t>(impl->patterns.size()));
      const uint32_t pattern = it->second;
      impl->predicate_pattern[global] = pattern;
      if (!inserted) continue;

      Impl::Pattern info;
      info.decider = global;
      info.index = index;
      // Regexes rarely say how selective they are; count them as weak triggers. So are numbers
      // (event ids, ports) and exact values of fields that repeat across most events of a
      // class: `Company: 'Microsoft Corporation'` is long but holds on nearly every process
      // start, and a rule triggered by it would be evaluated on all of them.
      const bool low_cardinality =
          shape == Shape::kExact && !keyword && IsLowCardinalityField(catalog.Name(predicate.field));
      info.weight = low_cardinality               ? 1
                    : shape == Shape::kHsRegex     ? 2
                    : shape == Shape::kNumberEq    ? 2
                                                   : static_cast<uint32_t>(LiteralText(predicate.glob).size());
      switch (shape) {
        case Shape::kExact:
        case Shape::kPrefix:
        case Shape::kSuffix:
        case Shape::kInfix:
        case Shape::kNumberEq:
          info.kind = PatternKind::kLiteral;
          literals[index].emplace_back(shape, text, pattern);
          break;
        case Shape::kContains:
          info.kind = PatternKind::kLiteral;
          pending_patterns.push_back(
              {pattern, index, true, true, false, HsPattern{text, 0, pattern}});
          break;
        case Shape::kCandidate:
          info.kind = PatternKind::kCandidate;
          info.confirm = global;
          pending_patterns.push_back(
              {pattern, index, true, true, true, HsPattern{candidate_literal, 0, pattern}});
          break;
        case Shape::kHsFolded:
        case Shape::kHsRaw:
        case Shape::kHsRegex: {
          info.kind = shape == Shape::kHsFolded ? PatternKind::kFolded
                      : shape == Shape::kHsRaw  ? PatternKind::kRaw
                                                : PatternKind::kRegex;
          if (shape == Shape::kHsRegex) info.confirm = global;
          pending_patterns.push_back({pattern, index, shape == Shape::kHsFolded, false, false,
                                 HsPattern{text, flags, pattern}});
          break;
        }
      }
      impl->patterns.push_back(info);
    }
  }

  // 1b. Only triggers are scanned. A first gating pass, with every pattern allowed as a
  //     trigger, picks each gated rule's triggers; Hyperscan patterns and contains literals
  //     that are no rule's trigger become lazy: decided by Predicate::Test when an evaluated
  //     rule reads them. The databases and contains indexes then hold a fraction of the
  //     patterns (a rule that needs `Image` ending in `\\powershell.exe` AND a command line with
  //     one of twenty flags is triggered by the image lookup; its flags are tested only on
  //     PowerShell events).
  impl->scannable.assign(impl->patterns.size(), true);
  {
    std::vector<bool> trigger(impl->patterns.size(), false);
    for (uint32_t r = 0; r < rules.rules.size(); ++r) {
      const Rule& rule = rules.rules[r];
      GateResult gate = impl->Gate(rule, impl->rule_base[r], rule.condition, true, nullptr);
      if (gate.value != Tri::kFalse) continue;
      for (uint32_t pattern : gate.triggers) trigger[pattern] = true;
      for (uint32_t pattern : gate.alternatives) trigger[pattern] = true;
    }
    for (PendingPattern& p : pending_patterns) {
      if (!trigger[p.pattern]) {
        Impl::Pattern& lazy = impl->patterns[p.pattern];
        lazy.lazy = true;
        impl->scannable[p.pattern] = false;
        const Predicate& decider = *impl->predicates[lazy.decider];
        const std::vector<GlobToken>& glob = decider.glob;
        if (decider.kind == PredicateKind::kString && decider.field != event::NO_FIELD &&
            decider.field == impl->indexes[lazy.index].field && IsAsciiInfix(glob) &&
            !glob[1].text.empty() && glob[1].text.size() <= UINT16_MAX) {
          lazy.contains = static_cast<uint32_t>(impl->lazy_literals.size());
          lazy.contains_length = static_cast<uint16_t>(glob[1].text.size());
          lazy.contains_cased = decider.cased;
          impl->lazy_literals += glob[1].text;
        }
        continue;
      }
      if (p.contains) {
        literals[p.index].emplace_back(p.candidate ? Shape::kCandidate : Shape::kContains,
                                       std::move(p.hs.expression), p.pattern);
        continue;
      }
      uint32_t& slot = p.folded ? db_of_index[p.index].first : db_of_index[p.index].second;
      if (slot == NONE) {
        slot = static_cast<uint32_t>(pending.size());
        pending.push_back(PendingDb{p.index, p.folded, {}});
      }
      pending[slot].patterns.push_back(std::move(p.hs));
    }
    pending_patterns = {};
  }

  // 2. The cache key covers everything the databases are made of.
  HsCacheDigest hasher;
  hasher.Add(&MATCHER_FORMAT, sizeof MATCHER_FORMAT);
  hasher.AddString(rules.content_hash);
  hasher.AddString(HsBuildTag());
  for (const PendingDb& db : pending) {
    event::FieldId field = impl->indexes[db.index].field;
    hasher.AddString(field == event::NO_FIELD ? std::string_view("\x01keywords")
                                              : catalog.Name(field));
    hasher.Add(&db.folded, sizeof db.folded);
    for (const HsPattern& p : db.patterns) {
      hasher.Add(&p.flags, sizeof p.flags);
      hasher.Add(&p.id, sizeof p.id);
      hasher.AddString(p.expression);
    }
  }
  const uint64_t digest = hasher.Finish();

  // 3. Compile, or load from the cache.
  HsCacheEntry compiled;
  std::string cache_path;
  bool from_cache = false;
  if (!options.cache_dir.empty()) {
    cache_path = HsCachePath(options.cache_dir, "matcher", digest);
    if (auto loaded = LoadHsCache(cache_path, digest);
        loaded && loaded->databases.size() == pending.size()) {
      bool consistent = true;
      for (size_t d = 0; d < pending.size(); ++d)
        if (loaded->status[d].size() != pending[d].patterns.size()) consistent = false;
      if (consistent) {
        compiled = std::move(*loaded);
        from_cache = true;
      }
    }
  }
  if (!from_cache) {
    compiled.databases.resize(pending.size());
    compiled.status.resize(pending.size());
    // Databases are independent: compile them on two threads, largest first, which roughly
    // halves a cold start on a two-core machine.
    std::vector<size_t> order(pending.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return pending[a].patterns.size() > pending[b].patterns.size();
    });
    std::vector<std::optional<Error>> errors(pending.size());
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k; (k = next.fetch_add(1)) < order.size();) {
        size_t d = order[k];
        std::vector<bool> allow_prefilter;
        for (const HsPattern& p : pending[d].patterns)
          allow_prefilter.push_back(impl->patterns[p.id].kind == PatternKind::kRegex);
        auto db = CompileHsDatabase(pending[d].patterns, allow_prefilter, compiled.status[d]);
        if (db) {
          compiled.databases[d] = std::move(*db);
        } else {
          errors[d] = db.error();
        }
      }
    };
    const unsigned threads = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
    for (auto& error : errors)
      if (error) return tl::unexpected(*error);
    if (!cache_path.empty()) {
      // A cache that cannot be written only costs the next start its compile time.
      (void)StoreHsCache(cache_path, digest, compiled);
    }
  }

  // 4. Wire databases and literal indexes into the field indexes; left-out patterns make their
  //    predicates direct.
  std::vector<bool> left_out(impl->patterns.size(), false);
  for (size_t d = 0; d < pending.size(); ++d) {
    Impl::FieldIndex& index = impl->indexes[pending[d].index];
    const auto db = static_cast<uint32_t>(impl->databases.size());
    impl->databases.push_back(std::move(compiled.databases[d]));
    for (size_t i = 0; i < pending[d].patterns.size(); ++i) {
      uint32_t id = pending[d].patterns[i].id;
      if (compiled.status[d][i] == HsPatternStatus::kLeftOut) {
        left_out[id] = true;
      } else if (impl->patterns[id].kind == PatternKind::kRegex) {
        index.regex_patterns.push_back(id);
      }
    }
    if (!impl->databases.back()) continue;  // everything left out
    (pending[d].folded ? index.folded_db : index.raw_db) = db;
  }
  for (uint32_t i = 0; i < impl->indexes.size(); ++i) {
    Impl::FieldIndex& index = impl->indexes[i];
    for (auto& [shape, text, pattern] : literals[i]) {
      if (shape == Shape::kExact) index.exact.Add(text, pattern);
      if (shape == Shape::kPrefix) index.prefixes.Add(text, pattern);
      if (shape == Shape::kSuffix) index.suffixes.Add(text, pattern);
      if (shape == Shape::kInfix) index.infixes.Add(text, pattern);
      if (shape == Shape::kContains || shape == Shape::kCandidate)
        index.contains.Add(text, pattern, shape == Shape::kCandidate);
      if (shape == Shape::kNumberEq) {
        double number;
        std::memcpy(&number, text.data(), sizeof number);
        index.numbers.emplace_back(number, pattern);
        continue;
      }
      index.has_literals = true;
    }
    index.prefixes.Finish();
    index.suffixes.Finish();
    index.infixes.Finish();
    index.contains.Finish();
    std::sort(index.numbers.begin(), index.numbers.end());
  }
  for (uint32_t& pattern : impl->predicate_pattern)
    if (pattern != NONE && left_out[pattern]) pattern = NONE;
  for (uint32_t p = 0; p < impl->patterns.size(); ++p)
    if (left_out[p]) impl->scannable[p] = false;

  // 5. Gating, pattern -> rules, rule -> field indexes.
  const auto rule_count = static_cast<uint32_t>(rules.rules.size());
  impl->gated.assign(rule_count, false);
  impl->rule_indexes.resize(rule_count);
  std::vector<std::vector<uint32_t>> rules_of_pattern(impl->patterns.size());
  std::vector<uint32_t> index_of_pattern(impl->patterns.size(), NONE);
  for (const auto& [key, id] : pattern_ids) index_of_pattern[id] = key.index;
  for (uint32_t r = 0; r < rule_count; ++r) {
    const Rule& rule = rules.rules[r];
    const uint32_t base = impl->rule_base[r];
    // The first choice of triggers, by the literals alone. Whether a rule is gated depends on
    // its condition alone: choosing again (Adapt) changes only which patterns gate it.
    GateResult gate = impl->Gate(rule, base, rule.condition, true, nullptr);
    impl->gated[r] = gate.value == Tri::kFalse;
    if (impl->gated[r]) {
      SortUnique(gate.triggers);
      for (uint32_t pattern : gate.triggers) rules_of_pattern[pattern].push_back(r);
    }
    std::vector<uint32_t>& reads = impl->rule_indexes[r];
    for (uint32_t i = 0; i < rule.predicates.size(); ++i) {
      uint32_t pattern = impl->predicate_pattern[base + i];
      if (pattern != NONE && !impl->patterns[pattern].lazy)
        reads.push_back(index_of_pattern[pattern]);
    }
    std::sort(reads.begin(), reads.end());
    reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
  }
  {
    auto triggers = std::make_shared<Impl::Triggers>();
    FillTriggers(rules_of_pattern, triggers->begin, triggers->rules);
    impl->triggers = std::move(triggers);
  }

  for (const HsDatabase& db : impl->databases) {
    if (auto reserved = impl->prototype_scratch.Reserve(db); !reserved) {
      return tl::unexpected(reserved.error());
    }
  }

  MatcherStats& stats = impl->stats;
  stats.from_cache = from_cache;
  stats.cache_file = cache_path;
  stats.predicates = impl->predicates.size();
  stats.patterns = impl->patterns.size();
  for (const auto& pattern : impl->patterns) {
    if (pattern.kind == PatternKind::kLiteral) ++stats.literal_patterns;
    if (pattern.lazy) ++stats.lazy_patterns;
  }
  stats.databases = impl->databases.size();
  for (const auto& status : compiled.status)
    for (HsPatternStatus st : status)
      if (st == HsPatternStatus::kPrefilter) ++stats.prefiltered;
  for (uint32_t pattern : impl->predicate_pattern)
    if (pattern == NONE) ++stats.direct_predicates;
  for (bool g : impl->gated)
    if (g) ++stats.gated_rules;

  impl->CompileConditions();
  const Impl* raw = impl.get();
  impl->routes = std::make_unique<RouteTable>(
      [raw](const event::LogsourceClass& cls) { return raw->BuildRoute(cls); });
  stats.build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return std::unique_ptr<Matcher>(new Matcher(std::move(impl)));
}

const MatcherStats& Matcher::stats() const { return impl_->stats; }

Matcher::Counters Matcher::counters(const Scratch& scratch) const {
  Counters counters;
  counters.events = scratch.events;
  counters.rules_evaluated = scratch.rules_evaluated;
  counters.lazy_remembered = scratch.lazy_remembered;
  counters.trigger_choices = scratch.triggers->generation;
  return counters;
}

std::shared_ptr<const Matcher::Impl::Triggers> Matcher::Impl::ChooseTriggers(
    const Triggers& current, const std::vector<uint32_t>& fires, uint64_t events) const {
  // How often each rule was evaluated because of its triggers (an upper bound: triggers that
  // fired on the same event are counted once each). Rules evaluated on fewer than one event in
  // REGATE_SHARE keep their triggers: choosing again would cost more than it could save.
  constexpr uint64_t REGATE_SHARE = 256;
  std::vector<uint64_t> rule_fires(rules->rules.size(), 0);
  for (uint32_t pattern = 0; pattern < patterns.size(); ++pattern) {
    if (fires[pattern] == 0) continue;
    for (uint32_t k = current.begin[pattern]; k < current.begin[pattern + 1]; ++k)
      rule_fires[current.rules[k]] += fires[pattern];
  }
  std::vector<bool> regate(rules->rules.size(), false);
  for (uint32_t r = 0; r < rules->rules.size(); ++r)
    regate[r] = gated[r] && rule_fires[r] * REGATE_SHARE > events;
  // The triggers chosen again, as (pattern, rule) pairs. The new table is laid out in place
  // (counts, offsets, then the rules), not as a list per pattern: scanning threads wait for it,
  // and tens of thousands of small lists took milliseconds to allocate and free.
  std::vector<std::pair<uint32_t, uint32_t>> chosen_pairs;
  for (uint32_t r = 0; r < rules->rules.size(); ++r) {
    if (!regate[r]) continue;
    const Rule& rule = rules->rules[r];
    std::vector<uint32_t> chosen = Gate(rule, rule_base[r], rule.condition, true, &fires).triggers;
    SortUnique(chosen);
    for (uint32_t pattern : chosen) chosen_pairs.emplace_back(pattern, r);
  }
  auto table = std::make_shared<Triggers>();
  table->generation = current.generation + 1;
  std::vector<uint32_t>& begin = table->begin;
  begin.assign(patterns.size() + 1, 0);
  for (uint32_t pattern = 0; pattern < patterns.size(); ++pattern) {
    for (uint32_t k = current.begin[pattern]; k < current.begin[pattern + 1]; ++k)
      if (!regate[current.rules[k]]) ++begin[pattern + 1];
  }
  for (const auto& [pattern, rule] : chosen_pairs) ++begin[pattern + 1];
  for (size_t i = 1; i < begin.size(); ++i) begin[i] += begin[i - 1];
  std::vector<uint32_t>& table_rules = table->rules;
  table_rules.resize(begin.back());
  std::vector<uint32_t> end(begin.begin(), begin.end() - 1);  // where each list is filled to
  for (uint32_t pattern = 0; pattern < patterns.size(); ++pattern) {
    for (uint32_t k = current.begin[pattern]; k < current.begin[pattern + 1]; ++k)
      if (!regate[current.rules[k]]) table_rules[end[pattern]++] = current.rules[k];
  }
  // The order within a list does not matter: Match sorts the rules it collects.
  for (const auto& [pattern, rule] : chosen_pairs) table_rules[end[pattern]++] = rule;
  return table;
}

void Matcher::Impl::Adapt(Matcher::Scratch& s) const {
  {
    std::unique_lock lock(triggers_mutex, std::try_to_lock);
    if (!lock.owns_lock()) {
      s.next_adaptation = s.events + Scratch::ADAPTATION_RETRY;
      return;
    }
    // Another scratch may have chosen since this one last did: its choice is as good.
    if (triggers->generation <= s.triggers->generation)
      triggers = ChooseTriggers(*s.triggers, s.fire_counts, s.counted_events);
    s.triggers = triggers;
  }
  // Older events count half at each choice, so the triggers follow a stream that changes.
  for (uint32_t& count : s.fire_counts) count >>= 1;
  s.counted_events >>= 1;
  s.next_adaptation = s.events + Scratch::ADAPTATION_INTERVAL;
}

Matcher::ScratchPtr Matcher::NewScratch() const {
  ScratchPtr scratch(new Scratch());
  auto clone = impl_->prototype_scratch.Clone();
  if (!clone) throw std::bad_alloc();  // Hyperscan could not allocate the scratch space
  scratch->hs = std::move(*clone);
  scratch->impl = impl_.get();
  scratch->fired.assign((impl_->patterns.size() + 63) / 64, 0);
  scratch->unconfirmed.assign((impl_->patterns.size() + 63) / 64, 0);
  scratch->touched.assign((impl_->rules->rules.size() + 63) / 64, 0);
  scratch->decided.assign((impl_->patterns.size() + 63) / 64, 0);
  scratch->fire_counts.assign(impl_->patterns.size(), 0);
  {
    std::lock_guard lock(impl_->triggers_mutex);
    scratch->triggers = impl_->triggers;
  }
  scratch->AllocateValueCache();
  scratch->cache_use.resize(impl_->indexes.size());
  scratch->looked_up.resize(impl_->indexes.size());
  scratch->early_hashes.resize(impl_->indexes.size());
  scratch->fired_list.Reserve(impl_->patterns.size());
  scratch->decided_list.Reserve(impl_->patterns.size());
  scratch->touched_list.Reserve(impl_->rules->rules.size());
  scratch->looked_up_list.Reserve(impl_->indexes.size());
  scratch->folded.reserve(4096);
  scratch->keywords.reserve(16384);
  return scratch;
}

// ---- match ----

// The keyword prefilter of the event's route, ready to scan with `s`; null when keyword
// searches cannot be ruled out (then `*none` tells whether the route has none at all).
const KeywordPrefilter* Matcher::Impl::PrefilterFor(const event::Event& event, Scratch& s,
                                                    bool* none) const {
  const Route& route = s.routes.Find(event.logsource, *routes);
  *none = !route.keyword_rules;
  if (*none) return nullptr;
  const KeywordPrefilter* prefilter = route.keyword_prefilter->Get();
  if (prefilter == nullptr) return nullptr;
  if (std::find(s.reserved_prefilters.begin(), s.reserved_prefilters.end(), prefilter) ==
      s.reserved_prefilters.end()) {
    if (!prefilter->Reserve(s.hs)) return nullptr;  // no scratch: as without a prefilter
    s.reserved_prefilters.push_back(prefilter);
  }
  return prefilter;
}

bool Matcher::NeedsAllValues(const event::Event& event, std::string_view raw_json,
                             Scratch& s) const {
  bool none = false;
  const KeywordPrefilter* prefilter = impl_->PrefilterFor(event, s, &none);
  if (prefilter == nullptr) return !none;
  return prefilter->MayMatch(raw_json, s.hs);
}

bool Matcher::KeywordsMayMatchValues(const event::Event& event, Scratch& s) const {
  bool none = false;
  const KeywordPrefilter* prefilter = impl_->PrefilterFor(event, s, &none);
  if (prefilter == nullptr) return !none;
  // The values as they are, each ended by a NUL (no literal holds one), then the padding the
  // scan reads past the end. Values shorter than every literal (event ids, flags, levels: most
  // of a Windows event's) cannot hold one and are left out.
  const size_t shortest = prefilter->shortest_literal();
  size_t size = 0;
  for (const event::FieldValue& value : event.AllValues())
    if (value.text.size() >= shortest) size += value.text.size() + 1;
  std::string& values = s.keyword_values;
  if (values.size() < size + event::RECORD_PADDING) values.resize(size + event::RECORD_PADDING);
  char* out = values.data();
  for (const event::FieldValue& value : event.AllValues()) {
    // Null values have no text (event.hpp), so they are left out too.
    if (value.text.size() < shortest) continue;
    std::memcpy(out, value.text.data(), value.text.size());
    out += value.text.size();
    *out++ = '\0';
  }
  std::memset(out, 0, event::RECORD_PADDING);
  return prefilter->MayMatchValues(std::string_view(values.data(), size), s.hs);
}

void Matcher::Match(const event::Event& event, Scratch& s, std::vector<uint32_t>& out) const {
  const Impl& impl = *impl_;
  impl.ForgetEvent(s);
  const Route& route = s.routes.Find(event.logsource, *impl.routes);
  if (!route.any_candidate) return;
  static const char EMPTY[1] = {0};
  auto data_of = [](std::string_view text) { return text.empty() ? EMPTY : text.data(); };
  auto fire = [&s](uint32_t pattern) { s.Fire(pattern); };

  // Raw database of one value, then the regexes Hyperscan cannot be trusted with.
  auto scan_raw = [&](const Impl::FieldIndex& index, const event::FieldValue& value) {
    hs_scan(impl.databases[index.raw_db].get(), data_of(value.text),
            static_cast<unsigned>(value.text.size()), 0, s.hs.get(), OnMatch, &s);
    if (index.regex_patterns.empty() || IsAscii(value.text)) return;
    // Hyperscan's misses on non-ASCII text prove nothing: let the regex engine decide.
    for (uint32_t pattern : index.regex_patterns) s.FireUnconfirmed(pattern);
  };

  // The first values' hashes, and their entries fetched (see Scratch::early_hashes).
  const size_t index_count = route.field_indexes.size();
  for (size_t k = 0; k < index_count; ++k) {
    s.early_hashes[k] = Scratch::NO_HASH;
    const event::FieldId field = route.index_fields[k];
    if (field == event::NO_FIELD || !event.Has(field)) continue;
    const uint32_t i = route.field_indexes[k];
    if (s.cache_use[i].paused != 0) continue;
    for (const event::FieldValue& value : event.Values(field)) {
      if (value.type == event::ValueType::kNull) continue;
      if (value.text.size() > Scratch::MAX_CACHED_TEXT) break;
      const uint64_t hash = CacheHash(value, i);
      s.early_hashes[k] = hash;
      const char* entry = reinterpret_cast<const char*>(
          &s.value_cache[hash & (Scratch::VALUE_CACHE_SLOTS - 1)]);
      _mm_prefetch(entry, _MM_HINT_T0);
      _mm_prefetch(entry + 64, _MM_HINT_T0);
      break;
    }
  }

  bool keywords_ready = false;
  for (size_t k = 0; k < index_count; ++k) {
    const event::FieldId field = route.index_fields[k];
    if (field != event::NO_FIELD && !event.Has(field)) continue;
    const uint32_t i = route.field_indexes[k];
    if (field == event::NO_FIELD) {
      // No values collected (KeywordPrefilter ruled keywords out): no keyword can hold.
      if (event.AllValues().empty()) continue;
      const Impl::FieldIndex& index = impl.indexes[i];
      if (index.folded_db != NONE) {
        if (!keywords_ready) {  // one buffer for every keyword database of the route
          keywords_ready = true;
          s.keywords.clear();
          s.keywords.push_back(SEPARATOR);
          for (const event::FieldValue& value : event.AllValues()) {
            // Glob predicates never hold for a null value (predicate.cpp).
            if (value.type == event::ValueType::kNull) continue;
            AppendFolded(value.text, s.keywords);
            s.keywords.push_back(SEPARATOR);
          }
        }
        hs_scan(impl.databases[index.folded_db].get(), s.keywords.data(),
                static_cast<unsigned>(s.keywords.size()), 0, s.hs.get(), OnMatch, &s);
      }
      if (index.raw_db != NONE) {
        for (const event::FieldValue& value : event.AllValues())
          if (value.type != event::ValueType::kNull) scan_raw(index, value);
      }
      continue;
    }
    bool first_value = true;
    // The first value's remembered entry, and how many values the field has (nulls too).
    Scratch::CachedValue* first_entry = nullptr;
    uint32_t value_count = 0;
    for (const event::FieldValue& value : event.Values(field)) {
      ++value_count;
      if (value.type == event::ValueType::kNull) continue;
      // The first value of an index is remembered: every pattern it fires is new in this event
      // (patterns belong to one index), so what it adds to fired_list is exactly its result.
      Scratch::CachedValue* entry = nullptr;
      Scratch::CacheUse& use = s.cache_use[i];
      if (use.paused != 0 && first_value) --use.paused;
      if (first_value && use.paused == 0 && value.text.size() <= Scratch::MAX_CACHED_TEXT) {
        if (++use.lookups == Scratch::CACHE_TRIAL) {
          if (use.hits < Scratch::CACHE_TRIAL / Scratch::CACHE_MIN_HIT_SHARE) use.paused = Scratch::CACHE_PAUSE;
          use.lookups = 0;
          use.hits = 0;
        }
        const uint64_t hash =
            s.early_hashes[k] != Scratch::NO_HASH ? s.early_hashes[k] : CacheHash(value, i);
        entry = &s.value_cache[hash & (Scratch::VALUE_CACHE_SLOTS - 1)];
        if (entry->Holds(i, hash, value, s.TailOf(entry))) {
          ++use.hits;
          for (uint8_t k = 0; k < entry->count; ++k) {
            if ((entry->unconfirmed >> k) & 1)
              s.FireUnconfirmed(entry->patterns[k]);
            else
              s.Fire(entry->patterns[k]);
          }
          first_entry = entry;
          first_value = false;
          continue;
        }
        entry->hash = hash;
        entry->index = NONE;  // filled in below if the result fits
      }
      // Not remembered: the field's index is read (only now: with most values remembered, it
      // was a cache miss for nothing on most fields).
      const Impl::FieldIndex& index = impl.indexes[i];
      const size_t fired_before = s.fired_list.size();
      first_value = false;
      if (!index.numbers.empty() &&
          (value.type == event::ValueType::kString || value.type == event::ValueType::kNumber)) {
        double number;
        if (modifiers::ParseDecimal(value.text, &number)) {
          if (number == 0) number = 0.0;
          auto it = std::lower_bound(index.numbers.begin(), index.numbers.end(),
                                     std::make_pair(number, uint32_t{0}));
          for (; it != index.numbers.end() && it->first == number; ++it) s.Fire(it->second);
        }
      }
      if (index.has_literals || index.folded_db != NONE) {
        FoldText(value.text, s.folded);
        if (index.has_literals) {
          if (uint32_t p = index.exact.Find(s.folded); p != NONE) s.Fire(p);
          index.prefixes.ForEachMatch(s.folded, fire);
          index.suffixes.ForEachMatch(s.folded, fire);
          index.infixes.ForEachMatch(s.folded, fire);
          // A glob keyed by one of its literals is decided on this value at once: it is a
          // cheap test, and the value cache then replays the answer, not a candidate that each
          // event with the value would test again (`7z*.exe`, keyed by `.exe`, met nearly
          // every process creation's OriginalFileName).
          index.contains.ForEachMatch(s.folded, [&](uint32_t pattern, bool candidate) {
            if (!candidate || impl.predicates[impl.patterns[pattern].confirm]->TestValue(value))
              s.Fire(pattern);
          });
        }
        if (index.folded_db != NONE) {
          hs_scan(impl.databases[index.folded_db].get(), data_of(s.folded),
                  static_cast<unsigned>(s.folded.size()), 0, s.hs.get(), OnMatch, &s);
        }
      }
      if (index.raw_db != NONE) scan_raw(index, value);
      const size_t added = s.fired_list.size() - fired_before;
      if (entry != nullptr && added <= Scratch::CachedValue::MAX_PATTERNS) {
        entry->index = i;
        entry->Store(value, s.TailOf(entry));
        entry->count = static_cast<uint8_t>(added);
        entry->unconfirmed = 0;
        for (size_t k = 0; k < added; ++k) {
          const uint32_t pattern = s.fired_list[fired_before + k];
          entry->patterns[k] = pattern;
          if (TestBit(s.unconfirmed, pattern)) entry->unconfirmed |= uint32_t{1} << k;
        }
        first_entry = entry;
      }
    }
    if (first_entry != nullptr && value_count == 1) {
      s.looked_up[i] = {first_entry, first_entry->hash};
      s.looked_up_list.push_back(i);
    }
  }

  const Impl::Triggers& triggers = *s.triggers;
  for (uint32_t pattern : s.fired_list) {
    for (uint32_t k = triggers.begin[pattern]; k < triggers.begin[pattern + 1]; ++k) {
      uint32_t rule = triggers.rules[k];
      if (TestBit(s.touched, rule) || !route.IsCandidate(rule)) continue;
      SetBit(s.touched, rule);
      s.touched_list.push_back(rule);
    }
  }
  std::sort(s.touched_list.begin(), s.touched_list.end());

  // Merge the two ascending lists: always-evaluated rules and gated rules whose patterns fired.
  auto always = route.always.begin();
  auto touched = s.touched_list.begin();
  while (always != route.always.end() || touched != s.touched_list.end()) {
    uint32_t rule;
    if (touched == s.touched_list.end() || (always != route.always.end() && *always < *touched)) {
      rule = *always++;
    } else {
      rule = *touched++;
    }
    ++s.rules_evaluated;
    if (impl.Run(&impl.program[impl.rule_program[rule]], event, s) &&
        (event.logsource.recognised ||
         RuleSeesUnrecognisedEvent(impl.rules->rules[rule], event))) {
      out.push_back(rule);
    }
  }

  for (uint32_t pattern : s.fired_list) ++s.fire_counts[pattern];
  for (uint32_t rule : s.touched_list) ClearBit(s.touched, rule);
  s.touched_list.clear();
  ++s.counted_events;
  if (++s.events == s.next_adaptation) impl.Adapt(s);
  // What fired stays until the next event, for AppendMatchedFields.
}

void Matcher::Impl::ForgetEvent(Matcher::Scratch& s) {
  for (uint32_t pattern : s.fired_list) {
    ClearBit(s.fired, pattern);
    ClearBit(s.unconfirmed, pattern);
  }
  s.fired_list.clear();
  for (uint32_t pattern : s.decided_list) {
    ClearBit(s.decided, pattern);
    ClearBit(s.fired, pattern);
  }
  s.decided_list.clear();
  for (uint32_t i : s.looked_up_list) s.looked_up[i].entry = nullptr;
  s.looked_up_list.clear();
}

void Matcher::AppendMatchedFields(uint32_t rule_index, const event::Event& event,
                                  Scratch& scratch, std::vector<std::string_view>& out) const {
  const Impl& impl = *impl_;
  const uint32_t base = impl.rule_base[rule_index];
  // A predicate holds when its pattern fired (confirmed or decided now, as Run does), or, for
  // one the matcher tests directly, when its test says so.
  auto holds = [&](uint32_t local) {
    const uint32_t g = base + local;
    const uint32_t pattern = impl.predicate_pattern[g];
    Impl::Op leaf;
    if (pattern == NONE) {
      leaf.kind = Impl::Op::Kind::kDirect;
      leaf.arg = g;
    } else {
      leaf.kind = impl.patterns[pattern].lazy ? Impl::Op::Kind::kLazy : Impl::Op::Kind::kFired;
      leaf.arg = pattern;
    }
    return impl.RunLeaf(&leaf, event, scratch);
  };
  sigma::AppendMatchedFields(impl.rules->rules[rule_index], PredicateTest(holds), out);
}

}  // namespace yagura::sigma
