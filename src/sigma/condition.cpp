// Condition parser: a tokenizer and a recursive-descent parser (see condition.hpp).
#include "sigma/condition.hpp"

#include <cctype>

namespace yagura::sigma {

namespace {

struct Token {
  enum class Kind { kWord, kOpen, kClose, kEnd };
  Kind kind;
  std::string_view text;
};

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '*';
}

Result<std::vector<Token>> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '(') {
      tokens.push_back({Token::Kind::kOpen, text.substr(i, 1)});
      ++i;
    } else if (c == ')') {
      tokens.push_back({Token::Kind::kClose, text.substr(i, 1)});
      ++i;
    } else if (c == '|') {
      return Fail(
          "condition uses the obsolete Sigma 1 aggregation syntax ('| count() ...'); "
          "use a correlation rule instead");
    } else if (IsWordChar(c)) {
      size_t start = i;
      while (i < text.size() && IsWordChar(text[i])) ++i;
      tokens.push_back({Token::Kind::kWord, text.substr(start, i - start)});
    } else {
      return Fail(std::string("unexpected character '") + c + "' in condition");
    }
  }
  tokens.push_back({Token::Kind::kEnd, {}});
  return tokens;
}

bool IsKeyword(std::string_view word) {
  return word == "and" || word == "or" || word == "not" || word == "of";
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::vector<std::string>& identifiers)
      : tokens_(std::move(tokens)), identifiers_(identifiers) {}

  Result<Condition> Parse() {
    auto result = ParseOr();
    if (!result) return result;
    if (Peek().kind != Token::Kind::kEnd) return Unexpected("end of condition");
    return result;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t at = pos_ + ahead;
    return at < tokens_.size() ? tokens_[at] : tokens_.back();
  }
  bool PeekWord(std::string_view word, size_t ahead = 0) const {
    return Peek(ahead).kind == Token::Kind::kWord && Peek(ahead).text == word;
  }

  tl::unexpected<Error> Unexpected(std::string_view expected) const {
    const Token& token = Peek();
    std::string found =
        token.kind == Token::Kind::kEnd ? "end of condition" : "'" + std::string(token.text) + "'";
    return Fail("condition syntax error: expected " + std::string(expected) + ", found " + found);
  }

  // Folds operands into one n-ary node, keeping a lone operand as it is.
  static Condition Combine(Condition::Kind kind, std::vector<Condition> operands) {
    if (operands.size() == 1) return std::move(operands.front());
    Condition node;
    node.kind = kind;
    for (Condition& operand : operands) {
      if (operand.kind == kind) {  // (a and b) and c == a and b and c
        for (Condition& child : operand.children) node.children.push_back(std::move(child));
      } else {
        node.children.push_back(std::move(operand));
      }
    }
    return node;
  }

  Result<Condition> ParseOr() {
    std::vector<Condition> operands;
    while (true) {
      auto operand = ParseAnd();
      if (!operand) return operand;
      operands.push_back(std::move(*operand));
      if (!PeekWord("or")) break;
      ++pos_;
    }
    return Combine(Condition::Kind::kOr, std::move(operands));
  }

  Result<Condition> ParseAnd() {
    std::vector<Condition> operands;
    while (true) {
      auto operand = ParseNot();
      if (!operand) return operand;
      operands.push_back(std::move(*operand));
      if (!PeekWord("and")) break;
      ++pos_;
    }
    return Combine(Condition::Kind::kAnd, std::move(operands));
  }

  Result<Condition> ParseNot() {
    if (PeekWord("not")) {
      ++pos_;
      auto operand = ParseNot();
      if (!operand) return operand;
      Condition node;
      node.kind = Condition::Kind::kNot;
      node.children.push_back(std::move(*operand));
      return node;
    }
    return ParsePrimary();
  }

  Result<Condition> ParsePrimary() {
    const Token& token = Peek();
    if (token.kind == Token::Kind::kOpen) {
      ++pos_;
      auto inner = ParseOr();
      if (!inner) return inner;
      if (Peek().kind != Token::Kind::kClose) return Unexpected("')'");
      ++pos_;
      return inner;
    }
    if (token.kind != Token::Kind::kWord || IsKeyword(token.text)) {
      return Unexpected("a search identifier, '(' or 'not'");
    }
    if ((token.text == "1" || token.text == "any" || token.text == "all") && PeekWord("of", 1)) {
      bool all = token.text == "all";
      pos_ += 2;
      const Token& pattern = Peek();
      if (pattern.kind != Token::Kind::kWord || IsKeyword(pattern.text)) {
        return Unexpected("an identifier pattern or 'them' after 'of'");
      }
      ++pos_;
      return Quantified(all, pattern.text);
    }
    if (token.text.find('*') != std::string_view::npos) {
      return Fail("wildcard identifier '" + std::string(token.text) +
                  "' is only allowed after '1 of', 'any of' or 'all of'");
    }
    for (size_t i = 0; i < identifiers_.size(); ++i) {
      if (identifiers_[i] == token.text) {
        ++pos_;
        Condition node;
        node.kind = Condition::Kind::kSelection;
        node.selection = static_cast<uint32_t>(i);
        return node;
      }
    }
    return Fail("condition references unknown identifier '" + std::string(token.text) + "'");
  }

  Result<Condition> Quantified(bool all, std::string_view pattern) {
    bool them = pattern == "them";
    bool pattern_private = !pattern.empty() && pattern.front() == '_';
    std::vector<Condition> operands;
    for (size_t i = 0; i < identifiers_.size(); ++i) {
      const std::string& name = identifiers_[i];
      if (!name.empty() && name.front() == '_' && !pattern_private) continue;
      if (!them && !ConditionPatternMatches(pattern, name)) continue;
      Condition node;
      node.kind = Condition::Kind::kSelection;
      node.selection = static_cast<uint32_t>(i);
      operands.push_back(node);
    }
    if (operands.empty()) {
      return Fail("condition pattern '" + std::string(pattern) + "' matches no search identifier");
    }
    return Combine(all ? Condition::Kind::kAnd : Condition::Kind::kOr, std::move(operands));
  }

  std::vector<Token> tokens_;
  const std::vector<std::string>& identifiers_;
  size_t pos_ = 0;
};

}  // namespace

