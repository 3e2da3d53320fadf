// Base64 payloads (see base64_payloads.hpp).
#include "scan/base64_payloads.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/time.hpp"
#include "core/utf8.hpp"
#include "correlate/event_time.hpp"
#include "event/logsource_mapping.hpp"
#include "event/parser.hpp"
#include "scan/event_conditions.hpp"
#include "scan/parsed_records.hpp"
#include "scan/scanner.hpp"

namespace yagura::scan {
namespace {

constexpr uint8_t NOT_BASE64 = 0xff;

constexpr std::array<uint8_t, 256> DecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& entry : table) entry = NOT_BASE64;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (uint8_t i = 0; i < 64; ++i) table[static_cast<uint8_t>(alphabet[i])] = i;
  return table;
}
constexpr std::array<uint8_t, 256> DECODE = DecodeTable();

bool InAlphabet(char c) { return DECODE[static_cast<uint8_t>(c)] != NOT_BASE64; }

// Decodes `run` (alphabet only, no padding). A length of 1 modulo 4 cannot be base64: the last
// character is dropped.
std::string Decode(std::string_view run) {
  std::string out;
  out.reserve(run.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : run) {
    bits = (bits << 6) | DECODE[static_cast<uint8_t>(c)];
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16));
      out.push_back(static_cast<char>(bits >> 8));
      out.push_back(static_cast<char>(bits));
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    out.push_back(static_cast<char>(bits >> 4));
  } else if (count == 3) {
    out.push_back(static_cast<char>(bits >> 10));
    out.push_back(static_cast<char>(bits >> 2));
  }
  return out;
}

void AppendUtf8(std::string& out, uint32_t code) {
  char bytes[MAX_UTF8_BYTES];
  out.append(bytes, WriteUtf8(bytes, code));
}

// UTF-16LE as PowerShell's -EncodedCommand takes it: most high bytes zero. Unpaired surrogates
// become U+FFFD.
std::optional<std::string> FromUtf16Le(std::string_view bytes) {
  if (bytes.size() < 4) return std::nullopt;
  const size_t units = bytes.size() / 2;
  size_t zero_high = 0;
  for (size_t i = 0; i < units; ++i) zero_high += bytes[2 * i + 1] == 0;
  if (zero_high * 10 < units * 7) return std::nullopt;
  std::string out;
  out.reserve(units);
  for (size_t i = 0; i < units; ++i) {
    uint32_t unit = static_cast<uint8_t>(bytes[2 * i]) |
                    (static_cast<uint32_t>(static_cast<uint8_t>(bytes[2 * i + 1])) << 8);
    if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < units) {
      uint32_t low = static_cast<uint8_t>(bytes[2 * i + 2]) |
                     (static_cast<uint32_t>(static_cast<uint8_t>(bytes[2 * i + 3])) << 8);
      if (low >= 0xdc00 && low < 0xe000) {
        AppendUtf8(out, 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
        ++i;
        continue;
      }
    }
    AppendUtf8(out, unit >= 0xd800 && unit < 0xe000 ? 0xfffd : unit);
  }
  return out;
}

// Whether `bytes` reads as text: valid UTF-8, and hardly any control characters besides tab and
// line breaks (random bytes are seldom valid UTF-8, and never for long).
bool IsText(std::string_view bytes) {
  if (bytes.empty()) return false;
  size_t controls = 0, letters = 0;
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<uint8_t>(bytes[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (length == 0 || i + length > bytes.size()) return false;
    for (size_t k = 1; k < length; ++k)
      if ((static_cast<uint8_t>(bytes[i + k]) & 0xc0) != 0x80) return false;
    if (length == 1) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) ++controls;
      if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ++letters;
    } else {
      ++letters;
    }
    i += length;
  }
  return controls * 50 <= bytes.size() && letters * 4 >= bytes.size();
}

// Inflates gzip (`window_bits` 16 + 15) or raw deflate (-15); nullopt unless the stream is
// whole and ends within MAX_INFLATED_BYTES.
std::optional<std::string> Inflate(std::string_view bytes, int window_bits) {
  z_stream stream{};
  if (inflateInit2(&stream, window_bits) != Z_OK) return std::nullopt;
  std::string out;
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  int status = Z_OK;
  char chunk[16384];
  while (status == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof chunk;
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) break;
    out.append(chunk, sizeof chunk - stream.avail_out);
    if (out.size() > MAX_INFLATED_BYTES) status = Z_MEM_ERROR;
    if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) status = Z_BUF_ERROR;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) return std::nullopt;
  return out;
}

