// The real DetectionControl and IntelControl (see console_control.hpp).
//
// Rules: the detector publishes an immutable catalogue per rule set; it is converted to the
// console's view once per generation and shared by every request until the next reload.
//
// Intelligence: feeds and indicators are read from the indicator index live detection
// matches, so the console shows exactly what detection uses, without a second copy of a
// million indicators in memory. With detection off, the store's feeds are read here instead,
// on first use and again whenever the store's list of feeds changes. The indicator list is a
// scan of the index's feed snapshots in order (a cursor is a position in it): substring search
// cannot use the index's hash tables, and reading a million compact entries per request is
// cheap next to the page a person reads. TAXII sources are read from DIR/taxii.json without
// their credentials, and pulled through intel::PullStoredTaxiiSource, which takes the store's
// lock as the service's schedule does.
#include "http/console_control.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>

#include "core/diagnostics.hpp"
#include "core/time.hpp"
#include "intel/indicator_index.hpp"
#include "intel/live_indicators.hpp"
#include "intel/store.hpp"
#include "intel/taxii_client.hpp"
#include "pipeline/detector.hpp"

namespace yagura::http {
namespace {

namespace fs = std::filesystem;

// ---- rules ------------------------------------------------------------------------------------

std::vector<RuleFailureView> FailureViews(const std::vector<pipeline::RuleLoadProblem>& problems) {
  std::vector<RuleFailureView> views;
  views.reserve(problems.size());
  for (const auto& problem : problems) views.push_back({problem.path, problem.line, problem.message});
  return views;
}

class DetectorControl final : public DetectionControl {
 public:
  explicit DetectorControl(pipeline::Detector& detector) : detector_(detector) {}

  DetectionHealth Health() const override {
    const pipeline::DetectorStats& stats = detector_.stats();
    return {stats.next_seq.load(), stats.progress_at_ms.load(), stats.sink_failures.load()};
  }

  std::shared_ptr<const RuleCatalogView> Rules() const override {
    std::shared_ptr<const pipeline::RuleCatalog> catalog = detector_.Catalog();
    std::optional<pipeline::ReloadFailure> failure = detector_.LastReloadFailure();
    int64_t failed_at = failure ? failure->at_ms : 0;
    std::lock_guard lock(mutex_);
    if (view_ && source_ == catalog && failed_at_ == failed_at) return view_;
    auto view = std::make_shared<RuleCatalogView>();
    if (catalog) {
      view->generation = catalog->generation;
      view->loaded_at_ms = catalog->loaded_at_ms;
      view->rules.reserve(catalog->rules.size());
      for (const auto& rule : catalog->rules) {
        RuleView item;
        item.id = rule.id;
        item.title = rule.title;
        item.level = rule.level;
        item.status = rule.status;
        item.kind = rule.correlation ? "correlation" : "detection";
        item.product = rule.logsource.product;
        item.category = rule.logsource.category;
        item.service = rule.logsource.service;
        item.tags = rule.tags;
        item.techniques = rule.techniques;
        item.path = rule.path;
        view->rules.push_back(std::move(item));
      }
      view->failures = FailureViews(catalog->failures);
      view->left_out = catalog->left_out;
      view->relevelled = catalog->relevelled;
    }
    if (failure) {
      view->last_reload_failed_at_ms = failure->at_ms;
      view->last_reload_error = failure->message;
    }
    source_ = std::move(catalog);
    failed_at_ = failed_at;
    view_ = std::move(view);
    return view_;
  }

  Result<ReloadOutcome> Reload(JobHandle& job) override {
    job.SetTotal(0, "files");
    pipeline::ReloadProgress progress;
    progress.on_rule_file = [&job](size_t done, size_t total) {
      job.SetTotal(static_cast<int64_t>(total), "files");
      job.SetDone(static_cast<int64_t>(done));
      if (done == total) job.SetMessage("compiling the rules");
      else if (done == 1) job.SetMessage("loading rule files");
    };
    progress.on_step = [&job](std::string_view step) { job.SetMessage(std::string(step)); };
    auto catalog = detector_.Reload(progress);
    if (!catalog) return tl::unexpected(catalog.error());
    ReloadOutcome outcome;
    outcome.generation = (*catalog)->generation;
    outcome.rule_count = (*catalog)->rules.size();
    outcome.failures = FailureViews((*catalog)->failures);
    return outcome;
  }

