// LEB128 varints and the strings they prefix, as the spooled envelope and the event store's
// blocks encode them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace yagura::pipeline {

inline void PutVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

inline void PutBytes(std::string& out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out.append(bytes);
}

// Reads a varint from the front of `in`, advancing it; false when `in` ends first or the
// varint runs past 64 bits.
inline bool GetVarint(std::string_view& in, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// Reads a varint-prefixed string (a view into `in`), advancing `in`; false when it runs past
// the end.
inline bool GetBytes(std::string_view& in, std::string_view& out) {
  uint64_t size = 0;
  if (!GetVarint(in, size) || size > in.size()) return false;
  out = in.substr(0, size);
  in.remove_prefix(size);
  return true;
}

}  // namespace yagura::pipeline
