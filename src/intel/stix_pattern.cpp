// STIX 2.1 pattern parser and its reduction to indicator atoms (see stix_pattern.hpp).
//
// Lexing follows the ANTLR grammar's longest-match rules: keywords are upper-case and exact,
// identifiers may contain '-' (object types) but property names may not, t'', h'' and b''
// literals are one token each and are validated when lexed, '+'/'-' belong to the number they
// prefix. The parser keeps the first error and unwinds with `false`, so error paths allocate
// nothing beyond the message. One deliberate leniency: inside a string, a backslash before any
// character other than ' and \ is kept as a literal backslash (feeds write regexes such as
// '^evil\.com$' with single backslashes; the grammar has no other meaning for them).
#include "intel/stix_pattern.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <type_traits>
#include <utility>

namespace yagura::intel::stix {
namespace {

// Nesting of parentheses/brackets allowed before a pattern is rejected: keeps the recursion of
// a hostile feed far away from the stack limit.
constexpr int MAX_DEPTH = 100;

enum class Tok : uint8_t {
  kEnd,
  kIdentifier,
  kString,
  kInteger,
  kFloat,
  kBoolean,
  kTimestamp,
  kHex,
  kBinary,
  kAnd,
  kOr,
  kNot,
  kFollowedBy,
  kLike,
  kMatches,
  kIsSuperset,
  kIsSubset,
  kExists,
  kLast,
  kIn,
  kStart,
  kStop,
  kSeconds,
  kWithin,
  kRepeats,
  kTimes,
  kEq,
  kNeq,
  kLt,
  kLe,
  kGt,
  kGe,
  kColon,
  kDot,
  kComma,
  kLParen,
  kRParen,
  kLBrack,
  kRBrack,
  kAsterisk,
};

struct Keyword {
  std::string_view text;
  Tok kind;
};
constexpr std::array<Keyword, 17> KEYWORDS = {{
    {"AND", Tok::kAnd},
    {"OR", Tok::kOr},
    {"NOT", Tok::kNot},
    {"FOLLOWEDBY", Tok::kFollowedBy},
    {"LIKE", Tok::kLike},
    {"MATCHES", Tok::kMatches},
    {"ISSUPERSET", Tok::kIsSuperset},
    {"ISSUBSET", Tok::kIsSubset},
    {"EXISTS", Tok::kExists},
    {"LAST", Tok::kLast},
    {"IN", Tok::kIn},
    {"START", Tok::kStart},
    {"STOP", Tok::kStop},
    {"SECONDS", Tok::kSeconds},
    {"WITHIN", Tok::kWithin},
    {"REPEATS", Tok::kRepeats},
    {"TIMES", Tok::kTimes},
}};

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;
  std::string_view raw;
  bool has_hyphen = false;  // identifiers
  Literal literal;          // literal kinds
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsBase64(char c) { return IsAlpha(c) || IsDigit(c) || c == '+' || c == '/'; }

std::string AtOffset(size_t offset) { return "at offset " + std::to_string(offset) + ": "; }

std::string Printable(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  static constexpr char DIGITS[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  return std::string("byte 0x") + DIGITS[byte >> 4] + DIGITS[byte & 15];
}

// Length of the whitespace character at `pos` (the grammar's WS set, UTF-8 encoded), or 0.
size_t WhitespaceLength(std::string_view text, size_t pos) {
  const auto at = [&](size_t i) -> unsigned char {
    return pos + i < text.size() ? static_cast<unsigned char>(text[pos + i]) : 0;
  };
  switch (at(0)) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '\v':
    case '\f':
      return 1;
    case 0xC2:
      return at(1) == 0x85 || at(1) == 0xA0 ? 2 : 0;
    case 0xE1:
      return at(1) == 0x9A && at(2) == 0x80 ? 3 : 0;
    case 0xE2:
      if (at(1) == 0x80 && (at(2) <= 0x8A || at(2) == 0xA8 || at(2) == 0xA9 || at(2) == 0xAF) &&
          at(2) >= 0x80) {
        return 3;
      }
      return at(1) == 0x81 && at(2) == 0x9F ? 3 : 0;
    case 0xE3:
      return at(1) == 0x80 && at(2) == 0x80 ? 3 : 0;
    default:
      return 0;
  }
}

bool IsTwoDigits(std::string_view s, size_t pos) {
  return pos + 1 < s.size() && IsDigit(s[pos]) && IsDigit(s[pos + 1]);
}
int TwoDigits(std::string_view s, size_t pos) { return (s[pos] - '0') * 10 + (s[pos + 1] - '0'); }

// Days from 1970-01-01 to the given proleptic Gregorian date. Counts in 400-year eras starting
// on March 1st, so the leap day is the last day of its era-year and needs no special case.
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : DAYS[month - 1];
}

// The grammar's TimestampLiteral body: exactly YYYY-MM-DDTHH:MM:SS[.fff]Z.
bool IsStrictStixTimestamp(std::string_view s) {
  if (s.size() < 20) return false;
  for (size_t i : {0, 1, 2, 3}) {
    if (!IsDigit(s[i])) return false;
  }
  if (s[4] != '-' || !IsTwoDigits(s, 5) || s[7] != '-' || !IsTwoDigits(s, 8) || s[10] != 'T' ||
      !IsTwoDigits(s, 11) || s[13] != ':' || !IsTwoDigits(s, 14) || s[16] != ':' ||
      !IsTwoDigits(s, 17)) {
    return false;
  }
  size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const size_t digits = pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    if (pos == digits) return false;
  }
  return pos + 1 == s.size() && s[pos] == 'Z';
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // All tokens, ending with kEnd; or the first lexical error.
  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpaceAndComments();
      if (!error_.empty()) return Fail(error_);
      Token token;
      token.offset = pos_;
      if (pos_ >= text_.size()) {
        tokens.push_back(std::move(token));
        return tokens;
      }
      if (!Lex(token)) return Fail(error_);
      token.raw = text_.substr(token.offset, pos_ - token.offset);
      tokens.push_back(std::move(token));
    }
  }

 private:
  bool Error(size_t offset, std::string message) {
    error_ = AtOffset(offset) + std::move(message);
    return false;
  }

  [[nodiscard]] char At(size_t pos) const { return pos < text_.size() ? text_[pos] : '\0'; }

  void SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      if (const size_t length = WhitespaceLength(text_, pos_)) {
        pos_ += length;
      } else if (At(pos_) == '/' && At(pos_ + 1) == '*') {
        const size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          Error(pos_, "unterminated comment");
          return;
        }
        pos_ = end + 2;
      } else if (At(pos_) == '/' && At(pos_ + 1) == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      } else {
        return;
      }
    }
  }

  bool Lex(Token& token) {
    const char c = text_[pos_];
    const char next = At(pos_ + 1);
    if ((c == 't' || c == 'h' || c == 'b') && next == '\'') return LexTyped(token, c);
    if (IsAlpha(c) || c == '_') return LexWord(token);
    if (c == '\'') {
      token.kind = Tok::kString;
      token.literal.kind = LiteralKind::kString;
      token.literal.offset = pos_;
      return LexString(token.literal.text);
    }
    if (IsDigit(c) || (c == '.' && IsDigit(next)) ||
        ((c == '+' || c == '-') && (IsDigit(next) || (next == '.' && IsDigit(At(pos_ + 2)))))) {
      return LexNumber(token);
    }
    const auto single = [&](Tok kind, size_t length = 1) {
      token.kind = kind;
      pos_ += length;
      return true;
    };
    switch (c) {
      case '=':
        return single(Tok::kEq, next == '=' ? 2 : 1);
      case '!':
        if (next == '=') return single(Tok::kNeq, 2);
        break;
      case '<':
        if (next == '>') return single(Tok::kNeq, 2);
        if (next == '=') return single(Tok::kLe, 2);
        return single(Tok::kLt);
      case '>':
        return next == '=' ? single(Tok::kGe, 2) : single(Tok::kGt);
      case ':':
        return single(Tok::kColon);
      case '.':
        return single(Tok::kDot);
      case ',':
        return single(Tok::kComma);
      case '(':
        return single(Tok::kLParen);
      case ')':
        return single(Tok::kRParen);
      case '[':
        return single(Tok::kLBrack);
      case ']':
        return single(Tok::kRBrack);
      case '*':
        return single(Tok::kAsterisk);
      default:
        break;
    }
    return Error(pos_, "unexpected character " + Printable(c));
  }

  bool LexWord(Token& token) {
    const size_t start = pos_;
    while (pos_ < text_.size() && (IsAlpha(text_[pos_]) || IsDigit(text_[pos_]) ||
                                   text_[pos_] == '_' || text_[pos_] == '-')) {
      token.has_hyphen |= text_[pos_] == '-';
      ++pos_;
    }
    const std::string_view word = text_.substr(start, pos_ - start);
    if (word == "true" || word == "false") {
      token.kind = Tok::kBoolean;
      token.literal.kind = LiteralKind::kBoolean;
      token.literal.boolean = word == "true";
      token.literal.text = word;
      token.literal.offset = start;
      return true;
    }
    token.kind = Tok::kIdentifier;
    for (const Keyword& keyword : KEYWORDS) {
      if (keyword.text == word) token.kind = keyword.kind;
    }
    return true;
  }

  // After the opening quote; appends the unescaped text and consumes the closing quote.
  bool LexString(std::string& out) {
    const size_t start = pos_;
    ++pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\'') {
        ++pos_;
        return true;
      }
      if (c == '\\' && (At(pos_ + 1) == '\'' || At(pos_ + 1) == '\\')) {
        out += text_[pos_ + 1];
        pos_ += 2;
        continue;
      }
      out += c;
      ++pos_;
    }
    return Error(start, "unterminated string literal");
  }

  bool LexTyped(Token& token, char prefix) {
    const size_t start = pos_;
    const size_t body = pos_ + 2;
    const size_t close = text_.find('\'', body);
    if (close == std::string_view::npos) return Error(start, "unterminated literal");
    const std::string_view content = text_.substr(body, close - body);
    pos_ = close + 1;
    Literal& literal = token.literal;
    literal.offset = start;
    literal.text = content;
    if (prefix == 't') {
      token.kind = Tok::kTimestamp;
      literal.kind = LiteralKind::kTimestamp;
      const auto ms = ParseTimestampMs(content);
      if (!IsStrictStixTimestamp(content) || !ms) {
        return Error(start, "invalid timestamp literal t'" + std::string(content) +
                                "' (expected t'YYYY-MM-DDTHH:MM:SS[.s]Z')");
      }
      literal.timestamp_ms = *ms;
      return true;
    }
    if (prefix == 'h') {
      token.kind = Tok::kHex;
      literal.kind = LiteralKind::kHex;
      if (content.size() % 2 != 0 || !std::all_of(content.begin(), content.end(), IsHex)) {
        return Error(start, "invalid hex literal (expected pairs of hex digits)");
      }
      return true;
    }
    token.kind = Tok::kBinary;
    literal.kind = LiteralKind::kBinary;
    // Groups of four base64 characters, the last one possibly padded with '=' or '=='.
    size_t data = content.size();
    if (content.ends_with("==")) {
      data -= 2;
    } else if (content.ends_with("=")) {
      data -= 1;
    }
    const bool valid = !content.empty() && content.size() % 4 == 0 &&
                       std::all_of(content.begin(), content.begin() + data, IsBase64);
    if (!valid) return Error(start, "invalid base64 literal");
    return true;
  }

  bool LexNumber(Token& token) {
    const size_t start = pos_;
    bool negative = false;
    if (text_[pos_] == '+' || text_[pos_] == '-') {
      negative = text_[pos_] == '-';
      ++pos_;
    }
    const size_t int_start = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    const size_t int_end = pos_;
    Literal& literal = token.literal;
    literal.offset = start;
    if (At(pos_) == '.' && IsDigit(At(pos_ + 1))) {
      ++pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      token.kind = Tok::kFloat;
      literal.kind = LiteralKind::kFloat;
      literal.text = (negative ? "-" : "") + std::string(text_.substr(int_start, pos_ - int_start));
      literal.number = std::strtod(literal.text.c_str(), nullptr);
      return true;
    }
    if (int_end - int_start > 1 && text_[int_start] == '0') {
      return Error(start, "integer with a leading zero");
    }
    token.kind = Tok::kInteger;
    literal.kind = LiteralKind::kInteger;
    literal.text =
        (negative ? "-" : "") + std::string(text_.substr(int_start, int_end - int_start));
    const auto [end, ec] = std::from_chars(
        literal.text.data(), literal.text.data() + literal.text.size(), literal.integer);
    if (ec != std::errc()) return Error(start, "integer out of range");
    literal.number = static_cast<double>(literal.integer);
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

std::string Describe(const Token& token) {
  if (token.kind == Tok::kEnd) return "end of pattern";
  std::string_view raw = token.raw;
  if (raw.size() > 40) return "'" + std::string(raw.substr(0, 37)) + "...'";
  return "'" + std::string(raw) + "'";
}

bool IsKeyword(std::string_view word) {
  return word == "true" || word == "false" ||
         std::any_of(KEYWORDS.begin(), KEYWORDS.end(),
                     [&](const Keyword& k) { return k.text == word; });
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Pattern> Run() {
    Pattern pattern;
    if (Peek().kind == Tok::kEnd) return Fail(AtOffset(0) + "empty pattern");
    if (!ParseFollowedBy(pattern.root, 0)) return Fail(error_);
    if (Peek().kind != Tok::kEnd) {
      Error(Peek(), "expected AND, OR, FOLLOWEDBY or a qualifier, found " + Describe(Peek()));
      return Fail(error_);
    }
    return pattern;
  }

 private:
  [[nodiscard]] const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(next_ + ahead, tokens_.size() - 1)];
  }
  const Token& Take() {
    const Token& token = tokens_[next_];
    if (next_ + 1 < tokens_.size()) ++next_;
    return token;
  }
  bool Accept(Tok kind) {
    if (Peek().kind != kind) return false;
    Take();
    return true;
  }
  bool Error(const Token& token, std::string message) {
    if (error_.empty()) error_ = AtOffset(token.offset) + std::move(message);
    return false;
  }
  bool Expect(Tok kind, std::string_view what) {
    if (Accept(kind)) return true;
    return Error(Peek(), "expected " + std::string(what) + ", found " + Describe(Peek()));
  }
  bool CheckDepth(int depth) {
    if (depth <= MAX_DEPTH) return true;
    return Error(Peek(), "nested more than " + std::to_string(MAX_DEPTH) + " levels deep");
  }

  // Parses `Operand (op Operand)*` into one n-ary node of `kind` (or the lone operand).
  template <typename Node, typename Kind, typename ParseOperand>
  bool ParseChain(Node& out, Tok op, Kind kind, ParseOperand parse_operand) {
    if (!parse_operand(out)) return false;
    if (Peek().kind != op) return true;
    Node chain;
    chain.kind = kind;
    if constexpr (std::is_same_v<Node, ObservationExpression>) chain.offset = out.offset;
    chain.operands.push_back(std::move(out));
    while (Accept(op)) {
      Node operand;
      if (!parse_operand(operand)) return false;
      chain.operands.push_back(std::move(operand));
    }
    out = std::move(chain);
    return true;
  }

  bool ParseFollowedBy(ObservationExpression& out, int depth) {
    return ParseChain(out, Tok::kFollowedBy, ObservationExpression::Kind::kFollowedBy,
                      [&](ObservationExpression& operand) { return ParseObsOr(operand, depth); });
  }
  bool ParseObsOr(ObservationExpression& out, int depth) {
    return ParseChain(out, Tok::kOr, ObservationExpression::Kind::kOr,
                      [&](ObservationExpression& operand) { return ParseObsAnd(operand, depth); });
  }
  bool ParseObsAnd(ObservationExpression& out, int depth) {
    return ParseChain(
        out, Tok::kAnd, ObservationExpression::Kind::kAnd,
        [&](ObservationExpression& operand) { return ParseObservation(operand, depth); });
  }

  bool ParseObservation(ObservationExpression& out, int depth) {
    if (!CheckDepth(depth)) return false;
    const Token& open = Peek();
    if (open.kind == Tok::kLBrack) {
      Take();
      out.kind = ObservationExpression::Kind::kObservation;
      out.offset = open.offset;
      if (!ParseCmpOr(out.comparison, depth + 1)) return false;
      if (!Accept(Tok::kRBrack)) {
        return Error(Peek(), "expected AND, OR or ']' closing the observation opened at offset " +
                                 std::to_string(open.offset) + ", found " + Describe(Peek()));
      }
    } else if (open.kind == Tok::kLParen) {
      Take();
      if (!ParseFollowedBy(out, depth + 1)) return false;
      if (!Accept(Tok::kRParen)) {
        return Error(Peek(), "expected ')' closing the '(' at offset " +
                                 std::to_string(open.offset) + ", found " + Describe(Peek()));
      }
    } else {
      return Error(open, "expected '[' or '(' starting an observation, found " + Describe(open));
    }
    return ParseQualifiers(out);
  }

  bool ParseQualifiers(ObservationExpression& out) {
    while (true) {
      const Token& keyword = Peek();
      Qualifier qualifier;
      qualifier.offset = keyword.offset;
      if (keyword.kind == Tok::kStart) {
        Take();
        qualifier.kind = Qualifier::Kind::kStartStop;
        if (Peek().kind != Tok::kTimestamp)
          return Expect(Tok::kTimestamp, "t'timestamp' after START");
        qualifier.start = Take().literal;
        if (!Expect(Tok::kStop, "STOP")) return false;
        if (Peek().kind != Tok::kTimestamp)
          return Expect(Tok::kTimestamp, "t'timestamp' after STOP");
        qualifier.stop = Take().literal;
      } else if (keyword.kind == Tok::kWithin) {
        Take();
        qualifier.kind = Qualifier::Kind::kWithin;
        const Token& number = Peek();
        if ((number.kind != Tok::kInteger && number.kind != Tok::kFloat) ||
            number.raw.front() == '-') {
          return Error(number, "expected a positive number of seconds after WITHIN, found " +
                                   Describe(number));
        }
        Take();
        qualifier.seconds = number.literal.number;
        qualifier.seconds_text = number.literal.text;
        if (!Expect(Tok::kSeconds, "SECONDS")) return false;
      } else if (keyword.kind == Tok::kRepeats) {
        Take();
        qualifier.kind = Qualifier::Kind::kRepeats;
        const Token& number = Peek();
        if (number.kind != Tok::kInteger || number.raw.front() == '-') {
          return Error(number,
                       "expected a positive integer after REPEATS, found " + Describe(number));
        }
        Take();
        qualifier.times = number.literal.integer;
        if (!Expect(Tok::kTimes, "TIMES")) return false;
      } else {
        return true;
      }
      out.qualifiers.push_back(std::move(qualifier));
    }
  }

  bool ParseCmpOr(ComparisonExpression& out, int depth) {
    return ParseChain(out, Tok::kOr, ComparisonExpression::Kind::kOr,
                      [&](ComparisonExpression& operand) { return ParseCmpAnd(operand, depth); });
  }
  bool ParseCmpAnd(ComparisonExpression& out, int depth) {
    return ParseChain(out, Tok::kAnd, ComparisonExpression::Kind::kAnd,
                      [&](ComparisonExpression& operand) { return ParsePropTest(operand, depth); });
  }

  bool ParsePropTest(ComparisonExpression& out, int depth) {
    if (!CheckDepth(depth)) return false;
    const Token& first = Peek();
    if (first.kind == Tok::kLParen) {
      Take();
      if (!ParseCmpOr(out, depth + 1)) return false;
      if (!Accept(Tok::kRParen)) {
        return Error(Peek(), "expected ')' closing the '(' at offset " +
                                 std::to_string(first.offset) + ", found " + Describe(Peek()));
      }
      return true;
    }
    out.kind = ComparisonExpression::Kind::kComparison;
    Comparison& comparison = out.comparison;
    comparison.offset = first.offset;
    if (first.kind == Tok::kNot || first.kind == Tok::kExists) {
      comparison.negated = Accept(Tok::kNot);
      if (!Expect(Tok::kExists, "EXISTS (NOT before a comparison goes after the object path)")) {
        return false;
      }
      comparison.op = ComparisonOperator::kExists;
      return ParsePath(comparison.path);
    }
    if (!ParsePath(comparison.path)) return false;
    comparison.negated = Accept(Tok::kNot);
    const Token& op = Peek();
    switch (op.kind) {
      case Tok::kEq:
        comparison.op = ComparisonOperator::kEqual;
        break;
      case Tok::kNeq:
        comparison.op = ComparisonOperator::kNotEqual;
        break;
      case Tok::kLt:
        comparison.op = ComparisonOperator::kLess;
        break;
      case Tok::kLe:
        comparison.op = ComparisonOperator::kLessEqual;
        break;
      case Tok::kGt:
        comparison.op = ComparisonOperator::kGreater;
        break;
      case Tok::kGe:
        comparison.op = ComparisonOperator::kGreaterEqual;
        break;
      case Tok::kIn:
        comparison.op = ComparisonOperator::kIn;
        break;
      case Tok::kLike:
        comparison.op = ComparisonOperator::kLike;
        break;
      case Tok::kMatches:
        comparison.op = ComparisonOperator::kMatches;
        break;
      case Tok::kIsSubset:
        comparison.op = ComparisonOperator::kIsSubset;
        break;
      case Tok::kIsSuperset:
        comparison.op = ComparisonOperator::kIsSuperset;
        break;
      default:
        return Error(op, "expected a comparison operator after " + comparison.path.ToString() +
                             ", found " + Describe(op));
    }
    Take();
    switch (comparison.op) {
      case ComparisonOperator::kEqual:
      case ComparisonOperator::kNotEqual:
        return ParseLiteral(comparison, /*allow_bool=*/true);
      case ComparisonOperator::kLess:
      case ComparisonOperator::kLessEqual:
      case ComparisonOperator::kGreater:
      case ComparisonOperator::kGreaterEqual:
        return ParseLiteral(comparison, false);
      case ComparisonOperator::kIn:
        return ParseSet(comparison);
      default: {
        const Token& value = Peek();
        if (value.kind != Tok::kString) {
          return Error(value, "expected a 'string' after " + std::string(ToString(comparison.op)) +
                                  ", found " + Describe(value));
        }
        comparison.values.push_back(Take().literal);
        return true;
      }
    }
  }

  static bool IsLiteral(Tok kind) {
    return kind == Tok::kString || kind == Tok::kInteger || kind == Tok::kFloat ||
           kind == Tok::kBoolean || kind == Tok::kTimestamp || kind == Tok::kHex ||
           kind == Tok::kBinary;
  }

  bool ParseLiteral(Comparison& comparison, bool allow_bool) {
    const Token& value = Peek();
    if (!IsLiteral(value.kind) || (!allow_bool && value.kind == Tok::kBoolean)) {
      return Error(value, std::string("expected ") +
                              (allow_bool ? "a literal" : "an orderable literal") + " after " +
                              std::string(ToString(comparison.op)) + ", found " + Describe(value));
    }
    comparison.values.push_back(Take().literal);
    return true;
  }

  bool ParseSet(Comparison& comparison) {
    if (!Expect(Tok::kLParen, "'(' starting the set after IN")) return false;
    if (Accept(Tok::kRParen)) return true;
    do {
      if (!ParseLiteral(comparison, true)) return false;
    } while (Accept(Tok::kComma));
    return Expect(Tok::kRParen, "',' or ')' in the set");
  }

  // A property name: an identifier without '-', or a quoted string.
  bool ParseKey(std::string& key) {
    const Token& token = Peek();
    if (token.kind == Tok::kString) {
      key = Take().literal.text;
      return true;
    }
    if (token.kind != Tok::kIdentifier) {
      return Error(token, "expected a property name, found " + Describe(token));
    }
    if (token.has_hyphen) {
      return Error(token, "property name " + Describe(token) +
                              " contains '-' and must be quoted as a string");
    }
    key = Take().raw;
    return true;
  }

  bool ParsePath(ObjectPath& path) {
    const Token& type = Peek();
    path.offset = type.offset;
    if (type.kind != Tok::kIdentifier) {
      return Error(type, "expected an object path such as file:name, found " + Describe(type));
    }
    path.object_type = Take().raw;
    if (!Expect(Tok::kColon, "':' after the object type")) return false;
    PathStep first;
    if (!ParseKey(first.key)) return false;
    path.steps.push_back(std::move(first));
    while (true) {
      if (Accept(Tok::kDot)) {
        PathStep step;
        if (!ParseKey(step.key)) return false;
        path.steps.push_back(std::move(step));
      } else if (Peek().kind == Tok::kLBrack) {
        Take();
        PathStep step;
        const Token& index = Peek();
        if (index.kind == Tok::kAsterisk) {
          step.kind = PathStep::Kind::kAnyIndex;
        } else if (index.kind == Tok::kInteger) {
          step.kind = PathStep::Kind::kIndex;
          step.index = index.literal.integer;
        } else {
          return Error(index, "expected an integer or '*' as list index, found " + Describe(index));
        }
        Take();
        if (!Expect(Tok::kRBrack, "']' after the list index")) return false;
        path.steps.push_back(std::move(step));
      } else {
        return true;
      }
    }
  }

  std::vector<Token> tokens_;
  size_t next_ = 0;
  std::string error_;
};

