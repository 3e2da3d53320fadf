// Base64 payloads in logs (`yagura extract-base64`): the encoded commands, scripts and files
// that attackers hide in command lines (`powershell -enc ...`), PowerShell script blocks,
// service paths, registry values, shell history and URL queries, decoded so an investigator
// reads what ran instead of decoding each string by hand.
//
// A run of the base64 alphabet is a payload only when it decodes to something: text (UTF-16LE,
// as PowerShell's -EncodedCommand takes it, or UTF-8), a compressed stream that inflates to
// text (gzip, or the raw deflate of PowerShell's DeflateStream), or a file of a known kind (a
// Windows executable, ELF, ZIP, PDF, OLE). Hashes, GUID pieces, paths and words are runs of the
// same alphabet that decode to noise, and are passed over. Text that itself holds base64 is
// decoded again (double encoding), up to MAX_LAYERS.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "event/input.hpp"

namespace yagura::scan {

struct Base64Payload {
  std::string encoded;  // the base64 as found (with its padding)
  // What it decodes to: text as UTF-8, innermost layer first decoded (empty for a binary
  // file); `outer_text` is the first layer when there are several.
  std::string text;
  std::string outer_text;
  std::string encoding;      // "utf-16le", "utf-8" or "binary"
  std::string compression;   // "gzip", "deflate" or empty
  std::string file_type;     // "pe", "elf", "zip", "pdf", "ole", "gzip" or empty
  size_t decoded_bytes = 0;  // of the first layer, before inflating
  int layers = 1;            // 2 and more: base64 inside the decoded text
  std::string binary_head;   // a binary file's first bytes, as hex
};

inline constexpr size_t DEFAULT_MIN_BASE64_LENGTH = 20;
inline constexpr int MAX_LAYERS = 4;
// A payload is inflated to at most this much: a compressed stream cannot make the output huge.
inline constexpr size_t MAX_INFLATED_BYTES = size_t{4} << 20;

// The payloads in `text`, in order. Runs shorter than `min_length` characters (without padding)
// are not looked at.
[[nodiscard]] std::vector<Base64Payload> FindBase64Payloads(
    std::string_view text, size_t min_length = DEFAULT_MIN_BASE64_LENGTH);

// The fields read by default: where Windows, Sysmon, PowerShell, syslog and web logs carry
// commands and scripts.
[[nodiscard]] const std::vector<std::string_view>& DefaultBase64Fields();

struct Base64Options {
  std::vector<std::string> inputs;  // files, directories (recursively), "-" for stdin
  event::InputFormat format = event::InputFormat::kAuto;
  std::vector<std::string> fields;  // empty: DefaultBase64Fields()
  size_t min_length = DEFAULT_MIN_BASE64_LENGTH;
  std::string time_field;
  std::optional<int64_t> from_ms;
  std::optional<int64_t> to_ms;
  std::vector<std::string> conditions;  // --where
};

// A payload and where it was found.
struct FoundPayload {
  const std::string& path;
  uint64_t record = 0;
  std::optional<int64_t> time_ms;
  std::string_view host;
  std::string_view event_id;
  std::string_view field;
  const Base64Payload& payload;
};

struct Base64Summary {
  uint64_t files_read = 0;
  uint64_t files_failed = 0;
  uint64_t records_read = 0;
  uint64_t records_skipped = 0;
  uint64_t records_with_payloads = 0;
  uint64_t payloads = 0;
  uint64_t records_outside_time_range = 0;
  uint64_t records_without_time = 0;
  [[nodiscard]] int ExitStatus() const { return files_failed || records_skipped ? 1 : 0; }
};

using OnPayload = std::function<void(const FoundPayload& found)>;

// Reads the inputs and calls `on_payload` for each payload in the chosen fields, in input
// order. Fails before reading when a --where condition does not compile.
Result<Base64Summary> ExtractBase64(const Base64Options& options, Diagnostics& diagnostics,
                                    const OnPayload& on_payload);

}  // namespace yagura::scan
