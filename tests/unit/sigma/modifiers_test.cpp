// Each modifier, through the whole path: YAML rule text -> loaded rule -> evaluation.
#include <gtest/gtest.h>

#include "sigma/modifiers/modifier.hpp"
#include "sigma/regex.hpp"
#include "sigma/wildcard.hpp"
#include "sigma_test_util.hpp"

namespace yagura::sigma {
namespace {

using testing::RuleFixture;

#define ASSERT_LOADED(f) ASSERT_TRUE((f).Loaded()) << (f).Failures()

// The string predicates of a loaded rule, written back as Sigma strings.
std::vector<std::string> Globs(const Rule& rule) {
  std::vector<std::string> out;
  for (const Predicate& p : rule.predicates)
    if (p.kind == PredicateKind::kString) out.push_back(GlobToSigma(p.glob));
  return out;
}

TEST(Modifiers, ContainsStartsWithEndsWith) {
  RuleFixture f(R"(  sel:
    CommandLine|contains: 'whoami'
    Image|endswith: '\cmd.exe'
    ParentImage|startswith: 'C:\Windows\'
  condition: sel
)");
  ASSERT_LOADED(f);
  EXPECT_EQ(Globs(f.rule()),
            (std::vector<std::string>{"*whoami*", "*\\\\cmd.exe", "C:\\\\Windows\\\\*"}));
  EXPECT_TRUE(f.Matches({{"CommandLine", "cmd /c WHOAMI /all"},
                         {"Image", "C:\\x\\CMD.exe"},
                         {"ParentImage", "c:\\windows\\explorer.exe"}}));
  EXPECT_FALSE(f.Matches({{"CommandLine", "cmd /c WHOAMI /all"},
                          {"Image", "C:\\x\\xcmd.exe"},
                          {"ParentImage", "c:\\windows\\explorer.exe"}}));
  EXPECT_FALSE(f.Matches({{"CommandLine", "whoami"}, {"Image", "C:\\x\\cmd.exe"}}));
}

TEST(Modifiers, ContainsDoesNotDoubleExistingStars) {
  RuleFixture f("  sel:\n    A|contains: '*x*'\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_EQ(Globs(f.rule()), (std::vector<std::string>{"*x*"}));
}

TEST(Modifiers, PlainValueIsCaseInsensitiveEquality) {
  RuleFixture f("  sel:\n    User: 'SYSTEM'\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"User", "system"}}));
  EXPECT_FALSE(f.Matches({{"User", "system32"}}));
  EXPECT_FALSE(f.Matches({{"Other", "system"}}));
}

TEST(Modifiers, EscapedWildcardsInRuleValues) {
  RuleFixture f(R"(  sel:
    A: 'a\*b'
    B: '\\\\server\*'
  condition: sel
)");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"A", "a*b"}, {"B", "\\\\server*"}}));
  EXPECT_FALSE(f.Matches({{"A", "axb"}, {"B", "\\\\server*"}}));
  EXPECT_FALSE(f.Matches({{"A", "a*b"}, {"B", "\\\\serverX"}}));
}

TEST(Modifiers, ListsAreOrAndAllMakesThemAnd) {
  RuleFixture any("  sel:\n    C|contains:\n      - 'a1'\n      - 'b2'\n  condition: sel\n");
  ASSERT_LOADED(any);
  EXPECT_TRUE(any.Matches({{"C", "xx b2"}}));
  RuleFixture all("  sel:\n    C|contains|all:\n      - 'a1'\n      - 'b2'\n  condition: sel\n");
  ASSERT_LOADED(all);
  EXPECT_FALSE(all.Matches({{"C", "xx b2"}}));
  EXPECT_TRUE(all.Matches({{"C", "b2 and a1"}}));
  EXPECT_TRUE(all.rule().selections[0].maps[0][0].match_all);
}

TEST(Modifiers, Cased) {
  RuleFixture f("  sel:\n    A|cased: 'CamelCase'\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"A", "CamelCase"}}));
  EXPECT_FALSE(f.Matches({{"A", "camelcase"}}));
}

TEST(Modifiers, WindashProducesFiveVariantsPerFlagDash) {
  RuleFixture f("  sel:\n    CommandLine|contains|windash: ' -enc '\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_EQ(Globs(f.rule()), (std::vector<std::string>{"* -enc *", "* /enc *",
                                                       "* \xE2\x80\x93"
                                                       "enc *",
                                                       "* \xE2\x80\x94"
                                                       "enc *",
                                                       "* \xE2\x80\x95"
                                                       "enc *"}));
  EXPECT_TRUE(f.Matches({{"CommandLine", "powershell /ENC abc"}}));
  EXPECT_TRUE(f.Matches({{"CommandLine",
                          "powershell \xE2\x80\x94"
                          "enc abc"}}));
  EXPECT_FALSE(f.Matches({{"CommandLine", "powershell +enc abc"}}));
  // All variants of one value form one OR group.
  ASSERT_EQ(f.rule().selections[0].maps[0][0].groups.size(), 1u);
  EXPECT_EQ(f.rule().selections[0].maps[0][0].groups[0].size(), 5u);
}

TEST(Modifiers, WindashCartesianProductAndWordDashes) {
  RuleFixture f("  sel:\n    C|windash: '-a -b set-mp'\n  condition: sel\n");
  ASSERT_LOADED(f);
  auto globs = Globs(f.rule());
  EXPECT_EQ(globs.size(), 25u);  // two flag dashes; the one inside "set-mp" is kept
  EXPECT_TRUE(f.Matches({{"C",
                          "/a \xE2\x80\x93"
                          "b set-mp"}}));
  EXPECT_FALSE(f.Matches({{"C", "/a /b set/mp"}}));
  RuleFixture none("  sel:\n    C|windash: 'a-b'\n  condition: sel\n");
  ASSERT_LOADED(none);
  EXPECT_EQ(Globs(none.rule()), (std::vector<std::string>{"a-b"}));
}

// Six flag dashes: 5^6 alternatives, each kept once. (Telling them apart compared each with
// all before it, and a long value took seconds to load; found by the sigma fuzz harness.)
TEST(Modifiers, WindashWithSixFlagDashesKeepsEveryDistinctAlternative) {
  const std::string tail(600, 'x');
  RuleFixture f("  sel:\n    C|windash|contains: ' -a -b -c -d -e -f " + tail +
                "'\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_EQ(f.rule().selections[0].maps[0][0].groups[0].size(), 15'625u);
  EXPECT_TRUE(f.Matches({{"C",
                          "run /a -b \xE2\x80\x93"
                          "c /d -e /f " +
                              tail}}));
  EXPECT_FALSE(f.Matches({{"C", "run /a -b +c /d -e /f " + tail}}));
}

TEST(Modifiers, WindashUnderAllKeepsAlternativesOred) {
  RuleFixture f(R"(  sel:
    C|contains|all|windash:
      - ' -a'
      - ' -b'
  condition: sel
)");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"C", "x /a -b"}}));
  EXPECT_FALSE(f.Matches({{"C", "x /a"}}));
}

TEST(Modifiers, Base64) {
  RuleFixture f("  sel:\n    C|base64: 'foobar'\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_EQ(Globs(f.rule()), (std::vector<std::string>{"Zm9vYmFy"}));
  EXPECT_EQ(modifiers::Base64Encode("f"), "Zg==");
  EXPECT_EQ(modifiers::Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(modifiers::Base64Encode(""), "");
}

TEST(Modifiers, Base64OffsetThreeVariants) {
  EXPECT_EQ(modifiers::Base64OffsetVariants("foobar"),
            (std::vector<std::string>{"Zm9vYmFy", "Zvb2Jhc", "mb29iYX"}));
  RuleFixture f("  sel:\n    C|base64offset|contains: 'foobar'\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_EQ(Globs(f.rule()), (std::vector<std::string>{"*Zm9vYmFy*", "*Zvb2Jhc*", "*mb29iYX*"}));
  // "xfoobar" base64 = eGZvb2Jhcg== : contains the offset-1 form.
  EXPECT_TRUE(f.Matches({{"C", "powershell -e eGZvb2Jhcg=="}}));
  EXPECT_FALSE(f.Matches({{"C", "powershell -e eGZvb2Jh"}}));
}

TEST(Modifiers, Base64RejectsWildcards) {
  RuleFixture f("  sel:\n    C|base64: 'foo*'\n  condition: sel\n");
  ASSERT_FALSE(f.Loaded());
  EXPECT_NE(f.Failures().find("wildcards"), std::string::npos) << f.Failures();
}

TEST(Modifiers, Utf16Variants) {
  RuleFixture le("  sel:\n    C|utf16le: 'cmd'\n  condition: sel\n");
  ASSERT_LOADED(le);
  EXPECT_EQ(le.rule().predicates[0].glob[0].text, std::string("c\0m\0d\0", 6));
  RuleFixture be("  sel:\n    C|utf16be: 'cmd'\n  condition: sel\n");
  ASSERT_LOADED(be);
  EXPECT_EQ(be.rule().predicates[0].glob[0].text, std::string("\0c\0m\0d", 6));
  RuleFixture bom("  sel:\n    C|utf16: 'cmd'\n  condition: sel\n");
  ASSERT_LOADED(bom);
  EXPECT_EQ(bom.rule().predicates[0].glob[0].text, std::string("\xFF\xFE"
                                                               "c\0m\0d\0",
                                                               8));
  RuleFixture wide("  sel:\n    C|wide|base64offset|contains: 'ping'\n  condition: sel\n");
  ASSERT_LOADED(wide);
  auto variants = modifiers::Base64OffsetVariants(std::string("p\0i\0n\0g\0", 8));
  ASSERT_EQ(Globs(wide.rule()).size(), 3u);
  EXPECT_EQ(Globs(wide.rule())[0], "*" + variants[0] + "*");
  // "ping" in UTF-16LE base64 is cABpAG4AZwA=
  EXPECT_TRUE(wide.Matches({{"C", "-enc cABpAG4AZwA="}}));
}

TEST(Modifiers, RegexIsCaseSensitiveSearchUnlessFlagged) {
  RuleFixture f("  sel:\n    C|re: 'ab+c'\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"C", "xxabbbcxx"}}));  // unanchored
  EXPECT_FALSE(f.Matches({{"C", "ABC"}}));
  RuleFixture i("  sel:\n    C|re|i: '^ab+c$'\n  condition: sel\n");
  ASSERT_LOADED(i);
  EXPECT_TRUE(i.Matches({{"C", "ABC"}}));
  RuleFixture alias("  sel:\n    C|re|ignorecase: 'abc'\n  condition: sel\n");
  ASSERT_LOADED(alias);
  EXPECT_TRUE(alias.Matches({{"C", "xABC"}}));
  RuleFixture inline_flag("  sel:\n    C|re: '(?i)abc'\n  condition: sel\n");
  ASSERT_LOADED(inline_flag);
  EXPECT_TRUE(inline_flag.Matches({{"C", "ABC"}}));
}

TEST(Modifiers, RegexMultilineAndDotall) {
  RuleFixture plain("  sel:\n    C|re: '^b$'\n  condition: sel\n");
  ASSERT_LOADED(plain);
  EXPECT_FALSE(plain.Matches({{"C", "a\nb\nc"}}));
  RuleFixture m("  sel:\n    C|re|m: '^b$'\n  condition: sel\n");
  ASSERT_LOADED(m);
  EXPECT_TRUE(m.Matches({{"C", "a\nb\nc"}}));
  RuleFixture nodot("  sel:\n    C|re: 'a.b'\n  condition: sel\n");
  ASSERT_LOADED(nodot);
  EXPECT_FALSE(nodot.Matches({{"C", "a\nb"}}));
  RuleFixture s("  sel:\n    C|re|s: 'a.b'\n  condition: sel\n");
  ASSERT_LOADED(s);
  EXPECT_TRUE(s.Matches({{"C", "a\nb"}}));
  RuleFixture dotall("  sel:\n    C|re|dotall|multiline: 'a.b$'\n  condition: sel\n");
  ASSERT_LOADED(dotall);
  EXPECT_TRUE(dotall.Matches({{"C", "a\nb\nc"}}));
}

TEST(Modifiers, RegexFallsBackToPcreForLookarounds) {
  RuleFixture f("  sel:\n    C|re: 'foo(?!bar)'\n  condition: sel\n");
  ASSERT_LOADED(f);
  ASSERT_TRUE(f.rule().predicates[0].regex->uses_pcre());
  EXPECT_TRUE(f.Matches({{"C", "foobaz"}}));
  EXPECT_FALSE(f.Matches({{"C", "foobar"}}));
  RuleFixture backref("  sel:\n    C|re|i: '(ab)\\1'\n  condition: sel\n");
  ASSERT_LOADED(backref);
  EXPECT_TRUE(backref.Matches({{"C", "xABab"}}));
}

TEST(Modifiers, RegexErrors) {
  RuleFixture bad("  sel:\n    C|re: 'a(b'\n  condition: sel\n");
  EXPECT_FALSE(bad.Loaded());
  EXPECT_NE(bad.Failures().find("invalid regular expression"), std::string::npos);
  RuleFixture flag("  sel:\n    C|i: 'a'\n  condition: sel\n");
  EXPECT_FALSE(flag.Loaded());
  EXPECT_NE(flag.Failures().find("must follow 're'"), std::string::npos);
  RuleFixture late("  sel:\n    C|contains|re: 'a'\n  condition: sel\n");
  EXPECT_FALSE(late.Loaded());
}

TEST(Modifiers, CidrV4AndV6) {
  RuleFixture f(R"(  sel:
    DestinationIp|cidr:
      - '10.0.0.0/8'
      - '192.168.1.0/24'
      - 'fe80::/10'
  condition: sel
)");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"DestinationIp", "10.1.2.3"}}));
  EXPECT_TRUE(f.Matches({{"DestinationIp", "192.168.1.255"}}));
  EXPECT_FALSE(f.Matches({{"DestinationIp", "192.168.2.1"}}));
  EXPECT_FALSE(f.Matches({{"DestinationIp", "11.0.0.1"}}));
  EXPECT_TRUE(f.Matches({{"DestinationIp", "fe80::1%eth0"}}));
  EXPECT_TRUE(f.Matches({{"DestinationIp", "FEBF:ffff::1"}}));
  EXPECT_FALSE(f.Matches({{"DestinationIp", "fec0::1"}}));
  EXPECT_TRUE(f.Matches({{"DestinationIp", "::ffff:10.9.8.7"}}));  // v4-mapped
  EXPECT_FALSE(f.Matches({{"DestinationIp", "not an ip"}}));
  EXPECT_FALSE(f.Matches({{"DestinationIp", "10.1.2"}}));
  EXPECT_FALSE(f.Matches({{"DestinationIp", "10.1.2.3.4"}}));
  EXPECT_FALSE(f.Matches({{"DestinationIp", "10.1.2.256"}}));
}

TEST(Modifiers, CidrRejectsHostBitsAndBadNetworks) {
  for (const char* bad :
       {"192.168.1.1/24", "10.0.0.0/33", "::1/129", "fe80::1/10", "x/8", "10.0.0.0/"}) {
    RuleFixture f(std::string("  sel:\n    Ip|cidr: '") + bad + "'\n  condition: sel\n");
    EXPECT_FALSE(f.Loaded()) << bad;
  }
  auto host = modifiers::ParseCidr("2001:db8::1");
  ASSERT_TRUE(host.has_value());
  EXPECT_EQ(host->prefix, 128);
  EXPECT_TRUE(host->v6);
  RuleFixture order("  sel:\n    Ip|contains|cidr: '10.0.0.0/8'\n  condition: sel\n");
  EXPECT_FALSE(order.Loaded());
}

TEST(Modifiers, NumericComparisons) {
  RuleFixture f(R"(  sel:
    Count|gt: 10
    Size|lte: 2.5
  condition: sel
)");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"Count", "11"}, {"Size", "2.5"}}));
  EXPECT_FALSE(f.Matches({{"Count", "10"}, {"Size", "2.5"}}));
  EXPECT_FALSE(f.Matches({{"Count", "11"}, {"Size", "2.51"}}));
  EXPECT_FALSE(f.Matches({{"Count", "eleven"}, {"Size", "1"}}));
  EXPECT_FALSE(f.Matches({{"Count", "0x20"}, {"Size", "1"}}));  // decimal only
  EXPECT_TRUE(f.Matches({{"Count", "1e3"}, {"Size", "-4"}}));
  RuleFixture gte("  sel:\n    N|gte: 5\n  condition: sel\n");
  ASSERT_LOADED(gte);
  EXPECT_TRUE(gte.Matches({{"N", "5"}}));
  RuleFixture lt("  sel:\n    N|lt: 5\n  condition: sel\n");
  ASSERT_LOADED(lt);
  EXPECT_TRUE(lt.Matches({{"N", "4.99"}}));
  EXPECT_FALSE(lt.Matches({{"N", "5"}}));
  RuleFixture str("  sel:\n    N|gt: '5'\n  condition: sel\n");
  EXPECT_FALSE(str.Loaded()) << "numeric comparisons reject strings";
}

TEST(Modifiers, PlainNumbersMatchNumerically) {
  RuleFixture f("  sel:\n    EventID: 4624\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_EQ(f.rule().predicates[0].kind, PredicateKind::kNumber);
  EXPECT_TRUE(f.Matches({{"EventID", "4624"}}));
  f.builder().Clear().Add("EventID", "4624", event::ValueType::kNumber);
  EXPECT_TRUE(EvaluateRule(f.rule(), f.builder().event()));
  EXPECT_TRUE(f.Matches({{"EventID", "4624.0"}}));
  EXPECT_FALSE(f.Matches({{"EventID", "4625"}}));
  EXPECT_FALSE(f.Matches({{"EventID", "x4624"}}));
  // A quoted number is a string: matched as text.
  RuleFixture quoted("  sel:\n    EventID: '4624'\n  condition: sel\n");
  ASSERT_LOADED(quoted);
  EXPECT_EQ(quoted.rule().predicates[0].kind, PredicateKind::kString);
  EXPECT_FALSE(quoted.Matches({{"EventID", "4624.0"}}));
  EXPECT_TRUE(quoted.Matches({{"EventID", "4624"}}));
  // A number under a string modifier is its text.
  RuleFixture contains("  sel:\n    EventID|contains: 46\n  condition: sel\n");
  ASSERT_LOADED(contains);
  EXPECT_TRUE(contains.Matches({{"EventID", "4624"}}));
}

TEST(Modifiers, Booleans) {
  RuleFixture f("  sel:\n    Signed: true\n  condition: sel\n");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"Signed", "true"}}));
  EXPECT_TRUE(f.Matches({{"Signed", "TRUE"}}));
  EXPECT_FALSE(f.Matches({{"Signed", "false"}}));
  f.builder().Clear().Add("Signed", "true", event::ValueType::kBool);
  EXPECT_TRUE(EvaluateRule(f.rule(), f.builder().event()));
}

TEST(Modifiers, Exists) {
  RuleFixture yes("  sel:\n    Hashes|exists: true\n  condition: sel\n");
  ASSERT_LOADED(yes);
  EXPECT_TRUE(yes.Matches({{"Hashes", ""}}));
  EXPECT_FALSE(yes.Matches({{"Other", "x"}}));
  yes.builder().Clear().Add("Hashes", "", event::ValueType::kNull);
  EXPECT_TRUE(EvaluateRule(yes.rule(), yes.builder().event()));
  RuleFixture no("  sel:\n    Hashes|exists: false\n  condition: sel\n");
  ASSERT_LOADED(no);
  EXPECT_FALSE(no.Matches({{"Hashes", "x"}}));
  EXPECT_TRUE(no.Matches({{"Other", "x"}}));
  RuleFixture bad("  sel:\n    Hashes|exists: 'yes'\n  condition: sel\n");
  EXPECT_FALSE(bad.Loaded());
  RuleFixture combined("  sel:\n    Hashes|exists|contains: true\n  condition: sel\n");
  EXPECT_FALSE(combined.Loaded());
}

TEST(Modifiers, NeqNegatesTheItemSoAbsentFieldsMatch) {
  RuleFixture f(R"(  sel:
    Image|endswith: '\cmd.exe'
    User|neq:
      - 'SYSTEM'
      - 'LOCAL SERVICE'
  condition: sel
)");
  ASSERT_LOADED(f);
  EXPECT_TRUE(f.Matches({{"Image", "C:\\cmd.exe"}, {"User", "alice"}}));
  EXPECT_FALSE(f.Matches({{"Image", "C:\\cmd.exe"}, {"User", "system"}}));
  EXPECT_FALSE(f.Matches({{"Image", "C:\\cmd.exe"}, {"User", "local service"}}));
  EXPECT_TRUE(f.Matches({{"Image", "C:\\cmd.exe"}}));  // absent field: neq holds
  RuleFixture number("  sel:\n    EventID|neq: 4624\n  condition: sel\n");
  ASSERT_LOADED(number);
  EXPECT_TRUE(number.Matches({{"EventID", "4625"}}));
  EXPECT_FALSE(number.Matches({{"EventID", "4624"}}));
}

TEST(Modifiers, FieldRef) {
  RuleFixture eq("  sel:\n    TargetUserName|fieldref: SubjectUserName\n  condition: sel\n");
  ASSERT_LOADED(eq);
  EXPECT_TRUE(eq.Matches({{"TargetUserName", "Alice"}, {"SubjectUserName", "alice"}}));
  EXPECT_FALSE(eq.Matches({{"TargetUserName", "alice"}, {"SubjectUserName", "bob"}}));
  EXPECT_FALSE(eq.Matches({{"TargetUserName", "alice"}}));
  // The referenced field is one of the rule's fields.
  EXPECT_EQ(eq.rule().fields.size(), 2u);
  RuleFixture ends("  sel:\n    Image|fieldref|endswith: OriginalFileName\n  condition: sel\n");
  ASSERT_LOADED(ends);
  EXPECT_TRUE(
      ends.Matches({{"Image", "C:\\Tools\\PSEXEC.exe"}, {"OriginalFileName", "psexec.exe"}}));
  EXPECT_FALSE(
      ends.Matches({{"Image", "C:\\Tools\\psexec.exe.bak"}, {"OriginalFileName", "psexec.exe"}}));
  RuleFixture contains("  sel:\n    A|fieldref|contains: B\n  condition: sel\n");
  ASSERT_LOADED(contains);
  EXPECT_TRUE(contains.Matches({{"A", "xxHELLOxx"}, {"B", "hello"}}));
  RuleFixture starts("  sel:\n    A|fieldref|startswith: B\n  condition: sel\n");
  ASSERT_LOADED(starts);
  EXPECT_TRUE(starts.Matches({{"A", "hello world"}, {"B", "HELLO"}}));
  EXPECT_FALSE(starts.Matches({{"A", "say hello"}, {"B", "hello"}}));
  RuleFixture neq("  sel:\n    A|fieldref|neq: B\n  condition: sel\n");
  ASSERT_LOADED(neq);
  EXPECT_TRUE(neq.Matches({{"A", "x"}, {"B", "y"}}));
  EXPECT_FALSE(neq.Matches({{"A", "x"}, {"B", "x"}}));
  RuleFixture wildcard("  sel:\n    A|fieldref: 'B*'\n  condition: sel\n");
  EXPECT_FALSE(wildcard.Loaded());
}

TEST(Modifiers, ExpandSubstitutesPlaceholders) {
  LoadOptions options;
  options.placeholders["Admins"] = {"adm_*", "root"};
  options.placeholders["Domain"] = {"CORP", "LAB"};
  RuleFixture f("  sel:\n    User|expand: '%Domain%/%Admins%'\n  condition: sel\n", options);
  ASSERT_LOADED(f);
  EXPECT_EQ(Globs(f.rule()),
            (std::vector<std::string>{"CORP/adm_*", "CORP/root", "LAB/adm_*", "LAB/root"}));
  EXPECT_TRUE(f.Matches({{"User", "lab/adm_bob"}}));
  EXPECT_FALSE(f.Matches({{"User", "lab/bob"}}));
  // Sigma escaping runs first: `\%` is an escaped percent sign, not a placeholder start.
  RuleFixture escaped("  sel:\n    User|expand: '%Domain%\\%Admins%'\n  condition: sel\n", options);
  ASSERT_LOADED(escaped);
  EXPECT_TRUE(escaped.Matches({{"User", "corp%Admins%"}}));
  RuleFixture percent("  sel:\n    C|expand: '100\\% %Domain%'\n  condition: sel\n", options);
  ASSERT_LOADED(percent);
  EXPECT_TRUE(percent.Matches({{"C", "100% corp"}}));
  RuleFixture contains("  sel:\n    C|contains|expand: '%Domain%'\n  condition: sel\n", options);
  ASSERT_LOADED(contains);
  EXPECT_TRUE(contains.Matches({{"C", "in LAB today"}}));
}

TEST(Modifiers, ExpandRefusesUnresolvedPlaceholders) {
  RuleFixture f("  sel:\n    User|expand: '%Nope%'\n  condition: sel\n");
  ASSERT_FALSE(f.Loaded());
  EXPECT_NE(f.Failures().find("placeholder '%Nope%' has no configured values"), std::string::npos)
      << f.Failures();
}

TEST(Modifiers, TimeParts) {
  RuleFixture hour("  sel:\n    UtcTime|hour|gte: 22\n  condition: sel\n");
  ASSERT_LOADED(hour);
  EXPECT_TRUE(hour.Matches({{"UtcTime", "2024-03-05 23:10:00.123"}}));
  EXPECT_FALSE(hour.Matches({{"UtcTime", "2024-03-05T21:59:59Z"}}));
  EXPECT_FALSE(hour.Matches({{"UtcTime", "yesterday"}}));
  RuleFixture month("  sel:\n    T|month: 3\n  condition: sel\n");
  ASSERT_LOADED(month);
  EXPECT_TRUE(month.Matches({{"T", "2024-03-05"}}));
  EXPECT_FALSE(month.Matches({{"T", "2024-04-05"}}));
  int value = 0;
  ASSERT_TRUE(modifiers::ExtractTimePart("2021-01-03T10:11:12Z", TimePart::kWeek, &value));
  EXPECT_EQ(value, 53);  // ISO week: 3 Jan 2021 belongs to week 53 of 2020
  ASSERT_TRUE(modifiers::ExtractTimePart("2024-12-30", TimePart::kWeek, &value));
  EXPECT_EQ(value, 1);
  ASSERT_TRUE(modifiers::ExtractTimePart("2024-06-15T10:42:00", TimePart::kMinute, &value));
  EXPECT_EQ(value, 42);
  ASSERT_TRUE(modifiers::ExtractTimePart("2024-06-15T10:42:00", TimePart::kYear, &value));
  EXPECT_EQ(value, 2024);
  ASSERT_TRUE(modifiers::ExtractTimePart("2024-06-15T10:42:00", TimePart::kDay, &value));
  EXPECT_EQ(value, 15);
}

TEST(Modifiers, UnknownModifierFailsWithLine) {
  RuleFixture f("  sel:\n    Image|endswith: 'x'\n    CommandLine|foo: 'y'\n  condition: sel\n");
  ASSERT_FALSE(f.Loaded());
  ASSERT_EQ(f.set().failures.size(), 1u);
  EXPECT_EQ(f.set().failures[0].reason, "unknown modifier 'foo' in field 'CommandLine|foo'");
  EXPECT_EQ(f.set().failures[0].line, 9);  // 5 header lines + "detection:" + 3
}

TEST(Modifiers, EveryRegisteredModifierIsFoundByName) {
  for (const modifiers::Modifier* modifier : modifiers::AllModifiers()) {
    EXPECT_EQ(modifiers::FindModifier(modifier->name), modifier);
  }
  EXPECT_EQ(modifiers::FindModifier("Contains"), nullptr);  // names are lower case
  EXPECT_EQ(modifiers::AllModifiers().size(), 34u);
}

}  // namespace
}  // namespace yagura::sigma