// ---- Printing -------------------------------------------------------------------------------

bool IsPlainIdentifier(std::string_view key) {
  if (key.empty() || !(IsAlpha(key[0]) || key[0] == '_')) return false;
  for (const char c : key) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '_') return false;
  }
  return !IsKeyword(key);
}

void AppendQuoted(std::string& out, std::string_view text) {
  out += '\'';
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

void AppendLiteral(std::string& out, const Literal& literal) {
  switch (literal.kind) {
    case LiteralKind::kString:
      AppendQuoted(out, literal.text);
      return;
    case LiteralKind::kInteger:
    case LiteralKind::kFloat:
      out += literal.text;
      return;
    case LiteralKind::kBoolean:
      out += literal.boolean ? "true" : "false";
      return;
    case LiteralKind::kTimestamp:
      out += "t'" + literal.text + "'";
      return;
    case LiteralKind::kHex:
      out += "h'" + literal.text + "'";
      return;
    case LiteralKind::kBinary:
      out += "b'" + literal.text + "'";
      return;
  }
}

void AppendComparison(std::string& out, const Comparison& comparison) {
  if (comparison.op == ComparisonOperator::kExists) {
    out += comparison.negated ? "NOT EXISTS " : "EXISTS ";
    out += comparison.path.ToString();
    return;
  }
  out += comparison.path.ToString();
  if (comparison.negated) out += " NOT";
  out += ' ';
  out += ToString(comparison.op);
  out += ' ';
  if (comparison.op == ComparisonOperator::kIn) {
    out += '(';
    for (size_t i = 0; i < comparison.values.size(); ++i) {
      if (i > 0) out += ", ";
      AppendLiteral(out, comparison.values[i]);
    }
    out += ')';
    return;
  }
  AppendLiteral(out, comparison.values.front());
}

void AppendComparisonExpression(std::string& out, const ComparisonExpression& expression) {
  if (expression.kind == ComparisonExpression::Kind::kComparison) {
    AppendComparison(out, expression.comparison);
    return;
  }
  const char* joiner = expression.kind == ComparisonExpression::Kind::kAnd ? " AND " : " OR ";
  for (size_t i = 0; i < expression.operands.size(); ++i) {
    if (i > 0) out += joiner;
    const ComparisonExpression& operand = expression.operands[i];
    // Only an operand that binds no tighter than its parent needs parentheses.
    const bool parens = operand.kind != ComparisonExpression::Kind::kComparison &&
                        !(operand.kind == ComparisonExpression::Kind::kAnd &&
                          expression.kind == ComparisonExpression::Kind::kOr);
    if (parens) out += '(';
    AppendComparisonExpression(out, operand);
    if (parens) out += ')';
  }
}

// Binding strength of the observation operators: AND over OR over FOLLOWEDBY.
int Precedence(ObservationExpression::Kind kind) {
  switch (kind) {
    case ObservationExpression::Kind::kFollowedBy:
      return 1;
    case ObservationExpression::Kind::kOr:
      return 2;
    case ObservationExpression::Kind::kAnd:
      return 3;
    case ObservationExpression::Kind::kObservation:
      return 4;
  }
  return 0;
}

// `parent_precedence`: of the operator this expression is an operand of; 0 at the top.
void AppendObservation(std::string& out, const ObservationExpression& expression,
                       int parent_precedence) {
  using Kind = ObservationExpression::Kind;
  const bool compound = expression.kind != Kind::kObservation;
  const bool parens = compound && (Precedence(expression.kind) <= parent_precedence ||
                                   !expression.qualifiers.empty());
  if (parens) out += '(';
  if (!compound) {
    out += '[';
    AppendComparisonExpression(out, expression.comparison);
    out += ']';
  } else {
    const char* joiner = expression.kind == Kind::kAnd  ? " AND "
                         : expression.kind == Kind::kOr ? " OR "
                                                        : " FOLLOWEDBY ";
    for (size_t i = 0; i < expression.operands.size(); ++i) {
      if (i > 0) out += joiner;
      AppendObservation(out, expression.operands[i], Precedence(expression.kind));
    }
  }
  if (parens) out += ')';
  for (const Qualifier& qualifier : expression.qualifiers) {
    switch (qualifier.kind) {
      case Qualifier::Kind::kWithin:
        out += " WITHIN " + qualifier.seconds_text + " SECONDS";
        break;
      case Qualifier::Kind::kRepeats:
        out += " REPEATS " + std::to_string(qualifier.times) + " TIMES";
        break;
      case Qualifier::Kind::kStartStop:
        out += " START ";
        AppendLiteral(out, qualifier.start);
        out += " STOP ";
        AppendLiteral(out, qualifier.stop);
        break;
    }
  }
}

// ---- Reduction to atoms ---------------------------------------------------------------------

// One comparison as the index sees it. `type_check` marks network-traffic:<dir>_ref.type =
// '<type>', which only constrains the type of the address atom of the same direction and is
// resolved once the conjunction is complete.
struct Term {
  Atom atom;
  bool type_check = false;
};
using Terms = std::vector<Term>;
using Dnf = std::vector<Terms>;

enum class PathClass : uint8_t { kNone, kAtom, kAddressByValue, kTypeCheck };

struct PathMapping {
  PathClass path_class = PathClass::kNone;
  ObservableType type = ObservableType::kDomain;
  HashAlgorithm algorithm = HashAlgorithm::kNone;
  Direction direction = Direction::kAny;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}

Result<PathMapping> MapPath(const ObjectPath& path) {
  std::vector<std::string_view> keys;
  for (const PathStep& step : path.steps) {
    if (step.kind != PathStep::Kind::kKey)
      return Fail("object path " + path.ToString() + " is not indexable");
    keys.push_back(step.key);
  }
  const std::string_view type = path.object_type;
  const auto is = [&](std::initializer_list<std::string_view> expected) {
    return std::equal(keys.begin(), keys.end(), expected.begin(), expected.end());
  };
  PathMapping mapping;
  mapping.path_class = PathClass::kAtom;
  const auto hash = [&](std::string_view algorithm) -> Result<PathMapping> {
    const auto parsed = ParseHashAlgorithm(algorithm);
    if (!parsed) {
      return Fail("hash algorithm '" + std::string(algorithm) + "' in " + path.ToString() +
                  " is not supported");
    }
    mapping.type = ObservableType::kHash;
    mapping.algorithm = *parsed;
    return mapping;
  };
  const auto atom = [&](ObservableType observable) -> Result<PathMapping> {
    mapping.type = observable;
    return mapping;
  };
  if (is({"value"})) {
    if (type == "ipv4-addr") return atom(ObservableType::kIpv4);
    if (type == "ipv6-addr") return atom(ObservableType::kIpv6);
    if (type == "domain-name") return atom(ObservableType::kDomain);
    if (type == "url") return atom(ObservableType::kUrl);
    if (type == "email-addr") return atom(ObservableType::kEmail);
  }
  if ((type == "file" || type == "artifact" || type == "x509-certificate") && keys.size() == 2 &&
      keys[0] == "hashes") {
    return hash(keys[1]);
  }
  if (type == "file" && is({"name"})) return atom(ObservableType::kFileName);
  if (type == "process") {
    if (is({"name"}) || is({"image_ref", "name"}) || is({"binary_ref", "name"})) {
      return atom(ObservableType::kProcessName);
    }
    // The hash of the process image is the hash of a file, and is logged as such.
    if (keys.size() == 3 && (keys[0] == "image_ref" || keys[0] == "binary_ref") &&
        keys[1] == "hashes") {
      return hash(keys[2]);
    }
  }
  // "win-registry-key" is how the STIX 2.1 specification's own examples spell it.
  if ((type == "windows-registry-key" || type == "win-registry-key") && is({"key"})) {
    return atom(ObservableType::kRegistryKey);
  }
  if (type == "email-message" && (is({"from_ref", "value"}) || is({"sender_ref", "value"}))) {
    return atom(ObservableType::kEmail);
  }
  if (type == "network-traffic" && !keys.empty()) {
    if (keys.size() == 2 && (keys[0] == "src_ref" || keys[0] == "dst_ref")) {
      mapping.direction = keys[0] == "src_ref" ? Direction::kSource : Direction::kDestination;
      if (keys[1] == "value") {
        mapping.path_class = PathClass::kAddressByValue;
        return mapping;
      }
      if (keys[1] == "type") {
        mapping.path_class = PathClass::kTypeCheck;
        return mapping;
      }
    }
    if (is({"src_port"}) || is({"dst_port"})) {
      mapping.direction = keys[0] == "src_port" ? Direction::kSource : Direction::kDestination;
      return atom(ObservableType::kPort);
    }
    if (keys.size() == 4 && keys[0] == "extensions" && keys[1] == "http-request-ext" &&
        keys[2] == "request_header" && EqualsIgnoreCase(keys[3], "User-Agent")) {
      return atom(ObservableType::kUserAgent);
    }
  }
  return Fail("object path " + path.ToString() + " is not indexable");
}

std::string_view LiteralKindName(LiteralKind kind) {
  switch (kind) {
    case LiteralKind::kString:
      return "a string";
    case LiteralKind::kInteger:
      return "an integer";
    case LiteralKind::kFloat:
      return "a float";
    case LiteralKind::kBoolean:
      return "a boolean";
    case LiteralKind::kTimestamp:
      return "a timestamp";
    case LiteralKind::kHex:
      return "a hex literal";
    case LiteralKind::kBinary:
      return "a binary literal";
  }
  return "a literal";
}

bool LooksLikeIpv4(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(),
                                       [](char c) { return IsDigit(c) || c == '.' || c == '/'; });
}