bool ConditionPatternMatches(std::string_view pattern, std::string_view name) {
  // Glob with `*` only, case-sensitive like identifiers, single-backtrack algorithm.
  size_t p = 0, n = 0, star_p = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_n = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p, ++n;
    } else if (star_p != std::string_view::npos) {
      p = star_p;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<Condition> ParseCondition(std::string_view text,
                                 const std::vector<std::string>& identifiers) {
  auto tokens = Tokenize(text);
  if (!tokens) return tl::unexpected(tokens.error());
  if (tokens->size() == 1) return Fail("condition is empty");
  Parser parser(std::move(*tokens), identifiers);
  return parser.Parse();
}

std::string ConditionToString(const Condition& condition, const std::vector<std::string>& names) {
  switch (condition.kind) {
    case Condition::Kind::kSelection:
      return condition.selection < names.size() ? names[condition.selection]
                                                : "#" + std::to_string(condition.selection);
    case Condition::Kind::kTrue:
      return "true";
    case Condition::Kind::kFalse:
      return "false";
    case Condition::Kind::kNot:
      return "not " + ConditionToString(condition.children[0], names);
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr: {
      std::string out = "(";
      const char* op = condition.kind == Condition::Kind::kAnd ? " and " : " or ";
      for (size_t i = 0; i < condition.children.size(); ++i) {
        if (i > 0) out += op;
        out += ConditionToString(condition.children[i], names);
      }
      return out + ")";
    }
  }
  return {};
}

}  // namespace yagura::sigma
