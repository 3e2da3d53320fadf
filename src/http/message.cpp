// Request and Response helpers: header lookup, target decoding, cookies and JSON error bodies.
//
// Everything here is plain string work so that routing and handlers can be tested without a
// socket. Target decoding is deliberately strict: a path that is not valid percent-encoding or
// that contains "..", control characters or backslashes is refused before any handler (or the
// static file server) sees it, instead of being "repaired" in a way a handler might not expect.
#include "http/message.hpp"

#include <algorithm>
#include <cstdint>

#include "core/json_writer.hpp"
#include "core/utf8.hpp"

namespace yagura::http {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

void Headers::Set(std::string_view name, std::string value) {
  Remove(name);
  entries_.emplace_back(Lower(name), std::move(value));
}

void Headers::Add(std::string_view name, std::string value) {
  entries_.emplace_back(Lower(name), std::move(value));
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [key, value] : entries_) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

void Headers::Remove(std::string_view name) {
  std::erase_if(entries_, [&](const auto& entry) { return EqualsIgnoreCase(entry.first, name); });
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view Request::PathParam(std::string_view name) const {
  auto it = path_params.find(name);
  if (it == path_params.end()) return {};
  return it->second;
}

std::optional<std::string> Request::Cookie(std::string_view name) const {
  // RFC 6265 section 5.4: one Cookie header of "name=value" pairs separated by "; ". Some
  // clients send several Cookie headers over HTTP/1.1, so all of them are searched.
  for (const auto& [key, header] : headers.all()) {
    if (key != "cookie") continue;
    std::string_view rest = header;
    while (!rest.empty()) {
      size_t end = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (Trim(pair.substr(0, eq)) != name) continue;
      std::string_view value = Trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
  }
  return std::nullopt;
}

Response Response::NoContent() {
  Response response;
  response.status = 204;
  return response;
}

Response Response::Json(int status, std::string body) {
  Response response;
  response.status = status;
  response.headers.Set("content-type", "application/json");
  response.body = std::move(body);
  return response;
}

Response Response::Error(int status, std::string_view code, std::string_view message,
                         std::string_view field) {
  std::string body;
  JsonWriter writer(body);
  writer.BeginObject().Key("error").BeginObject();
  writer.Key("status").Int(status);
  writer.Key("code").String(code);
  writer.Key("message").String(message);
  if (!field.empty()) writer.Key("field").String(field);
  writer.EndObject().EndObject();
  return Json(status, std::move(body));
}

Response Response::Text(int status, std::string body, std::string_view content_type) {
  Response response;
  response.status = status;
  response.headers.Set("content-type", std::string(content_type));
  response.body = std::move(body);
  return response;
}

Result<std::string> PercentDecode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int high = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return Fail("invalid percent-encoding: '%' not followed by two hex digits");
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsSafePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '\\') return false;
  }
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<void> CheckDecodedText(const Request& request) {
  // Overlong forms are the classic way to smuggle "." or "/" past a check on the raw bytes.
  if (!ValidUtf8(request.path)) return Fail("path is not valid UTF-8");
  for (const auto& [name, value] : request.query) {
    for (const std::string* part : {&name, &value}) {
      if (part->find('\0') != std::string::npos || !ValidUtf8(*part)) {
        return Fail("bad query: NUL or invalid UTF-8 after decoding");
      }
    }
  }
  return {};
}

Result<void> DecodeTarget(std::string_view target, Request& request) {
  if (target.empty() || target.front() != '/') {
    return Fail("request target must be an absolute path");
  }
  size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  auto path = PercentDecode(raw_path, false);
  if (!path) return Fail("bad path: " + path.error().message);
  if (!IsSafePath(*path)) return Fail("path is not allowed");
  request.path = std::move(*path);
  request.query.clear();
  if (question == std::string_view::npos) return {};

  std::string_view rest = target.substr(question + 1);
  // A fragment never belongs on the wire, but if a client sends one it is not part of the query.
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    size_t end = rest.find('&');
    std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    if (!key) return Fail("bad query: " + key.error().message);
    std::string value;
    if (eq != std::string_view::npos) {
      auto decoded = PercentDecode(pair.substr(eq + 1), true);
      if (!decoded) return Fail("bad query: " + decoded.error().message);
      value = std::move(*decoded);
    }
    request.query.emplace_back(std::move(*key), std::move(value));
  }
  return {};
}

}  // namespace yagura::http
