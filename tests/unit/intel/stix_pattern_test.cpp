#include "intel/stix_pattern.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace yagura::intel::stix {
namespace {

using Obs = ObservationExpression;
using Cmp = ComparisonExpression;

Pattern MustParse(std::string_view text) {
  auto pattern = ParsePattern(text);
  EXPECT_TRUE(pattern.has_value()) << text << "\n  " << pattern.error().message;
  return pattern ? std::move(*pattern) : Pattern{};
}

std::string ParseError(std::string_view text) {
  auto pattern = ParsePattern(text);
  EXPECT_FALSE(pattern.has_value()) << text << " parsed as " << ToString(*pattern);
  return pattern ? std::string() : pattern.error().message;
}

std::vector<Conjunction> MustReduce(std::string_view text) {
  auto pattern = ParsePattern(text);
  EXPECT_TRUE(pattern.has_value()) << text << "\n  " << pattern.error().message;
  if (!pattern) return {};
  auto dnf = ToIndicatorDnf(*pattern);
  EXPECT_TRUE(dnf.has_value()) << text << "\n  " << dnf.error().message;
  return dnf ? std::move(*dnf) : std::vector<Conjunction>{};
}

std::string ReduceError(std::string_view text) {
  auto pattern = ParsePattern(text);
  EXPECT_TRUE(pattern.has_value()) << text << "\n  " << pattern.error().message;
  if (!pattern) return {};
  auto dnf = ToIndicatorDnf(*pattern);
  EXPECT_FALSE(dnf.has_value()) << text << " reduced to " << dnf->size() << " conjunction(s)";
  return dnf ? std::string() : dnf.error().message;
}

std::string Describe(const Atom& atom) {
  std::string out(ToString(atom.type));
  if (atom.algorithm != HashAlgorithm::kNone) out += "/" + std::string(ToString(atom.algorithm));
  if (atom.direction == Direction::kSource) out += "/src";
  if (atom.direction == Direction::kDestination) out += "/dst";
  out += atom.negated ? " != " : " = ";
  return out + atom.value;
}

// The DNF as text: conjunctions separated by " | ", atoms by " & ".
std::string Describe(const std::vector<Conjunction>& dnf) {
  std::string out;
  for (const Conjunction& conjunction : dnf) {
    if (!out.empty()) out += " | ";
    for (size_t i = 0; i < conjunction.size(); ++i) {
      if (i > 0) out += " & ";
      out += Describe(conjunction[i]);
    }
  }
  return out;
}

std::string Reduce(std::string_view text) { return Describe(MustReduce(text)); }

// ---- Parsing --------------------------------------------------------------------------------

TEST(StixPatternTest, ParsesEverySpecificationExample) {
  const std::filesystem::path file = std::filesystem::path(YAGURA_SHARED_DIR) /
                                     "data/stix/examples/pattern/stix21-pattern-spec-examples.txt";
  std::ifstream in(file);
  if (!in) GTEST_SKIP() << "shared data not found: " << file;
  std::string line;
  int parsed = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    // The file is one pattern per line; blank lines and '#' or '//' lines would be comments.
    if (first == std::string::npos || line[first] == '#' || line.compare(first, 2, "//") == 0) {
      continue;
    }
    auto pattern = ParsePattern(line);
    ASSERT_TRUE(pattern.has_value()) << line << "\n  " << pattern.error().message;
    // The canonical text parses back to the same tree.
    const std::string canonical = ToString(*pattern);
    auto again = ParsePattern(canonical);
    ASSERT_TRUE(again.has_value()) << canonical << "\n  " << again.error().message;
    EXPECT_EQ(ToString(*again), canonical);
    ++parsed;
  }
  EXPECT_GE(parsed, 20);
}

TEST(StixPatternTest, AndBindsTighterThanOrInsideAnObservation) {
  const Pattern pattern = MustParse("[a:x = '1' OR a:y = '2' AND a:z = '3' OR a:w = '4']");
  ASSERT_EQ(pattern.root.kind, Obs::Kind::kObservation);
  const Cmp& top = pattern.root.comparison;
  ASSERT_EQ(top.kind, Cmp::Kind::kOr);
  ASSERT_EQ(top.operands.size(), 3u);
  EXPECT_EQ(top.operands[0].kind, Cmp::Kind::kComparison);
  ASSERT_EQ(top.operands[1].kind, Cmp::Kind::kAnd);
  EXPECT_EQ(top.operands[1].operands[1].comparison.path.ToString(), "a:z");
  EXPECT_EQ(top.operands[2].comparison.values[0].text, "4");
  EXPECT_EQ(ToString(pattern), "[a:x = '1' OR a:y = '2' AND a:z = '3' OR a:w = '4']");
}

