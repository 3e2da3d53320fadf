// Envelopes round-trip exactly, and anything that is not one is refused, never misread.
#include "pipeline/envelope.hpp"

#include <gtest/gtest.h>

#include <string>

namespace yagura::pipeline {
namespace {

Envelope Sample(std::string_view payload) {
  Envelope envelope;
  envelope.kind = PayloadKind::kSyslog;
  envelope.org_id = "0195f3c2-0000-7000-8000-000000000001";
  envelope.sensor_id = "fw01";
  envelope.logsource = "product=linux,service=sshd";
  envelope.received_at = "2026-11-26T01:00:00.000Z";
  envelope.peer = "[::1]:51234";
  envelope.transport = "tls";
  envelope.payload = payload;
  return envelope;
}

TEST(EnvelopeTest, RoundTripsEveryFieldWithoutEscaping) {
  std::string payload = "<38>Nov 26 01:00:00 web1 sshd[1]: \"quoted\" \\ back\nslash \x01";
  payload.push_back('\0');
  payload += std::string(300, 'x');  // a length past one varint byte
  std::string bytes;
  EncodeEnvelope(Sample(payload), bytes);
  auto decoded = DecodeEnvelope(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->kind, PayloadKind::kSyslog);
  EXPECT_EQ(decoded->org_id, "0195f3c2-0000-7000-8000-000000000001");
  EXPECT_EQ(decoded->sensor_id, "fw01");
  EXPECT_EQ(decoded->logsource, "product=linux,service=sshd");
  EXPECT_EQ(decoded->received_at, "2026-11-26T01:00:00.000Z");
  EXPECT_EQ(decoded->peer, "[::1]:51234");
  EXPECT_EQ(decoded->transport, "tls");
  EXPECT_EQ(decoded->payload, payload);
}

TEST(EnvelopeTest, EmptyFieldsAndKindsRoundTrip) {
  for (PayloadKind kind : {PayloadKind::kJson, PayloadKind::kSyslog, PayloadKind::kLine}) {
    Envelope envelope;
    envelope.kind = kind;
    std::string bytes;
    EncodeEnvelope(envelope, bytes);
    auto decoded = DecodeEnvelope(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->kind, kind);
    EXPECT_TRUE(decoded->payload.empty());
  }
}

TEST(EnvelopeTest, RefusesWhatIsNotAnEnvelope) {
  std::string bytes;
  EncodeEnvelope(Sample("payload"), bytes);
  EXPECT_FALSE(DecodeEnvelope(""));
  EXPECT_FALSE(DecodeEnvelope("{\"org_id\":\"x\"}"));
  std::string wrong_kind = bytes;
  wrong_kind[3] = 'q';
  EXPECT_FALSE(DecodeEnvelope(wrong_kind));
  // Every truncation, and trailing bytes, are refused.
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(DecodeEnvelope(std::string_view(bytes).substr(0, size))) << size;
  }
  EXPECT_FALSE(DecodeEnvelope(bytes + "x"));
  // A length that runs past the end.
  std::string long_length = bytes.substr(0, 4) + "\xff\xff\xff\xff\x0f" + "abc";
  EXPECT_FALSE(DecodeEnvelope(long_length));
}

}  // namespace
}  // namespace yagura::pipeline