// The atom one value of `mapping` stands for, after checking the literal's type.
Result<Term> MakeTerm(const PathMapping& mapping, const ObjectPath& path, const Literal& literal,
                      bool negated) {
  Term term;
  term.atom.negated = negated;
  term.atom.direction = mapping.direction;
  term.atom.algorithm = mapping.algorithm;
  term.atom.type = mapping.type;
  if (mapping.path_class == PathClass::kAtom && mapping.type == ObservableType::kPort) {
    if (literal.kind == LiteralKind::kInteger && literal.integer >= 0 && literal.integer <= 65535) {
      term.atom.value = std::to_string(literal.integer);
      return term;
    }
    if (literal.kind == LiteralKind::kString && !literal.text.empty() &&
        std::all_of(literal.text.begin(), literal.text.end(), IsDigit)) {
      term.atom.value = literal.text;
      return term;
    }
    return Fail(path.ToString() + " needs a port number, not " +
                std::string(LiteralKindName(literal.kind)) + " at offset " +
                std::to_string(literal.offset));
  }
  if (literal.kind != LiteralKind::kString) {
    return Fail(path.ToString() + " needs a string value, not " +
                std::string(LiteralKindName(literal.kind)) + " at offset " +
                std::to_string(literal.offset));
  }
  term.atom.value = literal.text;
  if (mapping.path_class == PathClass::kTypeCheck) {
    term.type_check = true;
  } else if (mapping.path_class == PathClass::kAddressByValue) {
    // The referenced object may be an ipv4-addr, ipv6-addr or domain-name; a `_ref.type`
    // comparison in the same conjunction overrides this guess.
    if (literal.text.find(':') != std::string::npos) {
      term.atom.type = ObservableType::kIpv6;
    } else if (LooksLikeIpv4(literal.text)) {
      term.atom.type = ObservableType::kIpv4;
    } else {
      term.atom.type = ObservableType::kDomain;
    }
  }
  return term;
}