TEST(StixPatternTest, ParenthesesOverridePrecedence) {
  const Pattern pattern = MustParse("[(a:x = '1' OR a:y = '2') AND a:z = '3']");
  const Cmp& top = pattern.root.comparison;
  ASSERT_EQ(top.kind, Cmp::Kind::kAnd);
  EXPECT_EQ(top.operands[0].kind, Cmp::Kind::kOr);
  EXPECT_EQ(ToString(pattern), "[(a:x = '1' OR a:y = '2') AND a:z = '3']");
}

TEST(StixPatternTest, ObservationOperatorPrecedence) {
  // AND binds tighter than OR, OR tighter than FOLLOWEDBY.
  const Pattern pattern =
      MustParse("[a:x = '1'] OR [a:y = '2'] AND [a:z = '3'] FOLLOWEDBY [a:w = '4']");
  ASSERT_EQ(pattern.root.kind, Obs::Kind::kFollowedBy);
  ASSERT_EQ(pattern.root.operands.size(), 2u);
  const Obs& left = pattern.root.operands[0];
  ASSERT_EQ(left.kind, Obs::Kind::kOr);
  EXPECT_EQ(left.operands[0].kind, Obs::Kind::kObservation);
  EXPECT_EQ(left.operands[1].kind, Obs::Kind::kAnd);
  EXPECT_EQ(pattern.root.operands[1].kind, Obs::Kind::kObservation);
  EXPECT_EQ(ToString(pattern), "[a:x = '1'] OR [a:y = '2'] AND [a:z = '3'] FOLLOWEDBY [a:w = '4']");
  // Parentheses that group like operators are kept, so the tree survives a round trip.
  EXPECT_EQ(ToString(MustParse("[a:x = '1'] OR ([a:y = '2'] OR [a:z = '3'])")),
            "[a:x = '1'] OR ([a:y = '2'] OR [a:z = '3'])");
  EXPECT_EQ(ToString(MustParse("([a:x = '1'] OR [a:y = '2']) AND [a:z = '3']")),
            "([a:x = '1'] OR [a:y = '2']) AND [a:z = '3']");
}

TEST(StixPatternTest, QualifiersAttachInOrder) {
  const Pattern pattern = MustParse(
      "[network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS");
  ASSERT_EQ(pattern.root.qualifiers.size(), 2u);
  EXPECT_EQ(pattern.root.qualifiers[0].kind, Qualifier::Kind::kRepeats);
  EXPECT_EQ(pattern.root.qualifiers[0].times, 5);
  EXPECT_EQ(pattern.root.qualifiers[1].kind, Qualifier::Kind::kWithin);
  EXPECT_DOUBLE_EQ(pattern.root.qualifiers[1].seconds, 1800);

  const Pattern grouped = MustParse(
      "([a:x = '1'] AND [a:y = '2']) WITHIN 2.5 SECONDS START t'2016-06-01T00:00:00Z' "
      "STOP t'2016-07-01T00:00:00.5Z'");
  ASSERT_EQ(grouped.root.kind, Obs::Kind::kAnd);
  ASSERT_EQ(grouped.root.qualifiers.size(), 2u);
  EXPECT_DOUBLE_EQ(grouped.root.qualifiers[0].seconds, 2.5);
  const Qualifier& window = grouped.root.qualifiers[1];
  EXPECT_EQ(window.kind, Qualifier::Kind::kStartStop);
  EXPECT_EQ(window.start.timestamp_ms, 1464739200000);
  EXPECT_EQ(window.stop.timestamp_ms, 1467331200500);
  EXPECT_EQ(ToString(grouped),
            "([a:x = '1'] AND [a:y = '2']) WITHIN 2.5 SECONDS START t'2016-06-01T00:00:00Z' "
            "STOP t'2016-07-01T00:00:00.5Z'");
}

