// CorrelationEngine over hand-written matches: every correlation type, the window semantics
// (sliding, once per burst, lateness, closing), organisations, bounds, ids, snapshots, chaining.
#include "correlate/correlation_engine.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "correlate_test_util.hpp"

namespace yagura::correlate {
namespace {

using testing::Driver;
using testing::Rules;

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields Ip(const std::string& ip) { return {{"IpAddress", ip}}; }

constexpr const char* BRUTE_FORCE = R"(title: Brute force
id: 0b000000-0000-4000-8000-000000000001
name: brute
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 5m
  condition: {gte: 3}
)";

TEST(EventCount, FiresWhenTheThresholdIsReached) {
  Rules rules(BRUTE_FORCE);
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  d.Match("failed", 10, Ip("203.0.113.5"));
  d.Match("failed", 20, Ip("203.0.113.5"));
  EXPECT_TRUE(d.alerts.empty());
  d.Match("failed", 30, Ip("203.0.113.5"));
  ASSERT_EQ(d.alerts.size(), 1u);
  const CorrelationAlert& alert = d.alerts[0];
  EXPECT_EQ(alert.correlation_index, rules.Correlation("brute"));
  ASSERT_EQ(alert.group.size(), 1u);
  EXPECT_EQ(alert.group[0].first, "IpAddress");
  EXPECT_EQ(alert.group[0].second, "203.0.113.5");
  EXPECT_EQ(alert.first_time_ms, 10'000);
  EXPECT_EQ(alert.last_time_ms, 30'000);
  EXPECT_EQ(alert.value, 3);
  EXPECT_EQ(alert.match_count, 3u);
  EXPECT_EQ(alert.sequences, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(alert.id.size(), 36u);
  EXPECT_EQ(d.engine.stats().alerts, 1u);
  EXPECT_EQ(d.engine.stats().matches, 3u);
}

TEST(EventCount, GroupsAreSeparate) {
  Rules rules(BRUTE_FORCE);
  Driver d(rules);
  d.Match("failed", 10, Ip("203.0.113.5"));
  d.Match("failed", 11, Ip("198.51.100.7"));
  d.Match("failed", 12, Ip("203.0.113.5"));
  d.Match("failed", 13, Ip("198.51.100.7"));
  EXPECT_TRUE(d.alerts.empty());
  d.Match("failed", 14, Ip("198.51.100.7"));
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].group[0].second, "198.51.100.7");
}

TEST(EventCount, WindowsSlideRatherThanTumble) {
  // Tumbling 5-minute windows [0,300) [300,600) would hold 2 and 2 matches; the sliding window
  // ending at 500 s holds 200, 400 and 500.
  Rules rules(BRUTE_FORCE);
  Driver d(rules);
  for (double t : {0.0, 200.0, 400.0}) d.Match("failed", t, Ip("203.0.113.5"));
  EXPECT_TRUE(d.alerts.empty());
  d.Match("failed", 500, Ip("203.0.113.5"));
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].first_time_ms, 200'000);
  EXPECT_EQ(d.alerts[0].match_count, 3u);
}

TEST(EventCount, MatchesFurtherApartThanTheTimespanNeverFire) {
  Rules rules(BRUTE_FORCE);
  Driver d(rules);
  for (int i = 0; i < 20; ++i) d.Match("failed", i * 301.0, Ip("203.0.113.5"));
  d.Finish();
  EXPECT_TRUE(d.alerts.empty());
}

TEST(EventCount, OneAlertPerBurstThenRearmedAfterTheWindowEmpties) {
  Rules rules(BRUTE_FORCE);
  Driver d(rules);
  // A burst, then a match every 100 s for an hour: the window never empties.
  for (int i = 0; i < 10; ++i) d.Match("failed", i, Ip("203.0.113.5"));
  for (int i = 1; i <= 36; ++i) d.Match("failed", 10 + i * 100.0, Ip("203.0.113.5"));
  EXPECT_EQ(d.alerts.size(), 1u);
  // More than a timespan of silence: the next burst alerts again, with another id.
  double t = 10 + 36 * 100.0 + 301;
  for (int i = 0; i < 3; ++i) d.Match("failed", t + i, Ip("203.0.113.5"));
  ASSERT_EQ(d.alerts.size(), 2u);
  EXPECT_NE(d.alerts[0].id, d.alerts[1].id);
  EXPECT_EQ(d.alerts[1].first_time_ms, static_cast<int64_t>(t * 1000));
  EXPECT_EQ(d.alerts[1].match_count, 3u);
}

TEST(EventCount, ExactlyTheTimespanApartIsInsideTheWindow) {
  Rules rules(BRUTE_FORCE);
  Driver d(rules);
  d.Match("failed", 0, Ip("203.0.113.5"));
  d.Match("failed", 100, Ip("203.0.113.5"));
  d.Match("failed", 300, Ip("203.0.113.5"));
  EXPECT_EQ(d.alerts.size(), 1u);
}

TEST(Lateness, LateMatchesAreDroppedAndCounted) {
  Rules rules(BRUTE_FORCE);
  CorrelationOptions options;
  options.allowed_lateness_ms = 60'000;
  Driver d(rules, options);
  d.Match("failed", 1000, Ip("203.0.113.5"));
  d.Match("failed", 930, Ip("203.0.113.5"));  // watermark 940: late
  d.Match("failed", 939, Ip("203.0.113.5"));  // late
  EXPECT_EQ(d.engine.stats().late_matches, 2u);
  d.Match("failed", 1001, Ip("203.0.113.5"));
  EXPECT_TRUE(d.alerts.empty()) << "late matches must not count";
  d.Match("failed", 1002, Ip("203.0.113.5"));
  EXPECT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.engine.stats().matches, 5u);
}

