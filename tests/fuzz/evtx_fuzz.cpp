// Fuzz harness of the native EVTX reader: the container walk (file header, chunks, records) and
// the BinXML renderer, on arbitrary bytes. libevtx is not involved.
//
// An input that starts with "ElfFile" is read as a file: a 4 KiB header, then 64 KiB chunks, the
// last one zero-padded. Any other input is one chunk, zero-padded to 64 KiB. Checksums are
// looked at but not required, so mutated bytes reach the renderer; and the BinXML after the
// first record header is also rendered on its own, whatever the record walk makes of it.
// Invariants: no crash or out-of-bounds access (build with YAGURA_SANITIZE to see them), every
// call returns, text stays under the output limit, and a rendered record is valid UTF-8 ending
// in a newline. Rendered text is also put through the EVTX XML flattener and JSON conversion,
// and where the renderer recorded an outline, it gives the fields and the JSON the XML gives.
// A second renderer writes outline-only text (as a scan reads records): it renders or declines
// what the first does, writes the same XML where there is no outline, and otherwise gives the
// fields and the JSON of the first one's XML. Both renderers live across chunks and inputs, so
// they reuse templates compiled for earlier ones; a third, new for every chunk, compiles each
// template itself and must render exactly what the first does. What carve-evtx salvages of a
// chunk (evtx::RepairChunk) must be a chunk the reader accepts, made of the chunk's own records.
//
// Built with -fsanitize=fuzzer (define YAGURA_LIBFUZZER) it is a libFuzzer target. Otherwise its
// own main() replays the files and directories named on the command line, then deterministic
// mutations of each (bit flips, BinXML token bytes, overwritten sizes and offsets, truncations,
// deleted and duplicated runs), so it runs as a ctest.
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
#include <string_view>
#include <vector>

#include "core/arena.hpp"
#include "event/binxml.hpp"
#include "event/evtx_native.hpp"
#include "event/evtx_xml.hpp"

#include "replay_main.hpp"

namespace {

using namespace yagura::event;

constexpr size_t OUTPUT_LIMIT = 1 << 20;

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "evtx_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

bool ValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<uint8_t>(text[i + k]) & 0xc0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

struct Harness {
  binxml::ChunkRenderer renderer;
  binxml::TextBuffer text;
  EvtxXmlFlattener flattener;
  yagura::Arena arena;
  std::string padded;
  size_t rendered = 0;  // records rendered, and declined, over all inputs
  size_t declined = 0;

  struct NullEmitter : FieldEmitter {
    size_t bytes = 0;
    void Emit(std::string_view name, FieldValue value) override {
      bytes += name.size() + value.text.size();
    }
  };
  // Every field, in order, for comparing the two ways of flattening a record.
  struct ListEmitter : FieldEmitter {
    std::string fields;
    void Emit(std::string_view name, FieldValue value) override {
      fields.append(name);
      fields.push_back(value.type == ValueType::kNull ? '~' : '=');
      fields.append(value.text);
      fields.push_back('\n');
    }
  };
  std::vector<binxml::OutlineStep> outline;
  binxml::ChunkRenderer outline_only;
  binxml::TextBuffer compact;
  bool compact_ok = false;  // what outline_only's last RenderRecord returned
  std::vector<binxml::OutlineStep> compact_outline;
  // Outline-only like `outline_only`, but interpreting every template instance: replays must
  // write what interpreting writes.
  binxml::ChunkRenderer interpreting;
  binxml::TextBuffer interpreted;
  std::vector<binxml::OutlineStep> interpreted_outline;
  std::unique_ptr<binxml::ChunkRenderer> fresh;  // new for every chunk: reuses nothing
  binxml::TextBuffer fresh_text;
  std::vector<binxml::OutlineStep> fresh_outline;

  Harness() {
    renderer.set_output_limit(OUTPUT_LIMIT);
    outline_only.set_output_limit(OUTPUT_LIMIT);
    outline_only.set_outline_only(true);
    interpreting.set_output_limit(OUTPUT_LIMIT);
    interpreting.set_outline_only(true);
    interpreting.set_replay(false);
  }

  static std::string_view Bytes(const std::vector<binxml::OutlineStep>& steps) {
    return {reinterpret_cast<const char*>(steps.data()),
            steps.size() * sizeof(binxml::OutlineStep)};
  }