// The literal a regular expression matches when it is `^literal$` with no metacharacter other
// than backslash-escaped punctuation; nullopt when it matches anything else.
std::optional<std::string> RegexAsLiteral(std::string_view regex) {
  if (regex.size() < 3 || regex.front() != '^' || regex.back() != '$') return std::nullopt;
  std::string_view body = regex.substr(1, regex.size() - 2);
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\\') {
      if (i + 1 >= body.size()) return std::nullopt;  // the '$' was escaped
      const char escaped = body[i + 1];
      const auto byte = static_cast<unsigned char>(escaped);
      if (IsAlpha(escaped) || IsDigit(escaped) || byte >= 0x80 || byte < 0x20) return std::nullopt;
      out += escaped;
      ++i;
      continue;
    }
    if (std::string_view(".^$*+?()[]{}|").find(c) != std::string_view::npos) return std::nullopt;
    out += c;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Result<Dnf> ReduceComparison(const Comparison& comparison) {
  const std::string_view op_name = ToString(comparison.op);
  auto mapping = MapPath(comparison.path);
  if (!mapping) return tl::unexpected(mapping.error());
  const auto single = [&](const Literal& literal, bool negated) -> Result<Dnf> {
    auto term = MakeTerm(*mapping, comparison.path, literal, negated);
    if (!term) return tl::unexpected(term.error());
    return Dnf{Terms{std::move(*term)}};
  };
  const auto not_indexable = [&](std::string why) -> Result<Dnf> {
    return Fail(std::string(comparison.negated ? "NOT " : "") + std::string(op_name) + " on " +
                comparison.path.ToString() + " at offset " + std::to_string(comparison.offset) +
                " is not indexable" + (why.empty() ? "" : " (" + why + ")"));
  };
  if (mapping->path_class == PathClass::kTypeCheck) {
    if (comparison.op != ComparisonOperator::kEqual || comparison.negated) return not_indexable("");
    return single(comparison.values.front(), false);
  }
  switch (comparison.op) {
    case ComparisonOperator::kEqual:
      return single(comparison.values.front(), comparison.negated);
    case ComparisonOperator::kNotEqual:
      return single(comparison.values.front(), !comparison.negated);
    case ComparisonOperator::kIn: {
      if (comparison.values.empty()) return not_indexable("empty set");
      Dnf dnf;
      if (comparison.negated) dnf.emplace_back();  // NOT IN: none of them, one conjunction
      for (const Literal& literal : comparison.values) {
        auto term = MakeTerm(*mapping, comparison.path, literal, comparison.negated);
        if (!term) return tl::unexpected(term.error());
        if (comparison.negated) {
          dnf.front().push_back(std::move(*term));
        } else {
          dnf.push_back(Terms{std::move(*term)});
        }
      }
      if (dnf.size() > MAX_CONJUNCTIONS) return not_indexable("set too large");
      return dnf;
    }
    case ComparisonOperator::kLike: {
      const Literal& literal = comparison.values.front();
      if (literal.text.find_first_of("%_") != std::string::npos) {
        return not_indexable("'%' and '_' are wildcards");
      }
      return single(literal, comparison.negated);
    }
    case ComparisonOperator::kMatches: {
      auto text = RegexAsLiteral(comparison.values.front().text);
      if (!text) return not_indexable("only ^literal$ regular expressions are");
      Literal literal = comparison.values.front();
      literal.text = std::move(*text);
      return single(literal, comparison.negated);
    }
    case ComparisonOperator::kIsSubset: {
      const bool address = mapping->path_class == PathClass::kAddressByValue ||
                           mapping->type == ObservableType::kIpv4 ||
                           mapping->type == ObservableType::kIpv6;
      if (!address) return not_indexable("ISSUBSET is indexed for addresses only");
      return single(comparison.values.front(), comparison.negated);
    }
    default:
      return not_indexable("");
  }
}