TEST(Lateness, OutOfOrderWithinTheLatenessIsAccepted) {
  Rules rules(BRUTE_FORCE);
  CorrelationOptions options;
  options.allowed_lateness_ms = 60'000;
  Driver d(rules, options);
  d.Match("failed", 1000, Ip("203.0.113.5"));
  d.Match("failed", 1100, Ip("203.0.113.5"));
  // Older than both, but within the lateness: completes the window that ends at 1100.
  d.Match("failed", 1045, Ip("203.0.113.5"));
  EXPECT_EQ(d.engine.stats().late_matches, 0u);
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].first_time_ms, 1'000'000);
  EXPECT_EQ(d.alerts[0].last_time_ms, 1'100'000);
  EXPECT_EQ(d.alerts[0].sequences, (std::vector<uint64_t>{1, 3, 2}));  // oldest first
  // The watermark never moves back: after 1045 it is still 1100 - 60.
  d.Match("failed", 1039, Ip("198.51.100.1"));
  EXPECT_EQ(d.engine.stats().late_matches, 1u);
}

TEST(Lateness, AdvanceMovesTheWatermark) {
  Rules rules(BRUTE_FORCE);
  Driver d(rules);  // 60 s lateness
  d.Advance(5000);
  d.Match("failed", 4900, Ip("203.0.113.5"));
  EXPECT_EQ(d.engine.stats().late_matches, 1u);
  d.Match("failed", 4950, Ip("203.0.113.5"));
  EXPECT_EQ(d.engine.stats().late_matches, 1u);
}

constexpr const char* TOO_FEW = R"(title: Too few heartbeats
id: 0b000000-0000-4000-8000-000000000002
name: too_few
correlation:
  type: event_count
  rules: [connection]
  group-by: [Computer]
  timespan: 10m
  condition: {lt: 3}
)";

TEST(LessThan, DecidedWhenTheWatermarkPassesTheWindowEnd) {
  Rules rules(TOO_FEW);
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);  // 60 s lateness
  d.Match("connection", 0, {{"Computer", "quiet"}});
  d.Match("connection", 100, {{"Computer", "quiet"}});
  for (int i = 0; i < 5; ++i) d.Match("connection", 100 + i * 10.0, {{"Computer", "busy"}});
  d.Advance(600);  // window [0, 600] not closed before 660
  d.Advance(660);
  EXPECT_TRUE(d.alerts.empty());
  d.Advance(661);
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].group[0].second, "quiet");
  EXPECT_EQ(d.alerts[0].value, 2);
  EXPECT_EQ(d.alerts[0].first_time_ms, 0);
  EXPECT_EQ(d.alerts[0].last_time_ms, 600'000);  // the window end
}

TEST(LessThan, FinishClosesEveryWindow) {
  Rules rules(TOO_FEW);
  Driver d(rules);
  d.Match("connection", 0, {{"Computer", "a"}});
  d.Match("connection", 1, {{"Computer", "b"}});
  d.Match("connection", 2, {{"Computer", "b"}});
  d.Match("connection", 3, {{"Computer", "b"}});
  EXPECT_TRUE(d.alerts.empty());
  d.Finish();
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].group[0].second, "a");
  EXPECT_EQ(d.engine.stats().groups, 0u);
}

