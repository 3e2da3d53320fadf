// RunTogether: for tests of what happens when clients do the same thing at the same instant
// (identical uploads racing each other). Starts `count` threads, releases them together from a
// latch, calls work(i) in thread i and waits for all of them.
#pragma once

#include <functional>
#include <latch>
#include <thread>
#include <vector>

namespace yagura::test_support {

inline void RunTogether(int count, const std::function<void(int)>& work) {
  std::latch start(count);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      work(i);
    });
  }
  for (auto& thread : threads) thread.join();
}

}  // namespace yagura::test_support
