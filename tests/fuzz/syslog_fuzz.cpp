// Fuzz harness of what syslog senders and the ingest path hand the centre: the TCP stream
// framer (RFC 6587), the spool's envelopes, and the syslog sender configuration.
//
// Invariants:
//   - the framer gives the same messages and errors whatever pieces the stream arrives in (TCP
//     cuts a stream anywhere), with the default size limit and with a small one, and holds no
//     more than the limit plus a count between pieces;
//   - an envelope encodes and decodes to the same fields, and bytes that decode as an envelope
//     encode back to the same bytes;
//   - a sender spec that parses gives a normalised logsource that normalises to itself, and a
//     sender map builds from it or says why not.
//
// Built with -fsanitize=fuzzer (YAGURA_LIBFUZZER; scripts/fuzz) it is a libFuzzer target.
// Otherwise its own main() replays the files and directories named on the command line and
// deterministic mutations of each, so it runs as a ctest.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/envelope.hpp"
#include "pipeline/sender_map.hpp"
#include "pipeline/syslog_framing.hpp"
#include "replay_main.hpp"

namespace {

using namespace yagura::pipeline;

size_t messages_framed = 0;  // for the replay's report

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "syslog_fuzz: invariant violated: %s\n[%.*s]\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

class Collect final : public SyslogFrameSink {
 public:
  void OnMessage(std::string_view message) override { out.push_back("m:" + std::string(message)); }
  void OnFramingError(std::string_view reason) override {
    out.push_back("e:" + std::string(reason));
  }
  std::vector<std::string> out;
};

std::vector<std::string> Frame(std::string_view stream, size_t limit, uint64_t cuts) {
  SyslogStreamFramer framer(limit);
  Collect sink;
  std::mt19937_64 random(cuts);
  size_t at = 0;
  while (at < stream.size()) {
    size_t piece = cuts == 0 ? stream.size() : 1 + random() % 23;
    piece = std::min(piece, stream.size() - at);
    framer.Feed(stream.substr(at, piece), sink);
    at += piece;
    if (framer.buffered() > limit + 32)
      Fail("the framer holds at most a message and a count", stream);
  }
  framer.Finish(sink);
  return sink.out;
}

void CheckFraming(std::string_view stream) {
  for (size_t limit : {size_t{64} * 1024, size_t{40}}) {
    const std::vector<std::string> whole = Frame(stream, limit, 0);
    messages_framed += whole.size();
    for (uint64_t cuts : {1, 2}) {
      if (Frame(stream, limit, cuts) != whole) {
        Fail("the framer gives the same messages whatever pieces the stream comes in", stream);
      }
    }
  }
}

bool Same(const Envelope& a, const Envelope& b) {
  return a.kind == b.kind && a.org_id == b.org_id && a.sensor_id == b.sensor_id &&
         a.logsource == b.logsource && a.received_at == b.received_at && a.peer == b.peer &&
         a.transport == b.transport && a.payload == b.payload;
}

void CheckEnvelopes(std::string_view input) {
  if (auto decoded = DecodeEnvelope(input)) {
    std::string encoded;
    EncodeEnvelope(*decoded, encoded);
    auto again = DecodeEnvelope(encoded);
    if (!again || !Same(*again, *decoded)) Fail("a decoded envelope encodes to itself", input);
  }
  // The input cut into an envelope's seven fields, encoded and decoded.
  std::string_view parts[7];
  std::string_view rest = input;
  for (int i = 0; i < 6; ++i) {
    size_t cut = rest.find('\x1f');
    parts[i] = rest.substr(0, cut);
    rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
  }
  parts[6] = rest;
  Envelope envelope;
  envelope.kind = input.empty() || input[0] % 3 == 0 ? PayloadKind::kJson
                  : input[0] % 3 == 1                ? PayloadKind::kSyslog
                                                     : PayloadKind::kLine;
  envelope.org_id = parts[0];
  envelope.sensor_id = parts[1];
  envelope.logsource = parts[2];
  envelope.received_at = parts[3];
  envelope.peer = parts[4];
  envelope.transport = parts[5];
  envelope.payload = parts[6];
  std::string encoded;
  EncodeEnvelope(envelope, encoded);
  auto decoded = DecodeEnvelope(encoded);
  if (!decoded || !Same(*decoded, envelope)) Fail("an envelope decodes to what was encoded", input);
}

void CheckSenders(std::string_view input) {
  for (size_t at = 0; at < input.size();) {
    size_t end = input.find('\n', at);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(at, end - at);
    at = end + 1;
    if (auto normalised = NormaliseConfiguredLogsource(line)) {
      auto again = NormaliseConfiguredLogsource(*normalised);
      if (!again || *again != *normalised)
        Fail("a normalised logsource normalises to itself", line);
    }
    auto sender = ParseSenderSpec(line);
    if (!sender) continue;
    auto logsource = NormaliseConfiguredLogsource(sender->logsource);
    if (!logsource || *logsource != sender->logsource) {
      Fail("a parsed sender's logsource is normalised", line);
    }
    auto map = SenderMap::Build({*sender});
    (void)map;
  }
}

void Run(std::string_view input) {
  CheckFraming(input);
  CheckEnvelopes(input);
  CheckSenders(input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifndef YAGURA_LIBFUZZER

namespace {

// Bytes and words of the grammar, put in by the mutations.
// clang-format off
constexpr std::string_view INSERTS[] = {
    "\n", "\r\n", std::string_view("\0", 1), " ", "0", "9", "12 ", "99999999999 ", "<13>", "YE1",
    ";", ",", "=", "/", "*", "\x1f", "\xff",
};
// clang-format on

std::string Mutate(const std::string& seed, std::mt19937& random) {
  return yagura::fuzz::MutateByEdits(seed, random, INSERTS);
}

}  // namespace

int main(int argc, char** argv) {
  yagura::fuzz::Replayed replayed;
  if (int usage = yagura::fuzz::ReplaySeeds(argc, argv, 300, 20261131, Mutate, replayed))
    return usage;
  std::printf("syslog_fuzz: %zu inputs from %zu seeds (%zu messages framed), no failures\n",
              replayed.runs, replayed.seeds, messages_framed);
  return 0;
}

#endif