TEST(LessThan, NextWindowOpensAtTheFirstMatchAfterTheLast) {
  Rules rules(TOO_FEW);
  Driver d(rules);
  // Window [0, 600]: 3 matches (no alert); window [700, 1300]: 1 match (alert).
  for (double t : {0.0, 10.0, 20.0, 700.0}) d.Match("connection", t, {{"Computer", "a"}});
  d.Finish();
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].first_time_ms, 700'000);
}

TEST(Range, ComparisonsAreAndedAndDecidedAtClose) {
  Rules rules(R"(title: Between
id: 0b000000-0000-4000-8000-000000000003
name: between
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 5m
  condition: {gte: 3, lte: 5}
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  for (int i = 0; i < 4; ++i) d.Match("failed", i, Ip("203.0.113.1"));
  for (int i = 0; i < 7; ++i) d.Match("failed", i, Ip("203.0.113.2"));
  for (int i = 0; i < 2; ++i) d.Match("failed", i, Ip("203.0.113.3"));
  EXPECT_TRUE(d.alerts.empty()) << "lte is only known when the window closes";
  d.Finish();
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].group[0].second, "203.0.113.1");
  EXPECT_EQ(d.alerts[0].value, 4);
}

TEST(Organisations, SameGroupAtTwoOrganisationsIsTwoGroups) {
  Rules rules(BRUTE_FORCE);
  Driver d(rules);
  d.Match("failed", 1, Ip("203.0.113.5"), "org-a");
  d.Match("failed", 2, Ip("203.0.113.5"), "org-b");
  d.Match("failed", 3, Ip("203.0.113.5"), "org-a");
  d.Match("failed", 4, Ip("203.0.113.5"), "org-b");
  EXPECT_TRUE(d.alerts.empty());
  d.Match("failed", 5, Ip("203.0.113.5"), "org-b");
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].org_id, "org-b");
  EXPECT_EQ(d.alerts[0].sequences, (std::vector<uint64_t>{2, 4, 5}));
  EXPECT_EQ(d.engine.stats().groups, 2u);
}

TEST(Bounds, OldestGroupIsEvicted) {
  Rules rules(BRUTE_FORCE);
  CorrelationOptions options;
  options.max_groups = 2;
  Driver d(rules, options);
  d.Match("failed", 1, Ip("203.0.113.1"));
  d.Match("failed", 2, Ip("203.0.113.1"));
  d.Match("failed", 3, Ip("203.0.113.2"));
  d.Match("failed", 4, Ip("203.0.113.3"));  // evicts .1, the least recently used
  EXPECT_EQ(d.engine.stats().evicted_groups, 1u);
  EXPECT_EQ(d.engine.stats().groups, 2u);
  d.Match("failed", 5, Ip("203.0.113.1"));  // starts again from 1 (evicting .2)
  EXPECT_TRUE(d.alerts.empty());
  EXPECT_EQ(d.engine.stats().evicted_groups, 2u);
  d.Match("failed", 6, Ip("203.0.113.3"));
  d.Match("failed", 7, Ip("203.0.113.3"));
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].group[0].second, "203.0.113.3");
}

TEST(Bounds, MatchesPerGroupAreBounded) {
  Rules rules(R"(title: Many
id: 0b000000-0000-4000-8000-000000000004
name: many
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 1h
  condition: {gte: 5}
)");
  CorrelationOptions options;
  options.max_events_per_group = 3;
  Driver d(rules, options);
  for (int i = 0; i < 10; ++i) d.Match("failed", i, Ip("203.0.113.1"));
  EXPECT_TRUE(d.alerts.empty());
  EXPECT_EQ(d.engine.stats().dropped_matches, 7u);
}

TEST(Groups, MissingGroupByFieldGroupsUnderEmptyValue) {
  Rules rules(BRUTE_FORCE);
  Driver d(rules);
  d.Match("failed", 1, {});
  d.Match("failed", 2, {{"Other", "x"}});
  d.Match("failed", 3, Ip("203.0.113.1"));
  d.Match("failed", 4, {});
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].group[0].second, "");
  EXPECT_EQ(d.alerts[0].sequences, (std::vector<uint64_t>{1, 2, 4}));
}

