// Access lines are split into their tokens first and emitted only when the whole shape matched,
// so a line that is not an access line yields just its `message`. W3C lines are split on spaces
// (IIS writes spaces inside values as '+') and zipped with the "#Fields:" names.
#include "event/web_access.hpp"

namespace yagura::event {
namespace {

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

struct Cursor {
  std::string_view s;
  size_t pos = 0;
  [[nodiscard]] char Peek() const { return pos < s.size() ? s[pos] : '\0'; }
  std::string_view Token() {
    size_t start = pos;
    while (pos < s.size() && s[pos] != ' ') ++pos;
    return s.substr(start, pos - start);
  }
  bool Space() {
    if (Peek() != ' ') return false;
    while (Peek() == ' ') ++pos;
    return true;
  }
  // A double-quoted string with backslash escapes; the view excludes the quotes and keeps the
  // escapes as written (rules match the log as the server wrote it).
  bool Quoted(std::string_view& out) {
    if (Peek() != '"') return false;
    size_t start = ++pos;
    while (pos < s.size() && s[pos] != '"') {
      if (s[pos] == '\\') ++pos;
      ++pos;
    }
    if (pos >= s.size()) return false;
    out = s.substr(start, pos - start);
    ++pos;
    return true;
  }
};

struct AccessLine {
  std::string_view vhost, client, user, timestamp, request, status, bytes, referer, agent;
  bool combined = false;
};

bool Split(std::string_view line, AccessLine& out) {
  if (line.size() >= 2 && line.front() == '"' && line.back() == '"') {
    line = line.substr(1, line.size() - 2);
  }
  Cursor c{line, 0};
  std::string_view tokens[4];
  size_t count = 0;
  while (count < 4 && c.Peek() != '[' && c.pos < line.size()) {
    tokens[count++] = c.Token();
    if (!c.Space()) return false;
  }
  if (c.Peek() != '[' || count < 3) return false;
  size_t first = count - 3;
  if (first == 1) out.vhost = tokens[0];
  out.client = tokens[first];
  out.user = tokens[first + 2];
  size_t close = line.find(']', c.pos);
  if (close == std::string_view::npos) return false;
  out.timestamp = line.substr(c.pos + 1, close - c.pos - 1);
  c.pos = close + 1;
  if (!c.Space() || !c.Quoted(out.request) || !c.Space()) return false;
  out.status = c.Token();
  if (!IsDigits(out.status) && out.status != "-") return false;
  if (!c.Space()) return false;
  out.bytes = c.Token();
  if (!IsDigits(out.bytes) && out.bytes != "-") return false;
  if (c.Space() && c.Quoted(out.referer) && c.Space() && c.Quoted(out.agent)) out.combined = true;
  return !out.client.empty();
}

void Emit(FieldEmitter& emitter, std::string_view name, std::string_view value) {
  emitter.Emit(name, FieldValue{value, ValueType::kString});
}

void EmitCount(FieldEmitter& emitter, std::string_view name, std::string_view value) {
  emitter.Emit(name, FieldValue{value, IsDigits(value) ? ValueType::kNumber : ValueType::kString});
}

void EmitTarget(FieldEmitter& emitter, std::string_view target) {
  Emit(emitter, "cs-uri", target);
  Emit(emitter, "c-uri", target);
  size_t question = target.find('?');
  Emit(emitter, "cs-uri-stem", target.substr(0, question));
  if (question != std::string_view::npos) Emit(emitter, "cs-uri-query", target.substr(question + 1));
}

}  // namespace

bool ParseAccessLine(std::string_view line, FieldEmitter& emitter) {
  AccessLine parts;
  if (!Split(line, parts)) {
    Emit(emitter, "message", line);
    return false;
  }
  if (!parts.vhost.empty()) {
    Emit(emitter, "cs-host", parts.vhost.substr(0, parts.vhost.rfind(':')));
  }
  Emit(emitter, "c-ip", parts.client);
  Emit(emitter, "cs-username", parts.user);
  Emit(emitter, "timestamp", parts.timestamp);
  emitter.OfferTime(parts.timestamp, TIME_RANK_WEB);
  size_t colon = parts.timestamp.find(':');
  if (colon != std::string_view::npos) {
    Emit(emitter, "date", parts.timestamp.substr(0, colon));
    std::string_view clock = parts.timestamp.substr(colon + 1);
    Emit(emitter, "time", clock.substr(0, clock.find(' ')));
  }
  std::string_view request = parts.request;
  size_t first_space = request.find(' ');
  size_t last_space = request.rfind(' ');
  if (first_space != std::string_view::npos && first_space > 0) {
    Emit(emitter, "cs-method", request.substr(0, first_space));
    std::string_view version;
    std::string_view target = request.substr(first_space + 1);
    if (last_space > first_space && request.substr(last_space + 1, 5) == "HTTP/") {
      version = request.substr(last_space + 1);
      target = request.substr(first_space + 1, last_space - first_space - 1);
    }
    EmitTarget(emitter, target);
    if (!version.empty()) Emit(emitter, "cs-version", version);
  } else if (!request.empty() && request != "-") {
    Emit(emitter, "cs-uri", request);
  }
  EmitCount(emitter, "sc-status", parts.status);
  EmitCount(emitter, "sc-bytes", parts.bytes);
  if (parts.combined) {
    Emit(emitter, "cs-referer", parts.referer);
    Emit(emitter, "cs-user-agent", parts.agent);
    Emit(emitter, "c-useragent", parts.agent);
  }
  return true;
}

bool ParseW3cLine(std::string_view line, std::string_view schema, FieldEmitter& emitter) {
  if (schema.empty()) schema = IIS_DEFAULT_FIELDS;
  Cursor names{schema, 0};
  Cursor values{line, 0};
  std::string_view date;
  std::string_view time;
  size_t count = 0;
  while (true) {
    names.Space();
    values.Space();
    if (names.pos >= schema.size() || values.pos >= line.size()) break;
    std::string_view name = names.Token();
    std::string_view value = values.Token();
    ++count;
    if (name == "date") date = value;
    if (name == "time") time = value;
    if (name == "sc-status" || name == "sc-substatus" || name == "sc-win32-status" ||
        name == "sc-bytes" || name == "cs-bytes" || name == "time-taken" || name == "s-port") {
      EmitCount(emitter, name, value);
      continue;
    }
    Emit(emitter, name, value);
    if (name == "cs(User-Agent)") {
      Emit(emitter, "cs-user-agent", value);
      Emit(emitter, "c-useragent", value);
    } else if (name == "cs(Referer)") {
      Emit(emitter, "cs-referer", value);
    } else if (name == "cs(Cookie)") {
      Emit(emitter, "cs-cookie", value);
    } else if (name == "cs(Host)") {
      Emit(emitter, "cs-host", value);
    }
  }
  if (!date.empty() && !time.empty() && time.data() == date.data() + date.size() + 1) {
    emitter.OfferTime(std::string_view(date.data(), date.size() + 1 + time.size()), TIME_RANK_WEB);
  } else if (!date.empty() || !time.empty()) {
    emitter.OfferTime(date.empty() ? time : date, TIME_RANK_WEB);
  }
  if (count == 0) {
    Emit(emitter, "message", line);
    return false;
  }
  return true;
}

bool LooksLikeAccessLine(std::string_view line) {
  AccessLine parts;
  return Split(line, parts);
}

bool IsW3cDirective(std::string_view line) {
  for (std::string_view directive :
       {"#Software:", "#Version:", "#Fields:", "#Date:", "#Start-Date:", "#End-Date:", "#Remark:"}) {
    if (line.substr(0, directive.size()) == directive) return true;
  }
  return false;
}

}  // namespace yagura::event
