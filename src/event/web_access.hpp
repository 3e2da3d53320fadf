// Web server access logs, named with the W3C extended field names Sigma's webserver rules use.
//
// Apache/nginx "combined" and "common" formats (optionally with a leading "vhost:port", and
// lines wrapped in one more pair of quotes as some exports write them):
//   c-ip                      client address (%h)
//   cs-username               authenticated user (%u), as written ("-" when none)
//   timestamp                 the bracketed time as written (also the event time)
//   date, time                its date part ("22/Dec/2016") and clock part ("16:30:52")
//   cs-method                 request method
//   cs-uri, c-uri             request target as written ("/a/b.php?x=1")
//   cs-uri-stem               the target before '?'
//   cs-uri-query              the target after '?' (absent when there is no '?')
//   cs-version                protocol ("HTTP/1.1")
//   sc-status                 status code (a number)
//   sc-bytes                  response size (a number, or "-")
//   cs-referer                Referer header (combined only)
//   cs-user-agent, c-useragent  User-Agent header (combined only; both names)
//   cs-host                   the virtual host, when the line starts with one
// A request line that is not "METHOD TARGET VERSION" yields cs-uri with the whole request.
//
// IIS W3C extended lines: each value is named by the "#Fields:" directive in force (IIS's
// default field list when none was seen). Names are kept as written, and the bracketed header
// names also get the Sigma spelling: cs(User-Agent) -> cs-user-agent and c-useragent,
// cs(Referer) -> cs-referer, cs(Cookie) -> cs-cookie, cs(Host) -> cs-host. The event time is
// "date time". Internal to src/event.
#pragma once

#include <string_view>

#include "event/flatten.hpp"

namespace yagura::event {

// The field list IIS writes by default, used when a file has no "#Fields:" directive.
inline constexpr std::string_view IIS_DEFAULT_FIELDS =
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) "
    "cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

// Emits the fields of an Apache/nginx access line. Returns false (emitting only `message`) when
// the line does not have that shape.
bool ParseAccessLine(std::string_view line, FieldEmitter& emitter);

// Emits the fields of an IIS W3C extended line under the names in `schema`.
bool ParseW3cLine(std::string_view line, std::string_view schema, FieldEmitter& emitter);

// Format detection helpers.
[[nodiscard]] bool LooksLikeAccessLine(std::string_view line);
[[nodiscard]] bool IsW3cDirective(std::string_view line);

}  // namespace yagura::event