TEST(StixPatternTest, Literals) {
  const Pattern pattern = MustParse(
      "[x:a = 'it\\'s a \\\\ back' AND x:b = -12 AND x:c = +7 AND x:d > -.5 AND x:e = true AND "
      "x:f = false AND x:g = t'2014-01-13T07:03:17Z' AND x:h = h'ffD8' AND x:i = b'AAEC/+==' AND "
      "x:j = 0 AND x:k <= 3.25]");
  const auto& operands = pattern.root.comparison.operands;
  ASSERT_EQ(operands.size(), 11u);
  const auto value = [&](size_t i) -> const Literal& { return operands[i].comparison.values[0]; };
  EXPECT_EQ(value(0).kind, LiteralKind::kString);
  EXPECT_EQ(value(0).text, "it's a \\ back");
  EXPECT_EQ(value(1).kind, LiteralKind::kInteger);
  EXPECT_EQ(value(1).integer, -12);
  EXPECT_EQ(value(2).integer, 7);
  EXPECT_EQ(value(3).kind, LiteralKind::kFloat);
  EXPECT_DOUBLE_EQ(value(3).number, -0.5);
  EXPECT_EQ(operands[3].comparison.op, ComparisonOperator::kGreater);
  EXPECT_EQ(value(4).kind, LiteralKind::kBoolean);
  EXPECT_TRUE(value(4).boolean);
  EXPECT_FALSE(value(5).boolean);
  EXPECT_EQ(value(6).kind, LiteralKind::kTimestamp);
  EXPECT_EQ(value(6).timestamp_ms, 1389596597000);
  EXPECT_EQ(value(7).kind, LiteralKind::kHex);
  EXPECT_EQ(value(7).text, "ffD8");
  EXPECT_EQ(value(8).kind, LiteralKind::kBinary);
  EXPECT_EQ(value(8).text, "AAEC/+==");
  EXPECT_EQ(value(9).integer, 0);
  EXPECT_EQ(operands[10].comparison.op, ComparisonOperator::kLessEqual);
  EXPECT_EQ(value(0).offset, 7u);
  // Round trip keeps the escapes.
  EXPECT_EQ(ToString(MustParse(ToString(pattern))), ToString(pattern));
}

TEST(StixPatternTest, EveryOperator) {
  const Pattern pattern = MustParse(
      "[x:a = 'v' AND x:a == 'v' AND x:a != 'v' AND x:a <> 'v' AND x:a < 1 AND x:a <= 1 AND "
      "x:a > 1 AND x:a >= 1 AND x:a IN ('p', 2, true) AND x:a IN () AND x:a LIKE 'p%' AND "
      "x:a MATCHES '^p' AND x:a ISSUBSET '10.0.0.0/8' AND x:a ISSUPERSET '10.0.0.0/8' AND "
      "EXISTS x:a AND NOT EXISTS x:b AND x:a NOT = 'v' AND x:a NOT IN ('q')]");
  const std::vector<ComparisonOperator> expected = {
      ComparisonOperator::kEqual,    ComparisonOperator::kEqual,
      ComparisonOperator::kNotEqual, ComparisonOperator::kNotEqual,
      ComparisonOperator::kLess,     ComparisonOperator::kLessEqual,
      ComparisonOperator::kGreater,  ComparisonOperator::kGreaterEqual,
      ComparisonOperator::kIn,       ComparisonOperator::kIn,
      ComparisonOperator::kLike,     ComparisonOperator::kMatches,
      ComparisonOperator::kIsSubset, ComparisonOperator::kIsSuperset,
      ComparisonOperator::kExists,   ComparisonOperator::kExists,
      ComparisonOperator::kEqual,    ComparisonOperator::kIn};
  const auto& operands = pattern.root.comparison.operands;
  ASSERT_EQ(operands.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(operands[i].comparison.op, expected[i]) << i;
  }
  EXPECT_EQ(operands[8].comparison.values.size(), 3u);
  EXPECT_TRUE(operands[9].comparison.values.empty());
  EXPECT_FALSE(operands[14].comparison.negated);
  EXPECT_TRUE(operands[15].comparison.negated);
  EXPECT_EQ(operands[15].comparison.path.ToString(), "x:b");
  EXPECT_TRUE(operands[16].comparison.negated);
  EXPECT_TRUE(operands[17].comparison.negated);
  EXPECT_EQ(ToString(MustParse(ToString(pattern))), ToString(pattern));
}

