// Fuzz harness of the event input layer: the JSON framer (fed in uneven chunks, as the reader
// feeds it), every record parser (JSON, EVTX XML, syslog, web access, text) with and without
// keyword values, and ToJson, whose output must always be valid JSON. JSON records are parsed
// both by the walk and by simdjson alone, which must give the same event or the same error.
// The input is also read as a file of Windows events exported as XML (each record one whole
// <Event> element of the input, in order, within the size limit, every byte counted), and,
// behind a UTF-16 byte order mark, as text (what UTF-16 decodes to is valid UTF-8).
//
// Built with -fsanitize=fuzzer (define YAGURA_LIBFUZZER) it is a libFuzzer target. Otherwise its
// own main() replays the files and directories named on the command line, then deterministic
// mutations of each (bit flips, truncations, inserted structural bytes), so it runs as a ctest.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "event/event.hpp"
#include "event/field_catalog.hpp"
#include "event/input.hpp"
#include "event/json_framing.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "event/record.hpp"
#include "replay_main.hpp"

namespace {

using namespace yagura::event;

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "event_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

struct Harness {
  std::unique_ptr<LogsourceMapping> mapping;
  FieldCatalog some;  // the fields a typical rule set reads
  FieldCatalog all;   // plus keyword searches
  std::unique_ptr<EventParser> some_parser;
  std::unique_ptr<EventParser> all_parser;
  std::unique_ptr<EventParser> some_simdjson;  // the same, without the JSON walk
  std::unique_ptr<EventParser> all_simdjson;
  Event event;
  Event simdjson_event;
  simdjson::dom::parser validator;

  Harness() {
    auto loaded = LogsourceMapping::LoadDefault();
    if (!loaded) {
      std::fprintf(stderr, "event_fuzz: %s\n", loaded.error().ToString().c_str());
      std::abort();
    }
    mapping = std::make_unique<LogsourceMapping>(std::move(*loaded));
    for (FieldCatalog* catalog : {&some, &all}) {
      for (const char* name : {"Image", "CommandLine", "EventID", "Data", "a", "a.b", "a.b.c",
                               "id.orig_h", "message", "program", "cs-uri-query", "sd.x.y",
                               "TargetUserName", "Provider_Name", "Event.RenderingInfo.Message"}) {
        catalog->Intern(name);
      }
      mapping->InternFields(*catalog);
    }
    all.RequireAllValues();
    some_parser = std::make_unique<EventParser>(some, *mapping);
    all_parser = std::make_unique<EventParser>(all, *mapping, Logsource{"fuzz", "input", ""});
    some_simdjson = std::make_unique<EventParser>(some, *mapping);
    all_simdjson = std::make_unique<EventParser>(all, *mapping, Logsource{"fuzz", "input", ""});
    some_simdjson->SetJsonWalk(false);
    all_simdjson->SetJsonWalk(false);
  }

  // An event's values, types and time as text, for comparing two parses.
  static std::string Describe(const Event& parsed, const FieldCatalog& catalog) {
    std::string out;
    for (FieldId id : parsed.Fields()) {
      out.append(catalog.Name(id));
      for (const FieldValue& value : parsed.Values(id)) {
        out += static_cast<char>('0' + static_cast<int>(value.type));
        out.append(value.text);
        out += '\0';
      }
      out += '\n';
    }
    for (const FieldValue& value : parsed.AllValues()) {
      out += static_cast<char>('0' + static_cast<int>(value.type));
      out.append(value.text);
      out += '\0';
    }
    out += '\n';
    out.append(parsed.time);
    return out;
  }

  // The walk and simdjson alone agree on a JSON record.
  void CompareJson(const Record& record) {
    for (bool all_values : {false, true}) {
      EventParser& walking = all_values ? *all_parser : *some_parser;
      EventParser& parsing = all_values ? *all_simdjson : *some_simdjson;
      const FieldCatalog& catalog = all_values ? all : some;
      auto walked = walking.Parse(record, event);
      auto parsed = parsing.Parse(record, simdjson_event);
      if (walked.has_value() != parsed.has_value()) {
        std::fprintf(stderr, "event_fuzz: the JSON walk and simdjson disagree on: %.*s\n",
                     static_cast<int>(record.data.size()), record.data.data());
      }
      Check(walked.has_value() == parsed.has_value(), "the JSON walk accepts what simdjson does");
      if (walked) {
        Check(Describe(event, catalog) == Describe(simdjson_event, catalog),
              "the JSON walk gives simdjson's event");
      } else {
        Check(walked.error().ToString() == parsed.error().ToString(),
              "the JSON walk gives simdjson's error");
      }
    }
  }