std::string_view FileType(std::string_view bytes) {
  auto starts = [&](std::string_view magic) { return bytes.substr(0, magic.size()) == magic; };
  if (starts("MZ") && bytes.size() >= 64) return "pe";
  if (starts("\x7f"
             "ELF"))
    return "elf";
  if (starts("PK\x03\x04")) return "zip";
  if (starts("%PDF")) return "pdf";
  if (starts("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")) return "ole";
  if (starts("\x1f\x8b")) return "gzip";
  return {};
}

std::string Hex(std::string_view bytes, size_t max_bytes) {
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < max_bytes; ++i) {
    out.push_back(DIGITS[static_cast<uint8_t>(bytes[i]) >> 4]);
    out.push_back(DIGITS[static_cast<uint8_t>(bytes[i]) & 15]);
  }
  return out;
}

// What one run of the alphabet decodes to, if anything: text (after inflating, if compressed)
// or a file of a known kind.
std::optional<Base64Payload> Classify(std::string_view run) {
  const std::string bytes = Decode(run);
  Base64Payload payload;
  payload.decoded_bytes = bytes.size();
  auto as_text = [&](std::string_view data) -> bool {
    if (auto text = FromUtf16Le(data); text && IsText(*text)) {
      payload.encoding = "utf-16le";
      payload.text = std::move(*text);
      return true;
    }
    if (IsText(data)) {
      payload.encoding = "utf-8";
      payload.text.assign(data);
      return true;
    }
    return false;
  };
  if (as_text(bytes)) return payload;
  // Compressed: gzip by its magic and checksum; raw deflate has neither, and is kept only when
  // it inflates, whole, to more than it was (as compressed scripts do: a few bytes of noise
  // can be a valid stream of a byte or two).
  const bool gzip = bytes.size() > 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b';
  auto inflated = Inflate(bytes, gzip ? 16 + MAX_WBITS : -MAX_WBITS);
  if (inflated && !gzip && inflated->size() <= bytes.size()) inflated.reset();
  if (inflated) {
    if (as_text(*inflated)) {
      payload.compression = gzip ? "gzip" : "deflate";
      return payload;
    }
    if (std::string_view type = FileType(*inflated); !type.empty()) {
      payload.compression = gzip ? "gzip" : "deflate";
      payload.encoding = "binary";
      payload.file_type = type;
      payload.binary_head = Hex(*inflated, 16);
      return payload;
    }
  }
  if (std::string_view type = FileType(bytes); !type.empty()) {
    payload.encoding = "binary";
    payload.file_type = type;
    payload.binary_head = Hex(bytes, 16);
    return payload;
  }
  return std::nullopt;
}

// The runs of the alphabet in `text` of at least `min_length` characters, each with its
// padding: (start, length without padding, padding).
struct Run {
  size_t start;
  size_t length;
  size_t padding;
};

std::vector<Run> Runs(std::string_view text, size_t min_length) {
  std::vector<Run> runs;
  for (size_t i = 0; i < text.size();) {
    if (!InAlphabet(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && InAlphabet(text[end])) ++end;
    size_t padding = 0;
    while (padding < 2 && end + padding < text.size() && text[end + padding] == '=') ++padding;
    if (end - i >= min_length) runs.push_back({i, end - i, padding});
    i = end + padding;
  }
  return runs;
}

// A run that decodes to nothing may be base64 behind a path or URL ("http://host/aGVsbG8..."):
// what follows each of its first slashes is tried too.
constexpr int MAX_SLASH_TRIES = 8;

void Find(std::string_view text, size_t min_length, int depth, std::vector<Base64Payload>& out) {
  for (const Run& run : Runs(text, min_length)) {
    std::string_view chars = text.substr(run.start, run.length);
    std::optional<Base64Payload> payload = Classify(chars);
    size_t skipped = 0;
    for (int tries = 0; !payload && tries < MAX_SLASH_TRIES; ++tries) {
      const size_t slash = chars.find('/', skipped);
      if (slash == std::string_view::npos || run.length - slash - 1 < min_length) break;
      skipped = slash + 1;
      payload = Classify(chars.substr(skipped));
    }
    if (!payload) continue;
    payload->encoded.assign(text.substr(run.start + skipped, run.length - skipped + run.padding));
    // Base64 inside the text: decoded again, and the innermost text is the payload's.
    if (!payload->text.empty() && depth + 1 < MAX_LAYERS) {
      std::vector<Base64Payload> inner;
      Find(payload->text, min_length, depth + 1, inner);
      if (inner.size() == 1 && !inner.front().text.empty()) {
        payload->outer_text = std::move(payload->text);
        payload->text = std::move(inner.front().text);
        payload->layers = inner.front().layers + 1;
        if (payload->compression.empty()) payload->compression = inner.front().compression;
      }
    }
    out.push_back(std::move(*payload));
  }
}

std::string_view FirstText(const event::Event& event, event::FieldId field) {
  const event::FieldValue* value = event.First(field);
  return value != nullptr ? value->text : std::string_view();
}

}  // namespace