TEST(StixPatternTest, ObjectPaths) {
  const Pattern pattern = MustParse(
      "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0 AND "
      "email-message:body_multipart[0].body_raw_ref.name = 'a' AND x-custom:'odd key'[-1] = 'b' "
      "AND file:hashes.'SHA-256' = 'c']");
  const auto& operands = pattern.root.comparison.operands;
  const ObjectPath& pe = operands[0].comparison.path;
  EXPECT_EQ(pe.object_type, "file");
  ASSERT_EQ(pe.steps.size(), 5u);
  EXPECT_EQ(pe.steps[1].key, "windows-pebinary-ext");
  EXPECT_EQ(pe.steps[3].kind, PathStep::Kind::kAnyIndex);
  EXPECT_EQ(pe.ToString(), "file:extensions.'windows-pebinary-ext'.sections[*].entropy");
  const ObjectPath& multipart = operands[1].comparison.path;
  EXPECT_EQ(multipart.steps[1].kind, PathStep::Kind::kIndex);
  EXPECT_EQ(multipart.steps[1].index, 0);
  const ObjectPath& custom = operands[2].comparison.path;
  EXPECT_EQ(custom.object_type, "x-custom");
  EXPECT_EQ(custom.steps[0].key, "odd key");
  EXPECT_EQ(custom.steps[1].index, -1);
  EXPECT_EQ(custom.ToString(), "x-custom:'odd key'[-1]");
  EXPECT_EQ(operands[3].comparison.path.steps[1].key, "SHA-256");
}

TEST(StixPatternTest, WhitespaceAndComments) {
  const Pattern pattern = MustParse(
      "/* leading */ [ file:name\t=\n'a.exe' // to the end of the line\n ]\xC2\xA0OR"
      "\xE3\x80\x80[file:name = 'b.exe']");
  EXPECT_EQ(pattern.root.kind, Obs::Kind::kOr);
  EXPECT_EQ(ToString(pattern), "[file:name = 'a.exe'] OR [file:name = 'b.exe']");
  // No whitespace needed between a keyword and a string (a specification example does this).
  EXPECT_EQ(MustParse("[x:a MATCHES'^b$']").root.comparison.comparison.values[0].text, "^b$");
}

TEST(StixPatternTest, LoneBackslashesAreKeptLiterally) {
  const Pattern pattern = MustParse("[domain-name:value MATCHES '^evil\\.com$']");
  EXPECT_EQ(pattern.root.comparison.comparison.values[0].text, "^evil\\.com$");
}

TEST(StixPatternTest, ErrorsNameTheOffset) {
  struct Case {
    std::string pattern;
    std::string expected;  // a substring of the message
  };
  const std::vector<Case> cases = {
      {"", "at offset 0: empty pattern"},
      {"   ", "at offset 0: empty pattern"},
      {"[file:name = 'a'", "at offset 16: expected AND, OR or ']'"},
      {"[file:name = 'a']]", "at offset 17: expected AND, OR, FOLLOWEDBY"},
      {"[file:hashes.SHA-256 = 'x']", "at offset 13: property name 'SHA-256' contains '-'"},
      {"[file:name = 'abc]", "at offset 13: unterminated string"},
      {"[file:size = 007]", "at offset 13: integer with a leading zero"},
      {"[file:x = t'2014-13-01T00:00:00Z']", "at offset 10: invalid timestamp"},
      {"[file:x = t'2014-02-30T00:00:00Z']", "at offset 10: invalid timestamp"},
      {"[file:x = t'2014-01-01T00:00:00+01:00']", "at offset 10: invalid timestamp"},
      {"[file:x = h'abc']", "at offset 10: invalid hex"},
      {"[file:x = b'abc']", "at offset 10: invalid base64"},
      {"[file:name > true]", "at offset 13: expected an orderable literal after >"},
      {"[file:name LIKE 5]", "at offset 16: expected a 'string' after LIKE"},
      {"[file:name IN ('a' 'b')]", "at offset 19: expected ',' or ')'"},
      {"[file:name IN 'a']", "at offset 14: expected '(' starting the set"},
      {"[a:b = 'x'] WITHIN -5 SECONDS", "at offset 19: expected a positive number"},
      {"[a:b = 'x'] WITHIN 5", "at offset 20: expected SECONDS"},
      {"[a:b = 'x'] REPEATS 1.5 TIMES", "at offset 20: expected a positive integer"},
      {"[a:b = 'x'] START t'2016-06-01T00:00:00Z'", "at offset 41: expected STOP"},
      {"[a:b = 'x'] START '2016'", "at offset 18: expected t'timestamp'"},
      {"[a:b NOT 'x']", "at offset 9: expected a comparison operator after a:b"},
      {"[NOT a:b = 'x']", "at offset 5: expected EXISTS"},
      {"[a:b = 'x' AND]", "at offset 14: expected an object path"},
      {"[a:b = 'x'] AND", "at offset 15: expected '[' or '('"},
      {"[a:b = 'x'] & [c:d = 'y']", "at offset 12: unexpected character '&'"},
      {"[a:b = 'x'] /* no end", "at offset 12: unterminated comment"},
      {"file:name = 'a'", "at offset 0: expected '[' or '('"},
      {"[a = 'x']", "at offset 3: expected ':' after the object type"},
      {"[a:b = ]", "at offset 7: expected a literal"},
      {"[a:b[x] = 'y']", "at offset 5: expected an integer or '*'"},
      {"([a:b = 'x']", "at offset 12: expected ')' closing the '(' at offset 0"},
      {"[a:b = 99999999999999999999]", "at offset 7: integer out of range"},
      {"[a:b = 'x'] OR [a:b = 'y' LAST 5]", "at offset 26"},
  };
  for (const Case& c : cases) {
    const std::string message = ParseError(c.pattern);
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << c.pattern << "\n  got:      " << message << "\n  expected: " << c.expected;
  }
}

