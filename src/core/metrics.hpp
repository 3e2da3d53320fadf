// Metrics: a small registry of counters, gauges and histograms rendered as Prometheus text.
//
// Families are identified by name and carry help text and a type; each distinct label set is
// one child. Get*() looks a child up (creating it on first use) under a mutex and returns a
// reference that stays valid for the life of the registry, so hot paths look a child up once
// and then only touch its atomics. RenderPrometheus() writes the text exposition format 0.0.4
// with families sorted by name and children sorted by labels, which keeps scrapes diffable and
// makes the format testable byte for byte.
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace yagura {

// Label names and values; order does not matter (children are keyed by the sorted set).
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// The Content-Type of RenderPrometheus() output.
inline constexpr std::string_view PROMETHEUS_CONTENT_TYPE =
    "text/plain; version=0.0.4; charset=utf-8";

class Counter {
 public:
  // Counters only go up; a negative amount is ignored.
  void Increment(double amount = 1.0);
  [[nodiscard]] double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Increment(double amount = 1.0) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void Decrement(double amount = 1.0) { value_.fetch_sub(amount, std::memory_order_relaxed); }
  [[nodiscard]] double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds` are the upper bounds of the finite buckets, strictly increasing; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);

  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts; the last one is the +Inf bucket.
  [[nodiscard]] std::vector<uint64_t> BucketCounts() const;
  [[nodiscard]] double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1 entries
  std::atomic<double> sum_{0.0};
};

class Metrics {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Prometheus' default latency buckets, in seconds.
  static const std::vector<double>& DefaultBuckets();

  // The process-wide registry.
  static Metrics& Global();

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Throw std::invalid_argument for an invalid metric or label name, or when `name` is already
  // registered with another type (programming errors). The help text of the first call wins;
  // so do the buckets of the first GetHistogram() of a family.
  Counter& GetCounter(std::string_view name, std::string_view help,
                      const MetricLabels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help,
                          const MetricLabels& labels = {},
                          const std::vector<double>& buckets = DefaultBuckets());

  [[nodiscard]] std::string RenderPrometheus() const;

 private:
  struct Family;
  Family& FindFamily(std::string_view name, std::string_view help, Type type,
                     const std::vector<double>* buckets);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace yagura
