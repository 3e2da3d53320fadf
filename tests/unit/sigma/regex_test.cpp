#include "sigma/regex.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>

namespace yagura::sigma {
namespace {

// `.{N,}` is decided by counting characters on ASCII text; it must agree with RE2 everywhere.
TEST(Regex, LongRunsAgreeWithRe2) {
  std::mt19937_64 rng(7);
  const char alphabet[] = "ab \n\t\r";
  for (const char* pattern : {".{1,}", ".{5,}", ".{40,}", "(?s).{5,}", "(?s).{40,}"}) {
    for (bool dotall : {false, true}) {
      auto regex = Regex::Compile(pattern, Regex::Flags{false, false, dotall});
      ASSERT_TRUE(regex);
      RE2::Options options;
      options.set_dot_nl(dotall);
      RE2 reference(pattern, options);
      ASSERT_TRUE(reference.ok());
      for (int i = 0; i < 2000; ++i) {
        std::string text(rng() % 80, 'x');
        for (char& c : text) c = alphabet[rng() % (sizeof alphabet - 1)];
        EXPECT_EQ((*regex)->Search(text), RE2::PartialMatch(text, reference))
            << pattern << " dotall=" << dotall << " on [" << text << "]";
      }
      // Non-ASCII text goes to the engine.
      std::string wide = std::string(3, 'a') + "\xc3\xa9\xc3\xa9" + std::string(2, 'b');
      EXPECT_EQ((*regex)->Search(wide), RE2::PartialMatch(wide, reference)) << pattern;
    }
  }
}

}  // namespace
}  // namespace yagura::sigma
