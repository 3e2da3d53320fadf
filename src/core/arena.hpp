// Arena: bump allocation of bytes whose lifetime is one event or one batch.
//
// Reset() keeps the chunks, so after warm-up an arena allocates nothing: this is how the hot path
// stores the few strings it must build (unescaped values, renamed fields) without a heap
// allocation per event. Views returned by Store() stay valid until Reset(). Not thread-safe: one
// arena per thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace yagura {

class Arena {
 public:
  explicit Arena(size_t chunk_size = 64 * 1024) : chunk_size_(chunk_size) {}

  [[nodiscard]] char* Allocate(size_t size);
  [[nodiscard]] std::string_view Store(std::string_view text);
  void Reset();
  // The bytes of the chunks the arena holds: what it costs in memory.
  [[nodiscard]] size_t reserved_bytes() const;

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  size_t chunk_size_;
  std::vector<Chunk> chunks_;
  size_t current_ = 0;  // index of the chunk being filled
  size_t used_ = 0;     // bytes used in chunks_[current_]
};

}  // namespace yagura
