// Static files: the analyst console (the built single-page application) served from a directory,
// and the security headers every response of the service carries.
//
// The console is a Vite build: index.html plus content-hashed files under /assets/. Everything
// that is not the API (/api/, /taxii2/, /healthz, /metrics) and not a file of the build is a
// client-side route of the application, so it is answered with index.html. Hashed assets never
// change under their name and are cached for a year; everything else is revalidated on every
// use (ETag / If-None-Match → 304), so a new build is picked up at the next page load.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace yagura::http {

// The Content-Security-Policy of every response: the console loads scripts, styles, fonts and
// data only from its own origin, runs no inline code and cannot be framed.
inline constexpr std::string_view CONTENT_SECURITY_POLICY =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// Content-Security-Policy, X-Content-Type-Options, X-Frame-Options, Referrer-Policy and
// Cross-Origin-Opener-Policy, in that order. The server puts them on every response, errors
// included; a handler may replace one with a stricter value (attachments are sandboxed).
[[nodiscard]] const std::vector<std::pair<std::string, std::string>>& SecurityHeaders();

// True for the paths the console never answers: /api, /taxii2 and everything under them,
// /healthz and /metrics. Unknown paths there keep the API's JSON 404.
[[nodiscard]] bool IsServicePath(std::string_view path);

// The Content-Type for a file name, from its extension ("application/octet-stream" when
// unknown).
[[nodiscard]] std::string_view ContentTypeFor(std::string_view file_name);

// Serves the files of one directory. Thread-safe: Serve() may run on every I/O thread.
class StaticFiles {
 public:
  // Fails when `root` is not a directory holding a regular file index.html.
  [[nodiscard]] static Result<std::shared_ptr<StaticFiles>> Open(const std::string& root);
  ~StaticFiles();
  StaticFiles(const StaticFiles&) = delete;
  StaticFiles& operator=(const StaticFiles&) = delete;

  // Answers a GET or HEAD for a decoded, non-service path: the file, index.html for client-side
  // routes, 304 when If-None-Match matches, JSON 404 for anything missing under /assets/ and for
  // paths that could leave the root (".." segments, symbolic links pointing outside it). Other
  // methods and service paths get the API's JSON 404.
  [[nodiscard]] Response Serve(const Request& request) const;

  // The canonical root directory.
  [[nodiscard]] const std::string& root() const;

 private:
  struct Impl;
  explicit StaticFiles(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Makes `files` the router's fallback, so every path no route matches is offered to the console.
void MountConsole(Router& router, std::shared_ptr<const StaticFiles> files);

}  // namespace yagura::http