// An event that two of a correlation's rules match is one event: a count or an aggregate takes
// it once (as `(a) OR (b) | stats count()` does), a temporal correlation for each rule.
TEST(Groups, AnEventSeveralRulesMatchCountsOnceInACount) {
  Rules rules(R"(title: Two events
id: 0b000000-0000-4000-8000-000000000021
name: two
correlation:
  type: event_count
  rules: [failed, connection]
  group-by: [IpAddress]
  timespan: 1m
  condition: {gte: 2}
---
title: Two distinct users
id: 0b000000-0000-4000-8000-000000000022
name: users
correlation:
  type: value_count
  rules: [failed, connection]
  group-by: [IpAddress]
  timespan: 1m
  condition: {gte: 2, field: TargetUserName}
---
title: Both rules
id: 0b000000-0000-4000-8000-000000000023
name: both_rules
correlation:
  type: temporal
  rules: [failed, connection]
  group-by: [IpAddress]
  timespan: 1m
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  d.Match("failed", 1, {{"IpAddress", "203.0.113.1"}, {"TargetUserName", "alice"}});
  d.AlsoMatches("connection", 1);
  EXPECT_TRUE(d.Of("two").empty()) << "one event, counted twice";
  EXPECT_TRUE(d.Of("users").empty());
  ASSERT_EQ(d.Of("both_rules").size(), 1u);  // both rules matched, by the one event
  EXPECT_EQ(d.Of("both_rules")[0].match_count, 2u);
  EXPECT_EQ(d.Of("both_rules")[0].sequences, std::vector<uint64_t>{1});  // the event, once
  d.Match("connection", 2, {{"IpAddress", "203.0.113.1"}, {"TargetUserName", "bob"}});
  ASSERT_EQ(d.Of("two").size(), 1u);
  EXPECT_EQ(d.Of("two")[0].match_count, 2u);
  ASSERT_EQ(d.Of("users").size(), 1u);
}

TEST(Groups, NoGroupByMakesOneGroup) {
  Rules rules(R"(title: Any three
id: 0b000000-0000-4000-8000-000000000005
name: any3
correlation:
  type: event_count
  rules: [failed, success]
  timespan: 1m
  condition: {gte: 3}
)");
  Driver d(rules);
  d.Match("failed", 1, Ip("203.0.113.1"));
  d.Match("success", 2, Ip("203.0.113.2"));
  d.Match("failed", 3, Ip("203.0.113.3"));
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_TRUE(d.alerts[0].group.empty());
}

constexpr const char* SPRAY = R"(title: Spraying
id: 0b000000-0000-4000-8000-000000000006
name: spray
correlation:
  type: value_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 10m
  condition: {gte: 3, field: TargetUserName}
)";

TEST(ValueCount, CountsDistinctValues) {
  Rules rules(SPRAY);
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  auto fail = [&](double t, const std::string& user) {
    d.Match("failed", t, {{"IpAddress", "203.0.113.9"}, {"TargetUserName", user}});
  };
  fail(1, "alice");
  fail(2, "alice");
  fail(3, "bob");
  fail(4, "bob");
  d.Match("failed", 5, Ip("203.0.113.9"));  // no user: not a value
  EXPECT_TRUE(d.alerts.empty());
  fail(6, "carol");
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].value, 3);
  EXPECT_EQ(d.alerts[0].match_count, 6u);
}

TEST(ValueCount, ListOfFieldsCountsDistinctTuples) {
  Rules rules(R"(title: Tuples
id: 0b000000-0000-4000-8000-000000000007
name: tuples
correlation:
  type: value_count
  rules: [connection]
  group-by: [SourceIp]
  timespan: 1m
  condition:
    field: [DestinationIp, DestinationPort]
    gte: 3
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  auto conn = [&](double t, const std::string& ip, const std::string& port) {
    d.Match("connection", t,
            {{"SourceIp", "198.51.100.1"}, {"DestinationIp", ip}, {"DestinationPort", port}});
  };
  conn(1, "10.0.0.1", "22");
  conn(2, "10.0.0.1", "22");
  conn(3, "10.0.0.2", "22");  // (ip, port) pairs: 2 distinct
  EXPECT_TRUE(d.alerts.empty());
  conn(4, "10.0.0.1", "80");
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].value, 3);
}

constexpr const char* TEMPORAL = R"(title: Both
id: 0b000000-0000-4000-8000-000000000008
name: both
correlation:
  type: temporal
  rules: [failed, success]
  group-by: [IpAddress]
  timespan: 5m
---
title: In order
id: 0b000000-0000-4000-8000-000000000009
name: ordered
correlation:
  type: temporal_ordered
  rules: [failed, success]
  group-by: [IpAddress]
  timespan: 5m
)";

