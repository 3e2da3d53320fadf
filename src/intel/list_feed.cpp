// Plain and CSV indicator list loader.
//
// One pass over the text with string_view slicing: memchr finds line ends, a small RFC 4180
// state machine splits CSV records (quoted fields are unescaped into reused scratch strings
// only when they hold doubled quotes). The format is decided by the first content line: a
// header naming a value column means CSV, anything else plain text. Values are refanged only
// when they contain a defanging mark, and typed by DetectType (plain lines and empty type
// cells) or by the type column. Nothing per line allocates beyond the indicator handed to the
// sink, so a million-line list loads in a fraction of a second.
#include "intel/list_feed.hpp"

#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "intel/misp_feed.hpp"
#include "intel/normalise.hpp"

namespace yagura::intel {
namespace {

constexpr size_t MAX_LINE_WARNINGS = 20;
constexpr size_t MAX_QUOTED_TEXT = 160;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Lower case, with '_' and ' ' read as '-', into a fixed buffer: names are short and this runs
// for every type cell.
struct CanonicalName {
  char buffer[64];
  size_t size = 0;
  bool ok = false;

  explicit CanonicalName(std::string_view name) {
    name = Trim(name);
    if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') &&
        name.back() == name.front()) {
      name = Trim(name.substr(1, name.size() - 2));
    }
    if (name.empty() || name.size() > sizeof(buffer)) return;
    for (char c : name) buffer[size++] = (c == '_' || c == ' ') ? '-' : Lower(c);
    ok = true;
  }
  std::string_view view() const { return {buffer, size}; }
};

bool OneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view candidate : names) {
    if (name == candidate) return true;
  }
  return false;
}

std::string_view HashPatternName(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kMd5:
      return "md5";
    case HashAlgorithm::kSha1:
      return "sha1";
    case HashAlgorithm::kSha256:
      return "sha256";
    case HashAlgorithm::kSha512:
      return "sha512";
    case HashAlgorithm::kSha3_256:
      return "sha3-256";
    case HashAlgorithm::kSha3_512:
      return "sha3-512";
    case HashAlgorithm::kSsdeep:
      return "ssdeep";
    case HashAlgorithm::kTlsh:
      return "tlsh";
    case HashAlgorithm::kImphash:
      return "imphash";
    case HashAlgorithm::kNone:
      return "hash";
  }
  return "hash";
}

bool NeedsRefang(std::string_view value) {
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '[' || c == '(' || c == '{') return true;
    if ((c == 'x' || c == 'X') && i > 0 && (value[i - 1] == 'h' || value[i - 1] == 'H') &&
        i + 1 < value.size() && (value[i + 1] == 'x' || value[i + 1] == 'X')) {
      return true;
    }
  }
  return false;
}

// "evil.example/gate.php", "192.0.2.1:8080/x": a host name or address, then a path.
bool LooksLikeSchemelessUrl(std::string_view value) {
  size_t slash = value.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::string_view host = value.substr(0, slash);
  if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  auto detected = DetectType(host);
  return detected &&
         (detected->type == ObservableType::kDomain || detected->type == ObservableType::kIpv4);
}

// ---- Header ----------------------------------------------------------------------------------

struct Header {
  char delimiter = ',';
  int value = -1;
  int type = -1;
  int tlp = -1;
  int source = -1;
  int expiry = -1;
  int valid_from = -1;
  int confidence = -1;
  int comment = -1;
  std::vector<int> labels;
  std::optional<NamedType> implied;  // the type a typed value column ("sha256_hash") names
};