TEST(StixPatternTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  deep += "[a:b = 'c']";
  deep += std::string(5000, ')');
  EXPECT_NE(ParseError(deep).find("nested more than"), std::string::npos);
  std::string fine(50, '(');
  fine += "[a:b = 'c']" + std::string(50, ')');
  EXPECT_EQ(MustParse(fine).root.kind, Obs::Kind::kObservation);
}

TEST(StixPatternTest, EveryPrefixOfTheExamplesFailsCleanly) {
  // Truncated patterns are errors whose offset lies inside the text; nothing crashes.
  const std::vector<std::string> patterns = {
      "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
      "[win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
      "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = "
      "'example.com'] REPEATS 5 TIMES WITHIN 1800 SECONDS",
      "[x:a IN ('b', -1, +.5, true, t'2014-01-13T07:03:17.123Z', h'00ff', b'AAEC') AND "
      "NOT EXISTS x:'q'[*].r[-2] AND x:s NOT LIKE 'x%'] START t'2016-06-01T00:00:00Z' STOP "
      "t'2016-07-01T00:00:00Z'",
  };
  for (const std::string& full : patterns) {
    ASSERT_TRUE(ParsePattern(full).has_value()) << full;
    for (size_t length = 0; length < full.size(); ++length) {
      const std::string prefix = full.substr(0, length);
      auto pattern = ParsePattern(prefix);
      if (pattern) continue;  // e.g. a prefix that ends before a qualifier
      const std::string& message = pattern.error().message;
      ASSERT_EQ(message.rfind("at offset ", 0), 0u) << message;
      const size_t offset = std::stoul(message.substr(10));
      EXPECT_LE(offset, length) << prefix << "\n  " << message;
    }
  }
}

// ---- Reduction to atoms ---------------------------------------------------------------------

TEST(StixPatternDnfTest, SimpleObservables) {
  EXPECT_EQ(Reduce("[ipv4-addr:value = '198.51.100.1']"), "ipv4 = 198.51.100.1");
  EXPECT_EQ(Reduce("[ipv4-addr:value = '223.166.0.0/15']"), "ipv4 = 223.166.0.0/15");
  EXPECT_EQ(Reduce("[ipv6-addr:value = '2001:db8::1']"), "ipv6 = 2001:db8::1");
  EXPECT_EQ(Reduce("[domain-name:value = 'evil.example']"), "domain = evil.example");
  EXPECT_EQ(Reduce("[url:value = 'http://example.com/foo']"), "url = http://example.com/foo");
  EXPECT_EQ(Reduce("[file:name = 'evil.exe']"), "file-name = evil.exe");
  EXPECT_EQ(Reduce("[process:name = 'a.exe'] OR [process:image_ref.name = 'b.exe'] OR "
                   "[process:binary_ref.name = 'c.exe']"),
            "process-name = a.exe | process-name = b.exe | process-name = c.exe");
  EXPECT_EQ(Reduce("[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\Evil']"),
            "registry-key = HKEY_CURRENT_USER\\Software\\Evil");
  EXPECT_EQ(Reduce("[email-addr:value = 'a@example.com'] OR "
                   "[email-message:from_ref.value = 'b@example.com'] OR "
                   "[email-message:sender_ref.value = 'c@example.com']"),
            "email = a@example.com | email = b@example.com | email = c@example.com");
  EXPECT_EQ(Reduce("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
                   " = 'EvilBot/1.0']"),
            "user-agent = EvilBot/1.0");
}

