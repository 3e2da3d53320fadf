// The outcome of identical uploads raced with test_support::RunTogether, for incidents and for
// request responses alike: every upload succeeded, exactly one made the attachment, and all of
// them name that one.
#pragma once

#include <gtest/gtest.h>

namespace yagura::hub {

template <typename Results>
void ExpectOneAttachmentMade(const Results& results, int round) {
  int made = 0;
  for (const auto& result : results) {
    ASSERT_TRUE(result) << "round " << round << ": " << result.error().message;
    if (!result->already_attached) ++made;
    EXPECT_EQ(result->id, results[0]->id) << "round " << round;
  }
  EXPECT_EQ(made, 1) << "round " << round;
}

}  // namespace yagura::hub
