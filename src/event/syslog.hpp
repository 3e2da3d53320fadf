// Syslog lines: RFC 5424, RFC 3164 with or without its <PRI> prefix (as files written by
// syslogd and journald exports look), and 3164 with an ISO 8601 timestamp (rsyslog's
// high-precision format).
//
// Field names (values are views into the line unless noted):
//   priority, facility, severity  the <PRI> value and its two parts, as numbers (only with PRI)
//   version                       RFC 5424 protocol version
//   timestamp                     header time as written (also the event time)
//   hostname, host                the sending host (both names, same value)
//   appname                       RFC 5424 APP-NAME, or the RFC 3164 tag as written
//                                 ("sshd(pam_unix)")
//   program                       the program name: appname without a "(...)" suffix ("sshd")
//   procid, pid                   RFC 5424 PROCID, or the number in "tag[pid]:" (both names)
//   msgid                         RFC 5424 MSGID
//   sd.<SD-ID>.<PARAM-NAME>       RFC 5424 structured data parameters (value unescaped)
//   message                       the free text after the header (the whole line when the
//                                 line has no syslog header)
//   src_ip, user                  sshd only: the client address and the user name from the
//                                 message ("Failed password for alice from 203.0.113.7 ...")
// RFC 5424's "-" (no value) yields no field. Internal to src/event.
#pragma once

#include <string_view>

#include "core/arena.hpp"
#include "event/flatten.hpp"

namespace yagura::event {

// Emits the fields of `line`. Returns false when the line has no syslog header (then only
// `message` was emitted). Strings that need unescaping are stored in `arena`.
bool ParseSyslogLine(std::string_view line, FieldEmitter& emitter, Arena& arena);

// Whether `line` starts with a syslog header (for format detection).
[[nodiscard]] bool LooksLikeSyslog(std::string_view line);

}  // namespace yagura::event
