// Micro benchmarks of the event store (src/pipeline/event_store.hpp): what keeping every event
// costs the detector (adding the loghub OpenSSH log's lines as spooled syslog envelopes, with
// the flushes the detector makes), what it costs on the disk, and how long an investigator's
// question takes ("this host, this hour") over a day of events from 500 hosts.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pipeline/envelope.hpp"
#include "pipeline/event_store.hpp"

namespace yagura {
namespace {

namespace fs = std::filesystem;

constexpr int64_t DAY_START = 1'795'132'800'000;  // 2026-11-20T00:00:00Z
constexpr int HOSTS = 500;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "yagura-event-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    if (!path_.empty()) fs::remove_all(path_);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The OpenSSH log's lines as spooled envelopes of 500 hosts, a day's events spread evenly.
struct Corpus {
  std::vector<std::string> envelopes;
  std::vector<std::string> hosts;
  size_t payload_bytes = 0;
};

bool LoadCorpus(size_t events, Corpus& corpus) {
  const fs::path log = fs::path(YAGURA_SHARED_DIR) / "data/logs/loghub/OpenSSH_2k.log";
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back("<38>" + line);
  }
  if (lines.empty()) return false;
  for (int h = 0; h < HOSTS; ++h)
    corpus.hosts.push_back("host-" + std::to_string(h) + ".example.go.jp");
  corpus.envelopes.reserve(events);
  for (size_t i = 0; i < events; ++i) {
    const std::string& line = lines[i % lines.size()];
    pipeline::Envelope envelope;
    envelope.kind = pipeline::PayloadKind::kSyslog;
    envelope.org_id = i % 3 == 0 ? "01a2-ministry-a" : "01a2-ministry-b";
    envelope.sensor_id = "syslog-relay";
    envelope.logsource = "product=linux,service=sshd";
    envelope.received_at = "2026-11-20T12:00:00.000Z";
    envelope.peer = "192.0.2.10:514";
    envelope.transport = "tcp";
    envelope.payload = line;
    std::string bytes;
    pipeline::EncodeEnvelope(envelope, bytes);
    corpus.payload_bytes += line.size();
    corpus.envelopes.push_back(std::move(bytes));
  }
  return true;
}

int64_t TimeOf(size_t i, size_t events) {
  return DAY_START + static_cast<int64_t>(i * (86'400'000.0 / static_cast<double>(events)));
}

// Adding events as the detector does, flushing every 4,096 (its batches) as its state saves do
// at most once a second: events/s and bytes kept per event.
void BM_EventStoreAdd(benchmark::State& state) {
  const size_t events = 200'000;
  Corpus corpus;
  if (!LoadCorpus(events, corpus)) {
    state.SkipWithError("absent: ../shared/data/logs/loghub/OpenSSH_2k.log");
    return;
  }
  uint64_t bytes_on_disk = 0;
  for (auto _ : state) {
    state.PauseTiming();
    TempDir dir;
    pipeline::EventStoreOptions options;
    options.dir = dir.path();
    auto store = pipeline::EventStore::Open(options);
    if (!store) {
      state.SkipWithError(store.error().message.c_str());
      return;
    }
    state.ResumeTiming();
    for (size_t i = 0; i < events; ++i) {
      const int64_t time = TimeOf(i, events);
      (*store)->Add(i + 1, time, time + 500, corpus.hosts[(i * 7919) % HOSTS],
                    i % 3 == 0 ? "01a2-ministry-a" : "01a2-ministry-b", corpus.envelopes[i]);
      if ((i + 1) % 40'960 == 0) (void)(*store)->Flush();
    }
    (void)(*store)->Flush();
    state.PauseTiming();
    bytes_on_disk = (*store)->Stats().bytes;
    store->reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events));
  state.counters["disk_bytes_per_event"] =
      static_cast<double>(bytes_on_disk) / static_cast<double>(events);
  state.counters["payload_bytes_per_event"] =
      static_cast<double>(corpus.payload_bytes) / static_cast<double>(events);
}
BENCHMARK(BM_EventStoreAdd)->Unit(benchmark::kMillisecond);

// "This host, this hour" over a day of a million events from 500 hosts; and the same hour for
// every host, and a text over the whole day, for contrast; with segments of about an hour as
// written (`packed:0`) and once grouped by host (`packed:1`).
void BM_EventStoreQuery(benchmark::State& state) {
  const size_t events = 1'000'000;
  Corpus corpus;
  if (!LoadCorpus(events, corpus)) {
    state.SkipWithError("absent: ../shared/data/logs/loghub/OpenSSH_2k.log");
    return;
  }
  TempDir dir;
  pipeline::EventStoreOptions options;
  options.dir = dir.path();
  options.segment_bytes = 640u << 10;  // about an hour of this day each, as segment_ms cuts them
  options.compact = state.range(1) != 0;
  auto store = pipeline::EventStore::Open(options);
  if (!store) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }
  for (size_t i = 0; i < events; ++i) {
    const int64_t time = TimeOf(i, events);
    (*store)->Add(i + 1, time, time + 500, corpus.hosts[(i * 7919) % HOSTS],
                  i % 3 == 0 ? "01a2-ministry-a" : "01a2-ministry-b", corpus.envelopes[i]);
  }
  (void)(*store)->Flush();
  (*store)->WaitForCompactions();
  corpus.envelopes.clear();
  pipeline::EventQuery query;
  query.limit = 10'000;
  const int64_t hour = 3'600'000;
  switch (state.range(0)) {
    case 0:  // one host, one hour
      query.host = "HOST-42.example.go.jp";
      query.from = DAY_START + 9 * hour;
      query.to = DAY_START + 10 * hour;
      break;
    case 1:  // every host, one hour
      query.from = DAY_START + 9 * hour;
      query.to = DAY_START + 10 * hour;
      break;
    default:  // a text, the whole day
      query.text = "invalid user admin from 103.99.0.122";
      break;
  }
  size_t found = 0;
  uint64_t read = 0, skipped = 0;
  for (auto _ : state) {
    auto page = (*store)->Query(query);
    if (!page) {
      state.SkipWithError(page.error().message.c_str());
      return;
    }
    found = page->events.size();
    read = page->blocks_read;
    skipped = page->blocks_skipped;
    benchmark::DoNotOptimize(page->events.data());
  }
  state.counters["events_found"] = static_cast<double>(found);
  state.counters["blocks_read"] = static_cast<double>(read);
  state.counters["blocks_skipped"] = static_cast<double>(skipped);
}
BENCHMARK(BM_EventStoreQuery)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->ArgNames({"shape", "packed"})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace yagura
