// Envelope: one spooled event with where it came from.
//
// Every source (HTTP bulk, syslog UDP/TCP/TLS, tailed files) wraps each event with the
// organisation and logsource it is attributed to (taken from the sensor token, the sender's
// address or certificate, or the tailed file's configuration, never from the event itself), the
// sensor that delivered it, when and from where. The detector unwraps it.
//
// The layout is binary, because it is written and read once per event on the hot path and a
// syslog line must not be JSON-escaped only to be unescaped again: the magic "YE1", a kind
// byte, then seven length-prefixed strings (org, sensor, logsource, received_at, peer,
// transport, payload), each length a LEB128 varint. The payload is the event as received.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yagura::pipeline {

enum class PayloadKind : uint8_t {
  kJson = 'j',    // one JSON object (HTTP bulk NDJSON line, JSON line of a tailed file)
  kSyslog = 's',  // one syslog message, RFC 5424 or RFC 3164, without framing
  kLine = 'l',    // one line of a tailed file: JSON when it looks like it, else syslog/text
};

struct Envelope {
  PayloadKind kind = PayloadKind::kJson;
  std::string_view org_id;
  std::string_view sensor_id;    // sensor token id, syslog sender name, or tailed file name
  std::string_view logsource;    // "product=linux,service=sshd" (hub::NormaliseLogsource form)
  std::string_view received_at;  // RFC 3339 with milliseconds, UTC
  std::string_view peer;         // "address:port" of the sender; the path for tailed files
  std::string_view transport;    // http | udp | tcp | tls | file
  std::string_view payload;
};

// Appends the encoding of `envelope` to `out`.
void EncodeEnvelope(const Envelope& envelope, std::string& out);

// Reads an envelope; its views point into `bytes`. nullopt when the bytes are not an envelope
// (wrong magic, a length running past the end, unknown kind).
[[nodiscard]] std::optional<Envelope> DecodeEnvelope(std::string_view bytes);

}  // namespace yagura::pipeline