// One CSV record: raw fields, unescaped on demand into scratch strings that are reused.
class CsvRecord {
 public:
  // Reads the record at `pos`; returns the position after it. `newlines` counts the line
  // breaks consumed; `open_quote` is set when the text ends inside a quoted field.
  size_t Read(std::string_view text, size_t pos, char delimiter, size_t& newlines,
              bool& open_quote) {
    raw_.clear();
    const size_t n = text.size();
    while (true) {
      if (pos < n && text[pos] == '"') {
        size_t start = ++pos;
        bool escaped = false;
        size_t end = n;
        while (true) {
          const void* found = pos < n ? std::memchr(text.data() + pos, '"', n - pos) : nullptr;
          size_t quote =
              found ? static_cast<size_t>(static_cast<const char*>(found) - text.data()) : n;
          for (size_t i = pos; i < quote; ++i) newlines += text[i] == '\n';
          if (quote == n) {
            open_quote = true;
            pos = n;
            break;
          }
          if (quote + 1 < n && text[quote + 1] == '"') {
            escaped = true;
            pos = quote + 2;
            continue;
          }
          end = quote;
          pos = quote + 1;
          break;
        }
        raw_.push_back({text.substr(start, end - start), escaped});
        // Text between a closing quote and the delimiter is not RFC 4180; it is dropped.
        while (pos < n && text[pos] != delimiter && text[pos] != '\n') ++pos;
      } else {
        size_t start = pos;
        while (pos < n && text[pos] != delimiter && text[pos] != '\n') ++pos;
        std::string_view field = text.substr(start, pos - start);
        if (!field.empty() && field.back() == '\r') field.remove_suffix(1);
        raw_.push_back({field, false});
      }
      if (pos >= n) break;
      if (text[pos] == '\n') {
        ++newlines;
        ++pos;
        break;
      }
      ++pos;  // the delimiter
      if (pos == n) {
        raw_.push_back({{}, false});
        break;
      }
    }
    fields_.resize(raw_.size());
    if (scratch_.size() < raw_.size()) scratch_.resize(raw_.size());
    for (size_t i = 0; i < raw_.size(); ++i) {
      if (!raw_[i].escaped) {
        fields_[i] = raw_[i].text;
        continue;
      }
      std::string& out = scratch_[i];
      out.clear();
      std::string_view in = raw_[i].text;
      for (size_t k = 0; k < in.size(); ++k) {
        out.push_back(in[k]);
        if (in[k] == '"' && k + 1 < in.size() && in[k + 1] == '"') ++k;
      }
      fields_[i] = out;
    }
    return pos;
  }

  size_t size() const { return fields_.size(); }
  std::string_view field(int index) const {
    return index >= 0 && static_cast<size_t>(index) < fields_.size() ? fields_[index]
                                                                     : std::string_view{};
  }

 private:
  struct RawField {
    std::string_view text;
    bool escaped;
  };
  std::vector<RawField> raw_;
  std::vector<std::string> scratch_;
  std::vector<std::string_view> fields_;
};

bool IsHeaderNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == ' ' || c == '.' || c == ':' || c == '\'' || c == '"' || c == '(' ||
         c == ')' || c == '/';
}

char DetectDelimiter(std::string_view line) {
  size_t commas = 0;
  size_t semicolons = 0;
  size_t tabs = 0;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    commas += c == ',';
    semicolons += c == ';';
    tabs += c == '\t';
  }
  if (tabs > commas && tabs >= semicolons) return '\t';
  if (semicolons > commas) return ';';
  return ',';
}