  void Render(uint32_t begin, uint32_t end) {
    const bool ok = RenderXml(begin, end);
    CompareFresh(begin, end, ok);
    CompareOutlineOnly(begin, end, ok);
    CompareInterpreted(begin, end);
  }

  // What outline_only rendered last, by replay where it could, against interpreting every op.
  void CompareInterpreted(uint32_t begin, uint32_t end) {
    interpreted.Clear();
    const bool ok = interpreting.RenderRecord(begin, end, interpreted, &interpreted_outline);
    Check(ok == compact_ok, "replaying succeeds where interpreting does");
    Check(interpreting.error() == outline_only.error(), "... and fails for the same reason");
    Check(interpreting.over_limit() == outline_only.over_limit(), "... at the size limit alike");
    if (!ok) return;
    Check(interpreted.view() == compact.view(), "... and writes the same text");
    Check(Bytes(interpreted_outline) == Bytes(compact_outline), "... and the same outline");
    Check(interpreting.outline_shape() == outline_only.outline_shape(), "... of the same shape");
    Check(interpreting.text_is_xml() == outline_only.text_is_xml(), "... in the same form");
  }

  // Templates reused from earlier chunks render as compiling them again does.
  void CompareFresh(uint32_t begin, uint32_t end, bool ok) {
    fresh_text.Clear();
    const bool fresh_ok = fresh->RenderRecord(begin, end, fresh_text, &fresh_outline);
    Check(fresh_ok == ok, "a renderer reusing templates succeeds where a new one does");
    Check(fresh->error() == renderer.error(), "... and fails for the same reason");
    if (!ok) return;
    Check(fresh_text.view() == text.view(), "... and writes the same text");
    Check(Bytes(fresh_outline) == Bytes(outline), "... and the same outline");
    Check(fresh->outline_shape() == renderer.outline_shape(), "... of the same shape");
  }

  void CompareOutlineOnly(uint32_t begin, uint32_t end, bool ok) {
    compact.Clear();
    compact_ok = outline_only.RenderRecord(begin, end, compact, &compact_outline);
    if (!ok && renderer.over_limit()) return;  // the shorter text may fit where the XML did not
    Check(compact_ok == ok, "outline-only rendering succeeds where XML rendering does");
    if (!ok) return;
    Check(compact_outline.empty() == outline.empty(), "both renderings keep an outline or neither");
    if (compact_outline.empty()) {
      Check(compact.view() == text.view(), "a record without an outline is written as XML");
      return;
    }
    Check(outline_only.text_is_xml() == false, "outline-only text is not the XML");
    Check(outline_only.outline_shape() == renderer.outline_shape(),
          "both renderings name the outline's shape alike");
    std::string xml_record(text.view().substr(0, text.size() - 1));
    xml_record.append(64, '\0');
    const std::string_view xml(xml_record.data(), text.size() - 1);
    std::string compact_record(compact.view());
    compact_record.append(64, '\0');
    const std::string_view data(compact_record.data(), compact.size());
    arena.Reset();
    ListEmitter from_xml;
    ListEmitter from_outline;
    const auto xml_result = flattener.Flatten(xml, from_xml, arena);
    const auto outline_result = flattener.FlattenOutline(data, Bytes(compact_outline), from_outline,
                                                         arena, outline_only.outline_shape());
    Check(xml_result.has_value() == outline_result.has_value(),
          "outline-only text and XML agree on failure");
    Check(from_xml.fields == from_outline.fields, "outline-only text and XML give the same fields");
    const auto json_of_xml = EvtxXmlToJson(xml);
    const auto json_of_outline =
        EvtxXmlToJson(data, Bytes(compact_outline), outline_only.outline_shape());
    Check(json_of_xml.has_value() == json_of_outline.has_value() &&
              (!json_of_xml || *json_of_xml == *json_of_outline),
          "outline-only text and XML give the same JSON");
  }

