// Micro benchmarks of reading EVTX records into events. BM_ReadEvtx reads the
// EVTX-ATTACK-SAMPLES files in ../shared/data/logs/evtx as a scan reads them (checking chunks,
// rendering each record's XML and outline), from the page cache. For the others, the XML of
// every record is rendered once up front, with its outline, then parsed (BM_ParseEvtxXml: flattening the XML into the fields SigmaHQ rules name,
// and classifying; BM_ParseEvtxOutline: the same from the outline, as a scan does) or
// converted to evtx_dump's JSON as an alert carries it (BM_EvtxXmlToJson, from the XML or the
// outline).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <deque>
#include <filesystem>

#include "core/diagnostics.hpp"
#include "event/evtx_xml.hpp"
#include "event/input.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "sigma/rule_set.hpp"
#include "sigmahq_rules.hpp"

namespace yagura {
namespace {

namespace fs = std::filesystem;

struct EvtxRecords : bench::SigmaHqRules {
  std::vector<std::string> files;
  std::deque<std::string> buffers;  // each record's XML, padded
  std::deque<std::string> outlines;
  std::vector<event::Record> records;  // without outlines
  std::vector<std::string_view> record_outlines;
  size_t bytes = 0;
};

EvtxRecords& Records() {
  static EvtxRecords r = [] {
    EvtxRecords c;
    // The fields of every rule, so the parser keeps what a scan keeps.
    bench::LoadSigmaHqRules(c, "data/logs/evtx");
    if (!c.error.empty()) return c;
    const fs::path logs = fs::path(YAGURA_SHARED_DIR) / "data/logs/evtx";

    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(logs))
      if (entry.path().extension() == ".evtx") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    c.files = files;
    Diagnostics diagnostics;
    event::RecordReader reader(event::InputFormat::kAuto, diagnostics);
    for (const std::string& path : files) {
      event::InputFile input{path};
      reader.ReadFile(input, 0, [&](const event::Record& record) {
        if (record.format != event::RecordFormat::kEvtx) return;
        std::string& buffer = c.buffers.emplace_back(record.data);
        buffer.append(event::RECORD_PADDING, ' ');
        event::Record copy = record;
        copy.data = std::string_view(buffer.data(), record.data.size());
        copy.outline = {};  // (its shape is kept, for when the outline is put back)
        c.records.push_back(copy);
        c.record_outlines.push_back(c.outlines.emplace_back(record.outline));
        c.bytes += record.data.size();
      });
    }
    if (c.records.empty()) c.error = "no EVTX record read";
    return c;
  }();
  return r;
}

void Report(benchmark::State& state, size_t passes, const EvtxRecords& c) {
  state.SetItemsProcessed(static_cast<int64_t>(passes * c.records.size()));
  state.SetBytesProcessed(static_cast<int64_t>(passes * c.bytes));
  state.counters["ns_per_record"] = benchmark::Counter(
      static_cast<double>(passes * c.records.size()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// As a scan parses a record for detection (range(0): with every value, for keyword searches),
// from the XML or (with_outline) from the renderer's outline.
void ParseRecords(benchmark::State& state, bool with_outline) {
  EvtxRecords& c = Records();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  std::vector<event::Record> records = c.records;
  if (with_outline) {
    for (size_t i = 0; i < records.size(); ++i) records[i].outline = c.record_outlines[i];
  }
  event::EventParser parser(c.catalog, *c.mapping);
  parser.SetCollectAllValues(state.range(0) != 0);
  event::Event event;
  size_t passes = 0, failed = 0;
  for (auto _ : state) {
    for (const event::Record& record : records)
      if (!parser.Parse(record, event)) ++failed;
    ++passes;
  }
  if (failed != 0) {
    state.SkipWithError("a record did not parse");
    return;
  }
  Report(state, passes, c);
}

void BM_ParseEvtxXml(benchmark::State& state) { ParseRecords(state, false); }
BENCHMARK(BM_ParseEvtxXml)->Arg(0)->Arg(1)->ArgName("all_values")->Unit(benchmark::kMillisecond);

void BM_ParseEvtxOutline(benchmark::State& state) { ParseRecords(state, true); }
BENCHMARK(BM_ParseEvtxOutline)->Arg(0)->Arg(1)->ArgName("all_values")->Unit(benchmark::kMillisecond);

void BM_ReadEvtx(benchmark::State& state) {
  EvtxRecords& c = Records();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  Diagnostics diagnostics;
  event::RecordReader reader(event::InputFormat::kAuto, diagnostics);
  size_t passes = 0, records = 0;
  for (auto _ : state) {
    for (const std::string& path : c.files) {
      event::InputFile input{path};
      reader.ReadFile(input, 0, [&](const event::Record&) { ++records; });
    }
    ++passes;
  }
  if (records != passes * c.records.size()) {
    state.SkipWithError("the files gave other records than when first read");
    return;
  }
  Report(state, passes, c);
}
BENCHMARK(BM_ReadEvtx)->Unit(benchmark::kMillisecond);

void BM_EvtxXmlToJson(benchmark::State& state) {
  EvtxRecords& c = Records();
  if (!c.error.empty()) {
    state.SkipWithError(c.error.c_str());
    return;
  }
  const bool outline = state.range(0) != 0;
  size_t passes = 0, output = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < c.records.size(); ++i) {
      auto json = event::EvtxXmlToJson(
          c.records[i].data, outline ? c.record_outlines[i] : std::string_view(),
          outline ? c.records[i].outline_shape : event::OutlineShapeId{});
      if (json) output += json->size();
    }
    ++passes;
  }
  benchmark::DoNotOptimize(output);
  Report(state, passes, c);
}
BENCHMARK(BM_EvtxXmlToJson)->Arg(0)->Arg(1)->ArgName("outline")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace yagura
