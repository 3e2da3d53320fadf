// The compiled matcher against expected results and against the plain evaluator, on
// hand-built rules: glob shapes, Unicode case folding, regexes Hyperscan cannot run exactly,
// rules that hold without any pattern (negations, null), keywords, routing, the disk cache,
// threads, and the no-allocation guarantee of Match().
#include "sigma/matcher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <thread>

#include "sigma/evaluator.hpp"
#include "unit/sigma/matcher_test_util.hpp"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// Counts every allocation of the binary, so a test can assert that a region allocates nothing.
// (GCC cannot see that the replaced new and delete below pair malloc with free.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace yagura::sigma {
namespace {

using namespace yagura::sigma::testing;
using event::Logsource;
using event::ValueType;

class MatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image = catalog.Intern("Image");
    command_line = catalog.Intern("CommandLine");
    user = catalog.Intern("User");
    count = catalog.Intern("Count");
  }

  void Add(Rule rule) { rules.rules.push_back(std::move(rule)); }
  // A rule of one selection testing one field against one Sigma value.
  void AddOneValueRule(const std::string& title, event::FieldId field, std::string_view value) {
    RuleMaker r(title);
    r.Map({{field, {Str(field, value)}}});
    Add(r.Finish(Sel(0)));
  }

  std::unique_ptr<Matcher> Build(MatcherOptions options = {}) {
    auto matcher = Matcher::Build(rules, catalog, options);
    EXPECT_TRUE(matcher.has_value()) << (matcher ? "" : matcher.error().ToString());
    return matcher ? std::move(*matcher) : nullptr;
  }

  // Matches the current event with the matcher and the plain evaluator; they must agree.
  std::vector<uint32_t> Both(const Matcher& matcher, Matcher::Scratch& scratch,
                             UnrecognisedPolicy policy = UnrecognisedPolicy::kAllRules) {
    std::vector<uint32_t> fast, plain;
    matcher.Match(events.event(), scratch, fast);
    EvaluateAll(rules, events.event(), policy, plain);
    EXPECT_EQ(fast, plain);
    return fast;
  }

  event::FieldCatalog catalog;
  RuleSet rules;
  EventMaker events{catalog};
  event::FieldId image = 0, command_line = 0, user = 0, count = 0;
};

using Ids = std::vector<uint32_t>;

TEST_F(MatcherTest, GlobShapesAndCase) {
  AddOneValueRule("exact", image, "C:\\Windows\\System32\\cmd.exe");
  {
    RuleMaker r("endswith");
    r.Map({{image, {Str(image, "*\\powershell.exe"), Str(image, "*\\pwsh.exe")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("contains all");
    r.Map({{command_line, {Str(command_line, "* -enc *"), Str(command_line, "*hidden*")}, true}});
    Add(r.Finish(Sel(0)));
  }
  AddOneValueRule("question mark", command_line, "net? user*");
  AddOneValueRule("empty string", user, "");
  AddOneValueRule("any value", user, "*");
  {
    RuleMaker r("cased");
    r.Map({{command_line, {Str(command_line, "*FromBase64String*", true)}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();

  events.Start();
  events.Add(image, "c:\\windows\\system32\\CMD.EXE");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));

  events.Start();
  events.Add(image, "C:\\x\\PowerShell.exe");
  events.Add(command_line, "powershell -ENC aGk= -w HIDDEN");
  events.Add(user, "");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{1, 2, 4, 5}));

  events.Start();
  events.Add(command_line, "net1 user bob frombase64string");
  events.Add(user, "alice");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{3, 5}));

  events.Start();
  events.Add(command_line, "[Convert]::FromBase64String(x)");
  events.Add(user, "", ValueType::kNull);  // null is no string, not even the empty one
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{6}));

  events.Start();
  events.Add(image, "C:\\Windows\\System32\\cmd.exe\n");  // \z, not $: no match before a newline
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
}

// Globs with inner wildcards are found by their longest literal and confirmed: a value that
// holds the literal but not the glob fires nothing, also when it comes again (replayed from the
// value cache) and when the literal is found in a second value of the field.
TEST_F(MatcherTest, GlobsFoundByTheirLongestLiteralAreConfirmed) {
  AddOneValueRule("inner star", command_line, "*/temp/*.ps1");
  AddOneValueRule("question marks", command_line, "*reg? add *hklm\\run*");
  AddOneValueRule("anchored ends", image, "c:/users/*/appdata/*.exe");
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();
  for (int round = 0; round < 2; ++round) {
    events.Start();
    events.Add(command_line, "powershell -w hidden -f C:/Temp/x.PS1");
    events.Add(image, "C:/Users/bob/AppData/Local/a.exe");
    EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 2}));

    events.Start();
    events.Add(command_line, "notepad C:/Temp/x.txt");  // the literal, not the glob
    events.Add(command_line, "x.ps1");
    events.Add(image, "D:/Users/bob/AppData/a.exe");
    EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));

    events.Start();
    events.Add(command_line, "REG1 ADD HKLM\\Run /v x");
    EXPECT_EQ(Both(*matcher, *scratch), (Ids{1}));

    events.Start();
    events.Add(command_line, "reg add hklm\\run");  // no byte for the `?`
    EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
  }
}

TEST_F(MatcherTest, UnicodeCaseFoldingAgreesWithGlobMatch) {
  const char* patterns[] = {
      "*ärger*",          // Latin-1
      "*ПРИВЕТ*",         // Cyrillic
      "*kill.exe",        // folds from the Kelvin sign
      "\xE2\x84\xAAill*",  // Kelvin sign in the pattern
      "*İstanbul*",       // dotted capital I folds to ASCII i
      "a?b",              // ? is one code point
      "*\xEF\xBF\xBD*",   // U+FFFD in a pattern: tested directly
      "x*y",
  };
  for (const char* p : patterns) {
    RuleMaker r(p);
    r.Map({{command_line, {Str(command_line, p)}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();
  const char* values[] = {
      "ÄRGER im Büro",     "noch mehr Ärger",     "привет мир",           "ПрИвЕт",
      "\xE2\x84\xAAILL.EXE", "C:\\KILL.exe",       "kill.exe",             "KILLER",
      "istanbul",          "ISTANBUL",            "İSTANBUL",             "aéb",
      "a\x80" "b",         "a\xC3" "b",           "a\xE2\x84" "b",        "ab",
      "a\xF0\x9F\x98\x80" "b", "\xFF\xFE",        "x\xC3y",               "xy",
      "\xEF\xBF\xBD",      "bad \xFF byte",       "\xC5\xBF",             "",
  };
  for (const char* v : values) {
    events.Start();
    events.Add(command_line, v);
    SCOPED_TRACE(v);
    Both(*matcher, *scratch);
  }
  // Spot checks of the expected results, independent of the evaluator.
  events.Start();
  events.Add(command_line, "\xE2\x84\xAAILL.EXE");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{2, 3}));
  events.Start();
  events.Add(command_line, "a\x80" "b");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{5}));
}