  // Renders the record as XML (with an outline where it can) and checks what it gave; returns
  // whether it rendered.
  bool RenderXml(uint32_t begin, uint32_t end) {
    text.Clear();
    const bool ok = renderer.RenderRecord(begin, end, text, &outline);
    Check(text.size() <= OUTPUT_LIMIT + (1 << 18), "output stays near the limit");
    if (!ok) {
      Check(!renderer.error().empty(), "a failure says why");
      ++declined;
      return false;
    }
    ++rendered;
    Check(!renderer.outline_shape().known() || !outline.empty(), "a shape is named for outlines only");
    const std::string_view xml = text.view();
    Check(!xml.empty() && xml.back() == '\n', "a record ends with a newline");
    Check(ValidUtf8(xml), "rendered text is UTF-8");
    // What the reader hands on: trimmed and padded.
    std::string record(xml.substr(0, xml.size() - 1));
    record.append(64, '\0');
    const std::string_view data(record.data(), xml.size() - 1);
    arena.Reset();
    if (outline.empty()) {
      NullEmitter emitter;
      (void)flattener.Flatten(data, emitter, arena);
    } else {
      // The outline reads as the XML reads: the same fields in the same order, or the same
      // failure.
      ListEmitter from_xml;
      ListEmitter from_outline;
      const auto xml_result = flattener.Flatten(data, from_xml, arena);
      const auto outline_result = flattener.FlattenOutline(
          data,
          std::string_view(reinterpret_cast<const char*>(outline.data()),
                           outline.size() * sizeof(binxml::OutlineStep)),
          from_outline, arena, renderer.outline_shape());
      Check(xml_result.has_value() == outline_result.has_value(), "outline and XML agree on failure");
      Check(from_xml.fields == from_outline.fields, "outline and XML give the same fields");
      const auto json_of_xml = EvtxXmlToJson(data);
      const auto json_of_outline = EvtxXmlToJson(
          data, std::string_view(reinterpret_cast<const char*>(outline.data()),
                                 outline.size() * sizeof(binxml::OutlineStep)),
          renderer.outline_shape());
      Check(json_of_xml.has_value() == json_of_outline.has_value() &&
                (!json_of_xml || *json_of_xml == *json_of_outline),
            "outline and XML give the same JSON");
      return true;
    }
    (void)EvtxXmlToJson(data);
    return true;
  }

  // Renders every record of one 64 KiB chunk, and its first record's BinXML directly.
  void Chunk(const uint8_t* chunk) {
    evtx::ChunkHeader header;
    (void)evtx::CheckChunk(chunk, evtx::CHUNK_SIZE, header);
    uint32_t free_offset = 0;
    std::memcpy(&free_offset, chunk + 48, 4);
    renderer.SetChunk(chunk, evtx::CHUNK_SIZE);
    outline_only.SetChunk(chunk, evtx::CHUNK_SIZE);
    interpreting.SetChunk(chunk, evtx::CHUNK_SIZE);
    fresh = std::make_unique<binxml::ChunkRenderer>();
    fresh->set_output_limit(OUTPUT_LIMIT);
    fresh->SetChunk(chunk, evtx::CHUNK_SIZE);
    evtx::RecordWalker walker(chunk, evtx::CHUNK_SIZE, free_offset);
    evtx::RecordView record;
    for (int guard = 0; walker.Next(record) == evtx::RecordWalker::Status::kRecord; ++guard) {
      Check(guard < 65536 / 28, "the record walk advances");
      Check(record.binxml_begin <= record.binxml_end && record.binxml_end <= evtx::CHUNK_SIZE,
            "records lie inside the chunk");
      Render(record.binxml_begin, record.binxml_end);
    }
    // Whatever the first record's header says.
    const uint32_t first = evtx::CHUNK_HEADER_SIZE + evtx::RECORD_HEADER_SIZE;
    Render(first, static_cast<uint32_t>(evtx::CHUNK_SIZE));
    // What carve-evtx salvages of it is a chunk the EVTX reader accepts, with those records.
    repaired.resize(evtx::CHUNK_SIZE);
    if (const uint32_t kept = evtx::RepairChunk(chunk, repaired.data()); kept > 0) {
      evtx::ChunkHeader sound;
      uint32_t count = 0;
      Check(
          evtx::CheckChunk(repaired.data(), evtx::CHUNK_SIZE, sound) == evtx::ChunkState::kValid &&
              evtx::RecordsMatchHeader(repaired.data(), sound, count) && count == kept,
          "a repaired chunk is sound and holds the records it was repaired to");
      Check(std::memcmp(repaired.data() + evtx::CHUNK_HEADER_SIZE, chunk + evtx::CHUNK_HEADER_SIZE,
                        sound.free_offset - evtx::CHUNK_HEADER_SIZE) == 0,
            "a repaired chunk's records are the chunk's own bytes");
    }
  }
  std::vector<uint8_t> repaired;