TEST(Temporal, AllRulesInAnyOrder) {
  Rules rules(TEMPORAL);
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  d.Match("success", 1, Ip("203.0.113.1"));
  d.Match("success", 2, Ip("203.0.113.1"));
  EXPECT_TRUE(d.Of("both").empty());
  d.Match("failed", 3, Ip("203.0.113.1"));
  ASSERT_EQ(d.Of("both").size(), 1u);
  EXPECT_EQ(d.Of("both")[0].value, 2);
  EXPECT_TRUE(d.Of("ordered").empty()) << "success came before the failure";
}

TEST(Temporal, OrderedNeedsTheFirstMatchesInOrder) {
  Rules rules(TEMPORAL);
  Driver d(rules);
  d.Match("failed", 1, Ip("203.0.113.1"));
  d.Match("failed", 2, Ip("203.0.113.1"));
  EXPECT_TRUE(d.alerts.empty());
  d.Match("success", 3, Ip("203.0.113.1"));
  EXPECT_EQ(d.Of("ordered").size(), 1u);
  EXPECT_EQ(d.Of("both").size(), 1u);
  // Out of window: success 400 s after the failure does not count.
  d.Match("failed", 1000, Ip("203.0.113.2"));
  d.Match("success", 1301, Ip("203.0.113.2"));
  EXPECT_EQ(d.Of("ordered").size(), 1u);
}

TEST(Temporal, OrderedSkipsAnEarlierSuccess) {
  // success, failed, success: the failure's first match is followed by a success.
  Rules rules(TEMPORAL);
  Driver d(rules);
  d.Match("success", 1, Ip("203.0.113.1"));
  d.Match("failed", 2, Ip("203.0.113.1"));
  EXPECT_TRUE(d.Of("ordered").empty());
  d.Match("success", 3, Ip("203.0.113.1"));
  ASSERT_EQ(d.Of("ordered").size(), 1u);
  EXPECT_EQ(d.Of("ordered")[0].first_time_ms, 1000);
}

TEST(Temporal, ExtendedConditionWithoutNotFiresOnArrival) {
  Rules rules(R"(title: Either
id: 0b000000-0000-4000-8000-00000000000a
name: either
correlation:
  type: temporal
  rules: [failed, success, connection]
  group-by: [IpAddress]
  timespan: 5m
  condition: failed and (success or connection)
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  d.Match("failed", 1, Ip("203.0.113.1"));
  d.Match("failed", 2, Ip("203.0.113.1"));
  EXPECT_TRUE(d.alerts.empty());
  d.Match("connection", 3, Ip("203.0.113.1"));
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].value, 2);  // rules present
}

TEST(Temporal, ExtendedConditionWithNotIsDecidedAtClose) {
  Rules rules(R"(title: Failures without success
id: 0b000000-0000-4000-8000-00000000000b
name: unanswered
correlation:
  type: temporal
  rules: [failed, success]
  group-by: [IpAddress]
  timespan: 5m
  condition: failed and not success
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  d.Match("failed", 1, Ip("203.0.113.1"));
  d.Match("failed", 2, Ip("203.0.113.2"));
  d.Match("success", 200, Ip("203.0.113.2"));
  EXPECT_TRUE(d.alerts.empty());
  d.Advance(361);  // watermark 301 > window end 301? not yet: 301 is not past 301
  EXPECT_TRUE(d.alerts.empty());
  d.Advance(362);
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].group[0].second, "203.0.113.1");
  d.Finish();
  EXPECT_EQ(d.alerts.size(), 1u);
}