// A header names a value column; every field must look like a column name.
std::optional<Header> ParseHeader(std::string_view line, size_t min_columns) {
  Header header;
  header.delimiter = DetectDelimiter(line);
  CsvRecord record;
  size_t newlines = 0;
  bool open_quote = false;
  record.Read(line, 0, header.delimiter, newlines, open_quote);
  if (open_quote || record.size() < min_columns) return std::nullopt;
  int first_typed = -1;
  std::optional<NamedType> first_typed_type;
  for (size_t i = 0; i < record.size(); ++i) {
    std::string_view raw = Trim(record.field(static_cast<int>(i)));
    for (char c : raw) {
      if (!IsHeaderNameChar(c)) return std::nullopt;
    }
    CanonicalName canonical(raw);
    if (!canonical.ok) {
      if (raw.empty()) continue;  // an unnamed column
      return std::nullopt;
    }
    std::string_view name = canonical.view();
    int column = static_cast<int>(i);
    auto set = [&](int& slot) {
      if (slot < 0) slot = column;
    };
    if (OneOf(name, {"value", "indicator", "ioc", "observable", "ioc-value", "indicator-value"})) {
      set(header.value);
    } else if (OneOf(name, {"type", "indicator-type", "ioc-type", "observable-type", "kind"})) {
      set(header.type);
    } else if (OneOf(name, {"tlp", "marking", "tlp-marking"})) {
      set(header.tlp);
    } else if (OneOf(name, {"source", "feed", "provider"})) {
      set(header.source);
    } else if (OneOf(name, {"expiry", "expires", "expiration", "expiration-date", "valid-until",
                            "expire", "expires-at"})) {
      set(header.expiry);
    } else if (OneOf(name, {"valid-from", "first-seen", "first-seen-utc", "dateadded", "date-added",
                            "created"})) {
      set(header.valid_from);
    } else if (name == "confidence") {
      set(header.confidence);
    } else if (OneOf(name, {"comment", "description", "name", "note", "notes"})) {
      set(header.comment);
    } else if (OneOf(name, {"tags", "tag", "labels", "label", "threat", "threat-type", "malware",
                            "malware-family", "category"})) {
      header.labels.push_back(column);
    } else if (first_typed < 0) {
      if (auto named = ParseObservableTypeName(name)) {
        first_typed = column;
        first_typed_type = named;
      }
    }
  }
  if (header.value < 0) {
    if (first_typed < 0) return std::nullopt;
    header.value = first_typed;
    header.implied = first_typed_type;
  }
  return header;
}

// ---- Field values ----------------------------------------------------------------------------

// ISO date / date-time, or epoch seconds (milliseconds from 12 digits on).
std::optional<int64_t> ParseTime(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  bool digits = text.size() <= 16;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    int64_t value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return text.size() >= 12 ? value : value * 1000;
  }
  return ParseIsoDateTimeMs(text);
}

std::optional<int> ParseConfidence(std::string_view text) {
  CanonicalName name(text);
  if (!name.ok) return std::nullopt;
  std::string_view word = name.view();
  // Words as STIX 2.1 appendix A maps them.
  if (word == "none") return 0;
  if (word == "low") return 15;
  if (word == "medium" || word == "med" || word == "moderate") return 50;
  if (word == "high") return 85;
  int value = -1;
  auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (error != std::errc() || end != word.data() + word.size() || value < 0 || value > 100) {
    return std::nullopt;
  }
  return value;
}

std::string Quoted(std::string_view text) {
  std::string out = "'";
  if (text.size() > MAX_QUOTED_TEXT) {
    out.append(text.substr(0, MAX_QUOTED_TEXT)).append("...");
  } else {
    out.append(text);
  }
  out.push_back('\'');
  return out;
}

// ---- Loading ---------------------------------------------------------------------------------

struct LineFields {
  std::string_view value;
  std::string_view type;  // the type column's cell; empty: detect
  std::string_view tlp;
  std::string_view source;
  std::string_view expiry;
  std::string_view valid_from;
  std::string_view confidence;
  std::string_view comment;
  std::vector<std::string_view> labels;
  const NamedType* implied = nullptr;
};

class ListLoad {
 public:
  ListLoad(std::string_view feed_name, std::string_view where, const IndicatorSink& sink,
           Diagnostics& diagnostics)
      : feed_name_(feed_name), where_(where), sink_(sink), diagnostics_(diagnostics) {}

  FeedStats& stats() { return stats_; }