Result<Dnf> ReduceComparisonExpression(const ComparisonExpression& expression) {
  using Kind = ComparisonExpression::Kind;
  if (expression.kind == Kind::kComparison) return ReduceComparison(expression.comparison);
  Dnf result;
  if (expression.kind == Kind::kOr) {
    for (const ComparisonExpression& operand : expression.operands) {
      auto dnf = ReduceComparisonExpression(operand);
      if (!dnf) return dnf;
      if (result.size() + dnf->size() > MAX_CONJUNCTIONS) {
        return Fail("pattern expands to more than " + std::to_string(MAX_CONJUNCTIONS) +
                    " conjunctions");
      }
      for (Terms& terms : *dnf) result.push_back(std::move(terms));
    }
    return result;
  }
  // AND: the cross product of the operands' disjunctions.
  result.emplace_back();
  for (const ComparisonExpression& operand : expression.operands) {
    auto dnf = ReduceComparisonExpression(operand);
    if (!dnf) return dnf;
    if (result.size() * dnf->size() > MAX_CONJUNCTIONS) {
      return Fail("pattern expands to more than " + std::to_string(MAX_CONJUNCTIONS) +
                  " conjunctions");
    }
    Dnf product;
    product.reserve(result.size() * dnf->size());
    for (const Terms& left : result) {
      for (const Terms& right : *dnf) {
        Terms terms = left;
        terms.insert(terms.end(), right.begin(), right.end());
        product.push_back(std::move(terms));
      }
    }
    result = std::move(product);
  }
  return result;
}