TEST(ValueAggregates, SumAverageMedianPercentile) {
  Rules rules(R"(title: Sum
id: 0b000000-0000-4000-8000-000000000010
name: sum
correlation:
  type: value_sum
  rules: [connection]
  group-by: [SourceIp]
  timespan: 1h
  condition: {gt: 1000, field: Bytes}
---
title: Average
id: 0b000000-0000-4000-8000-000000000011
name: avg
correlation:
  type: value_avg
  rules: [connection]
  group-by: [SourceIp]
  timespan: 1h
  condition: {gte: 300, field: Bytes}
---
title: Median
id: 0b000000-0000-4000-8000-000000000012
name: median
correlation:
  type: value_median
  rules: [connection]
  group-by: [SourceIp]
  timespan: 1h
  condition: {gte: 250, field: Bytes}
---
title: Percentile
id: 0b000000-0000-4000-8000-000000000013
name: p90
correlation:
  type: value_percentile
  rules: [connection]
  group-by: [SourceIp]
  timespan: 1h
  condition: {gte: 500, field: Bytes, percentile: 90}
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  ASSERT_EQ(rules.set.correlations.size(), 4u);
  Driver d(rules);
  auto conn = [&](double t, const std::string& bytes) {
    d.Match("connection", t, {{"SourceIp", "198.51.100.1"}, {"Bytes", bytes}});
  };
  conn(1, "100");
  conn(2, "not a number");  // ignored by the aggregates
  conn(3, "200");
  EXPECT_TRUE(d.alerts.empty());
  conn(4, "300");  // sum 600, avg 200, median 200, p90 280
  EXPECT_TRUE(d.alerts.empty());
  conn(5, "700");  // sum 1300, avg 325, median 250, p90 580
  ASSERT_EQ(d.Of("sum").size(), 1u);
  EXPECT_DOUBLE_EQ(d.Of("sum")[0].value, 1300);
  ASSERT_EQ(d.Of("avg").size(), 1u);
  EXPECT_DOUBLE_EQ(d.Of("avg")[0].value, 325);
  ASSERT_EQ(d.Of("median").size(), 1u);
  EXPECT_DOUBLE_EQ(d.Of("median")[0].value, 250);
  ASSERT_EQ(d.Of("p90").size(), 1u);
  EXPECT_DOUBLE_EQ(d.Of("p90")[0].value, 580);
}

TEST(ValueAggregates, NoNumberNeverHolds) {
  Rules rules(R"(title: Small sum
id: 0b000000-0000-4000-8000-000000000014
name: small
correlation:
  type: value_sum
  rules: [connection]
  timespan: 1h
  condition: {lt: 10, field: Bytes}
)");
  Driver d(rules);
  d.Match("connection", 1, {{"Bytes", "-"}});
  d.Finish();
  EXPECT_TRUE(d.alerts.empty());
}

TEST(Aliases, GroupByAliasReadsAFieldPerRule) {
  Rules rules(R"(title: Failure then success from one address
id: 0b000000-0000-4000-8000-000000000015
name: aliased
correlation:
  type: temporal
  rules: [failed, success]
  group-by: [ip]
  timespan: 5m
  aliases:
    ip:
      failed: IpAddress
      0a000000-0000-4000-8000-000000000002: SourceAddress
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  d.Match("failed", 1, {{"IpAddress", "203.0.113.1"}, {"SourceAddress", "x"}});
  d.Match("success", 2, {{"SourceAddress", "203.0.113.2"}, {"IpAddress", "203.0.113.1"}});
  EXPECT_TRUE(d.alerts.empty());
  d.Match("success", 3, {{"SourceAddress", "203.0.113.1"}});
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].group[0].first, "ip");
  EXPECT_EQ(d.alerts[0].group[0].second, "203.0.113.1");
}

constexpr const char* CHAIN = R"(title: Many failures
id: 0b000000-0000-4000-8000-000000000020
name: many_failed
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 5m
  condition: {gte: 3}
---
title: Brute force then success
id: 0b000000-0000-4000-8000-000000000021
name: brute_success
correlation:
  type: temporal_ordered
  rules: [many_failed, success]
  group-by: [IpAddress]
  timespan: 10m
)";

TEST(Chaining, ACorrelationFiringIsAnEventForTheNext) {
  Rules rules(CHAIN);
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  EXPECT_TRUE(d.engine.Referenced(rules.Rule("failed")));
  EXPECT_TRUE(d.engine.Referenced(rules.Rule("success")));
  EXPECT_FALSE(d.engine.Referenced(rules.Rule("connection")));
  EXPECT_TRUE(d.engine.Suppressed(rules.Rule("failed")));
  EXPECT_FALSE(d.engine.Emitted(rules.Correlation("many_failed")));
  EXPECT_TRUE(d.engine.Emitted(rules.Correlation("brute_success")));
  d.Match("success", 1, Ip("203.0.113.1"));  // before the brute force: does not count
  for (int i = 0; i < 5; ++i) d.Match("failed", 10 + i, Ip("203.0.113.1"));
  EXPECT_TRUE(d.alerts.empty()) << "many_failed is only a step of the chain";
  d.Match("success", 100, Ip("203.0.113.9"));  // another address
  EXPECT_TRUE(d.alerts.empty());
  d.Match("success", 120, Ip("203.0.113.1"));
  ASSERT_EQ(d.alerts.size(), 1u);
  const CorrelationAlert& alert = d.alerts[0];
  EXPECT_EQ(alert.correlation_index, rules.Correlation("brute_success"));
  EXPECT_EQ(alert.group[0].second, "203.0.113.1");
  // The window holds the early success (1 s), the inner firing (at 12 s, its third failure,
  // sequence 4) and the success that completed the order.
  EXPECT_EQ(alert.first_time_ms, 1'000);
  EXPECT_EQ(alert.last_time_ms, 120'000);
  EXPECT_EQ(alert.sequences, (std::vector<uint64_t>{1, 4, 8}));
}

TEST(Generate, TrueKeepsReferencedRulesAndCorrelations) {
  std::string text = CHAIN;
  text += "  generate: true\n";
  Rules rules(text);
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  EXPECT_TRUE(d.engine.Suppressed(rules.Rule("failed"))) << "many_failed has generate: false";
  EXPECT_FALSE(d.engine.Suppressed(rules.Rule("success")));
  EXPECT_TRUE(d.engine.Emitted(rules.Correlation("many_failed")));
  for (int i = 0; i < 3; ++i) d.Match("failed", i, Ip("203.0.113.1"));
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].correlation_index, rules.Correlation("many_failed"));
  d.Match("success", 10, Ip("203.0.113.1"));
  EXPECT_EQ(d.alerts.size(), 2u);
}