  void LoadPlain(std::string_view text, size_t pos, size_t line) {
    const size_t n = text.size();
    LineFields fields;
    while (pos < n) {
      const void* found = std::memchr(text.data() + pos, '\n', n - pos);
      size_t end = found ? static_cast<size_t>(static_cast<const char*>(found) - text.data()) : n;
      std::string_view content = Trim(text.substr(pos, end - pos));
      if (!content.empty() && content.front() != '#') {
        ++stats_.objects;
        SplitPlainLine(content, fields);
        Emit(fields, line, content);
      }
      pos = end + 1;
      ++line;
    }
  }

  void LoadCsv(std::string_view text, size_t pos, size_t line, const Header& header) {
    CsvRecord record;
    LineFields fields;
    bool open_quote = false;
    while (pos < text.size()) {
      size_t record_line = line;
      size_t newlines = 0;
      size_t start = pos;
      pos = record.Read(text, pos, header.delimiter, newlines, open_quote);
      line += newlines;
      std::string_view raw = Trim(text.substr(start, pos - start));
      if (raw.empty() || raw.front() == '#') continue;
      ++stats_.objects;
      if (open_quote) {
        stats_.complete = false;
        Warn(record_line,
             "quoted field not closed before the end of the list (truncated?): " + Quoted(raw));
        break;
      }
      if (static_cast<size_t>(header.value) >= record.size()) {
        Warn(record_line, "no value column in " + Quoted(raw));
        continue;
      }
      fields.value = record.field(header.value);
      fields.type = record.field(header.type);
      fields.tlp = record.field(header.tlp);
      fields.source = record.field(header.source);
      fields.expiry = record.field(header.expiry);
      fields.valid_from = record.field(header.valid_from);
      fields.confidence = record.field(header.confidence);
      fields.comment = record.field(header.comment);
      fields.labels.clear();
      for (int column : header.labels) fields.labels.push_back(record.field(column));
      fields.implied = header.implied ? &*header.implied : nullptr;
      Emit(fields, record_line, raw);
    }
  }

  void Finish() {
    if (line_warnings_ > MAX_LINE_WARNINGS) {
      diagnostics_.Report(DiagnosticKind::kWarning, std::string(where_),
                          std::to_string(line_warnings_ - MAX_LINE_WARNINGS) +
                              " more lines with problems (not listed one by one)");
    }
  }

 private:
  // "value", "value  # comment", "value ; comment", "0.0.0.0 host  # comment".
  static void SplitPlainLine(std::string_view content, LineFields& fields) {
    fields = LineFields{};
    size_t space = 0;
    while (space < content.size() && !IsSpace(content[space])) ++space;
    fields.value = content.substr(0, space);
    std::string_view rest = Trim(content.substr(space));
    if (!rest.empty() && rest.front() != '#' && rest.front() != ';' &&
        OneOf(fields.value, {"0.0.0.0", "127.0.0.1", "::", "::1"})) {
      // A hosts-file line: the address is a sink hole, the name is the indicator.
      size_t end = 0;
      while (end < rest.size() && !IsSpace(rest[end])) ++end;
      fields.value = rest.substr(0, end);
      rest = Trim(rest.substr(end));
    }
    while (!rest.empty() && (rest.front() == '#' || rest.front() == ';' || rest.front() == '/')) {
      rest.remove_prefix(1);
    }
    fields.comment = Trim(rest);
  }

  // Counts the line as skipped when `skip`, reports it within the cap.
  void Warn(size_t line, std::string message, bool skip = true) {
    if (skip) ++stats_.skipped;
    if (++line_warnings_ > MAX_LINE_WARNINGS) return;
    diagnostics_.Report(DiagnosticKind::kWarning, Location(line), std::move(message));
  }

  std::string Location(size_t line) const {
    std::string location(where_);
    location.push_back(':');
    location += std::to_string(line);
    return location;
  }

