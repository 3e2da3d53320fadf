#include "core/arena.hpp"

#include <cstring>

namespace yagura {

char* Arena::Allocate(size_t size) {
  while (current_ < chunks_.size()) {
    Chunk& chunk = chunks_[current_];
    if (chunk.size - used_ >= size) {
      char* out = chunk.data.get() + used_;
      used_ += size;
      return out;
    }
    ++current_;
    used_ = 0;
  }
  size_t chunk_size = size > chunk_size_ ? size : chunk_size_;
  // Not zero-filled: every byte handed out is written by the caller first.
  chunks_.push_back(Chunk{std::make_unique_for_overwrite<char[]>(chunk_size), chunk_size});
  current_ = chunks_.size() - 1;
  used_ = size;
  return chunks_.back().data.get();
}

std::string_view Arena::Store(std::string_view text) {
  if (text.empty()) return {};
  char* out = Allocate(text.size());
  std::memcpy(out, text.data(), text.size());
  return {out, text.size()};
}

size_t Arena::reserved_bytes() const {
  size_t total = 0;
  for (const Chunk& chunk : chunks_) total += chunk.size;
  return total;
}

void Arena::Reset() {
  current_ = 0;
  used_ = 0;
}

}  // namespace yagura