  void Run(const uint8_t* data, size_t size) {
    if (size >= 7 && std::memcmp(data, "ElfFile", 7) == 0) {
      evtx::FileHeader header;
      const size_t chunks = size <= evtx::FILE_HEADER_SIZE
                                ? 0
                                : (size - evtx::FILE_HEADER_SIZE + evtx::CHUNK_SIZE - 1) / evtx::CHUNK_SIZE;
      padded.assign(reinterpret_cast<const char*>(data), size);
      padded.resize(evtx::FILE_HEADER_SIZE + chunks * evtx::CHUNK_SIZE, '\0');
      const auto* bytes = reinterpret_cast<const uint8_t*>(padded.data());
      (void)evtx::ParseFileHeader(bytes, padded.size(), header);
      for (size_t i = 0; i < chunks && i < 16; ++i) {
        Chunk(bytes + evtx::FILE_HEADER_SIZE + i * evtx::CHUNK_SIZE);
      }
      return;
    }
    padded.assign(reinterpret_cast<const char*>(data), std::min(size, evtx::CHUNK_SIZE));
    padded.resize(evtx::CHUNK_SIZE, '\0');
    Chunk(reinterpret_cast<const uint8_t*>(padded.data()));
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

void Put32(std::string& out, size_t at, uint32_t value) {
  for (size_t i = 0; i < 4 && at + i < out.size(); ++i) out[at + i] = static_cast<char>(value >> (8 * i));
}

std::string Mutate(const std::string& seed, std::mt19937& random) {
  std::string out = seed;
  // Token bytes and value types of BinXML.
  static const uint8_t TOKENS[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                   0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x41, 0x45, 0x46, 0x21,
                                   0x81, 0x13, 0x11, 0x12, 0xff};
  // Offsets within a file seed are chunk-relative after the 4 KiB header.
  const size_t base = out.compare(0, 7, "ElfFile") == 0 ? evtx::FILE_HEADER_SIZE : 0;
  const int edits = 1 + static_cast<int>(random() % 6);
  for (int i = 0; i < edits && !out.empty(); ++i) {
    const size_t at = random() % out.size();
    switch (random() % 7) {
      case 0:  // flip a bit
        out[at] = static_cast<char>(out[at] ^ (1u << (random() % 8)));
        break;
      case 1:  // a token or type byte
        out[at] = static_cast<char>(TOKENS[random() % sizeof(TOKENS)]);
        break;
      case 2: {  // a size, count or offset
        const uint32_t choices[] = {0,
                                    1,
                                    0xffff,
                                    0xffffffffu,
                                    static_cast<uint32_t>(random() % 65536),
                                    static_cast<uint32_t>(at >= base ? at - base + 4 : 0),
                                    static_cast<uint32_t>(random() % (out.size() + 1))};
        Put32(out, at, choices[random() % 7]);
        break;
      }
      case 3:  // truncate
        out.resize(at);
        break;
      case 4:  // delete a run
        out.erase(at, std::min<size_t>(out.size() - at, 1 + random() % 16));
        break;
      case 5:  // duplicate a run
        out.insert(at, out.substr(at, 1 + random() % 64));
        break;
      default:  // a 16-bit value (sizes of values, counts of characters)
        out[at] = static_cast<char>(random());
        if (at + 1 < out.size()) out[at + 1] = static_cast<char>(random() % 3 == 0 ? 0xff : 0);
        break;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  yagura::fuzz::Replayed replayed;
  if (int usage = yagura::fuzz::ReplaySeeds(argc, argv, 20000, 20240502, Mutate, replayed)) return usage;
  std::printf("evtx_fuzz: %zu inputs from %zu seeds (%zu records rendered, %zu declined; %zu "
              "template instances replayed, %zu replays given up), no failures\n",
              replayed.runs, replayed.seeds, GetHarness().rendered, GetHarness().declined,
              GetHarness().outline_only.instances_replayed(),
              GetHarness().outline_only.replays_abandoned());
  return 0;
}

#endif