  // The atom for a value of a named type, or nullopt when the value is not of that type.
  std::optional<Atom> TypedAtom(const NamedType& named, std::string_view value) {
    Atom atom;
    atom.type = named.type;
    atom.algorithm = named.algorithm;
    atom.direction = named.direction;
    bool ok = true;
    if (named.by_content) {
      if (ParseIpv4Network(value)) {
        atom.type = ObservableType::kIpv4;
      } else if (ParseIpv6Network(value)) {
        atom.type = ObservableType::kIpv6;
      } else {
        ok = false;
      }
    } else {
      switch (named.type) {
        case ObservableType::kIpv4:
          ok = ParseIpv4Network(value).has_value();
          break;
        case ObservableType::kIpv6:
          ok = ParseIpv6Network(value).has_value();
          break;
        case ObservableType::kDomain:
          ok = NormaliseDomain(value, scratch_);
          break;
        case ObservableType::kEmail:
          ok = NormaliseEmail(value, scratch_);
          break;
        case ObservableType::kUrl:
          if (!NormaliseUrl(value, scratch_)) {
            if (!NormaliseUrl(value, scratch_, /*assume_http=*/true)) return std::nullopt;
            atom.value = "http://";
          }
          break;
        case ObservableType::kHash:
          if (named.algorithm == HashAlgorithm::kNone) {
            auto detected = DetectType(value);
            ok = detected && detected->type == ObservableType::kHash;
            if (ok) atom.algorithm = detected->algorithm;
          } else {
            ok = NormaliseHash(value, named.algorithm, scratch_);
          }
          break;
        default:
          break;  // names, keys, agents: any text
      }
    }
    if (!ok) return std::nullopt;
    atom.value.append(value);
    return atom;
  }

  void Emit(const LineFields& fields, size_t line, std::string_view raw) {
    std::string_view value = Trim(fields.value);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = Trim(value.substr(1, value.size() - 2));
    }
    if (NeedsRefang(value)) {
      refanged_ = Refang(value);
      value = refanged_;
    }
    if (value.empty()) {
      Warn(line, "no value in " + Quoted(raw));
      return;
    }
    Indicator indicator;
    std::string_view pattern_type;
    std::string_view type_cell = Trim(fields.type);
    if (!type_cell.empty()) {
      if (auto named = ParseObservableTypeName(type_cell)) {
        auto atom = TypedAtom(*named, value);
        if (!atom) {
          Warn(line, "not a valid " + std::string(type_cell) + " value: " + Quoted(value));
          return;
        }
        pattern_type = atom->type == ObservableType::kHash ? HashPatternName(atom->algorithm)
                                                           : ToString(atom->type);
        indicator.any_of.push_back({std::move(*atom)});
      } else {
        std::string_view reason;
        switch (MapMispAttribute(type_cell, value, indicator.any_of, reason)) {
          case MispMapping::kMapped:
            pattern_type = type_cell;
            break;
          case MispMapping::kUnsupportedType:
            Warn(line, "type " + Quoted(type_cell) + " skipped: " + std::string(reason));
            return;
          case MispMapping::kBadValue:
            Warn(line, "not a valid " + std::string(type_cell) + " value " + Quoted(value) + ": " +
                           std::string(reason));
            return;
        }
      }
    } else if (fields.implied) {
      auto atom = TypedAtom(*fields.implied, value);
      if (!atom) {
        Warn(line, "not a valid " + std::string(ToString(fields.implied->type)) +
                       " value: " + Quoted(value));
        return;
      }
      pattern_type = atom->type == ObservableType::kHash ? HashPatternName(atom->algorithm)
                                                         : ToString(atom->type);
      indicator.any_of.push_back({std::move(*atom)});
    } else {
      Atom atom;
      auto detected = DetectType(value);
      if (!detected && LooksLikeSchemelessUrl(value) &&
          NormaliseUrl(value, scratch_, /*assume_http=*/true)) {
        // "evil.example/gate.php": a URL written without its scheme.
        detected = DetectedType{ObservableType::kUrl};
        atom.value = "http://";
      }
      if (!detected) {
        Warn(line, "not a recognisable indicator: " + Quoted(raw));
        return;
      }
      atom.type = detected->type;
      atom.algorithm = detected->algorithm;
      atom.value.append(value);
      pattern_type = atom.type == ObservableType::kHash ? HashPatternName(atom.algorithm)
                                                        : ToString(atom.type);
      indicator.any_of.push_back({std::move(atom)});
    }