bool SameAtom(const Atom& a, const Atom& b) {
  return a.type == b.type && a.algorithm == b.algorithm && a.direction == b.direction &&
         a.negated == b.negated && a.value == b.value;
}

// Applies the type checks, drops repeated atoms, and makes sure the conjunction can be looked
// up: at least one positive atom other than a port.
Result<Conjunction> ResolveConjunction(Terms terms) {
  for (const Term& check : terms) {
    if (!check.type_check) continue;
    ObservableType type;
    if (check.atom.value == "ipv4-addr") {
      type = ObservableType::kIpv4;
    } else if (check.atom.value == "ipv6-addr") {
      type = ObservableType::kIpv6;
    } else if (check.atom.value == "domain-name") {
      type = ObservableType::kDomain;
    } else {
      return Fail("network-traffic reference type '" + check.atom.value + "' is not indexable");
    }
    bool constrained = false;
    for (Term& term : terms) {
      if (term.type_check || term.atom.direction != check.atom.direction) continue;
      if (term.atom.type != ObservableType::kIpv4 && term.atom.type != ObservableType::kIpv6 &&
          term.atom.type != ObservableType::kDomain) {
        continue;
      }
      term.atom.type = type;
      constrained = true;
    }
    if (!constrained) {
      return Fail(std::string("network-traffic:") +
                  (check.atom.direction == Direction::kSource ? "src" : "dst") +
                  "_ref.type without a value to check is not indexable");
    }
  }
  Conjunction conjunction;
  for (Term& term : terms) {
    if (term.type_check) continue;
    const bool repeated = std::any_of(conjunction.begin(), conjunction.end(),
                                      [&](const Atom& atom) { return SameAtom(atom, term.atom); });
    if (!repeated) conjunction.push_back(std::move(term.atom));
  }
  const bool anchored = std::any_of(conjunction.begin(), conjunction.end(), [](const Atom& atom) {
    return !atom.negated && atom.type != ObservableType::kPort;
  });
  if (!anchored) {
    return Fail("a conjunction of only negated comparisons or ports cannot be indexed");
  }
  return conjunction;
}

