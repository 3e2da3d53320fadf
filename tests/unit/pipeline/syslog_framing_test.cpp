#include "pipeline/syslog_framing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace yagura::pipeline {
namespace {

struct Collected : SyslogFrameSink {
  std::vector<std::string> messages;
  std::vector<std::string> errors;
  void OnMessage(std::string_view message) override { messages.emplace_back(message); }
  void OnFramingError(std::string_view reason) override { errors.emplace_back(reason); }
};

// Feeds `stream` in pieces of `piece` bytes, then ends it.
Collected Frame(std::string_view stream, size_t piece, size_t limit = 1024) {
  SyslogStreamFramer framer(limit);
  Collected sink;
  for (size_t at = 0; at < stream.size(); at += piece) framer.Feed(stream.substr(at, piece), sink);
  framer.Finish(sink);
  return sink;
}

TEST(SyslogFraming, MixedFramingsInAnyPieces) {
  const std::string first = "<34>1 2026-11-26T06:00:00Z host app - - - hello";
  const std::string second = "<13>Nov 26 06:00:01 host sshd[42]: Failed password";
  std::string stream = std::to_string(first.size()) + " " + first + second + "\r\n" +
                       "<14>third line without octet count\n" + "5 <1>x\n";
  for (size_t piece : {1, 2, 3, 7, 64, 4096}) {
    Collected sink = Frame(stream, piece);
    ASSERT_EQ(sink.messages.size(), 4u) << "piece " << piece;
    EXPECT_EQ(sink.messages[0], first);
    EXPECT_EQ(sink.messages[1], second);
    EXPECT_EQ(sink.messages[2], "<14>third line without octet count");
    EXPECT_EQ(sink.messages[3], "<1>x");  // the count covered a trailing LF, which is dropped
    EXPECT_TRUE(sink.errors.empty());
  }
}

TEST(SyslogFraming, OctetCountedMessagesMayContainNewlines) {
  std::string message = "<34>1 - h a - - - line one\nline two";
  Collected sink = Frame(std::to_string(message.size()) + " " + message, 5);
  ASSERT_EQ(sink.messages.size(), 1u);
  EXPECT_EQ(sink.messages[0], message);
}

TEST(SyslogFraming, OversizedMessagesAreReportedAndSkippedInStep) {
  std::string big(5000, 'A');
  std::string stream = "5000 " + big + "<1>after counted\n" + "<2>" + big + "\n" + "<3>after line\n";
  for (size_t piece : {1, 100, 100000}) {
    SyslogStreamFramer framer(1024);
    Collected sink;
    size_t most_buffered = 0;
    for (size_t at = 0; at < stream.size(); at += piece) {
      framer.Feed(std::string_view(stream).substr(at, piece), sink);
      most_buffered = std::max(most_buffered, framer.buffered());
    }
    framer.Finish(sink);
    ASSERT_EQ(sink.errors.size(), 2u) << "piece " << piece;
    EXPECT_NE(sink.errors[0].find("exceeds the limit"), std::string::npos);
    EXPECT_NE(sink.errors[1].find("longer than the limit"), std::string::npos);
    ASSERT_EQ(sink.messages.size(), 2u);
    EXPECT_EQ(sink.messages[0], "<1>after counted");
    EXPECT_EQ(sink.messages[1], "<3>after line");
    EXPECT_LE(most_buffered, 1024u);  // the oversized bodies were never held
  }
}

TEST(SyslogFraming, LinesStartingWithDigitsAreNotMistakenForCounts) {
  Collected sink = Frame("2026-11-26 06:00:00 host app: no PRI\n0 zero\n", 3);
  ASSERT_EQ(sink.messages.size(), 2u);
  EXPECT_EQ(sink.messages[0], "2026-11-26 06:00:00 host app: no PRI");
  EXPECT_EQ(sink.messages[1], "0 zero");
}

TEST(SyslogFraming, EndOfStream) {
  Collected unterminated = Frame("<1>last line without LF", 4);
  ASSERT_EQ(unterminated.messages.size(), 1u);
  EXPECT_EQ(unterminated.messages[0], "<1>last line without LF");
  Collected cut = Frame("100 <1>too short", 4);
  EXPECT_TRUE(cut.messages.empty());
  ASSERT_EQ(cut.errors.size(), 1u);
  EXPECT_NE(cut.errors[0].find("connection closed"), std::string::npos);
  Collected absurd = Frame("123456789012345 <1>x\n<2>next\n", 4);
  ASSERT_EQ(absurd.errors.size(), 1u);
  ASSERT_EQ(absurd.messages.size(), 1u);
  EXPECT_EQ(absurd.messages[0], "<2>next");
}

}  // namespace
}  // namespace yagura::pipeline