TEST(Generate, SuppressedOnlyWhenEveryReferenceSaysFalse) {
  Rules rules(std::string(BRUTE_FORCE) + "---\n" + R"(title: Failure then success
id: 0b000000-0000-4000-8000-000000000030
name: fs
correlation:
  type: temporal
  rules: [failed, success]
  group-by: [IpAddress]
  timespan: 5m
  generate: true
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver d(rules);
  EXPECT_FALSE(d.engine.Suppressed(rules.Rule("failed")));
  EXPECT_FALSE(d.engine.Suppressed(rules.Rule("success")));
  EXPECT_FALSE(d.engine.Suppressed(rules.Rule("connection")));
  EXPECT_FALSE(d.engine.empty());
}

// A stream of matches over several groups and types, for determinism and snapshots.
void FeedStream(Driver& d, int from, int to) {
  static const char* IPS[] = {"203.0.113.1", "203.0.113.2", "198.51.100.3"};
  for (int i = from; i < to; ++i) {
    double t = i * 7.0 + (i % 5 == 0 ? -20 : 0);  // some out of order
    const char* ip = IPS[i % 3];
    std::string user = "user" + std::to_string(i % 7);
    std::string org = i % 4 == 0 ? "org-b" : "org-a";
    d.Match(i % 9 == 0 ? "success" : "failed", t,
            {{"IpAddress", ip}, {"TargetUserName", user}, {"Computer", ip}}, org);
    if (i % 11 == 0) d.Match("connection", t, {{"Computer", ip}}, org);
  }
}

std::string MixedRules() {
  return std::string(BRUTE_FORCE) + "---\n" + SPRAY + "---\n" + TOO_FEW + "---\n" + TEMPORAL;
}

TEST(Determinism, SameInputSameAlertsAndIds) {
  Rules rules(MixedRules());
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  Driver a(rules);
  Driver b(rules);
  FeedStream(a, 0, 400);
  FeedStream(b, 0, 400);
  a.Finish();
  b.Finish();
  ASSERT_GT(a.alerts.size(), 5u);
  ASSERT_EQ(a.alerts.size(), b.alerts.size());
  for (size_t i = 0; i < a.alerts.size(); ++i) {
    EXPECT_EQ(a.alerts[i].id, b.alerts[i].id);
    EXPECT_EQ(a.alerts[i].sequences, b.alerts[i].sequences);
  }
  std::set<std::string> ids;
  for (const auto& alert : a.alerts) ids.insert(alert.id);
  EXPECT_EQ(ids.size(), a.alerts.size()) << "ids are unique";
}

bool SameAlerts(const std::vector<CorrelationAlert>& a, const std::vector<CorrelationAlert>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].correlation_index != b[i].correlation_index ||
        a[i].org_id != b[i].org_id || a[i].group != b[i].group ||
        a[i].first_time_ms != b[i].first_time_ms || a[i].last_time_ms != b[i].last_time_ms ||
        a[i].value != b[i].value || a[i].match_count != b[i].match_count ||
        a[i].sequences != b[i].sequences)
      return false;
  }
  return true;
}

