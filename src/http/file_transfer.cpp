// Files sent to the API and files it hands out: incident attachments, evidence, timeline
// exports, bodies sent compressed.
#include <fmt/format.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
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

namespace {

[[noreturn]] void TooLarge(size_t max_bytes) {
  throw ApiError(413, "payload_too_large",
                 fmt::format("the body decompresses to more than {} bytes", max_bytes));
}

std::string Gunzip(std::string_view body, size_t max_bytes) {
  z_stream stream{};
  // 15 + 16: a gzip header and trailer; concatenated members are read on, as gzip -d does.
  if (inflateInit2(&stream, 15 + 16) != Z_OK) throw std::runtime_error("zlib");
  std::string out;
  std::string chunk(1 << 16, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  int status = Z_OK;
  while (true) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk.data(), chunk.size() - stream.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&stream);
      TooLarge(max_bytes);
    }
    if (status == Z_STREAM_END) {
      if (stream.avail_in == 0) break;
      inflateReset(&stream);
      continue;
    }
    if (status != Z_OK && status != Z_BUF_ERROR) break;
    if (status == Z_BUF_ERROR && stream.avail_in == 0) break;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) ThrowBadRequest("the gzip body is damaged or cut short", "body");
  return out;
}

std::string Unzstd(std::string_view body, size_t max_bytes) {
  ZSTD_DCtx* context = ZSTD_createDCtx();
  if (context == nullptr) throw std::runtime_error("zstd");
  std::string out;
  std::string chunk(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer in{body.data(), body.size(), 0};
  size_t last = 0;
  while (in.pos < in.size) {
    ZSTD_outBuffer output{chunk.data(), chunk.size(), 0};
    last = ZSTD_decompressStream(context, &output, &in);
    if (ZSTD_isError(last)) {
      ZSTD_freeDCtx(context);
      ThrowBadRequest(fmt::format("the zstd body is damaged: {}", ZSTD_getErrorName(last)), "body");
    }
    out.append(chunk.data(), output.pos);
    if (out.size() > max_bytes) {
      ZSTD_freeDCtx(context);
      TooLarge(max_bytes);
    }
  }
  ZSTD_freeDCtx(context);
  if (last != 0) ThrowBadRequest("the zstd body is cut short", "body");
  return out;
}

}  // namespace

std::string DecompressedBody(std::string body, size_t max_bytes) {
  const auto starts = [&](std::string_view magic) {
    return body.size() >= magic.size() && std::string_view(body).substr(0, magic.size()) == magic;
  };
  if (starts("\x1f\x8b")) return Gunzip(body, max_bytes);
  if (starts("\x28\xb5\x2f\xfd")) return Unzstd(body, max_bytes);
  return body;
}

}  // namespace yagura::http