  // What a framer gave: records by their text and line, errors by their line and message.
  using Frames = std::vector<std::pair<std::string, uint64_t>>;

  // Frames `input` both ways, byte by byte and with line records (each framed again unless
  // it is exactly one JSON object, as the scanner does): the two must agree.
  void Frame(const std::string& input, size_t seed) {
    Frames framed;
    Frames lines;
    Frame(input, seed, false, framed);
    Frame(input, seed, true, lines);
    Check(framed == lines, "line records frame as the byte scanner does");
  }

  void Frame(const std::string& input, size_t seed, bool line_records, Frames& frames) {
    // The reader's loop with a small buffer: compaction and Rebase() get exercised.
    std::vector<char> buffer(256 + RECORD_PADDING);
    size_t end = 0;
    size_t fed = 0;
    bool eof = false;
    JsonFramer framer;
    framer.set_line_records(line_records, 200);  // the limit of Discard() below
    std::minstd_rand chunks(static_cast<uint32_t>(seed));
    size_t guard = 0;
    while (++guard < 1000000) {
      JsonFramer::Frame frame = framer.Next(buffer.data(), end, eof);
      if (frame.kind == JsonFramer::Kind::kRecord) {
        Check(frame.begin < frame.end && frame.end <= end, "record inside the buffer");
        char first = buffer[frame.begin];
        Check(first == '{' || first == '[', "record starts a value");
        if (frame.whole_line) {
          const simdjson::padded_string text(buffer.data() + frame.begin, frame.end - frame.begin);
          simdjson::dom::element element;
          if (validator.parse(text).get(element) != simdjson::SUCCESS || !element.is_object()) {
            framer.Reframe();
            continue;
          }
        }
        frames.emplace_back(std::string(buffer.data() + frame.begin, frame.end - frame.begin),
                            frame.line);
        continue;
      }
      if (frame.kind == JsonFramer::Kind::kError) {
        frames.emplace_back("error: " + std::string(frame.message), frame.line);
        continue;
      }
      if (eof) return;
      if (framer.open_record_size() > 200) framer.Discard("too large");
      size_t keep = framer.keep_from();
      Check(keep <= end, "keep_from inside the buffer");
      std::memmove(buffer.data(), buffer.data() + keep, end - keep);
      end -= keep;
      framer.Rebase(keep);
      size_t room = 256 - end;
      size_t take = std::min({room, input.size() - fed, static_cast<size_t>(1 + chunks() % 97)});
      Check(take > 0 || fed == input.size(), "the framer frees room");
      std::memcpy(buffer.data() + end, input.data() + fed, take);
      end += take;
      fed += take;
      eof = fed == input.size();
    }
    Check(false, "the framer terminates");
  }

  void Parse(const std::string& input, RecordFormat format, std::string_view schema) {
    std::string padded = input + std::string(RECORD_PADDING, '\0');
    Record record;
    record.data = std::string_view(padded.data(), input.size());
    record.format = format;
    record.schema = schema;
    record.number = 1;
    for (EventParser* parser : {some_parser.get(), all_parser.get()}) {
      auto parsed = parser->Parse(record, event);
      if (parsed) {
        // Touch every value so a dangling view would show under AddressSanitizer.
        size_t total = 0;
        for (FieldId id = 0; id < some.size(); ++id) {
          for (const FieldValue& value : event.Values(id)) total += value.text.size();
        }
        for (const FieldValue& value : event.AllValues()) {
          for (char c : value.text) total += static_cast<unsigned char>(c);
        }
        for (char c : event.time) total += static_cast<unsigned char>(c);
        (void)total;
      }
    }
    if (format == RecordFormat::kJson) CompareJson(record);
    std::string json = some_parser->ToJson(record);
    if (format != RecordFormat::kJson) {
      simdjson::dom::element element;
      auto error = validator.parse(json).get(element);
      if (error) std::fprintf(stderr, "event_fuzz: invalid ToJson output: %s\n", json.c_str());
      Check(!error, "ToJson writes valid JSON");
    }
  }

