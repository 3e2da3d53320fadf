// Files sent to the API and files it hands out: incident attachments, evidence, timeline
// exports.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>

#include "http/api.hpp"

namespace yagura::http {

// The attachment's file name: ?filename= first, else Content-Disposition's filename* (RFC
// 5987, UTF-8 only) or filename parameter. Directory parts are dropped (browsers send them on
// some systems); what remains is validated by the hub.
std::string UploadFilename(const Request& request) {
  std::string name;
  if (auto query = request.Query("filename")) {
    name = std::string(*query);
  } else if (auto disposition = request.headers.Get("content-disposition")) {
    std::string_view text = *disposition;
    auto parameter = [&](std::string_view key) -> std::optional<std::string> {
      for (size_t at = text.find(';'); at != std::string_view::npos; at = text.find(';', at + 1)) {
        std::string_view rest = text.substr(at + 1);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        if (rest.size() <= key.size() || rest[key.size()] != '=') continue;
        bool same = std::equal(key.begin(), key.end(), rest.begin(), [](char a, char b) {
          return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
        });
        if (!same) continue;
        std::string_view value = rest.substr(key.size() + 1);
        value = value.substr(0, value.find(';'));
        while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
          value = value.substr(1, value.size() - 2);
        }
        return std::string(value);
      }
      return std::nullopt;
    };
    if (auto extended = parameter("filename*")) {
      std::string_view value = *extended;
      constexpr std::string_view UTF8 = "utf-8''";
      if (value.size() > UTF8.size() &&
          std::equal(UTF8.begin(), UTF8.end(), value.begin(), [](char a, char b) {
            return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
          })) {
        auto decoded = PercentDecode(value.substr(UTF8.size()), false);
        if (decoded) name = *decoded;
      }
    }
    if (name.empty()) {
      if (auto plain = parameter("filename")) name = *plain;
    }
  }
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (name.empty()) {
    ThrowBadRequest("name the file with ?filename= or a Content-Disposition filename", "filename");
  }
  return name;
}

// Content-Disposition for a download: an ASCII fallback and the exact UTF-8 name (RFC 6266).
std::string DownloadDisposition(std::string_view filename) {
  std::string ascii;
  std::string encoded;
  static constexpr char HEX[] = "0123456789ABCDEF";
  for (unsigned char c : filename) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
    ascii +=
        (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%') ? static_cast<char>(c) : '_';
    if (plain) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += HEX[c >> 4];
      encoded += HEX[c & 0x0F];
    }
  }
  return fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", ascii, encoded);
}

Response FileDownload(std::string body, std::string_view content_type, std::string_view filename,
                      std::string_view sha256) {
  Response response;
  response.status = 200;
  response.body = std::move(body);
  response.headers.Set("Content-Type", std::string(content_type));
  response.headers.Set("Content-Disposition", DownloadDisposition(filename));
  response.headers.Set("X-Content-Type-Options", "nosniff");
  // Served bytes are evidence, not a page: no scripts, no embedding, no caching.
  response.headers.Set("Content-Security-Policy", "default-src 'none'; sandbox");
  response.headers.Set("Cache-Control", "no-store");
  if (!sha256.empty()) response.headers.Set("ETag", fmt::format("\"sha256-{}\"", sha256));
  return response;
}

}  // namespace yagura::http
