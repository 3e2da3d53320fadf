#include "core/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

namespace yagura {
namespace {

TEST(Metrics, RendersCountersWithSortedLabelsAndHelp) {
  Metrics metrics;
  metrics
      .GetCounter("yagura_http_requests_total", "HTTP requests answered.",
                  {{"status", "200"}, {"method", "GET"}})
      .Increment();
  metrics
      .GetCounter("yagura_http_requests_total", "ignored: the first help wins",
                  {{"method", "GET"}, {"status", "200"}})
      .Increment(2);
  metrics.GetCounter("yagura_http_requests_total", "", {{"method", "POST"}, {"status", "201"}})
      .Increment();
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP yagura_http_requests_total HTTP requests answered.\n"
            "# TYPE yagura_http_requests_total counter\n"
            "yagura_http_requests_total{method=\"GET\",status=\"200\"} 3\n"
            "yagura_http_requests_total{method=\"POST\",status=\"201\"} 1\n");
}

TEST(Metrics, ReferencesAreStableAndShared) {
  Metrics metrics;
  Counter& a = metrics.GetCounter("c_total", "h", {{"k", "v"}});
  for (int i = 0; i < 100; ++i) metrics.GetCounter("c_total", "h", {{"k", std::to_string(i)}});
  Counter& b = metrics.GetCounter("c_total", "h", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  a.Increment();
  EXPECT_EQ(b.Value(), 1.0);
}

TEST(Metrics, CountersIgnoreNegativeIncrements) {
  Metrics metrics;
  Counter& counter = metrics.GetCounter("c_total", "h");
  counter.Increment(2.5);
  counter.Increment(-1);
  counter.Increment(std::nan(""));
  EXPECT_EQ(counter.Value(), 2.5);
}

TEST(Metrics, RendersGaugesAndEscapes) {
  Metrics metrics;
  Gauge& gauge = metrics.GetGauge("yagura_connections", "Open\\connections\nnow.");
  gauge.Increment(3);
  gauge.Decrement();
  metrics.GetGauge("yagura_info", "Build info.", {{"version", "a\"b\\c\nd"}}).Set(1);
  metrics.GetGauge("yagura_temperature", "T.").Set(-0.5);
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP yagura_connections Open\\\\connections\\nnow.\n"
            "# TYPE yagura_connections gauge\n"
            "yagura_connections 2\n"
            "# HELP yagura_info Build info.\n"
            "# TYPE yagura_info gauge\n"
            "yagura_info{version=\"a\\\"b\\\\c\\nd\"} 1\n"
            "# HELP yagura_temperature T.\n"
            "# TYPE yagura_temperature gauge\n"
            "yagura_temperature -0.5\n");
}

TEST(Metrics, RendersHistogramBucketsCumulatively) {
  Metrics metrics;
  Histogram& histogram = metrics.GetHistogram("yagura_http_request_seconds", "Latency.",
                                              {{"route", "/a"}}, {0.25, 0.5, 2});
  histogram.Observe(0.125);
  histogram.Observe(0.25);  // "le" is inclusive
  histogram.Observe(0.375);
  histogram.Observe(7);
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP yagura_http_request_seconds Latency.\n"
            "# TYPE yagura_http_request_seconds histogram\n"
            "yagura_http_request_seconds_bucket{route=\"/a\",le=\"0.25\"} 2\n"
            "yagura_http_request_seconds_bucket{route=\"/a\",le=\"0.5\"} 3\n"
            "yagura_http_request_seconds_bucket{route=\"/a\",le=\"2\"} 3\n"
            "yagura_http_request_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
            "yagura_http_request_seconds_sum{route=\"/a\"} 7.75\n"
            "yagura_http_request_seconds_count{route=\"/a\"} 4\n");
}

TEST(Metrics, HistogramWithoutLabelsAndDefaultBuckets) {
  Metrics metrics;
  metrics.GetHistogram("h_seconds", "H.").Observe(0.2);
  std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("h_seconds_bucket{le=\"0.005\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"0.25\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"10\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_sum 0.2\nh_seconds_count 1\n"), std::string::npos) << text;
}

TEST(Metrics, FamiliesAreSortedByName) {
  Metrics metrics;
  metrics.GetCounter("zz_total", "z");
  metrics.GetGauge("aa", "a");
  std::string text = metrics.RenderPrometheus();
  EXPECT_LT(text.find("# HELP aa"), text.find("# HELP zz_total"));
  EXPECT_NE(text.find("zz_total 0\n"), std::string::npos);
}

TEST(Metrics, RejectsInvalidNamesAndTypeConflicts) {
  Metrics metrics;
  EXPECT_THROW(metrics.GetCounter("bad-name", "h"), std::invalid_argument);
  EXPECT_THROW(metrics.GetCounter("9lives", "h"), std::invalid_argument);
  EXPECT_THROW(metrics.GetCounter("ok_total", "h", {{"bad-label", "x"}}), std::invalid_argument);
  EXPECT_THROW(metrics.GetCounter("ok_total", "h", {{"__reserved", "x"}}), std::invalid_argument);
  EXPECT_THROW(metrics.GetCounter("ok_total", "h", {{"a", "x"}, {"a", "y"}}),
               std::invalid_argument);
  EXPECT_THROW(metrics.GetHistogram("hist", "h", {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(metrics.GetHistogram("hist2", "h", {}, {1, 1}), std::invalid_argument);
  metrics.GetCounter("taken", "h");
  EXPECT_THROW(metrics.GetGauge("taken", "h"), std::invalid_argument);
  // Families whose only label set was rejected do not appear.
  EXPECT_EQ(metrics.RenderPrometheus(), "# HELP taken h\n# TYPE taken counter\ntaken 0\n");
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 10000; ++i) {
        metrics.GetCounter("n_total", "h", {{"k", "v"}}).Increment();
        metrics.GetHistogram("d_seconds", "h", {}, {1}).Observe(0.5);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(metrics.GetCounter("n_total", "h", {{"k", "v"}}).Value(), 40000);
  std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("d_seconds_count 40000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("d_seconds_sum 20000\n"), std::string::npos) << text;
}

TEST(Metrics, GlobalIsOneInstance) { EXPECT_EQ(&Metrics::Global(), &Metrics::Global()); }

}  // namespace
}  // namespace yagura