  // `bytes` as a file, read by the input layer in `format` with a small record size limit.
  static void ReadAsFile(const std::string& bytes, InputFormat format,
                         const RecordReader::OnRecord& on_record, ReadStats& stats) {
    yagura::fuzz::WithTempFile(bytes, [&](const char* path) {
      yagura::Diagnostics diagnostics;
      RecordReader reader(format, diagnostics);
      reader.set_max_record_size(XML_LIMIT);
      reader.ReadFile(InputFile{path}, 0, on_record);
      stats = reader.stats();
    });
  }
  static constexpr size_t XML_LIMIT = 4096;

  void ReadXml(const std::string& input) {
    const std::string_view magic = std::string_view(input).substr(0, 2);
    if (magic == "\xFF\xFE" || magic == "\xFE\xFF" || magic == "\x1F\x8B" || magic == "\x28\xB5")
      return;  // decoded first: the bytes read are not the input's
    size_t from = 0;
    ReadStats stats;
    ReadAsFile(
        input, InputFormat::kXml,
        [&](const Record& record) {
          Check(record.data.substr(0, 6) == "<Event" && record.data.size() >= 14 &&
                    record.data.substr(record.data.size() - 8) == "</Event>",
                "an XML record is one <Event> element");
          Check(record.data.size() <= XML_LIMIT, "an XML record is within the size limit");
          const size_t at = std::string_view(input).find(record.data, from);
          Check(at != std::string_view::npos, "XML records come from the input, in order");
          from = at + record.data.size();
          Parse(std::string(record.data), RecordFormat::kEvtx, {});
        },
        stats);
    Check(stats.bytes == input.size() || stats.files_read == 0, "every byte of XML counted once");
  }

  void ReadUtf16(const std::string& input) {
    ReadStats stats;
    ReadAsFile(
        "\xFF\xFE" + input, InputFormat::kText,
        [&](const Record& record) {
          Check(simdjson::validate_utf8(record.data.data(), record.data.size()),
                "UTF-16 decodes to valid UTF-8");
        },
        stats);
  }

  void Run(const uint8_t* data, size_t size) {
    std::string input(reinterpret_cast<const char*>(data), size);
    Frame(input, size);
    ReadXml(input);
    ReadUtf16(input);
    Parse(input, RecordFormat::kJson, {});
    Parse(input, RecordFormat::kEvtx, {});
    Parse(input, RecordFormat::kSyslog, {});
    Parse(input, RecordFormat::kWebAccess, {});
    Parse(input, RecordFormat::kWebAccess, "date time cs(User-Agent) sc-status");
    Parse(input, RecordFormat::kText, {});
  }
};

Harness& GetHarness() {
  static Harness harness;
  return harness;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  GetHarness().Run(data, size);
  return 0;
}

#ifndef YAGURA_LIBFUZZER

namespace {

std::string Mutate(const std::string& seed, std::mt19937& random) {
  std::string out = seed;
  static const char STRUCTURE[] = "{}[]\",:\\<>/&;\n \x00\xff";
  int edits = 1 + static_cast<int>(random() % 8);
  for (int i = 0; i < edits; ++i) {
    switch (random() % 5) {
      case 0:  // flip a bit
        if (!out.empty()) out[random() % out.size()] ^= static_cast<char>(1u << (random() % 8));
        break;
      case 1:  // truncate
        if (!out.empty()) out.resize(random() % out.size());
        break;
      case 2:  // insert a structural byte
        out.insert(out.begin() + static_cast<long>(out.empty() ? 0 : random() % (out.size() + 1)),
                   STRUCTURE[random() % (sizeof(STRUCTURE) - 1)]);
        break;
      case 3:  // delete a run
        if (!out.empty()) {
          size_t at = random() % out.size();
          out.erase(at, std::min<size_t>(out.size() - at, 1 + random() % 16));
        }
        break;
      default:  // duplicate a run
        if (!out.empty()) {
          size_t at = random() % out.size();
          out.insert(at, out.substr(at, 1 + random() % 32));
        }
        break;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  yagura::fuzz::Replayed replayed;
  if (int usage = yagura::fuzz::ReplaySeeds(argc, argv, 300, 20240501, Mutate, replayed)) return usage;
  std::printf("event_fuzz: %zu inputs from %zu seeds, no failures\n", replayed.runs, replayed.seeds);
  return 0;
}

#endif