std::vector<Base64Payload> FindBase64Payloads(std::string_view text, size_t min_length) {
  std::vector<Base64Payload> out;
  Find(text, std::max<size_t>(min_length, 4), 0, out);
  return out;
}

const std::vector<std::string_view>& DefaultBase64Fields() {
  static const std::vector<std::string_view> fields = {
      "CommandLine", "ParentCommandLine", "ScriptBlockText", "Payload",
      "ContextInfo", "ImagePath",         "ServiceFileName", "Details",
      "message",     "cs-uri-query",      "c-uri-query"};
  return fields;
}

Result<Base64Summary> ExtractBase64(const Base64Options& options, Diagnostics& diagnostics,
                                    const OnPayload& on_payload) {
  auto mapping = event::LogsourceMapping::LoadDefault();
  if (!mapping) return tl::unexpected(mapping.error());
  event::FieldCatalog catalog;
  mapping->InternFields(catalog);
  std::optional<EventConditions> where;
  if (!options.conditions.empty()) {
    auto compiled = EventConditions::Compile(options.conditions, catalog);
    if (!compiled) return tl::unexpected(compiled.error());
    where = std::move(*compiled);
  }
  std::vector<std::string> names = options.fields;
  if (names.empty()) names.assign(DefaultBase64Fields().begin(), DefaultBase64Fields().end());
  std::vector<event::FieldId> fields;
  for (const std::string& name : names) fields.push_back(catalog.Intern(name));
  std::vector<event::FieldId> host_fields;
  for (std::string_view name : HOST_FIELDS) host_fields.push_back(catalog.Intern(name));
  const event::FieldId event_id = catalog.Intern("EventID");
  const event::FieldId time_field =
      options.time_field.empty() ? event::NO_FIELD : catalog.Intern(options.time_field);
  event::EventParser parser(catalog, *mapping);
  parser.SetCollectAllValues(false);

  Base64Summary summary;
  const bool ranged = options.from_ms || options.to_ms;
  int64_t reference_ms = ranged ? options.from_ms.value_or(options.to_ms.value_or(0)) : NowMs();
  auto on_parsed = [&](const std::string& path, const event::Record& record,
                       const event::Event& event) {
    const std::optional<int64_t> time = correlate::EventTimeMs(event, time_field, reference_ms);
    if (time) reference_ms = *time;
    if (ranged) {
      if (!time) {
        ++summary.records_without_time;
        return true;
      }
      if ((options.from_ms && *time < *options.from_ms) ||
          (options.to_ms && *time > *options.to_ms)) {
        ++summary.records_outside_time_range;
        return true;
      }
    }
    if (where && !where->Hold(event)) return true;
    std::string_view host;
    for (event::FieldId field : host_fields) {
      host = FirstText(event, field);
      if (!host.empty()) break;
    }
    bool found_any = false;
    for (size_t k = 0; k < fields.size(); ++k) {
      for (const event::FieldValue& value : event.Values(fields[k])) {
        if (value.type != event::ValueType::kString || value.text.size() < options.min_length)
          continue;
        for (const Base64Payload& payload : FindBase64Payloads(value.text, options.min_length)) {
          found_any = true;
          ++summary.payloads;
          on_payload(FoundPayload{path, record.number, time, host, FirstText(event, event_id),
                                  names[k], payload});
        }
      }
    }
    summary.records_with_payloads += found_any;
    return true;
  };
  CopyReadCounts(ReadParsedRecords(options.inputs, options.format, parser, diagnostics, on_parsed),
                 summary);
  return summary;
}

}  // namespace yagura::scan