TEST(StixPatternDnfTest, HashesOfEveryAlgorithm) {
  EXPECT_EQ(Reduce("[file:hashes.MD5 = 'a'] OR [file:hashes.md5 = 'b'] OR "
                   "[file:hashes.'SHA-1' = 'c'] OR [file:hashes.'SHA-256' = 'd'] OR "
                   "[file:hashes.SHA256 = 'e'] OR [file:hashes.'SHA-512' = 'f'] OR "
                   "[file:hashes.'SHA3-256' = 'g'] OR [file:hashes.'SHA3-512' = 'h'] OR "
                   "[file:hashes.SSDEEP = 'i'] OR [file:hashes.TLSH = 'j']"),
            "hash/MD5 = a | hash/MD5 = b | hash/SHA-1 = c | hash/SHA-256 = d | hash/SHA-256 = e"
            " | hash/SHA-512 = f | hash/SHA3-256 = g | hash/SHA3-512 = h | hash/SSDEEP = i"
            " | hash/TLSH = j");
  EXPECT_EQ(Reduce("[artifact:hashes.'SHA-256' = 'a'] OR [x509-certificate:hashes.'SHA-1' = 'b']"
                   " OR [process:image_ref.hashes.MD5 = 'c']"),
            "hash/SHA-256 = a | hash/SHA-1 = b | hash/MD5 = c");
  EXPECT_NE(ReduceError("[file:hashes.'WHIRLPOOL' = 'a']").find("WHIRLPOOL"), std::string::npos);
}

TEST(StixPatternDnfTest, DistributesAndOverOr) {
  EXPECT_EQ(Reduce("[domain-name:value = 'a.com' OR domain-name:value = 'b.com']"),
            "domain = a.com | domain = b.com");
  EXPECT_EQ(Reduce("[(network-traffic:dst_ref.value = '192.0.2.1' OR "
                   "network-traffic:dst_ref.value = '2001:db8::1') AND "
                   "(network-traffic:dst_port = 443 OR network-traffic:dst_port = '8443')]"),
            "ipv4/dst = 192.0.2.1 & port/dst = 443 | ipv4/dst = 192.0.2.1 & port/dst = 8443 | "
            "ipv6/dst = 2001:db8::1 & port/dst = 443 | ipv6/dst = 2001:db8::1 & port/dst = 8443");
  EXPECT_EQ(Reduce("[network-traffic:src_ref.value = '10.0.0.1' AND "
                   "network-traffic:src_port = 4444]"),
            "ipv4/src = 10.0.0.1 & port/src = 4444");
  // Observations joined by OR each contribute their own conjunctions.
  EXPECT_EQ(Reduce("[file:name = 'a' AND file:hashes.MD5 = 'b'] OR [url:value = 'http://c/']"),
            "file-name = a & hash/MD5 = b | url = http://c/");
  // A repeated atom is kept once.
  EXPECT_EQ(Reduce("[file:name = 'a' AND file:name = 'a']"), "file-name = a");
}