    // "<file name>:<line>": the directory is left out so the id stays the same wherever the
    // feed is read from (an import copies it into the store).
    std::string_view file_name = where_.substr(where_.find_last_of('/') + 1);
    indicator.id.reserve(file_name.size() + 12);
    indicator.id.append(file_name).push_back(':');
    char digits[24];
    auto [end, error] = std::to_chars(digits, digits + sizeof(digits), line);
    indicator.id.append(digits, end);
    std::string_view source = Trim(fields.source);
    indicator.feed.assign(source.empty() ? feed_name_ : source);
    indicator.name.assign(Trim(fields.comment));
    const std::string& first_value = indicator.any_of.front().front().value;
    indicator.pattern.reserve(pattern_type.size() + 1 + first_value.size());
    indicator.pattern.append(pattern_type)
        .append(":")
        .append(indicator.any_of.size() == 1 && indicator.any_of.front().size() == 1 ? first_value
                                                                                     : value);

    if (std::string_view tlp = Trim(fields.tlp); !tlp.empty()) {
      if (auto parsed = ParseTlp(tlp)) {
        indicator.tlp = *parsed;
        indicator.markings.emplace_back(ToString(*parsed));
      } else {
        Warn(line, "not a TLP marking: " + Quoted(tlp) + " (indicator kept without one)", false);
      }
    }
    if (std::string_view confidence = Trim(fields.confidence); !confidence.empty()) {
      if (auto parsed = ParseConfidence(confidence)) {
        indicator.confidence = *parsed;
      } else {
        Warn(line, "not a confidence from 0 to 100: " + Quoted(confidence), false);
      }
    }
    if (std::string_view expiry = Trim(fields.expiry); !expiry.empty()) {
      indicator.valid_until = ParseTime(expiry);
      if (!indicator.valid_until) {
        Warn(line, "not a date or epoch time: " + Quoted(expiry) + " (indicator kept, no expiry)",
             false);
      }
    }
    if (std::string_view valid_from = Trim(fields.valid_from); !valid_from.empty()) {
      indicator.valid_from = ParseTime(valid_from);
    }
    for (std::string_view cell : fields.labels) {
      size_t start = 0;
      while (start <= cell.size()) {
        size_t stop = cell.find_first_of(",;|", start);
        if (stop == std::string_view::npos) stop = cell.size();
        std::string_view label = Trim(cell.substr(start, stop - start));
        if (!label.empty()) indicator.labels.emplace_back(label);
        start = stop + 1;
      }
    }
    sink_(std::move(indicator));
    ++stats_.indicators;
  }

  std::string_view feed_name_;
  std::string_view where_;
  const IndicatorSink& sink_;
  Diagnostics& diagnostics_;
  FeedStats stats_;
  size_t line_warnings_ = 0;
  std::string scratch_;
  std::string refanged_;
};

}  // namespace

