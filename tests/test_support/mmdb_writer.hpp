// MaxMind DB files written by hand for tests of what reads them (GeoLite2 City, Country and ASN
// databases, DB-IP's lite ones): the binary search tree with 32-bit records, the data section
// and the metadata, as the MaxMind DB format 2.0 specifies them. IPv4 networks of an IPv6
// database sit under ::/96, as MaxMind's writer places them.
#pragma once

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace yagura::test_support {

// A value of the data section: a string, an unsigned integer, a list of strings, or a map.
struct MmdbValue {
  std::variant<std::string, uint64_t, std::vector<std::pair<std::string, MmdbValue>>,
               std::vector<std::string>>
      value;
  MmdbValue(const char* text) : value(std::string(text)) {}  // NOLINT: literals convert
  MmdbValue(std::string text) : value(std::move(text)) {}    // NOLINT
  MmdbValue(uint64_t number) : value(number) {}              // NOLINT
  MmdbValue(std::vector<std::pair<std::string, MmdbValue>> map)
      : value(std::move(map)) {}                                        // NOLINT
  MmdbValue(std::vector<std::string> list) : value(std::move(list)) {}  // NOLINT
};
using MmdbMap = std::vector<std::pair<std::string, MmdbValue>>;

class MmdbWriter {
 public:
  explicit MmdbWriter(int ip_version = 6, std::string database_type = "GeoLite2-City")
      : ip_version_(ip_version), database_type_(std::move(database_type)) {
    nodes_.push_back({EMPTY, EMPTY});
  }

  // `network` as "203.0.113.0/24" or "2001:db8::/32".
  void Insert(std::string_view network, const MmdbValue& data) {
    const size_t slash = network.find('/');
    const std::string address(network.substr(0, slash));
    const int length = std::stoi(std::string(network.substr(slash + 1)));
    std::vector<int> bits;
    unsigned char bytes[16] = {};
    if (address.find(':') == std::string::npos) {
      inet_pton(AF_INET, address.c_str(), bytes);
      if (ip_version_ == 6) bits.assign(96, 0);
      for (int i = 0; i < length; ++i) bits.push_back((bytes[i / 8] >> (7 - i % 8)) & 1);
    } else {
      inet_pton(AF_INET6, address.c_str(), bytes);
      for (int i = 0; i < length; ++i) bits.push_back((bytes[i / 8] >> (7 - i % 8)) & 1);
    }
    const uint32_t offset = static_cast<uint32_t>(data_.size());
    Encode(data, data_);
    size_t node = 0;
    for (size_t depth = 0; depth + 1 < bits.size(); ++depth) {
      uint32_t& next = nodes_[node][bits[depth]];
      if (next == EMPTY) {
        next = static_cast<uint32_t>(nodes_.size());
        nodes_.push_back({EMPTY, EMPTY});
      }
      node = nodes_[node][bits[depth]];
    }
    nodes_[node][bits.back()] = DATA_FLAG | offset;
  }

  [[nodiscard]] std::string Bytes() const {
    const uint32_t count = static_cast<uint32_t>(nodes_.size());
    std::string out;
    auto put32 = [&](uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
    };
    for (const auto& node : nodes_) {
      for (uint32_t record : node) {
        // A record is a node number, the node count (nothing here), or the node count + 16 +
        // the data's offset in the data section.
        put32(record == EMPTY              ? count
              : (record & DATA_FLAG) != 0u ? count + 16 + (record & ~DATA_FLAG)
                                           : record);
      }
    }
    out.append(16, '\0');
    out += data_;
    out += std::string("\xAB\xCD\xEFMaxMind.com");
    MmdbMap metadata = {{"binary_format_major_version", uint64_t{2}},
                        {"binary_format_minor_version", uint64_t{0}},
                        {"build_epoch", uint64_t{1'764'000'000}},
                        {"database_type", database_type_},
                        {"description", MmdbMap{{"en", "Yagura test database"}}},
                        {"ip_version", static_cast<uint64_t>(ip_version_)},
                        {"languages", std::vector<std::string>{"en"}},
                        {"node_count", static_cast<uint64_t>(count)},
                        {"record_size", uint64_t{32}}};
    std::string encoded;
    Encode(metadata, encoded, /*metadata=*/true);
    out += encoded;
    return out;
  }

 private:
  static constexpr uint32_t EMPTY = 0xffffffffu;
  static constexpr uint32_t DATA_FLAG = 0x80000000u;

  // The control byte(s) of a field: type in the top three bits (0 and an extra byte for the
  // extended types), size in the low five, with one to three more bytes when it is large.
  static void Control(int type, size_t size, std::string& out) {
    const int first_type = type > 7 ? 0 : type;
    std::string extension;
    int small;
    if (size < 29) {
      small = static_cast<int>(size);
    } else if (size < 285) {
      small = 29;
      extension.push_back(static_cast<char>(size - 29));
    } else {
      small = 30;
      const size_t rest = size - 285;
      extension.push_back(static_cast<char>(rest >> 8));
      extension.push_back(static_cast<char>(rest & 0xff));
    }
    out.push_back(static_cast<char>((first_type << 5) | small));
    if (type > 7) out.push_back(static_cast<char>(type - 7));
    out += extension;
  }

  // Unsigned integers: uint16 (type 5) for small metadata fields, uint32 (6) otherwise, uint64
  // (9) for the build epoch, each in as few big-endian bytes as the value needs.
  static void Encode(const MmdbValue& value, std::string& out, bool metadata = false,
                     std::string_view key = {}) {
    if (const auto* text = std::get_if<std::string>(&value.value)) {
      Control(2, text->size(), out);
      out += *text;
    } else if (const auto* number = std::get_if<uint64_t>(&value.value)) {
      const int type = key == "build_epoch" ? 9
                       : metadata && (key == "record_size" || key == "ip_version" ||
                                      key.starts_with("binary_format"))
                           ? 5
                           : 6;
      std::string bytes;
      for (uint64_t v = *number; v != 0; v >>= 8)
        bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
      Control(type, bytes.size(), out);
      out += bytes;
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&value.value)) {
      Control(11, list->size(), out);  // an array
      for (const std::string& text : *list) {
        Control(2, text.size(), out);
        out += text;
      }
    } else {
      const auto& map = std::get<MmdbMap>(value.value);
      Control(7, map.size(), out);
      for (const auto& [name, item] : map) {
        Control(2, name.size(), out);
        out += name;
        Encode(item, out, metadata, name);
      }
    }
  }

  int ip_version_;
  std::string database_type_;
  std::vector<std::array<uint32_t, 2>> nodes_;
  std::string data_;
};

// A database in which `network` lies in one country, as GeoLite2's Country and City
// databases write it: {"country": {"iso_code": ISO, "names": {"en": NAME}}}.
inline std::string CountryDatabase(std::string_view network, std::string iso, std::string name,
                                   std::string database_type = "GeoLite2-Country") {
  MmdbWriter writer(6, std::move(database_type));
  writer.Insert(network,
                MmdbMap{{"country", MmdbMap{{"iso_code", std::move(iso)},
                                            {"names", MmdbMap{{"en", std::move(name)}}}}}});
  return writer.Bytes();
}

}  // namespace yagura::test_support
