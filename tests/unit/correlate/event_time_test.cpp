// ParseEventTimeMs and EventTimeMs: every format event_time.hpp lists.
#include "correlate/event_time.hpp"

#include <gtest/gtest.h>

#include "core/time.hpp"

namespace yagura::correlate {
namespace {

// 2026-11-26T08:12:15Z
constexpr int64_t T0 = 1795680735000;

TEST(EventTime, Rfc3339AndIso8601) {
  ASSERT_EQ(FormatTimestampMs(T0), "2026-11-26T08:12:15.000Z");
  EXPECT_EQ(ParseEventTimeMs("2026-11-26T08:12:15Z"), T0);
  EXPECT_EQ(ParseEventTimeMs("2026-11-26T08:12:15.25Z"), T0 + 250);
  EXPECT_EQ(ParseEventTimeMs("2026-11-26T08:12:15.123456789Z"), T0 + 123);  // EVTX SystemTime
  EXPECT_EQ(ParseEventTimeMs("2026-11-26T10:12:15+02:00"), T0);
  EXPECT_EQ(ParseEventTimeMs("2026-11-26T03:12:15-0500"), T0);
  EXPECT_EQ(ParseEventTimeMs("2026-11-26T08:12:15"), T0) << "no zone is UTC";
  EXPECT_EQ(ParseEventTimeMs("  2026-11-26T08:12:15Z \n"), T0);
}

TEST(EventTime, SpaceSeparatedAsSysmonUtcTime) {
  EXPECT_EQ(ParseEventTimeMs("2026-11-26 08:12:15.500"), T0 + 500);
  EXPECT_EQ(ParseEventTimeMs("2026-11-26 08:12:15"), T0);
  EXPECT_EQ(ParseEventTimeMs("2026-11-26 08:12:15.5 UTC"), T0 + 500);
}

TEST(EventTime, EpochDigits) {
  EXPECT_EQ(ParseEventTimeMs("1795680735"), T0);
  EXPECT_EQ(ParseEventTimeMs("1795680735.75"), T0 + 750);  // Zeek ts
  EXPECT_EQ(ParseEventTimeMs("1795680735123"), T0 + 123);
  EXPECT_EQ(ParseEventTimeMs("1795680735123456"), T0 + 123);     // microseconds
  EXPECT_EQ(ParseEventTimeMs("1795680735123456789"), T0 + 123);  // nanoseconds
  EXPECT_EQ(ParseEventTimeMs("0"), 0);
  EXPECT_FALSE(ParseEventTimeMs("12a"));
  EXPECT_FALSE(ParseEventTimeMs("1795680735."));
  EXPECT_FALSE(ParseEventTimeMs("-5"));
}

TEST(EventTime, Rfc3164TakesTheYearNearestTheReference) {
  int64_t reference = *ParseEventTimeMs("2026-11-26T09:00:00Z");
  EXPECT_EQ(ParseEventTimeMs("Nov 26 08:12:15", reference), T0);
  EXPECT_EQ(ParseEventTimeMs("Nov 26 08:12:15.250", reference), T0 + 250);
  EXPECT_EQ(ParseEventTimeMs("Nov  6 09:00:00", reference),
            *ParseEventTimeMs("2026-11-06T09:00:00Z"));
  // Near New Year the nearest year is the previous or the next one.
  EXPECT_EQ(ParseEventTimeMs("Dec 31 23:59:59", *ParseEventTimeMs("2027-01-01T00:00:05Z")),
            *ParseEventTimeMs("2026-12-31T23:59:59Z"));
  EXPECT_EQ(ParseEventTimeMs("Jan  1 00:00:01", *ParseEventTimeMs("2026-12-31T23:59:00Z")),
            *ParseEventTimeMs("2027-01-01T00:00:01Z"));
  // A year written after the time wins over the reference.
  EXPECT_EQ(ParseEventTimeMs("Dec 10 06:55:46 2015", reference),
            *ParseEventTimeMs("2015-12-10T06:55:46Z"));
  // Feb 29 lands in the nearest leap year.
  EXPECT_EQ(ParseEventTimeMs("Feb 29 12:00:00", *ParseEventTimeMs("2028-03-01T00:00:00Z")),
            *ParseEventTimeMs("2028-02-29T12:00:00Z"));
  EXPECT_FALSE(ParseEventTimeMs("Feb 29 12:00:00", *ParseEventTimeMs("2026-06-01T00:00:00Z")));
  EXPECT_FALSE(ParseEventTimeMs("Foo 26 08:12:15", reference));
  EXPECT_FALSE(ParseEventTimeMs("Nov 26 8:12:15", reference));
}

TEST(EventTime, AccessLogTime) {
  EXPECT_EQ(ParseEventTimeMs("26/Nov/2026:09:12:15 +0100"), T0);
  EXPECT_EQ(ParseEventTimeMs("26/Nov/2026:08:12:15"), T0);
  EXPECT_FALSE(ParseEventTimeMs("26/Nov/2026 08:12:15"));
}

TEST(EventTime, GarbageIsNullopt) {
  EXPECT_FALSE(ParseEventTimeMs(""));
  EXPECT_FALSE(ParseEventTimeMs("yesterday"));
  EXPECT_FALSE(ParseEventTimeMs("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseEventTimeMs("2026-11-26T25:00:00Z"));
  EXPECT_FALSE(ParseEventTimeMs("-"));
}

TEST(EventTime, EventTimeField) {
  event::FieldCatalog catalog;
  event::FieldId custom = catalog.Intern("LoggedAt");
  event::Event event;
  event.Reset(catalog.size());
  EXPECT_FALSE(EventTimeMs(event));
  event.time = "2026-11-26T08:12:15Z";
  EXPECT_EQ(EventTimeMs(event), T0);
  EXPECT_EQ(EventTimeMs(event, custom), T0) << "absent field: the event time";
  event.Add(custom, {"1795680800", event::ValueType::kNumber});
  EXPECT_EQ(EventTimeMs(event, custom), 1795680800000);
  EXPECT_EQ(EventTimeMs(event), T0);
  event.Reset(catalog.size());
  event.time = {};
  event.Add(custom, {"not a time", event::ValueType::kString});
  EXPECT_FALSE(EventTimeMs(event, custom));
}

// Some collectors damage SystemTime (a fraction written twice) while Sysmon's UtcTime beside
// it is sound: the event keeps its time.
TEST(EventTime, ADamagedTimeFallsBackToTheNextBest) {
  event::Event event;
  event.Reset(0);
  event.time = "2026-11-26T08:12:15.037000.000000Z";
  EXPECT_FALSE(EventTimeMs(event));
  event.time_fallback = "2026-11-26 08:12:15.037";
  EXPECT_EQ(EventTimeMs(event), T0 + 37);
  event.time = "2026-11-26T08:12:15.5Z";
  EXPECT_EQ(EventTimeMs(event), T0 + 500) << "a sound time is read first";
  event.time = "garbage";
  event.time_fallback = "garbage too";
  EXPECT_FALSE(EventTimeMs(event));
}

}  // namespace
}  // namespace yagura::correlate
