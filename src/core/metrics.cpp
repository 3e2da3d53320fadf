// Metrics registry and the Prometheus text exposition format (version 0.0.4).
//
// Values are atomics updated without the registry lock; the lock only guards the family and
// child maps, which change rarely (first use of a label set). Rendering holds the lock so the
// set of series is stable, while values may move on concurrently — the same guarantee as
// Prometheus' own client libraries. A histogram's _count is the sum of its bucket counts, so
// the +Inf bucket and _count always agree within one scrape.
#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace yagura {
namespace {

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void AppendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
  }
}

void AppendUnsigned(std::string& out, uint64_t value) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

// Writes `{a="1",b="2"}` (nothing for an empty set), with an optional extra `le` label last.
void AppendLabels(std::string& out, const MetricLabels& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out.push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out += name;
    out += "=\"";
    AppendEscaped(out, value, true);
    out.push_back('"');
  }
  if (!le.empty()) {
    if (!first) out.push_back(',');
    out += "le=\"";
    out += le;
    out.push_back('"');
  }
  out.push_back('}');
}

const char* TypeName(Metrics::Type type) {
  switch (type) {
    case Metrics::Type::kCounter:
      return "counter";
    case Metrics::Type::kGauge:
      return "gauge";
    case Metrics::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

void Counter::Increment(double amount) {
  if (!(amount > 0)) return;  // also drops NaN
  value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && !(bounds_[i - 1] < bounds_[i]))) {
      throw std::invalid_argument("histogram buckets must be finite and strictly increasing");
    }
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  // Bucket i counts values <= bounds_[i] ("le"); NaN goes to +Inf only.
  size_t index = std::isnan(value)
                     ? bounds_.size()
                     : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                           bounds_.begin());
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> counts(bounds_.size() + 1);
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = counts_[i].load(std::memory_order_relaxed);
  return counts;
}

struct Metrics::Family {
  struct Child {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };

  std::string name;
  std::string help;
  Type type = Type::kCounter;
  std::vector<double> buckets;
  std::map<MetricLabels, Child> children;  // keyed by labels sorted by name

  Child& FindChild(const MetricLabels& labels) {
    MetricLabels key = labels;
    std::sort(key.begin(), key.end());
    auto it = children.find(key);
    if (it != children.end()) return it->second;
    for (size_t i = 0; i < key.size(); ++i) {
      if (!IsLabelName(key[i].first) || (type == Type::kHistogram && key[i].first == "le") ||
          (i > 0 && key[i - 1].first == key[i].first)) {
        throw std::invalid_argument("invalid label name '" + key[i].first + "' for metric " + name);
      }
    }
    Child child;
    switch (type) {
      case Type::kCounter:
        child.counter = std::make_unique<Counter>();
        break;
      case Type::kGauge:
        child.gauge = std::make_unique<Gauge>();
        break;
      case Type::kHistogram:
        child.histogram = std::make_unique<Histogram>(buckets);
        break;
    }
    return children.emplace(std::move(key), std::move(child)).first->second;
  }
};

const std::vector<double>& Metrics::DefaultBuckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5,   1.0,  2.5,   5.0,  10.0};
  return buckets;
}

Metrics& Metrics::Global() {
  static Metrics* global = new Metrics();  // never destroyed: used from threads until exit
  return *global;
}

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

Metrics::Family& Metrics::FindFamily(std::string_view name, std::string_view help, Type type,
                                     const std::vector<double>* buckets) {
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second->type != type) {
      throw std::invalid_argument("metric " + std::string(name) + " is already registered as a " +
                                  TypeName(it->second->type));
    }
    return *it->second;
  }
  if (!IsMetricName(name)) throw std::invalid_argument("invalid metric name: " + std::string(name));
  auto family = std::make_unique<Family>();
  family->name = std::string(name);
  family->help = std::string(help);
  family->type = type;
  if (buckets != nullptr) {
    Histogram check(*buckets);  // validates the bounds before the family exists
    family->buckets = *buckets;
  }
  return *families_.emplace(std::string(name), std::move(family)).first->second;
}

Counter& Metrics::GetCounter(std::string_view name, std::string_view help,
                             const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  return *FindFamily(name, help, Type::kCounter, nullptr).FindChild(labels).counter;
}

Gauge& Metrics::GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  return *FindFamily(name, help, Type::kGauge, nullptr).FindChild(labels).gauge;
}

Histogram& Metrics::GetHistogram(std::string_view name, std::string_view help,
                                 const MetricLabels& labels, const std::vector<double>& buckets) {
  std::lock_guard lock(mutex_);
  return *FindFamily(name, help, Type::kHistogram, &buckets).FindChild(labels).histogram;
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) {
    if (family->children.empty()) continue;  // only left by a rejected first label set
    out += "# HELP ";
    out += name;
    out.push_back(' ');
    AppendEscaped(out, family->help, false);
    out += "\n# TYPE ";
    out += name;
    out.push_back(' ');
    out += TypeName(family->type);
    out.push_back('\n');
    for (const auto& [labels, child] : family->children) {
      if (family->type != Type::kHistogram) {
        out += name;
        AppendLabels(out, labels);
        out.push_back(' ');
        AppendNumber(out, child.counter ? child.counter->Value() : child.gauge->Value());
        out.push_back('\n');
        continue;
      }
      const Histogram& histogram = *child.histogram;
      std::vector<uint64_t> counts = histogram.BucketCounts();
      uint64_t cumulative = 0;
      for (size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        std::string le;
        if (i < histogram.bounds().size()) {
          AppendNumber(le, histogram.bounds()[i]);
        } else {
          le = "+Inf";
        }
        out += name;
        out += "_bucket";
        AppendLabels(out, labels, le);
        out.push_back(' ');
        AppendUnsigned(out, cumulative);
        out.push_back('\n');
      }
      out += name;
      out += "_sum";
      AppendLabels(out, labels);
      out.push_back(' ');
      AppendNumber(out, histogram.Sum());
      out.push_back('\n');
      out += name;
      out += "_count";
      AppendLabels(out, labels);
      out.push_back(' ');
      AppendUnsigned(out, cumulative);
      out.push_back('\n');
    }
  }
  return out;
}

}  // namespace yagura
