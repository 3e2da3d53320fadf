// Archives written by hand for tests of what reads them: ZIP (stored or deflated members, ZIP64
// fields and end records, damaged members) and tar (ustar, GNU and pax headers) as archivers
// write them.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_support/deflate.hpp"

namespace yagura::test_support {

inline void Put16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}
inline void Put32(std::string& out, uint32_t v) {
  Put16(out, v & 0xffff);
  Put16(out, v >> 16);
}
inline void Put64(std::string& out, uint64_t v) {
  Put32(out, static_cast<uint32_t>(v));
  Put32(out, static_cast<uint32_t>(v >> 32));
}

inline std::string RawDeflate(std::string_view data) { return Deflate(data, RAW_WINDOW); }

// A ZIP archive written by hand, as archivers write them.
struct ZipWriter {
  struct Entry {
    std::string name;
    std::string data;
    uint16_t method = 8;
    uint16_t flags = 0;
    bool zip64 = false;    // sizes and offset in the ZIP64 extra field
    bool bad_crc = false;  // a damaged member
  };
  std::vector<Entry> entries;
  bool zip64_end = false;  // the ZIP64 end records too
  std::string comment;

  std::string Build() const {
    std::string out, directory;
    for (const Entry& e : entries) {
      const std::string stored = e.method == 8 ? RawDeflate(e.data) : e.data;
      uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(e.data.data()),
                                                 static_cast<uInt>(e.data.size())));
      if (e.bad_crc) crc ^= 1;
      const uint64_t offset = out.size();
      std::string extra;
      if (e.zip64) {
        Put16(extra, 0x0001);
        Put16(extra, 24);
        Put64(extra, e.data.size());
        Put64(extra, stored.size());
        Put64(extra, offset);
      }
      Put32(out, 0x04034b50);
      Put16(out, 20);
      Put16(out, e.flags);
      Put16(out, e.method);
      Put32(out, 0);  // time and date
      Put32(out, crc);
      Put32(out, e.zip64 ? 0xffffffff : static_cast<uint32_t>(stored.size()));
      Put32(out, e.zip64 ? 0xffffffff : static_cast<uint32_t>(e.data.size()));
      Put16(out, static_cast<uint32_t>(e.name.size()));
      Put16(out, 0);
      out += e.name;
      out += stored;
      Put32(directory, 0x02014b50);
      Put16(directory, 45);
      Put16(directory, 45);
      Put16(directory, e.flags);
      Put16(directory, e.method);
      Put32(directory, 0);
      Put32(directory, crc);
      Put32(directory, e.zip64 ? 0xffffffff : static_cast<uint32_t>(stored.size()));
      Put32(directory, e.zip64 ? 0xffffffff : static_cast<uint32_t>(e.data.size()));
      Put16(directory, static_cast<uint32_t>(e.name.size()));
      Put16(directory, static_cast<uint32_t>(extra.size()));
      Put16(directory, 0);  // comment
      Put16(directory, 0);  // disk
      Put16(directory, 0);  // internal attributes
      Put32(directory, 0);  // external attributes
      Put32(directory, e.zip64 ? 0xffffffff : static_cast<uint32_t>(offset));
      directory += e.name;
      directory += extra;
    }
    const uint64_t directory_offset = out.size();
    out += directory;
    if (zip64_end) {
      const uint64_t end64_offset = out.size();
      Put32(out, 0x06064b50);
      Put64(out, 44);
      Put16(out, 45);
      Put16(out, 45);
      Put32(out, 0);
      Put32(out, 0);
      Put64(out, entries.size());
      Put64(out, entries.size());
      Put64(out, directory.size());
      Put64(out, directory_offset);
      Put32(out, 0x07064b50);
      Put32(out, 0);
      Put64(out, end64_offset);
      Put32(out, 1);
    }
    Put32(out, 0x06054b50);
    Put16(out, 0);
    Put16(out, 0);
    Put16(out, zip64_end ? 0xffff : static_cast<uint32_t>(entries.size()));
    Put16(out, zip64_end ? 0xffff : static_cast<uint32_t>(entries.size()));
    Put32(out, zip64_end ? 0xffffffff : static_cast<uint32_t>(directory.size()));
    Put32(out, zip64_end ? 0xffffffff : static_cast<uint32_t>(directory_offset));
    Put16(out, static_cast<uint32_t>(comment.size()));
    out += comment;
    return out;
  }
};

// A tar archive written by hand, header by header, as GNU tar and pax writers write them.
class TarWriter {
 public:
  enum class Magic { kPosix, kGnu };

  // One header block; `size` goes in the header (the data is added by Data()).
  TarWriter& Header(std::string_view name, char type, uint64_t size, Magic magic = Magic::kPosix,
                    std::string_view prefix = {}, bool base256 = false) {
    std::string h(512, '\0');
    h.replace(0, std::min<size_t>(name.size(), 100), name.substr(0, 100));
    std::snprintf(h.data() + 100, 8, "%07o", 0644);
    std::snprintf(h.data() + 108, 8, "%07o", 0);
    std::snprintf(h.data() + 116, 8, "%07o", 0);
    if (base256) {
      h[124] = static_cast<char>(0x80);
      for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
    } else {
      std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
    }
    std::snprintf(h.data() + 136, 12, "%011o", 015122533000);
    h[156] = type;
    if (magic == Magic::kPosix) {
      h.replace(257, 8,
                std::string("ustar\0"
                            "00",
                            8));
      h.replace(345, prefix.size(), prefix);
    } else {
      h.replace(257, 8, std::string("ustar  \0", 8));
    }
    h.replace(148, 8, "        ");
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h.data() + 148, 8, "%06o", sum);
    h[155] = ' ';
    out_ += h;
    return *this;
  }
  TarWriter& Data(std::string_view data) {
    out_ += data;
    out_.append((512 - data.size() % 512) % 512, '\0');
    return *this;
  }
  TarWriter& File(std::string_view name, std::string_view data, Magic magic = Magic::kPosix) {
    return Header(name, '0', data.size(), magic).Data(data);
  }
  // A pax extended header for the next member.
  TarWriter& Pax(const std::vector<std::pair<std::string, std::string>>& records) {
    std::string data;
    for (const auto& [key, value] : records) {
      const std::string body = " " + key + "=" + value + "\n";
      size_t length = body.size() + 1;
      while (std::to_string(length).size() + body.size() != length) ++length;
      data += std::to_string(length) + body;
    }
    return Header("PaxHeaders/x", 'x', data.size()).Data(data);
  }
  TarWriter& End() {
    out_.append(1024, '\0');
    return *this;
  }
  [[nodiscard]] const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

}  // namespace yagura::test_support
