// Request and Response: the HTTP messages handlers see, free of Boost.Beast.
//
// Beast lives in one translation unit (server.cpp); everything else — routing, the JSON API,
// TAXII, the console's static files — is written against these plain structs, so it compiles
// quickly and can be tested without sockets.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace yagura::http {

// Case-insensitive header map (names are stored lower-cased).
class Headers {
 public:
  void Set(std::string_view name, std::string value);
  void Add(std::string_view name, std::string value);  // keeps earlier values (Set-Cookie)
  [[nodiscard]] std::optional<std::string_view> Get(std::string_view name) const;
  void Remove(std::string_view name);
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& all() const {
    return entries_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;  // lower-case name, value
};

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // as received: path plus query
  std::string path;     // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1" or "::1"
  bool tls = false;

  // Filled by the router from "{name}" segments of the matched route.
  std::map<std::string, std::string, std::less<>> path_params;
  // The pattern of the matched route ("/api/v1/incidents/{id}"), filled by the router; metrics
  // label requests by it so the label set stays bounded whatever paths clients send.
  std::string route;

  [[nodiscard]] std::optional<std::string_view> Query(std::string_view name) const;
  [[nodiscard]] std::string_view PathParam(std::string_view name) const;
  // The value of one cookie from the Cookie header.
  [[nodiscard]] std::optional<std::string> Cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // JSON body with Content-Type application/json.
  static Response Json(int status, std::string body);
  // A JSON error object {"error":{"status":..,"code":..,"message":..,"field":..}}.
  static Response Error(int status, std::string_view code, std::string_view message,
                        std::string_view field = {});
  static Response Text(int status, std::string body, std::string_view content_type);
  // 204, no body.
  static Response NoContent();
};

// Percent-decodes `text`; '+' becomes a space when `plus_as_space` (query strings). Fails on a
// '%' not followed by two hex digits.
[[nodiscard]] Result<std::string> PercentDecode(std::string_view text, bool plus_as_space);

// Splits a request target ("/a%20b?x=1&y") into the decoded path and query pairs of `request`.
// Fails (the server answers 400) on targets not starting with '/', invalid percent-encoding,
// or decoded paths that IsSafePath rejects.
[[nodiscard]] Result<void> DecodeTarget(std::string_view target, Request& request);

// False for decoded paths that could escape a directory or confuse a file-system lookup: not
// starting with '/', a "." or ".." segment, a backslash, NUL or another control character.
[[nodiscard]] bool IsSafePath(std::string_view path);

// After DecodeTarget, the server refuses (400) a decoded path that is not valid UTF-8 and a
// query name or value holding NUL or invalid UTF-8: they reach SQL parameters and file names,
// and PostgreSQL refuses such text outright (a 500 instead of a client error). A separate step
// rather than part of DecodeTarget, so requests built by hand in tests still reach the
// handlers' own validation.
[[nodiscard]] Result<void> CheckDecodedText(const Request& request);

}  // namespace yagura::http
