// Micro benchmark of parsing syslog lines as live monitoring does: the loghub OpenSSH log (an
// attack stream of brute-force attempts, bench/syslog_ingest.sh's `attack`) as RFC 3164 lines
// declared product=linux,service=sshd, with the fields sshd rules read, including the address
// and user lifted out of the message. Parsing is most of the detector's own work per message
// on such a stream.
#include <benchmark/benchmark.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "event/logsource.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"

namespace yagura {
namespace {

namespace fs = std::filesystem;

void BM_ParseSyslogSshd(benchmark::State& state) {
  const fs::path log = fs::path(YAGURA_SHARED_DIR) / "data/logs/loghub/OpenSSH_2k.log";
  std::ifstream in(log);
  if (!in) {
    state.SkipWithError(("absent: " + log.string()).c_str());
    return;
  }
  std::deque<std::string> buffers;
  std::vector<event::Record> records;
  size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();  // framed as syslog_ingest.sh sends it
    std::string& buffer = buffers.emplace_back("<38>" + line);
    const size_t size = buffer.size();
    buffer.append(event::RECORD_PADDING, '\0');
    event::Record record;
    record.data = std::string_view(buffer.data(), size);
    record.format = event::RecordFormat::kSyslog;
    record.number = records.size() + 1;
    records.push_back(record);
    bytes += size;
  }
  event::FieldCatalog catalog;
  for (const char* name : {"src_ip", "user", "message", "program", "host", "pid"})
    catalog.Intern(name);
  auto mapping = event::LogsourceMapping::LoadDefault();
  auto declared = event::ParseLogsource("product=linux,service=sshd");
  if (!mapping || !declared) {
    state.SkipWithError("the default logsource mapping did not load");
    return;
  }
  mapping->InternFields(catalog);
  event::EventParser parser(catalog, *mapping, *declared);
  parser.SetCollectAllValues(false);
  const event::FieldId src_ip = catalog.Find("src_ip");
  event::Event event;
  size_t addresses = 0, passes = 0;
  for (auto _ : state) {
    for (const event::Record& record : records) {
      if (!parser.Parse(record, event)) continue;
      addresses += event.First(src_ip) != nullptr;
    }
    ++passes;
  }
  state.SetItemsProcessed(static_cast<int64_t>(passes * records.size()));
  state.SetBytesProcessed(static_cast<int64_t>(passes * bytes));
  state.counters["with_src_ip"] =
      static_cast<double>(addresses) / static_cast<double>(passes * records.size());
}
BENCHMARK(BM_ParseSyslogSshd)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace yagura