TEST(StixPatternDnfTest, InNegationLikeAndMatches) {
  EXPECT_EQ(Reduce("[domain-name:value IN ('a.com', 'b.com', 'c.com')]"),
            "domain = a.com | domain = b.com | domain = c.com");
  EXPECT_EQ(Reduce("[domain-name:value LIKE 'exact.com']"), "domain = exact.com");
  EXPECT_EQ(Reduce("[domain-name:value MATCHES '^exact\\\\.com$']"), "domain = exact.com");
  EXPECT_EQ(Reduce("[domain-name:value MATCHES '^exact\\.com$']"), "domain = exact.com");
  EXPECT_EQ(Reduce("[file:name = 'x.exe' AND file:hashes.MD5 != 'a']"),
            "file-name = x.exe & hash/MD5 != a");
  EXPECT_EQ(Reduce("[file:name = 'x.exe' AND file:hashes.MD5 NOT = 'a']"),
            "file-name = x.exe & hash/MD5 != a");
  EXPECT_EQ(Reduce("[file:name NOT != 'x.exe']"), "file-name = x.exe");
  EXPECT_EQ(Reduce("[file:name = 'x.exe' AND file:hashes.MD5 NOT IN ('a', 'b')]"),
            "file-name = x.exe & hash/MD5 != a & hash/MD5 != b");
  EXPECT_EQ(Reduce("[ipv4-addr:value ISSUBSET '198.51.100.0/24']"), "ipv4 = 198.51.100.0/24");
  EXPECT_EQ(Reduce("[network-traffic:dst_ref.value ISSUBSET "
                   "'2001:0db8:dead:beef:0000:0000:0000:0000/64']"),
            "ipv6/dst = 2001:0db8:dead:beef:0000:0000:0000:0000/64");

  EXPECT_NE(ReduceError("[file:name != 'x.exe']").find("only negated"), std::string::npos);
  EXPECT_NE(ReduceError("[network-traffic:dst_port = 443]").find("ports"), std::string::npos);
  EXPECT_NE(ReduceError("[domain-name:value LIKE '%.evil.com']").find("LIKE"), std::string::npos);
  EXPECT_NE(ReduceError("[file:name LIKE 'a_b.exe']").find("wildcards"), std::string::npos);
  EXPECT_NE(ReduceError("[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$']")
                .find("MATCHES on email-message:from_ref.value"),
            std::string::npos);
  EXPECT_NE(ReduceError("[domain-name:value MATCHES '^a.com$']").find("MATCHES"),
            std::string::npos);
  EXPECT_NE(ReduceError("[file:name ISSUBSET 'a']").find("ISSUBSET"), std::string::npos);
  EXPECT_NE(ReduceError("[domain-name:value IN ()]").find("empty set"), std::string::npos);
}

TEST(StixPatternDnfTest, NetworkTrafficReferenceType) {
  // The specification's example: the type check decides the address type and is then implied.
  EXPECT_EQ(Reduce("[network-traffic:dst_ref.type = 'ipv4-addr' AND "
                   "network-traffic:dst_ref.value = '203.0.113.33/32']"),
            "ipv4/dst = 203.0.113.33/32");
  EXPECT_EQ(Reduce("[network-traffic:dst_ref.type = 'domain-name' AND "
                   "network-traffic:dst_ref.value = 'example.com']"),
            "domain/dst = example.com");
  EXPECT_EQ(Reduce("[network-traffic:src_ref.value = 'example.com']"), "domain/src = example.com");
  EXPECT_NE(ReduceError("[network-traffic:dst_ref.type = 'ipv4-addr']").find("without a value"),
            std::string::npos);
  EXPECT_NE(ReduceError("[network-traffic:dst_ref.type = 'mac-addr' AND "
                        "network-traffic:dst_ref.value = '00:11:22:33:44:55']")
                .find("mac-addr"),
            std::string::npos);
}

TEST(StixPatternDnfTest, NotIndexableNamesTheReason) {
  EXPECT_NE(ReduceError("[file:name = 'a'] FOLLOWEDBY [file:name = 'b']").find("FOLLOWEDBY"),
            std::string::npos);
  EXPECT_NE(ReduceError("[file:name = 'a'] WITHIN 5 SECONDS").find("WITHIN"), std::string::npos);
  EXPECT_NE(ReduceError("[file:name = 'a'] REPEATS 2 TIMES").find("REPEATS"), std::string::npos);
  EXPECT_NE(ReduceError("[file:name = 'a'] START t'2016-01-01T00:00:00Z' STOP "
                        "t'2017-01-01T00:00:00Z'")
                .find("START/STOP"),
            std::string::npos);
  EXPECT_NE(ReduceError("[file:name = 'a'] AND [file:name = 'b']").find("AND"), std::string::npos);
  // Qualifiers inside an OR branch are not silently dropped either.
  EXPECT_NE(ReduceError("[file:name = 'a'] OR [file:name = 'b'] WITHIN 5 SECONDS").find("WITHIN"),
            std::string::npos);
  // An AND term on an unknown path would widen the indicator if dropped: the whole pattern fails.
  EXPECT_NE(ReduceError("[file:hashes.MD5 = 'a' AND file:mime_type = 'application/x-pdf']")
                .find("file:mime_type"),
            std::string::npos);
  EXPECT_NE(ReduceError("[file:size > 5]").find("object path file:size"), std::string::npos);
  EXPECT_NE(ReduceError("[file:name > 'a']").find("> on file:name"), std::string::npos);
  EXPECT_NE(ReduceError("[EXISTS file:name]").find("EXISTS"), std::string::npos);
  EXPECT_NE(ReduceError("[ipv4-addr:value ISSUPERSET '10.0.0.0/8']").find("ISSUPERSET"),
            std::string::npos);
  EXPECT_NE(ReduceError("[ipv4-addr:value = 1]").find("needs a string value, not an integer"),
            std::string::npos);
  EXPECT_NE(ReduceError("[network-traffic:dst_ref.value = '10.0.0.1' AND "
                        "network-traffic:dst_port = 70000]")
                .find("port number"),
            std::string::npos);
  EXPECT_NE(ReduceError("[file:hashes[0] = 'a']").find("file:hashes[0]"), std::string::npos);
}