TEST_F(MatcherTest, RegexesAreConfirmed) {
  {
    RuleMaker r("plain regex");
    r.Map({{command_line, {Re(command_line, "cmd.{0,5}/c")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("lookahead");  // PCRE2 only; Hyperscan prefilters or leaves it out
    r.Map({{command_line, {Re(command_line, "foo(?=bar)")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("backreference");
    r.Map({{command_line, {Re(command_line, "(ab)\\1")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("caseless non-ascii");
    r.Map({{command_line, {Re(command_line, "straße", true)}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("anchored");
    r.Map({{command_line, {Re(command_line, "^abc$")}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  // Hyperscan runs neither lookahead nor back-references exactly: both are prefiltered (or
  // left to the regex engine), and still every result below must be exact.
  EXPECT_EQ(matcher->stats().prefiltered + matcher->stats().direct_predicates, 2u);
  auto scratch = matcher->NewScratch();
  const char* values[] = {"cmd.exe /c whoami", "CMD /C", "foobar", "foobaz", "ababx", "abab",
                          "STRASSE", "STRAẞE", "Straße", "abc\n", "abc", "xabc"};
  for (const char* v : values) {
    events.Start();
    events.Add(command_line, v);
    SCOPED_TRACE(v);
    Both(*matcher, *scratch);
  }
  events.Start();
  events.Add(command_line, "foobar ababab");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{1, 2}));
  events.Start();
  events.Add(command_line, "C:\\STRAßE\\x");  // RE2 folds ß/ẞ only as code points; ASCII part differs
  Both(*matcher, *scratch);
  events.Start();
  events.Add(command_line, "in der Straße");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{3}));
}

TEST_F(MatcherTest, RulesThatHoldWithoutAnyPattern) {
  {
    RuleMaker r("not selection");
    r.Map({{image, {Str(image, "*\\explorer.exe")}}});
    Add(r.Finish(Not(Sel(0))));
  }
  {
    RuleMaker r("neq");
    ItemSpec item{user, {Str(user, "SYSTEM"), Str(user, "LOCAL SERVICE")}};
    item.negate = true;
    r.Map({item});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("null");
    r.Map({{user, {Null(user)}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("string and number");
    r.Map({{image, {Str(image, "*\\svchost.exe")}}, {count, {Number(count, 3, CompareOp::kGt)}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("selection and not filter");
    uint32_t a = r.Map({{image, {Str(image, "*\\rundll32.exe")}}});
    uint32_t b = r.Map({{command_line, {Str(command_line, "*shell32.dll*")}}});
    Add(r.Finish(And({Sel(a), Not(Sel(b))})));
  }
  {
    RuleMaker r("exists or pattern");
    uint32_t a = r.Map({{count, {Exists(count)}}});
    uint32_t b = r.Map({{image, {Str(image, "*evil*")}}});
    Add(r.Finish(Or({Sel(a), Sel(b)})));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_EQ(matcher->stats().gated_rules, 2u);  // "string and number", "selection and not filter"
  auto scratch = matcher->NewScratch();
  // Events of a known class: an unrecognised one holding none of a rule's fields is not the
  // rule's to judge (UnrecognisedEventsFireOnlyRulesThatTestWhatTheyHold).
  auto start = [&] {
    event::Event& e = events.Start();
    e.logsource.recognised = true;
    e.logsource.product = "windows";
  };

  start();
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 1, 2}));

  start();
  events.Add(image, "C:\\Windows\\explorer.exe");
  events.Add(user, "system");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));

  start();
  events.Add(image, "C:\\Windows\\System32\\svchost.exe");
  events.Add(count, "7", ValueType::kNumber);
  events.Add(user, "", ValueType::kNull);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 1, 2, 3, 5}));

  start();
  events.Add(image, "C:\\Windows\\System32\\rundll32.exe");
  events.Add(command_line, "rundll32 shell32.dll,Control_RunDLL");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 1, 2}));

  start();
  events.Add(image, "C:\\Windows\\System32\\rundll32.exe");
  events.Add(command_line, "rundll32 evil.dll,Start");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 1, 2, 4}));
}

TEST_F(MatcherTest, UnrecognisedEventsFireOnlyRulesThatTestWhatTheyHold) {
  {
    RuleMaker r("not selection");
    r.Map({{image, {Str(image, "*\\explorer.exe")}}});
    Add(r.Finish(Not(Sel(0))));
  }
  {
    RuleMaker r("absent field");
    r.Map({{count, {Exists(count, false)}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("keywords");
    r.Map({{event::NO_FIELD, {Str(event::NO_FIELD, "*mimikatz*")}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();

  // A line of a text file nothing recognises: the field rules have nothing to say of it.
  events.Start();
  events.Add(user, "alice");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
  // It holds a field the first rule tests: that rule judges it (not explorer: it fires).
  events.Start();
  events.Add(image, "C:\\Windows\\notepad.exe");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));
  // Keywords search the whole event, whatever it is.
  events.Start();
  events.Add(user, "mimikatz.exe");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{2}));
  // Recognised, the same empty event is what the rules say of it.
  event::Event& e = events.Start();
  e.logsource.recognised = true;
  e.logsource.product = "windows";
  events.Add(user, "alice");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 1}));
}

TEST_F(MatcherTest, KeywordsAndSeveralValues) {
  {
    RuleMaker r("keywords");
    r.Map({{event::NO_FIELD, {Str(event::NO_FIELD, "*mimikatz*"), Str(event::NO_FIELD, "*sekurlsa::*")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("keyword and field");
    r.Map({{event::NO_FIELD, {Str(event::NO_FIELD, "*token::elevate*")}},
           {user, {Str(user, "admin*")}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();

  events.Start();
  events.Add(command_line, "run Mimikatz.exe");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));

  events.Start();
  events.Add(user, "bob");
  events.Add(user, "Administrator");  // a field with two values: any value may satisfy an item
  events.Add(command_line, "TOKEN::Elevate");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{1}));
}

TEST_F(MatcherTest, OneByteLiteralInALongValue) {
  // A database whose only pattern is one byte once missed it in long values (Vectorscan's
  // single-match mode); the matcher must find it wherever it is.
  RuleMaker r("one byte");
  r.Map({{event::NO_FIELD, {Str(event::NO_FIELD, "*i*")}}});
  Add(r.Finish(Sel(0)));
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();
  for (size_t at : {0u, 40u, 82u, 150u, 400u}) {
    std::string value(at, 'x');
    value += "\xd0\xbf\xd1\x80\xc3\xa4rger";  // non-ASCII before the hit, as in the failing case
    value.insert(value.size() - 5, "I");
    value += std::string(20, '-');
    events.Start();
    events.Add(command_line, value);
    EXPECT_EQ(Both(*matcher, *scratch), (Ids{0})) << "hit near byte " << at;
  }
  events.Start();
  events.Add(command_line, std::string(200, 'x'));
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
}

TEST_F(MatcherTest, RepeatedValuesReplayWhatTheyFired) {
  // What a value fired is remembered with the value's text and replayed when it comes again.
  // Values around the lengths the remembered text is laid out by (48 bytes with the key, 256
  // at most), values that differ only late, numbers and strings of the same text, and the
  // empty value, in a shuffled order that repeats each many times, some after a null value of
  // the same field (the first value, which is hashed ahead of the lookups): the results must be
  // the plain evaluator's every time.
  AddOneValueRule("suffix", image, "*\\tool.exe");
  AddOneValueRule("contains", image, "*zzz*");
  AddOneValueRule("exact number text", count, "5");
  AddOneValueRule("empty", user, "");
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();
  std::vector<std::string> images;
  for (size_t length : {9u, 47u, 48u, 49u, 63u, 64u, 65u, 127u, 255u, 256u, 257u, 300u}) {
    for (std::string_view tail : {"\\tool.exe", "\\tool.exf", "zzz\\tool.exe", "zzz"}) {
      if (tail.size() > length) continue;
      images.push_back(std::string(length - tail.size(), 'x') + std::string(tail));
      // The same length, differing only in the first byte.
      images.push_back("y" + images.back().substr(1));
    }
  }
  struct Case {
    size_t image;
    int count;  // 0: none
    ValueType count_type;
    bool empty_user;
    bool null_first;  // a null Image before the image
  };
  std::vector<Case> cases;
  for (size_t i = 0; i < images.size(); ++i) {
    for (int repeat = 0; repeat < 8; ++repeat) {
      cases.push_back({i, repeat % 3 == 0 ? 5 : 6,
                       repeat % 2 ? ValueType::kNumber : ValueType::kString, repeat % 4 == 1,
                       repeat % 5 == 2});
    }
  }
  std::mt19937 rng(7);
  std::shuffle(cases.begin(), cases.end(), rng);
  size_t fired = 0;
  for (const Case& c : cases) {
    events.Start();
    if (c.null_first) events.Add(image, "", ValueType::kNull);
    events.Add(image, images[c.image]);
    events.Add(count, std::to_string(c.count), c.count_type);
    events.Add(user, c.empty_user ? "" : "erin");
    fired += Both(*matcher, *scratch).size();
  }
  EXPECT_GT(fired, cases.size());  // the rules do fire, and often
}

TEST_F(MatcherTest, PatternsThatAreNoTriggerAreTestedLazily) {
  // The image suffix triggers the rule; the command-line flags are not scanned but still
  // decide the rule when it is evaluated.
  RuleMaker r("image and flags");
  r.Map({{image, {Str(image, "*\\powershell.exe")}},
         {command_line, {Str(command_line, "* -enc *"), Str(command_line, "* -nop *")}}});
  Add(r.Finish(Sel(0)));
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_EQ(matcher->stats().lazy_patterns, 2u);
  auto scratch = matcher->NewScratch();
  events.Start();
  events.Add(image, "C:\\Windows\\powershell.exe");
  events.Add(command_line, "powershell -NoP -Enc AAAA");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));
  events.Start();
  events.Add(image, "C:\\Windows\\powershell.exe");
  events.Add(command_line, "powershell -w hidden -e AAAA");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
  events.Start();
  events.Add(image, "C:\\Windows\\cmd.exe");
  events.Add(command_line, "cmd -enc AAAA");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
}

TEST_F(MatcherTest, LazyContainsOfAsciiLiteralsAgreeWithTheirPredicates) {
  // Lazy `*literal*` patterns with an ASCII literal are decided from the literal the matcher
  // keeps, on ASCII values; other values go to the predicate. Caseless and cased, over values
  // ASCII or not (the Kelvin sign folds to `k`), null, empty, and several to one field, the
  // rules hold exactly where the plain evaluator says they do.
  {
    RuleMaker r("image and caseless flags");
    r.Map({{image, {Str(image, "*\\tool.exe")}}});
    r.Map({{command_line, {Str(command_line, "*-kill*"), Str(command_line, "*/quiet*")}}});
    Add(r.Finish(And({Sel(0), Sel(1)})));
  }
  {
    RuleMaker r("image and cased flag");
    r.Map({{image, {Str(image, "*\\tool.exe")}}});
    r.Map({{command_line, {Str(command_line, "*-Kill*", true)}}});
    Add(r.Finish(And({Sel(0), Sel(1)})));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_EQ(matcher->stats().lazy_patterns, 3u);
  auto scratch = matcher->NewScratch();
  const std::vector<std::string> lines = {
      "tool -kill 1",   "tool -KILL 1",         "tool -Kill 1",      "tool /QUIET",
      "tool -\xe2\x84\xaaill",  // -Kill with the Kelvin sign: caseless -kill holds
      "t\xc3\xb6\xc3\xb6l -kill",  // not ASCII elsewhere
      "t\xc3\xb6\xc3\xb6l -nothing", "tool", "", "-kil", "kill-"};
  size_t held = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    for (size_t j = 0; j <= lines.size(); ++j) {
      events.Start();
      events.Add(image, "C:\\x\\tool.exe");
      events.Add(command_line, lines[i]);
      if (j < lines.size()) events.Add(command_line, lines[j]);  // a second value
      if (j == lines.size()) events.Add(command_line, "", ValueType::kNull);
      held += Both(*matcher, *scratch).size();
    }
  }
  EXPECT_GT(held, 100u);
}

TEST_F(MatcherTest, LazyDecisionsAreRememberedWithTheirValue) {
  // The command-line suffix triggers the first rule; its image tests are lazy. What they gave on an
  // image that was its field's only value is read back when the image comes again; an event
  // with a second image (which may hold what the first does not) decides them afresh. Results
  // are the plain evaluator's throughout.
  {
    RuleMaker r("image in temp or appdata, not trusted");
    r.Map({{command_line, {Str(command_line, "* --go-on-and-on")}}});
    // `\\*`: a backslash, then the wildcard (`\*` would be a literal star).
    r.Map({{image, {Str(image, "*\\temp\\\\*"), Str(image, "*\\appdata\\\\*")}}});
    r.Map({{image, {Str(image, "*\\trusted\\\\*")}}});
    Add(r.Finish(And({Sel(0), Sel(1), Not(Sel(2))})));
  }
  // Images are looked up (and remembered) only where some rule's trigger reads them.
  AddOneValueRule("image looked up", image, "*\\nothing-here.exe");
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_EQ(matcher->stats().lazy_patterns, 3u);
  auto scratch = matcher->NewScratch();
  const std::vector<std::string> images = {
      "C:\\Windows\\notepad.exe",       "C:\\Users\\a\\AppData\\x.exe",
      "C:\\Temp\\tool.exe",              "C:\\Temp\\Trusted\\tool.exe",
      "C:\\Users\\a\\appdata\\trusted\\y.exe", "12345"};
  std::mt19937 rng(11);
  size_t held = 0;
  for (int i = 0; i < 3000; ++i) {
    events.Start();
    events.Add(command_line, i % 5 == 0 ? "tool --stop" : "tool --go-on-and-on");
    const size_t first = rng() % images.size();
    events.Add(image, images[first], first == 5 && i % 2 ? ValueType::kNumber : ValueType::kString);
    if (i % 7 == 0) events.Add(image, images[rng() % images.size()]);
    held += Both(*matcher, *scratch).size();
  }
  EXPECT_GT(held, 300u);
  EXPECT_GT(matcher->counters(*scratch).lazy_remembered, 1000u);
}

TEST_F(MatcherTest, ValuesThatFireManyPatternsAreRememberedToo) {
  // A common image can hold the suffixes of many rules at once (msedge.exe holds nine of
  // SigmaHQ's). What it fired is remembered all the same, and so are the lazy decisions made
  // on it. An image that holds more suffixes than an entry has room for is matched afresh
  // each time. Results are the plain evaluator's throughout.
  {
    RuleMaker r("tool in temp, not trusted");
    r.Map({{command_line, {Str(command_line, "* --go-on-and-on")}}});
    r.Map({{image, {Str(image, "*\\temp\\\\*")}}});
    r.Map({{image, {Str(image, "*\\trusted\\\\*")}}});
    Add(r.Finish(And({Sel(0), Sel(1), Not(Sel(2))})));
  }
  const std::string common = "C:\\Temp\\Tools\\tool.exe";  // 18 suffixes of 5 bytes or more
  const std::string vendor = "C:\\Program Files\\Some Vendor\\Temp\\Sub\\tool.exe";  // 42
  for (size_t length = 5; length <= vendor.size(); ++length) {
    AddOneValueRule("suffix " + std::to_string(length), image,
                    "*" + vendor.substr(vendor.size() - length));
  }
  for (size_t length = 5; length <= common.size(); ++length) {
    AddOneValueRule("common suffix " + std::to_string(length), image,
                    "*" + common.substr(common.size() - length));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_EQ(matcher->stats().lazy_patterns, 2u);
  auto scratch = matcher->NewScratch();
  auto run = [&](const std::string& image_text, int events_to_match) {
    const uint64_t remembered_before = matcher->counters(*scratch).lazy_remembered;
    for (int i = 0; i < events_to_match; ++i) {
      events.Start();
      events.Add(command_line, "tool --go-on-and-on");
      events.Add(image, image_text);
      // Its own suffixes, those the two names share (5 to 9 bytes), and the temp rule.
      EXPECT_EQ(Both(*matcher, *scratch).size(), image_text == common ? 18u + 5 + 1 : 42u + 5 + 1);
    }
    return matcher->counters(*scratch).lazy_remembered - remembered_before;
  };
  EXPECT_EQ(run(common, 100), 2u * 99);  // both, in all but the first event
  EXPECT_EQ(run(vendor, 100), 0u);   // 42 patterns or more fired: not remembered
}

TEST_F(MatcherTest, ManyLazyDecisionsAreRememberedWithTheirValue) {
  // "Execution of Suspicious File Type Extension" tests an image against twenty-odd filters.
  // Each is decided once per image and read back after that, not only the first few.
  {
    RuleMaker r("tool outside twenty folders");
    r.Map({{command_line, {Str(command_line, "* --go-on-and-on")}}});
    std::vector<Predicate> folders;
    for (int k = 0; k < 20; ++k)
      folders.push_back(Str(image, "*\\folder" + std::to_string(k) + "\\\\*"));
    r.Map({{image, folders}});
    Add(r.Finish(And({Sel(0), Not(Sel(1))})));
  }
  AddOneValueRule("image looked up", image, "*\\nothing-here.exe");
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_EQ(matcher->stats().lazy_patterns, 20u);
  auto scratch = matcher->NewScratch();
  for (int i = 0; i < 100; ++i) {
    events.Start();
    events.Add(command_line, "tool --go-on-and-on");
    events.Add(image, "C:\\Temp\\tool.exe");
    EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));
  }
  EXPECT_EQ(matcher->counters(*scratch).lazy_remembered, 20u * 99);
}

TEST_F(MatcherTest, TriggersAreChosenAgainFromWhatFires) {
  // By the literals the long parent suffix looks like the rarer trigger; on these events it
  // fires every time and the image suffix almost never, so after the first few thousand events
  // the rule is triggered by the image instead, and evaluated only when that fires. A second
  // rule has one possible trigger and keeps it. Results agree with the plain evaluator
  // throughout.
  const event::FieldId parent = catalog.Intern("ParentImage");
  {
    RuleMaker r("parent and image");
    r.Map({{parent, {Str(parent, "*\\common-parent-service-host.exe")}}});
    r.Map({{image, {Str(image, "*\\rare.exe")}}});
    Add(r.Finish(And({Sel(0), Sel(1)})));
  }
  {
    RuleMaker r("parent only");
    r.Map({{parent, {Str(parent, "*\\common-parent-service-host.exe")}}});
    r.Map({{command_line, {Str(command_line, "* -x *")}}});
    Add(r.Finish(And({Sel(0), Not(Sel(1))})));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();
  auto event = [&](int i) {
    events.Start();
    events.Add(parent, "C:\\Program Files\\common-parent-service-host.exe");
    events.Add(image, i % 100 == 7 ? "C:\\Temp\\rare.exe" : "C:\\Windows\\notepad.exe");
    events.Add(command_line, i % 3 ? "notepad -x y" : "notepad");
  };
  int i = 0;
  for (; matcher->counters(*scratch).trigger_choices == 0; ++i) {
    ASSERT_LT(i, 100000) << "the triggers were never chosen again";
    event(i);
    Both(*matcher, *scratch);
  }
  EXPECT_EQ(matcher->counters(*scratch).events, static_cast<uint64_t>(i));
  const uint64_t evaluated_before = matcher->counters(*scratch).rules_evaluated;
  EXPECT_EQ(evaluated_before, 2u * i);  // both rules on every event
  int rare = 0;
  for (int k = 0; k < 1000; ++k, ++i) {
    event(i);
    std::vector<uint32_t> expected;
    if (i % 100 == 7) {
      ++rare;
      expected.push_back(0);
    }
    if (i % 3 == 0) expected.push_back(1);
    EXPECT_EQ(Both(*matcher, *scratch), expected) << "event " << i;
  }
  EXPECT_EQ(rare, 10);
  // The second rule still on every event, the first only on the ten rare images.
  EXPECT_EQ(matcher->counters(*scratch).rules_evaluated - evaluated_before, 1000u + rare);

  // Another scratch adopts the choice at its own first adaptation instead of choosing again.
  auto second = matcher->NewScratch();
  EXPECT_EQ(matcher->counters(*second).trigger_choices, 1u);
}

TEST_F(MatcherTest, ScratchesAdaptingAtOnceAllEndWithTheChoice) {
  // Threads of one scan reach their first adaptation together. One chooses; the others match
  // on with the triggers they have and adopt its choice a few hundred events later, instead
  // of waiting for it. Each thread's results agree with the plain evaluator throughout, and
  // each ends triggered as the events say (the first rule only on the rare images).
  const event::FieldId parent = catalog.Intern("ParentImage");
  {
    RuleMaker r("parent and image");
    r.Map({{parent, {Str(parent, "*\\common-parent-service-host.exe")}}});
    r.Map({{image, {Str(image, "*\\rare.exe")}}});
    Add(r.Finish(And({Sel(0), Sel(1)})));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  constexpr int THREADS = 4;
  // Past the first adaptation; a thread that found the choice under way retries every 512
  // events, however long the choosing thread was kept off a core.
  constexpr int MAX_EVENTS = 200000;
  std::atomic<int> ready{0};
  std::vector<int> disagreements(THREADS, 0);
  std::vector<uint64_t> late_evaluations(THREADS, 0);
  std::vector<uint64_t> choices(THREADS, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < THREADS; ++t) {
    threads.emplace_back([&, t] {
      auto scratch = matcher->NewScratch();
      EventMaker own{catalog};
      std::vector<uint32_t> fast, plain;
      int i = 0;
      auto next = [&] {
        own.Start();
        own.Add(parent, "C:\\Program Files\\common-parent-service-host.exe");
        own.Add(image, i % 100 == 7 ? "C:\\Temp\\rare.exe" : "C:\\Windows\\notepad.exe");
        ++i;
        fast.clear();
        plain.clear();
        matcher->Match(own.event(), *scratch, fast);
        EvaluateAll(rules, own.event(), UnrecognisedPolicy::kAllRules, plain);
        if (fast != plain) ++disagreements[t];
      };
      while (i < 4000) next();
      // All threads start their first adaptation within a few events.
      ready.fetch_add(1);
      while (ready.load() < THREADS) std::this_thread::yield();
      // Each matches on, never waiting, until it has taken a choice: its own or another's.
      while (matcher->counters(*scratch).trigger_choices == 0 && i < MAX_EVENTS) next();
      const uint64_t evaluated_before = matcher->counters(*scratch).rules_evaluated;
      for (int k = 0; k < 1000; ++k) next();
      late_evaluations[t] = matcher->counters(*scratch).rules_evaluated - evaluated_before;
      choices[t] = matcher->counters(*scratch).trigger_choices;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < THREADS; ++t) {
    EXPECT_EQ(disagreements[t], 0) << "thread " << t;
    EXPECT_GE(choices[t], 1u) << "thread " << t << " never took the choice";
    // Any thousand events hold ten rare images, and only they are evaluated once triggered.
    EXPECT_EQ(late_evaluations[t], 10u) << "thread " << t;
  }
}

TEST_F(MatcherTest, GlobsKeyedByALiteralAreDecidedOnTheValue) {
  // `7z*.exe` is keyed by `.exe`, which nearly every image name holds. The glob is decided on
  // the value when the key is found, so its rule is evaluated only for the names it matches,
  // and a name seen again is not tested again either.
  const event::FieldId original = catalog.Intern("OriginalFileName");
  {
    RuleMaker r("seven zip");
    r.Map({{original, {Str(original, "7z*.exe")}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();
  const std::vector<std::pair<const char*, Ids>> names = {
      {"svchost.exe", {}}, {"7z.exe", {0}}, {"7zG.EXE", {0}}, {"conhost.exe", {}},
      {"7z.dll", {}},      {"x7z.exe", {}}, {"svchost.exe", {}}};
  for (int round = 0; round < 3; ++round) {
    for (const auto& [name, expected] : names) {
      events.Start();
      events.Add(original, name);
      EXPECT_EQ(Both(*matcher, *scratch), expected) << name;
    }
  }
  EXPECT_EQ(matcher->counters(*scratch).rules_evaluated, 6u);  // the two 7-Zip names, 3 times
}

TEST_F(MatcherTest, HashIndicatorListsAreLookedUpNotScanned) {
  // A field whose contains-values are mostly hash indicators (Sysmon's Hashes against IOC
  // lists) is decided by the infix index; shorter values of it stay with Hyperscan.
  const event::FieldId hashes = catalog.Intern("Hashes");
  std::mt19937_64 rng(23);
  auto hex = [&](size_t length) {
    std::string out;
    for (size_t i = 0; i < length; ++i) out.push_back("0123456789ABCDEF"[rng() % 16]);
    return out;
  };
  std::vector<std::string> indicators;
  std::vector<Predicate> values;
  for (int i = 0; i < 100; ++i) {
    indicators.push_back((i % 2 ? "MD5=" : "IMPHASH=") + hex(32));
    values.push_back(Str(hashes, "*" + indicators.back() + "*"));
  }
  values.push_back(Str(hashes, "*SHA1=00*"));
  RuleMaker r("hash indicators");
  r.Map({{hashes, values}});
  Add(r.Finish(Sel(0)));
  RuleMaker other("image and hash");
  other.Map({{image, {Str(image, "*\\evil.exe")}}, {hashes, {Str(hashes, "*" + indicators[7] + "*")}}});
  Add(other.Finish(Sel(0)));
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_GE(matcher->stats().literal_patterns, 100u);
  auto scratch = matcher->NewScratch();
  auto event_with = [&](std::string hashes_value, std::string image_value = "C:\\x.exe") {
    events.Start();
    events.Add(image, std::move(image_value));
    events.Add(hashes, std::move(hashes_value));
  };
  std::string background = "SHA1=" + hex(40) + ",MD5=" + hex(32) + ",SHA256=" + hex(64);
  event_with(background);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
  // In any case, at the start, the end or the middle.
  event_with(indicators[3]);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));
  std::string lower = indicators[4];
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  event_with(background + "," + lower);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));
  event_with("SHA1=" + hex(40) + "," + indicators[7] + ",X", "D:\\evil.exe");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 1}));
  // One digit short is no match; the short value is still found.
  event_with(background + "," + indicators[9].substr(0, indicators[9].size() - 1));
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
  event_with("sha1=00ff");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));
  // The same values again: replayed from the matcher's memory of values, not rescanned.
  event_with(indicators[3]);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));
}

TEST_F(MatcherTest, NumericEqualityTriggersItsRule) {
  // `count: 4688` is looked up by value, so the rule is gated instead of evaluated on every
  // event; the lookup parses the value exactly as the predicate does.
  RuleMaker r("event id");
  r.Map({{count, {Number(count, 4688), Number(count, 0)}}});
  Add(r.Finish(Sel(0)));
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_EQ(matcher->stats().gated_rules, 1u);
  auto scratch = matcher->NewScratch();
  for (const char* text : {"4688", "4688.0", "4.688e3", "-0", "0.0"}) {
    events.Start();
    events.Add(count, text);
    EXPECT_EQ(Both(*matcher, *scratch), (Ids{0})) << text;
  }
  for (const char* text : {"4689", "0x1250", " 4688", "+4688", "4688x", ""}) {
    events.Start();
    events.Add(count, text);
    EXPECT_EQ(Both(*matcher, *scratch), (Ids{})) << text;
  }
  events.Start();
  events.Add(count, "4688", event::ValueType::kNumber);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0}));
  events.Start();
  events.Add(count, "4688", event::ValueType::kBool);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
}

TEST_F(MatcherTest, RoutesByLogsource) {
  {
    RuleMaker r("windows process", Logsource{"windows", "process_creation", ""});
    r.Map({{image, {Str(image, "*\\whoami.exe")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("linux process", Logsource{"linux", "process_creation", ""});
    r.Map({{image, {Str(image, "*whoami*")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("any windows", Logsource{"windows", "", ""});
    r.Map({{command_line, {Str(command_line, "*whoami*")}}});
    Add(r.Finish(Not(Sel(0))));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();

  auto& e = events.Start();
  events.Add(image, "C:\\Windows\\System32\\whoami.exe");
  e.logsource.recognised = true;
  e.logsource.product = "windows";
  e.logsource.AddCategory("process_creation");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 2}));

  auto& l = events.Start();
  events.Add(image, "/usr/bin/whoami");
  l.logsource.recognised = true;
  l.logsource.product = "linux";
  l.logsource.AddCategory("process_creation");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{1}));

  events.Start();  // unrecognised: every rule under kAllRules that tests what the event holds
  events.Add(image, "C:\\Windows\\System32\\whoami.exe");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 1}));

  MatcherOptions skip;
  skip.unrecognised = UnrecognisedPolicy::kSkip;
  auto skipping = Build(skip);
  ASSERT_TRUE(skipping);
  auto scratch2 = skipping->NewScratch();
  EXPECT_EQ(Both(*skipping, *scratch2, UnrecognisedPolicy::kSkip), (Ids{}));
}

// Patterns are kept apart per rule product: a Windows event neither scans the regexes of Linux
// rules on the same field nor looks up their literals (one database per product here), and
// the same glob in rules of two products is decided in each. An unrecognised event, which
// every rule applies to, runs both products' indexes of the field.
TEST_F(MatcherTest, ProductsKeepTheirPatternsApart) {
  {
    RuleMaker r("windows regex", Logsource{"windows", "process_creation", ""});
    r.Map({{command_line, {Re(command_line, "-enc(odedcommand)? [a-z0-9+/=]{20,}", true)}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("linux regex", Logsource{"linux", "process_creation", ""});
    r.Map({{command_line, {Re(command_line, "\\s-[^-\\s]{0,20}i")}}});
    Add(r.Finish(Sel(0)));
  }
  for (const char* product : {"windows", "linux"}) {
    RuleMaker r(std::string(product) + " whoami", Logsource{product, "process_creation", ""});
    r.Map({{image, {Str(image, "*whoami*")}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  EXPECT_EQ(matcher->stats().databases, 2u);
  auto scratch = matcher->NewScratch();
  auto event = [&](const char* product, const char* image_value, const char* command) {
    auto& e = events.Start();
    events.Add(image, image_value);
    events.Add(command_line, command);
    if (product != nullptr) {
      e.logsource.recognised = true;
      e.logsource.product = product;
      e.logsource.AddCategory("process_creation");
    }
  };
  const char* both = "whoami -ENC QWxhZGRpbjpvcGVuIHNlc2FtZQ== -li";
  event("windows", "C:\\Windows\\System32\\whoami.exe", both);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 2}));
  event("linux", "/usr/bin/whoami", both);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{1, 3}));
  event(nullptr, "/usr/bin/whoami", both);
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{0, 1, 2, 3}));
  event("windows", "C:\\Windows\\System32\\cmd.exe", "cmd /c dir -li");
  EXPECT_EQ(Both(*matcher, *scratch), (Ids{}));
}

// Classes registered by the mapping are routed by their id; the same content without an id,
// and a registered class changed afterwards, by their strings. All must meet the same rules
// in any order, through one scratch's route cache.
TEST_F(MatcherTest, RoutesByClassIdAsByContent) {
  {
    RuleMaker r("windows process", Logsource{"windows", "process_creation", ""});
    r.Map({{image, {Str(image, "*whoami*")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("windows network", Logsource{"windows", "network_connection", ""});
    r.Map({{image, {Str(image, "*whoami*")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("linux process", Logsource{"linux", "process_creation", ""});
    r.Map({{image, {Str(image, "*whoami*")}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();

  auto make = [](std::string_view product, std::string_view category, bool registered) {
    event::LogsourceClass cls;
    cls.recognised = true;
    cls.product = product;
    cls.AddCategory(category);
    if (registered) event::RegisterClassId(cls);
    return cls;
  };
  const event::LogsourceClass windows_process = make("windows", "process_creation", true);
  const event::LogsourceClass windows_network = make("windows", "network_connection", true);
  const event::LogsourceClass linux_process = make("linux", "process_creation", true);
  ASSERT_NE(windows_process.id, 0u);
  EXPECT_NE(windows_process.id, windows_network.id);
  EXPECT_NE(windows_process.id, linux_process.id);
  EXPECT_EQ(make("windows", "process_creation", true).id, windows_process.id);
  // Registered, then given one more category: no longer the registered content.
  event::LogsourceClass widened = windows_process;
  widened.AddCategory("network_connection");
  EXPECT_EQ(widened.id, 0u);

  struct Case {
    event::LogsourceClass cls;
    Ids expected;
  };
  const std::vector<Case> cases = {
      {windows_process, {0}},
      {make("windows", "process_creation", false), {0}},
      {windows_network, {1}},
      {linux_process, {2}},
      {make("linux", "process_creation", false), {2}},
      {widened, {0, 1}},
      {make("windows", "network_connection", false), {1}},
  };
  for (int round = 0; round < 3; ++round) {
    for (size_t k = 0; k < cases.size(); ++k) {
      // Forwards, then backwards: every entry of the cache is met from every other.
      const Case& c = cases[round == 1 ? cases.size() - 1 - k : k];
      auto& e = events.Start();
      events.Add(image, "C:\\Windows\\System32\\whoami.exe");
      e.logsource = c.cls;
      EXPECT_EQ(Both(*matcher, *scratch), c.expected) << "case " << k << " round " << round;
    }
  }
}

class MatcherCacheTest : public MatcherTest {
 protected:
  void SetUp() override {
    MatcherTest::SetUp();
    dir = std::filesystem::temp_directory_path() /
          ("yagura-matcher-cache-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir);
    RuleMaker r("cached");
    // The regex is the rule's only trigger, so it is compiled into a database (and cached).
    r.Map({{command_line, {Re(command_line, "-url(cache)?")}}});
    Add(r.Finish(Sel(0)));
    rules.content_hash = "hash-one";
    options.cache_dir = dir.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  size_t CacheFiles() const {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
      if (entry.path().extension() == ".hsdb") ++n;
    return n;
  }

  void ExpectMatches(const Matcher& matcher) {
    auto scratch = matcher.NewScratch();
    events.Start();
    events.Add(image, "C:\\Windows\\System32\\CertUtil.exe");
    events.Add(command_line, "certutil -urlcache -f http://x");
    EXPECT_EQ(Both(matcher, *scratch), (Ids{0}));
  }

  std::filesystem::path dir;
  MatcherOptions options;
};

TEST_F(MatcherCacheTest, ColdThenWarm) {
  auto cold = Build(options);
  ASSERT_TRUE(cold);
  EXPECT_FALSE(cold->stats().from_cache);
  EXPECT_TRUE(std::filesystem::exists(cold->stats().cache_file));
  EXPECT_EQ(CacheFiles(), 1u);
  ExpectMatches(*cold);

  auto warm = Build(options);
  ASSERT_TRUE(warm);
  EXPECT_TRUE(warm->stats().from_cache);
  EXPECT_EQ(warm->stats().cache_file, cold->stats().cache_file);
  ExpectMatches(*warm);
}

TEST_F(MatcherCacheTest, ChangedRulesDoNotReuseTheCache) {
  auto first = Build(options);
  ASSERT_TRUE(first);
  std::string first_file = first->stats().cache_file;

  // Same patterns, another rule set hash: the key must change.
  rules.content_hash = "hash-two";
  auto second = Build(options);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->stats().from_cache);
  EXPECT_NE(second->stats().cache_file, first_file);

  // Another compiled pattern with the same hash: the key must change too.
  rules.content_hash = "hash-one";
  rules.rules[0].predicates[0] = Re(command_line, "-urlfetch");
  auto third = Build(options);
  ASSERT_TRUE(third);
  EXPECT_FALSE(third->stats().from_cache);
  EXPECT_NE(third->stats().cache_file, first_file);
  EXPECT_EQ(CacheFiles(), 3u);
  auto scratch = third->NewScratch();
  events.Start();
  events.Add(image, "C:\\Windows\\System32\\CertUtil.exe");
  events.Add(command_line, "certutil -urlcache -f http://x");
  EXPECT_EQ(Both(*third, *scratch), (Ids{}));
}

TEST_F(MatcherCacheTest, CorruptCacheIsIgnoredAndRewritten) {
  auto first = Build(options);
  ASSERT_TRUE(first);
  std::string file = first->stats().cache_file;
  auto size = std::filesystem::file_size(file);

  for (int damage = 0; damage < 3; ++damage) {
    if (damage == 0) {
      std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(size / 2));
      char byte = 0;
      f.get(byte);
      f.seekp(static_cast<std::streamoff>(size / 2));
      f.put(static_cast<char>(byte ^ 0x5a));
    } else if (damage == 1) {
      std::filesystem::resize_file(file, size / 3);
    } else {
      std::ofstream(file, std::ios::binary | std::ios::trunc) << "not a cache";
    }
    auto rebuilt = Build(options);
    ASSERT_TRUE(rebuilt);
    EXPECT_FALSE(rebuilt->stats().from_cache) << "damage " << damage;
    ExpectMatches(*rebuilt);
    auto again = Build(options);  // the rewritten file is good again
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->stats().from_cache) << "damage " << damage;
    EXPECT_EQ(std::filesystem::file_size(file), size);
  }
}

TEST_F(MatcherTest, ThreadsWithTheirOwnScratchAgree) {
  const char* needles[] = {"alpha", "beta", "gamma", "delta", "ЭПСИЛОН"};
  for (const char* needle : needles) {
    RuleMaker r(needle);
    r.Map({{command_line, {Str(command_line, std::string("*") + needle + "*")}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto work = [&](uint64_t seed, std::vector<std::vector<uint32_t>>& results) {
    EventMaker maker(catalog);
    auto scratch = matcher->NewScratch();
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 2000; ++i) {
      maker.Start();
      std::string value;
      for (int k = 0; k < 3; ++k) value += needles[rng() % 5] + std::string(rng() % 2 ? " " : "x");
      maker.Add(command_line, value);
      std::vector<uint32_t> out;
      matcher->Match(maker.event(), *scratch, out);
      results.push_back(out);
    }
  };
  std::vector<std::vector<uint32_t>> a, b, serial_a, serial_b;
  std::thread t1(work, 1, std::ref(a)), t2(work, 2, std::ref(b));
  t1.join();
  t2.join();
  work(1, serial_a);
  work(2, serial_b);
  EXPECT_EQ(a, serial_a);
  EXPECT_EQ(b, serial_b);
}

TEST_F(MatcherTest, MatchedFieldsFromWhatTheMatcherFound) {
  // For each rule an event matched, the matched fields the matcher gives from what it found on
  // the event (fired patterns, lazy and direct predicates decided then or now, regexes
  // confirmed) are the plain evaluator's: `1 of` selections, selections of several maps,
  // lazy image tests, a regex, numbers and exists.
  {
    RuleMaker r("one of the selections");
    uint32_t a = r.Map({{image, {Str(image, "*\\tool.exe")}}});
    uint32_t b = r.Map({{command_line, {Str(command_line, "*--x*")}}, {user, {Str(user, "erin")}}});
    uint32_t c = r.Selection({{{image, {Str(image, "*temp*")}}}, {{user, {Re(user, "^adm.*")}}}});
    Add(r.Finish(Or({Sel(a), Sel(b), Sel(c)})));
  }
  {
    RuleMaker r("lazy image tests");
    uint32_t a = r.Map({{command_line, {Str(command_line, "* --go")}}});
    uint32_t b = r.Map({{image, {Str(image, "*\\temp\\\\*"), Str(image, "*\\appdata\\\\*")}}});
    uint32_t c = r.Map({{image, {Str(image, "*\\trusted\\\\*")}}});
    Add(r.Finish(And({Sel(a), Sel(b), Not(Sel(c))})));
  }
  {
    RuleMaker r("regex or image");
    uint32_t a = r.Map({{command_line, {Re(command_line, "-enc\\s+[a-z0-9]+")}}});
    uint32_t b = r.Map({{image, {Str(image, "*\\a.exe")}}});
    Add(r.Finish(Or({Sel(a), Sel(b)})));
  }
  {
    RuleMaker r("number or exists");
    uint32_t a = r.Map({{count, {Number(count, 3, CompareOp::kGt)}}});
    uint32_t b = r.Map({{user, {Exists(user)}}, {image, {Str(image, "*\\a.exe")}}});
    Add(r.Finish(Or({Sel(a), Sel(b)})));
  }
  for (Rule& rule : rules.rules) {
    for (Selection& selection : rule.selections)
      for (auto& map : selection.maps)
        for (Item& item : map) item.field_name = std::string(catalog.Name(item.field));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();
  const std::vector<std::string> images = {"C:\\x\\tool.exe", "C:\\Temp\\a.exe",
                                           "C:\\Users\\u\\AppData\\Trusted\\b.exe",
                                           "C:\\temp\\trusted\\c.exe", "C:\\y\\z.exe"};
  const std::vector<std::string> command_lines = {"a --x", "run --go", "ps -enc abc12", "none",
                                                  "ps -enc abc --go"};
  const std::vector<std::string> users = {"erin", "admin", "bob"};
  std::mt19937 rng(5);
  size_t alerts = 0, several_fields = 0;
  for (int i = 0; i < 3000; ++i) {
    events.Start();
    if (rng() % 4) events.Add(image, images[rng() % images.size()]);
    if (rng() % 4) events.Add(command_line, command_lines[rng() % command_lines.size()]);
    if (rng() % 3) events.Add(user, users[rng() % users.size()]);
    if (rng() % 3 == 0) events.Add(count, std::to_string(rng() % 6), ValueType::kNumber);
    for (uint32_t rule : Both(*matcher, *scratch)) {
      std::vector<std::string_view> found, plain;
      matcher->AppendMatchedFields(rule, events.event(), *scratch, found);
      sigma::AppendMatchedFields(rules.rules[rule], events.event(), plain);
      EXPECT_EQ(found, plain) << rules.rules[rule].info.title << " on event " << i;
      ++alerts;
      several_fields += found.size() > 1;
    }
  }
  EXPECT_GT(alerts, 1000u);
  EXPECT_GT(several_fields, 300u);
}

TEST_F(MatcherTest, MatchAllocatesNothingAfterWarmUp) {
  {
    RuleMaker r("regex and string");
    r.Map({{image, {Str(image, "*\\cmd.exe")}}, {command_line, {Re(command_line, "/c\\s+\\w+")}}});
    Add(r.Finish(Sel(0)));
  }
  {
    RuleMaker r("negated");
    r.Map({{user, {Str(user, "SYSTEM")}}});
    Add(r.Finish(Not(Sel(0))));
  }
  {
    RuleMaker r("lookahead");
    r.Map({{command_line, {Re(command_line, "who(?=ami)")}}});
    Add(r.Finish(Sel(0)));
  }
  auto matcher = Build();
  ASSERT_TRUE(matcher);
  auto scratch = matcher->NewScratch();
  auto fill = [&](int i) {
    events.Start();
    events.Add(image, i % 2 ? "C:\\Windows\\System32\\cmd.exe" : "C:\\x\\ÄÖÜ.exe");
    events.Add(command_line, i % 3 ? "cmd /c whoami" : "ärger \xE2\x84\xAA /c x");
    events.Add(user, i % 5 ? "SYSTEM" : "bob");
  };
  std::vector<uint32_t> out;
  out.reserve(64);
  for (int i = 0; i < 50; ++i) {
    fill(i);
    out.clear();
    matcher->Match(events.event(), *scratch, out);
  }
  uint64_t allocations = 0;
  for (int i = 0; i < 200; ++i) {
    fill(i);
    out.clear();
    uint64_t before = g_allocations.load();
    matcher->Match(events.event(), *scratch, out);
    allocations += g_allocations.load() - before;
  }
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace yagura::sigma
