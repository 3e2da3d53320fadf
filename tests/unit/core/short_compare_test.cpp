#include "core/short_compare.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

namespace yagura {
namespace {

// Two strings that end right before a page no one may read, and start right after one: a load
// past either end faults.
class GuardedBytes {
 public:
  GuardedBytes() {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* memory = mmap(nullptr, page_ * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    EXPECT_NE(memory, MAP_FAILED);
    base_ = static_cast<char*>(memory);
    EXPECT_EQ(mprotect(base_, page_, PROT_NONE), 0);
    EXPECT_EQ(mprotect(base_ + page_ * 2, page_, PROT_NONE), 0);
  }
  ~GuardedBytes() { munmap(base_, page_ * 3); }
  // `length` bytes ending at the upper guard page.
  char* AtEnd(size_t length) { return base_ + page_ * 2 - length; }
  // `length` bytes starting at the lower guard page's end.
  char* AtStart() { return base_ + page_; }

 private:
  size_t page_ = 0;
  char* base_ = nullptr;
};

TEST(SameShortBytes, EveryLengthEveryDifferingByte) {
  GuardedBytes guarded;
  for (size_t length = 0; length <= MAX_SHORT_COMPARE; ++length) {
    char* a = guarded.AtEnd(length);
    char b[MAX_SHORT_COMPARE];
    for (size_t i = 0; i < length; ++i) a[i] = b[i] = static_cast<char>('a' + i % 26);
    EXPECT_TRUE(SameShortBytes(a, b, length)) << length;
    EXPECT_TRUE(SameShortBytes(b, a, length)) << length;
    for (size_t at = 0; at < length; ++at) {
      a[at] ^= 0x20;
      EXPECT_FALSE(SameShortBytes(a, b, length)) << length << " at " << at;
      EXPECT_FALSE(SameShortBytes(b, a, length)) << length << " at " << at;
      a[at] ^= 0x20;
    }
  }
}

TEST(SameShortBytes, ReadsNothingBeforeItsStrings) {
  GuardedBytes guarded;
  char* a = guarded.AtStart();
  char b[MAX_SHORT_COMPARE + 1] = {};
  for (size_t length = 1; length <= MAX_SHORT_COMPARE; ++length) {
    std::memset(a, 'x', length);
    std::memset(b, 'x', length);
    EXPECT_TRUE(SameShortBytes(a, b, length)) << length;
    b[length - 1] = 'y';
    EXPECT_FALSE(SameShortBytes(a, b, length)) << length;
  }
}

TEST(SameShortBytes, OnlyTheGivenLengthCounts) {
  const char a[] = "ProcessGuid-and-more-bytes-that-differ-after-the-length-compared";
  const char b[] = "ProcessGuid+AND+MORE+BYTES+THAT+DIFFER+AFTER+THE+LENGTH+COMPARED";
  EXPECT_TRUE(SameShortBytes(a, b, 11));
  EXPECT_FALSE(SameShortBytes(a, b, 12));
}

}  // namespace
}  // namespace yagura
