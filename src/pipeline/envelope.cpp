// Envelope encoding (see envelope.hpp).
#include "pipeline/envelope.hpp"

namespace yagura::pipeline {
namespace {

constexpr std::string_view MAGIC = "YE1";

void PutVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void PutString(std::string_view text, std::string& out) {
  PutVarint(text.size(), out);
  out.append(text);
}

// Reads a varint-prefixed string at `at`, advancing it; false when it runs past the end.
bool GetString(std::string_view bytes, size_t& at, std::string_view& text) {
  uint64_t length = 0;
  for (int shift = 0;; shift += 7) {
    if (at >= bytes.size() || shift > 56) return false;
    auto byte = static_cast<uint8_t>(bytes[at++]);
    length |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
  }
  if (length > bytes.size() - at) return false;
  text = bytes.substr(at, length);
  at += length;
  return true;
}

}  // namespace

void EncodeEnvelope(const Envelope& envelope, std::string& out) {
  out.reserve(out.size() + envelope.payload.size() + envelope.org_id.size() +
              envelope.sensor_id.size() + envelope.logsource.size() + 64);
  out.append(MAGIC);
  out.push_back(static_cast<char>(envelope.kind));
  PutString(envelope.org_id, out);
  PutString(envelope.sensor_id, out);
  PutString(envelope.logsource, out);
  PutString(envelope.received_at, out);
  PutString(envelope.peer, out);
  PutString(envelope.transport, out);
  PutString(envelope.payload, out);
}

std::optional<Envelope> DecodeEnvelope(std::string_view bytes) {
  if (bytes.size() < MAGIC.size() + 1 || bytes.substr(0, MAGIC.size()) != MAGIC) {
    return std::nullopt;
  }
  Envelope envelope;
  char kind = bytes[MAGIC.size()];
  if (kind != 'j' && kind != 's' && kind != 'l') return std::nullopt;
  envelope.kind = static_cast<PayloadKind>(kind);
  size_t at = MAGIC.size() + 1;
  for (std::string_view* field :
       {&envelope.org_id, &envelope.sensor_id, &envelope.logsource, &envelope.received_at,
        &envelope.peer, &envelope.transport, &envelope.payload}) {
    if (!GetString(bytes, at, *field)) return std::nullopt;
  }
  if (at != bytes.size()) return std::nullopt;
  return envelope;
}

}  // namespace yagura::pipeline