Result<Dnf> ReduceObservation(const ObservationExpression& expression) {
  using Kind = ObservationExpression::Kind;
  if (!expression.qualifiers.empty()) {
    const Qualifier& qualifier = expression.qualifiers.front();
    const char* name = qualifier.kind == Qualifier::Kind::kWithin    ? "WITHIN"
                       : qualifier.kind == Qualifier::Kind::kRepeats ? "REPEATS"
                                                                     : "START/STOP";
    return Fail(std::string(name) + " qualifier at offset " + std::to_string(qualifier.offset) +
                " needs more than one event or a time window and is not indexable");
  }
  switch (expression.kind) {
    case Kind::kObservation:
      return ReduceComparisonExpression(expression.comparison);
    case Kind::kAnd:
      return Fail("observations joined by AND at offset " + std::to_string(expression.offset) +
                  " may be met by different events and are not indexable");
    case Kind::kFollowedBy:
      return Fail("FOLLOWEDBY at offset " + std::to_string(expression.offset) +
                  " needs a sequence of events and is not indexable");
    case Kind::kOr:
      break;
  }
  Dnf result;
  for (const ObservationExpression& operand : expression.operands) {
    auto dnf = ReduceObservation(operand);
    if (!dnf) return dnf;
    if (result.size() + dnf->size() > MAX_CONJUNCTIONS) {
      return Fail("pattern expands to more than " + std::to_string(MAX_CONJUNCTIONS) +
                  " conjunctions");
    }
    for (Terms& terms : *dnf) result.push_back(std::move(terms));
  }
  return result;
}

}  // namespace

