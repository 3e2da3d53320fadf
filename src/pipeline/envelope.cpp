// Envelope encoding (see envelope.hpp).
#include "pipeline/envelope.hpp"

#include "pipeline/varint.hpp"

namespace yagura::pipeline {
namespace {

constexpr std::string_view MAGIC = "YE1";

}  // namespace

void EncodeEnvelope(const Envelope& envelope, std::string& out) {
  out.reserve(out.size() + envelope.payload.size() + envelope.org_id.size() +
              envelope.sensor_id.size() + envelope.logsource.size() + 64);
  out.append(MAGIC);
  out.push_back(static_cast<char>(envelope.kind));
  PutBytes(out, envelope.org_id);
  PutBytes(out, envelope.sensor_id);
  PutBytes(out, envelope.logsource);
  PutBytes(out, envelope.received_at);
  PutBytes(out, envelope.peer);
  PutBytes(out, envelope.transport);
  PutBytes(out, envelope.payload);
}

std::optional<Envelope> DecodeEnvelope(std::string_view bytes) {
  if (bytes.size() < MAGIC.size() + 1 || bytes.substr(0, MAGIC.size()) != MAGIC) {
    return std::nullopt;
  }
  Envelope envelope;
  char kind = bytes[MAGIC.size()];
  if (kind != 'j' && kind != 's' && kind != 'l') return std::nullopt;
  envelope.kind = static_cast<PayloadKind>(kind);
  std::string_view rest = bytes.substr(MAGIC.size() + 1);
  for (std::string_view* field :
       {&envelope.org_id, &envelope.sensor_id, &envelope.logsource, &envelope.received_at,
        &envelope.peer, &envelope.transport, &envelope.payload}) {
    if (!GetBytes(rest, *field)) return std::nullopt;
  }
  if (!rest.empty()) return std::nullopt;
  return envelope;
}

}  // namespace yagura::pipeline
