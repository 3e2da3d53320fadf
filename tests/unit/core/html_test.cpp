#include "core/html.hpp"

#include <gtest/gtest.h>

namespace yagura {
namespace {

TEST(Html, EscapesWhatEndsTextOrAnAttributeAndLeavesTheRest) {
  const std::string hostile = R"x(<img src=x onerror="a('b')"> & more)x";
  EXPECT_EQ(HtmlEscaped(hostile),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt; &amp; more");
  EXPECT_EQ(HtmlEscaped("調査報告書 ¦ TLP:RED"), "調査報告書 ¦ TLP:RED");
  EXPECT_EQ(HtmlEscaped(""), "");
  std::string out = "<b>";
  AppendHtmlEscaped("&amp;", out);
  EXPECT_EQ(out, "<b>&amp;amp;");
}

}  // namespace
}  // namespace yagura