TEST(StixPatternDnfTest, ExpansionIsCapped) {
  const auto pairs = [](int n) {
    std::string text = "[";
    for (int i = 0; i < n; ++i) {
      if (i > 0) text += " AND ";
      text +=
          "(file:name = 'a" + std::to_string(i) + "' OR file:name = 'b" + std::to_string(i) + "')";
    }
    return text + "]";
  };
  EXPECT_EQ(MustReduce(pairs(8)).size(), 256u);
  EXPECT_NE(ReduceError(pairs(9)).find("more than 256 conjunctions"), std::string::npos);
  EXPECT_NE(ReduceError(pairs(30)).find("more than 256 conjunctions"), std::string::npos);
}

TEST(StixPatternDnfTest, SpecificationExamples) {
  // Examples from the specification that are checkable on one event, and some that are not.
  EXPECT_EQ(Reduce("[file:hashes.'SHA-256' = "
                   "'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']"),
            "hash/SHA-256 = aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f");
  EXPECT_EQ(
      Reduce("[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']"),
      "url = http://example.com/foo | url = http://example.com/bar");
  EXPECT_EQ(Reduce("[windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\CryptoLocker"
                   "\\\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\\\Software\\\\"
                   "Microsoft\\\\CurrentVersion\\\\Run\\\\CryptoLocker_0388']"),
            "registry-key = HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files | registry-key = "
            "HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388");
  EXPECT_FALSE(ReduceError("([file:name = 'foo.dll'] AND [win-registry-key:key = "
                           "'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'fooproc' OR "
                           "process:name = 'procfoo']")
                   .empty());
}

// ---- Timestamps -----------------------------------------------------------------------------

TEST(StixTimestampTest, Rfc3339) {
  EXPECT_EQ(ParseTimestampMs("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestampMs("2016-05-12T08:17:27.000Z"), 1463041047000);
  EXPECT_EQ(ParseTimestampMs("2014-05-08T09:00:00.000000Z"), 1399539600000);
  EXPECT_EQ(ParseTimestampMs("2026-01-01T09:30:00+09:30"), 1767225600000);
  EXPECT_EQ(ParseTimestampMs("2000-02-29T12:00:00-05:00"), 951843600000);
  EXPECT_EQ(ParseTimestampMs("2024-02-29T23:59:59.999Z"), 1709251199999);
  EXPECT_EQ(ParseTimestampMs("2024-02-29t23:59:59.9999999z"), 1709251199999);
  EXPECT_EQ(ParseTimestampMs("2024-02-29 23:59:59.5Z"), 1709251199500);
  EXPECT_EQ(ParseTimestampMs("2024-02-29T23:59:59.12Z"), 1709251199120);
  EXPECT_EQ(ParseTimestampMs("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(ParseTimestampMs("1600-03-01T00:00:00Z"), -11670912000000);
  EXPECT_EQ(ParseTimestampMs("9999-12-31T23:59:59Z"), 253402300799000);
  EXPECT_EQ(ParseTimestampMs("2016-12-31T23:59:60Z"), 1483228800000);  // leap second

  for (const char* bad :
       {"", "2016-05-12", "2016-05-12T08:17:27", "2016-05-12T08:17:27.Z", "2016-05-12T08:17Z",
        "2016-13-01T00:00:00Z", "2016-00-01T00:00:00Z", "2016-04-31T00:00:00Z",
        "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2016-05-12T24:00:00Z",
        "2016-05-12T08:60:00Z", "2016-05-12T08:00:61Z", "2016-05-12T08:00:00+0900",
        "2016-05-12T08:00:00+24:00", "2016-05-12T08:00:00Zjunk", "16-05-12T08:00:00Z",
        "2016/05/12T08:00:00Z", "2016-05-12T08:00:00.123"}) {
    EXPECT_FALSE(ParseTimestampMs(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseTimestampMs("2000-02-29T00:00:00Z").has_value());
}

}  // namespace
}  // namespace yagura::intel::stix