std::optional<NamedType> ParseObservableTypeName(std::string_view raw_name) {
  CanonicalName canonical(raw_name);
  if (!canonical.ok) return std::nullopt;
  std::string_view name = canonical.view();
  NamedType named;
  auto with = [&](ObservableType type, Direction direction = Direction::kAny) {
    named.type = type;
    named.direction = direction;
    return named;
  };
  if (OneOf(name, {"ip", "ip-addr", "ip-address", "ipv4", "ipv4-addr", "ipv6", "ipv6-addr",
                   "address", "cidr", "ipv4-addr:value", "ipv6-addr:value"})) {
    named.by_content = true;
    return with(ObservableType::kIpv4);
  }
  if (OneOf(name, {"ip-src", "src-ip", "source-ip", "src-ip-addr"})) {
    named.by_content = true;
    return with(ObservableType::kIpv4, Direction::kSource);
  }
  if (OneOf(name, {"ip-dst", "dst-ip", "destination-ip", "dst-ip-addr"})) {
    named.by_content = true;
    return with(ObservableType::kIpv4, Direction::kDestination);
  }
  if (OneOf(name, {"domain", "domain-name", "domain-name:value", "hostname", "host", "fqdn",
                   "onion-address"})) {
    return with(ObservableType::kDomain);
  }
  if (OneOf(name, {"url", "url:value"})) return with(ObservableType::kUrl);
  if (OneOf(name, {"email", "e-mail", "email-addr", "email-addr:value", "email-address"})) {
    return with(ObservableType::kEmail);
  }
  if (name == "email-src") return with(ObservableType::kEmail, Direction::kSource);
  if (name == "email-dst") return with(ObservableType::kEmail, Direction::kDestination);
  if (OneOf(name, {"filename", "file-name", "file:name"})) return with(ObservableType::kFileName);
  if (OneOf(name, {"process-name", "process", "process:name", "image"})) {
    return with(ObservableType::kProcessName);
  }
  if (OneOf(name, {"regkey", "registry-key", "registry", "windows-registry-key",
                   "windows-registry-key:key"})) {
    return with(ObservableType::kRegistryKey);
  }
  if (OneOf(name, {"user-agent", "useragent", "http-user-agent"})) {
    return with(ObservableType::kUserAgent);
  }
  if (OneOf(name, {"hash", "hashes", "file-hash", "filehash"})) {
    return with(ObservableType::kHash);
  }
  // "file:hashes.'SHA-256'", "file:hashes.md5", "sha256-hash", "SHA-1".
  std::string_view hash = name;
  if (hash.starts_with("file:hashes.")) hash.remove_prefix(12);
  if (hash.size() >= 2 && hash.front() == '\'' && hash.back() == '\'') {
    hash = hash.substr(1, hash.size() - 2);
  }
  if (hash.ends_with("-hash")) hash.remove_suffix(5);
  if (auto algorithm = ParseHashAlgorithm(hash)) {
    named.algorithm = *algorithm;
    return with(ObservableType::kHash);
  }
  return std::nullopt;
}

Result<FeedStats> LoadList(std::string_view text, std::string_view feed_name,
                           std::string_view where, const IndicatorSink& sink,
                           Diagnostics& diagnostics) {
  ListLoad load(feed_name, where, sink, diagnostics);
  size_t pos = 0;
  if (text.starts_with("\xEF\xBB\xBF")) pos = 3;  // UTF-8 byte order mark
  size_t line = 1;
  std::optional<Header> comment_header;
  while (pos < text.size()) {
    const void* found = std::memchr(text.data() + pos, '\n', text.size() - pos);
    size_t end =
        found ? static_cast<size_t>(static_cast<const char*>(found) - text.data()) : text.size();
    std::string_view content = Trim(text.substr(pos, end - pos));
    if (content.empty()) {
      pos = end + 1;
      ++line;
      continue;
    }
    if (content.front() == '#') {
      // "# id,dateadded,url,..." : the last such comment before the data is the header.
      if (auto header = ParseHeader(Trim(content.substr(1)), 2)) comment_header = header;
      pos = end + 1;
      ++line;
      continue;
    }
    if (auto header = ParseHeader(content, 1)) {
      load.LoadCsv(text, end + 1, line + 1, *header);
    } else if (comment_header) {
      load.LoadCsv(text, pos, line, *comment_header);
    } else {
      load.LoadPlain(text, pos, line);
    }
    break;
  }
  load.Finish();
  return load.stats();
}

Result<FeedStats> LoadListFile(const std::string& path, std::string_view feed_name,
                               const IndicatorSink& sink, Diagnostics& diagnostics) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Fail("cannot open the list", path);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return Fail("cannot read the list", path);
  return LoadList(text, feed_name, path, sink, diagnostics);
}

}  // namespace yagura::intel