TEST(Snapshot, RestoredEngineContinuesExactlyAsAnUninterruptedOne) {
  Rules rules(MixedRules());
  Driver whole(rules);
  FeedStream(whole, 0, 400);
  whole.Finish();

  for (int cut : {1, 57, 200, 333}) {
    Driver first(rules);
    FeedStream(first, 0, cut);
    std::string snapshot = first.engine.Snapshot();
    size_t before = first.alerts.size();

    Driver second(rules);
    ASSERT_TRUE(second.engine.Restore(snapshot).has_value());
    EXPECT_EQ(second.engine.Snapshot(), snapshot) << "restore is exact";
    EXPECT_EQ(second.engine.stats().groups, first.engine.stats().groups);
    second.sequence = first.sequence;
    second.alerts = first.alerts;
    FeedStream(second, cut, 400);
    second.Finish();
    EXPECT_TRUE(SameAlerts(second.alerts, whole.alerts)) << "cut at " << cut;
    EXPECT_GE(second.alerts.size(), before);
    EXPECT_EQ(second.engine.stats().alerts, whole.engine.stats().alerts);
  }
}

TEST(Snapshot, RestoringAtEveryMatchChangesNothing) {
  // A restored engine rebuilds its window aggregates from the matches; one that runs on keeps
  // them up to date match by match. Both must decide alike, also with out-of-order matches and
  // full groups forgetting their oldest matches.
  Rules rules(std::string(BRUTE_FORCE) + "---\n" + SPRAY + "---\n" + TEMPORAL + "---\n" +
              R"(title: Few users
id: 0b000000-0000-4000-8000-000000000040
name: few_users
correlation:
  type: value_count
  rules: [failed, success]
  group-by: [IpAddress]
  timespan: 2m
  condition: {gte: 2, field: TargetUserName}
)");
  ASSERT_TRUE(rules.set.failures.empty()) << rules.Failures();
  CorrelationOptions options;
  options.max_events_per_group = 6;
  Driver steady(rules, options);
  Driver restarted(rules, options);
  std::mt19937 random(7);
  double t = 0;
  for (int i = 0; i < 3000; ++i) {
    t += static_cast<double>(random() % 40);
    double jitter = random() % 4 == 0 ? -static_cast<double>(random() % 70) : 0;
    Fields fields = {{"IpAddress", "203.0.113." + std::to_string(random() % 4)},
                     {"TargetUserName", "u" + std::to_string(random() % 5)}};
    const char* rule = random() % 3 == 0 ? "success" : "failed";
    steady.Match(rule, t + jitter, fields);
    restarted.Match(rule, t + jitter, fields);
    ASSERT_TRUE(restarted.engine.Restore(restarted.engine.Snapshot()).has_value());
  }
  steady.Finish();
  restarted.Finish();
  EXPECT_GT(steady.alerts.size(), 20u);
  EXPECT_GT(steady.engine.stats().dropped_matches, 0u);
  EXPECT_GT(steady.engine.stats().late_matches, 0u);
  EXPECT_TRUE(SameAlerts(steady.alerts, restarted.alerts));
}

TEST(Snapshot, GarbageIsRefusedAndChangesNothing) {
  Rules rules(MixedRules());
  Driver d(rules);
  FeedStream(d, 0, 100);
  std::string good = d.engine.Snapshot();
  EXPECT_FALSE(d.engine.Restore("").has_value());
  EXPECT_FALSE(d.engine.Restore("not a snapshot at all").has_value());
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x40;
  EXPECT_FALSE(d.engine.Restore(flipped).has_value());
  EXPECT_FALSE(d.engine.Restore(good.substr(0, good.size() - 9)).has_value());
  EXPECT_EQ(d.engine.Snapshot(), good);
}

TEST(Snapshot, OtherRuleSetIsRefused) {
  Rules rules(MixedRules());
  Rules other(BRUTE_FORCE);
  Driver d(rules);
  FeedStream(d, 0, 50);
  Driver e(other);
  e.Match("failed", 1, Ip("203.0.113.1"));
  std::string before = e.engine.Snapshot();
  auto restored = e.engine.Restore(d.engine.Snapshot());
  ASSERT_FALSE(restored.has_value());
  EXPECT_NE(restored.error().message.find("different rule set"), std::string::npos);
  EXPECT_EQ(e.engine.Snapshot(), before);
}

TEST(Engine, EmptyWithoutCorrelations) {
  Rules rules("");
  Driver d(rules);
  EXPECT_TRUE(d.engine.empty());
  EXPECT_FALSE(d.engine.Referenced(0));
  EXPECT_FALSE(d.engine.Suppressed(0));
  EXPECT_FALSE(d.engine.Referenced(1000));
}

}  // namespace
}  // namespace yagura::correlate