std::string ObjectPath::ToString() const {
  std::string out = object_type + ":";
  for (size_t i = 0; i < steps.size(); ++i) {
    const PathStep& step = steps[i];
    switch (step.kind) {
      case PathStep::Kind::kKey:
        if (i > 0) out += '.';
        if (IsPlainIdentifier(step.key)) {
          out += step.key;
        } else {
          AppendQuoted(out, step.key);
        }
        break;
      case PathStep::Kind::kIndex:
        out += "[" + std::to_string(step.index) + "]";
        break;
      case PathStep::Kind::kAnyIndex:
        out += "[*]";
        break;
    }
  }
  return out;
}

std::string_view ToString(ComparisonOperator op) {
  switch (op) {
    case ComparisonOperator::kEqual:
      return "=";
    case ComparisonOperator::kNotEqual:
      return "!=";
    case ComparisonOperator::kLess:
      return "<";
    case ComparisonOperator::kLessEqual:
      return "<=";
    case ComparisonOperator::kGreater:
      return ">";
    case ComparisonOperator::kGreaterEqual:
      return ">=";
    case ComparisonOperator::kIn:
      return "IN";
    case ComparisonOperator::kLike:
      return "LIKE";
    case ComparisonOperator::kMatches:
      return "MATCHES";
    case ComparisonOperator::kIsSubset:
      return "ISSUBSET";
    case ComparisonOperator::kIsSuperset:
      return "ISSUPERSET";
    case ComparisonOperator::kExists:
      return "EXISTS";
  }
  return "?";
}

Result<Pattern> ParsePattern(std::string_view text) {
  auto tokens = Lexer(text).Run();
  if (!tokens) return tl::unexpected(tokens.error());
  return Parser(std::move(*tokens)).Run();
}

std::string ToString(const Pattern& pattern) {
  std::string out;
  AppendObservation(out, pattern.root, 0);
  return out;
}

Result<std::vector<Conjunction>> ToIndicatorDnf(const Pattern& pattern) {
  auto dnf = ReduceObservation(pattern.root);
  if (!dnf) return tl::unexpected(dnf.error());
  std::vector<Conjunction> out;
  out.reserve(dnf->size());
  for (Terms& terms : *dnf) {
    auto conjunction = ResolveConjunction(std::move(terms));
    if (!conjunction) return tl::unexpected(conjunction.error());
    out.push_back(std::move(*conjunction));
  }
  return out;
}

std::optional<int64_t> ParseTimestampMs(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  for (size_t i : {0, 1, 2, 3}) {
    if (!IsDigit(s[i])) return std::nullopt;
  }
  if (s[4] != '-' || !IsTwoDigits(s, 5) || s[7] != '-' || !IsTwoDigits(s, 8) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !IsTwoDigits(s, 11) || s[13] != ':' ||
      !IsTwoDigits(s, 14) || s[16] != ':' || !IsTwoDigits(s, 17)) {
    return std::nullopt;
  }
  const int64_t year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  const int month = TwoDigits(s, 5);
  const int day = TwoDigits(s, 8);
  const int hour = TwoDigits(s, 11);
  const int minute = TwoDigits(s, 14);
  const int second = TwoDigits(s, 17);
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t millis = 0;
  if (s[pos] == '.') {
    ++pos;
    const size_t digits = pos;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (pos - digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == digits) return std::nullopt;
    for (size_t n = pos - digits; n < 3; ++n) millis *= 10;
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    if (pos + 6 != s.size() || !IsTwoDigits(s, pos + 1) || s[pos + 3] != ':' ||
        !IsTwoDigits(s, pos + 4)) {
      return std::nullopt;
    }
    const int offset_hours = TwoDigits(s, pos + 1);
    const int offset_mins = TwoDigits(s, pos + 4);
    if (offset_hours > 23 || offset_mins > 59) return std::nullopt;
    offset_minutes = (offset_hours * 60 + offset_mins) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t seconds = ((days * 24 + hour) * 60 + minute) * 60 + second - offset_minutes * 60;
  return seconds * 1000 + millis;
}

}  // namespace yagura::intel::stix