 private:
  pipeline::Detector& detector_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const pipeline::RuleCatalog> source_;
  mutable int64_t failed_at_ = 0;
  mutable std::shared_ptr<const RuleCatalogView> view_;
};

// ---- intelligence -----------------------------------------------------------------------------

std::string TlpName(intel::Tlp tlp) {
  switch (tlp) {
    case intel::Tlp::kUnset: return "";
    case intel::Tlp::kClear: return "clear";
    case intel::Tlp::kGreen: return "green";
    case intel::Tlp::kAmber: return "amber";
    case intel::Tlp::kAmberStrict: return "amber+strict";
    case intel::Tlp::kRed: return "red";
  }
  return "";
}

char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Whether `needle` (already lower-case) occurs in `text`, ignoring ASCII case.
bool ContainsFolded(std::string_view text, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > text.size()) return false;
  for (size_t start = 0; start + needle.size() <= text.size(); ++start) {
    size_t i = 0;
    while (i < needle.size() && LowerAscii(text[start + i]) == needle[i]) ++i;
    if (i == needle.size()) return true;
  }
  return false;
}

// The index stores one address as a range of one ("192.0.2.1/32"); people wrote the address.
std::string DisplayValue(intel::ObservableType type, std::string_view value) {
  if (type == intel::ObservableType::kIpv4 && value.ends_with("/32")) value.remove_suffix(3);
  if (type == intel::ObservableType::kIpv6 && value.ends_with("/128")) value.remove_suffix(4);
  return std::string(value);
}

// Cursor "<snapshot>.<indicator>": the position of the next page's first indicator.
std::optional<std::pair<uint32_t, uint32_t>> DecodePosition(std::string_view cursor) {
  size_t dot = cursor.find('.');
  if (dot == std::string_view::npos || cursor.size() > 24) return std::nullopt;
  uint32_t snapshot = 0;
  uint32_t indicator = 0;
  auto first = std::from_chars(cursor.data(), cursor.data() + dot, snapshot);
  auto second = std::from_chars(cursor.data() + dot + 1, cursor.data() + cursor.size(), indicator);
  if (first.ec != std::errc() || first.ptr != cursor.data() + dot || second.ec != std::errc() ||
      second.ptr != cursor.data() + cursor.size() || dot == 0 || dot + 1 == cursor.size()) {
    return std::nullopt;
  }
  return std::make_pair(snapshot, indicator);
}

// A fingerprint of the store's list of feeds (size and modification time of feeds.json).
std::string ManifestFingerprint(const std::string& store_dir) {
  struct stat st {};
  std::string path = (fs::path(store_dir) / "feeds.json").string();
  if (::stat(path.c_str(), &st) != 0) return {};
  return fmt::format("{}.{}.{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

class StoreIntelControl final : public IntelControl {
 public:
  StoreIntelControl(std::string store_dir,
                    std::function<std::shared_ptr<const intel::IndicatorIndex>()> indicators)
      : store_dir_(std::move(store_dir)), detection_indicators_(std::move(indicators)) {}

  Result<FeedList> Feeds() override {
    FeedList list;
    std::vector<intel::StoredFeed> stored;
    if (intel::IntelStore::IsStore(store_dir_)) {
      auto store = intel::IntelStore::Open(store_dir_);
      if (!store) return tl::unexpected(store.error());
      stored = store->feeds();
    }
    auto index = Index();
    // Each snapshot is one feed read (by its configured name for store feeds).
    std::vector<std::pair<std::string, const intel::FeedSnapshot*>> loaded;
    if (index) {
      for (const auto& snapshot : index->snapshots()) {
        std::string name = snapshot->size() > 0 ? std::string(snapshot->View(0).feed)
                                                : snapshot->source();
        loaded.emplace_back(std::move(name), snapshot.get());
      }
    }
    for (const auto& feed : stored) {
      FeedView view;
      view.name = feed.name;
      view.format = feed.format;
      view.source = feed.imported_from;
      view.origin = "store";
      view.indicators = feed.stats.indicators;
      view.objects = feed.stats.objects;
      view.skipped = feed.stats.skipped;
      view.complete = feed.stats.complete;
      view.updated_at_ms = ParseIsoDateTimeMs(feed.imported_at).value_or(0);
      view.loaded = std::any_of(loaded.begin(), loaded.end(),
                                [&](const auto& entry) { return entry.first == feed.name; });
      list.feeds.push_back(std::move(view));
    }
    // Feeds detection reads from configured paths rather than from the store.
    for (const auto& [name, snapshot] : loaded) {
      bool in_store = std::any_of(stored.begin(), stored.end(),
                                  [&](const auto& feed) { return feed.name == name; });
      if (in_store) continue;
      FeedView view;
      view.name = name;
      view.format = "auto";
      view.source = snapshot->source();
      view.origin = "file";
      view.indicators = snapshot->stats().indicators;
      view.objects = snapshot->stats().objects;
      view.skipped = snapshot->stats().skipped;
      view.complete = snapshot->stats().complete;
      struct stat st {};
      if (::stat(snapshot->source().c_str(), &st) == 0) {
        view.updated_at_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 +
                             st.st_mtim.tv_nsec / 1'000'000;
      }
      view.loaded = true;
      list.feeds.push_back(std::move(view));
    }
    for (const auto& feed : list.feeds) list.total_indicators += feed.indicators;
    if (index) list.active_indicators = index->stats().active;
    return list;
  }

  Result<IndicatorPage> Indicators(const IndicatorQuery& query) override {
    uint32_t snapshot_at = 0;
    uint32_t indicator_at = 0;
    if (!query.cursor.empty()) {
      auto position = DecodePosition(query.cursor);
      if (!position) return Fail("cursor is not one this server issued");
      std::tie(snapshot_at, indicator_at) = *position;
    }
    std::string needle;
    for (char c : query.q) needle.push_back(LowerAscii(c));
    IndicatorPage page;
    auto index = Index();
    if (!index) return page;
    const auto& snapshots = index->snapshots();
    size_t limit = static_cast<size_t>(std::max(query.limit, 1));
    for (uint32_t s = snapshot_at; s < snapshots.size(); ++s) {
      const intel::FeedSnapshot& snapshot = *snapshots[s];
      for (uint32_t i = (s == snapshot_at ? indicator_at : 0); i < snapshot.size(); ++i) {
        const auto& compact = snapshot.indicator(i);
        if (compact.atom_count == 0) continue;
        const auto& first = snapshot.atom(compact.first_atom);
        if (!query.type.empty()) {
          bool typed = false;
          for (uint32_t a = 0; a < compact.atom_count && !typed; ++a) {
            typed = intel::ToString(snapshot.atom(compact.first_atom + a).type) == query.type;
          }
          if (!typed) continue;
        }
        std::optional<intel::IndicatorView> view;
        if (!query.feed.empty()) {
          view = snapshot.View(i);
          if (view->feed != query.feed) continue;
        }
        if (!needle.empty()) {
          bool found = false;
          for (uint32_t a = 0; a < compact.atom_count && !found; ++a) {
            found = ContainsFolded(snapshot.Text(snapshot.atom(compact.first_atom + a).value),
                                   needle);
          }
          if (!found) {
            if (!view) view = snapshot.View(i);
            found = ContainsFolded(view->name, needle) || ContainsFolded(view->id, needle) ||
                    ContainsFolded(view->pattern, needle);
          }
          if (!found) continue;
        }
        if (page.items.size() == limit) {
          page.next_cursor = fmt::format("{}.{}", s, i);
          return page;
        }
        if (!view) view = snapshot.View(i);
        IndicatorItem item;
        item.id = view->id;
        item.feed = std::string(view->feed);
        item.name = std::string(view->name);
        item.pattern = view->pattern;
        if (compact.atom_count == 1) {
          item.value = DisplayValue(first.type, snapshot.Text(first.value));
          item.type = std::string(intel::ToString(first.type));
        } else {
          item.value = view->pattern;
          item.type = "pattern";
        }
        item.tlp = TlpName(view->tlp);
        item.confidence = view->confidence;
        if (view->labels != nullptr) item.labels = *view->labels;
        if (view->valid_from != intel::NO_TIME_BEFORE) item.valid_from_ms = view->valid_from;
        if (view->valid_until != intel::NO_TIME_AFTER) item.valid_until_ms = view->valid_until;
        item.revoked = view->revoked;
        page.items.push_back(std::move(item));
      }
    }
    return page;
  }

  Result<std::vector<TaxiiSourceView>> TaxiiSources() override {
    std::vector<TaxiiSourceView> views;
    if (!fs::is_directory(store_dir_)) return views;
    auto sources = intel::TaxiiSources::Load(store_dir_);
    if (!sources) return tl::unexpected(sources.error());
    for (const auto& source : sources->sources()) {
      TaxiiSourceView view;
      view.name = source.name;
      view.url = source.collection_url;
      std::string_view path = source.collection_url;
      while (!path.empty() && path.back() == '/') path.remove_suffix(1);
      view.collection = std::string(path.substr(path.rfind('/') + 1));
      view.auth = !source.token.empty() || !source.token_env.empty() ? "token"
                  : !source.username.empty()                         ? "basic"
                                                                     : "none";
      view.bookmark = source.bookmark;
      view.last_pull_at = source.last_pull;
      view.last_error = source.last_error;
      view.objects_pulled = source.objects_pulled;
      views.push_back(std::move(view));
    }
    return views;
  }

  Result<PullResult> Pull(const std::string& name, JobHandle& job) override {
    job.SetTotal(0, "objects");
    job.SetMessage("waiting for the indicator store");
    intel::TaxiiPullOptions options;
    options.on_page = [&job](uint64_t pages, uint64_t objects) {
      job.SetDone(static_cast<int64_t>(objects));
      job.SetMessage(fmt::format("page {}", pages));
    };
    options.cancelled = [&job] { return job.stopping(); };
    Diagnostics diagnostics;
    auto pulled = intel::PullStoredTaxiiSource(store_dir_, name, diagnostics, options);
    if (!pulled) return tl::unexpected(pulled.error());
    PullResult result;
    result.pages = pulled->pages;
    result.objects = pulled->objects;
    result.indicators = pulled->import.stats.indicators;
    job.SetTotal(static_cast<int64_t>(pulled->objects), "objects");
    job.SetDone(static_cast<int64_t>(pulled->objects));
    job.SetMessage(pulled->objects == 0 ? "nothing new" : "stored");
    return result;
  }

 private:
  // The index detection matches; with detection off, the store's feeds read here.
  std::shared_ptr<const intel::IndicatorIndex> Index() {
    if (detection_indicators_) {
      if (auto index = detection_indicators_()) return index;
    }
    std::lock_guard lock(own_mutex_);
    if (!intel::IntelStore::IsStore(store_dir_)) return nullptr;
    std::string fingerprint = ManifestFingerprint(store_dir_);
    if (!own_ || fingerprint != own_fingerprint_) {
      auto store = intel::IntelStore::Open(store_dir_);
      if (!store) return own_ ? own_->Current() : nullptr;
      if (!own_) own_ = std::make_unique<intel::LiveIndicators>();
      Diagnostics diagnostics;
      (void)own_->Reload(store->Sources(), diagnostics);
      own_fingerprint_ = fingerprint;
    }
    return own_->Current();
  }

  std::string store_dir_;
  std::function<std::shared_ptr<const intel::IndicatorIndex>()> detection_indicators_;
  std::mutex own_mutex_;
  std::unique_ptr<intel::LiveIndicators> own_;
  std::string own_fingerprint_;
};

}  // namespace

std::unique_ptr<DetectionControl> MakeDetectionControl(pipeline::Detector& detector) {
  return std::make_unique<DetectorControl>(detector);
}

std::unique_ptr<IntelControl> MakeIntelControl(
    std::string store_dir,
    std::function<std::shared_ptr<const intel::IndicatorIndex>()> indicators) {
  return std::make_unique<StoreIntelControl>(std::move(store_dir), std::move(indicators));
}

}  // namespace yagura::http
