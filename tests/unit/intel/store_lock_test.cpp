// StoreLock: one writer at a time per indicator store, across processes and threads.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "intel/store.hpp"

namespace yagura::intel {
namespace {

namespace fs = std::filesystem;

TEST(StoreLockTest, ASecondWriterWaitsAndIsRefusedWhileTheFirstHoldsTheLock) {
  std::string pattern = (fs::temp_directory_path() / "yagura-store-lock-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr);
  {
    auto first = StoreLock::Acquire(pattern);
    ASSERT_TRUE(first) << first.error().ToString();
    auto second = StoreLock::Acquire(pattern, 200);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("busy"), std::string::npos) << second.error().message;
  }
  // Released with the first holder: the next writer gets it.
  auto third = StoreLock::Acquire(pattern, 0);
  EXPECT_TRUE(third) << (third ? "" : third.error().ToString());
  fs::remove_all(pattern);
}

}  // namespace
}  // namespace yagura::intel
