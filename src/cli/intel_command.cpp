// `yagura intel import|list|stats`: the indicator store from the command line.
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "core/json_writer.hpp"
#include "intel/feed_snapshot.hpp"
#include "intel/indicator_index.hpp"
#include "intel/store.hpp"

namespace yagura::cli {
namespace {

std::string TimeText(int64_t ms) {
  if (ms == intel::NO_TIME_AFTER || ms == intel::NO_TIME_BEFORE) return "";
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

Diagnostics PrintingDiagnostics() {
  return Diagnostics([](const Diagnostic& d) {
    const char* kind = d.kind == DiagnosticKind::kWarning ? "warning: " : "";
    std::fprintf(stderr, "%s: %s%s\n", d.where.c_str(), kind, d.message.c_str());
  });
}

// The type of an indicator for listings: of its first atom, or "mixed".
std::string_view TypeOf(const intel::FeedSnapshot& snapshot, uint32_t index) {
  const auto& indicator = snapshot.indicator(index);
  if (indicator.atom_count == 0) return "none";
  auto type = snapshot.atom(indicator.first_atom).type;
  for (uint32_t a = 1; a < indicator.atom_count; ++a) {
    const auto& atom = snapshot.atom(indicator.first_atom + a);
    if (atom.type != type && atom.type != intel::ObservableType::kPort) return "mixed";
  }
  if (type == intel::ObservableType::kHash)
    return intel::ToString(snapshot.atom(indicator.first_atom).algorithm);
  return intel::ToString(type);
}

}  // namespace

IntelCommand::IntelCommand(CLI::App& app) {
  command_ = app.add_subcommand("intel", "Threat-intelligence indicators: import feeds, list, count");
  command_->require_subcommand(1);
  command_->add_option("--store", store_dir_,
                       "Indicator store directory (default: $YAGURA_INTEL_STORE or "
                       "~/.local/share/yagura/intel)");

  import_ = command_->add_subcommand(
      "import", "Validate feeds (STIX 2.1 bundles, MISP feeds or events, text or CSV lists) and "
                "add them to the store; a feed that fails keeps its stored version");
  import_->add_option("paths", paths_, "Feed files or directories")->required();
  import_->add_option("--name", name_, "Feed name (default: the file or directory name)");
  import_->add_option("--format", format_, "auto, stix, misp or list")
      ->check(CLI::IsMember({"auto", "stix", "misp", "list"}));
  import_->add_flag("--json", json_, "Print the outcome of each feed as JSON");

  list_ = command_->add_subcommand("list", "List the stored indicators");
  list_->add_option("--type", type_,
                    "Only this type: ipv4, ipv6, domain, url, MD5, SHA-256, email, ...");
  list_->add_option("--feed", feed_, "Only this feed");
  list_->add_option("--limit", limit_, "At most this many");
  list_->add_flag("--all", include_inactive_,
                  "Include revoked, expired, superseded and not yet valid indicators");
  list_->add_flag("--json", json_, "One JSON object per line");

  stats_ = command_->add_subcommand("stats",
                                    "Count the stored indicators by type, feed, TLP and expiry");
  stats_->add_flag("--json", json_, "Print the counts as JSON");
  AddTaxiiCommands();
}

int IntelCommand::Run() {
  if (store_dir_.empty()) store_dir_ = intel::IntelStore::DefaultDir();
  if (import_->parsed()) return Import();
  if (list_->parsed()) return List();
  if (stats_->parsed()) return Stats();
  if (taxii_->parsed()) return Taxii();
  return EXIT_USAGE;
}

int IntelCommand::Import() {
  if (paths_.size() > 1 && !name_.empty()) {
    std::cerr << "yagura intel import: --name needs exactly one feed\n";
    return EXIT_USAGE;
  }
  for (const auto& path : paths_) {
    if (!std::filesystem::exists(path)) {
      std::cerr << "yagura intel import: " << path << ": no such file or directory\n";
      return EXIT_USAGE;
    }
  }
  auto lock = intel::StoreLock::Acquire(store_dir_);
  if (!lock) {
    std::cerr << "yagura intel import: " << lock.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  auto store = intel::IntelStore::Open(store_dir_);
  if (!store) {
    std::cerr << "yagura intel import: " << store.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  Diagnostics diagnostics = PrintingDiagnostics();
  int status = EXIT_OK;
  std::string json;
  JsonWriter w(json);
  if (json_) w.BeginArray();
  for (const auto& path : paths_) {
    intel::ImportOutcome outcome = store->Import(path, name_, intel::ParseFeedFormat(format_), diagnostics);
    const auto& st = outcome.stats;
    if (!outcome.stored || !st.complete || st.skipped) status = EXIT_PARTIAL;
    if (json_) {
      w.BeginObject().Key("path").String(path).Key("feed").String(outcome.name);
      w.Key("stored").Bool(outcome.stored).Key("kept_previous").Bool(outcome.kept_previous);
      w.Key("complete").Bool(st.complete).Key("objects").Uint(st.objects);
      w.Key("indicators").Uint(st.indicators).Key("skipped").Uint(st.skipped);
      w.Key("ignored").Uint(st.ignored);
      w.Key("error");
      if (outcome.error.empty())
        w.Null();
      else
        w.String(outcome.error);
      w.EndObject();
      continue;
    }
    if (!outcome.error.empty()) {
      std::cerr << fmt::format("{}: not imported: {}{}\n", path, outcome.error,
                               outcome.kept_previous ? " (the stored version stays)" : "");
      continue;
    }
    if (outcome.kept_previous) {
      std::cerr << fmt::format(
          "{}: not imported: the feed ended early after {} indicators; the stored version of "
          "'{}' stays\n",
          path, st.indicators, outcome.name);
      continue;
    }
    std::cout << fmt::format(
        "{}: feed '{}': {} indicators imported, {} skipped, {} other objects ignored{}\n", path,
        outcome.name, st.indicators, st.skipped, st.ignored,
        st.complete ? "" : " (the feed ended early: everything before the break was imported)");
  }
  if (json_) {
    w.EndArray();
    std::cout << json << "\n";
  }
  return status;
}

int IntelCommand::List() {
  if (!intel::IntelStore::IsStore(store_dir_)) {
    std::cerr << "yagura intel list: no indicator store at " << store_dir_
              << " (import a feed first)\n";
    return EXIT_PARTIAL;
  }
  auto store = intel::IntelStore::Open(store_dir_);
  if (!store) {
    std::cerr << "yagura intel list: " << store.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  Diagnostics diagnostics;  // the feeds were validated on import
  std::vector<std::shared_ptr<const intel::FeedSnapshot>> snapshots;
  for (const auto& source : store->Sources()) {
    if (!feed_.empty() && source.name != feed_) continue;
    auto snapshot = intel::FeedSnapshot::Load(source.path, source.format, source.name, diagnostics);
    if (snapshot) snapshots.push_back(*snapshot);
  }
  auto statuses = intel::ClassifyIndicators(snapshots, intel::CurrentTimeMs());
  size_t shown = 0;
  std::string line;
  for (size_t s = 0; s < snapshots.size(); ++s) {
    const auto& snapshot = *snapshots[s];
    for (uint32_t i = 0; i < snapshot.size(); ++i) {
      if (limit_ && shown >= limit_) return EXIT_OK;
      auto status = statuses[s][i];
      if (!include_inactive_ && status != intel::IndicatorStatus::kActive) continue;
      std::string_view type = TypeOf(snapshot, i);
      if (!type_.empty() && type != type_) continue;
      intel::IndicatorView view = snapshot.View(i);
      line.clear();
      if (json_) {
        JsonWriter w(line);
        w.BeginObject().Key("id").String(view.id).Key("type").String(type);
        w.Key("pattern").String(view.pattern).Key("feed").String(view.feed);
        w.Key("name").String(view.name).Key("status").String(intel::ToString(status));
        w.Key("tlp").String(intel::ToString(view.tlp));
        w.Key("confidence");
        if (view.confidence < 0)
          w.Null();
        else
          w.Int(view.confidence);
        w.Key("valid_from").String(TimeText(view.valid_from));
        w.Key("valid_until").String(TimeText(view.valid_until));
        w.Key("labels").BeginArray();
        for (const auto& label : *view.labels) w.String(label);
        w.EndArray().EndObject();
      } else {
        line = fmt::format("{}\t{}\t{}\t{}\t{}\t{}\t{}", view.id, type, view.pattern, view.feed,
                           intel::ToString(view.tlp), intel::ToString(status),
                           TimeText(view.valid_until));
      }
      std::cout << line << "\n";
      ++shown;
    }
  }
  return EXIT_OK;
}

int IntelCommand::Stats() {
  if (!intel::IntelStore::IsStore(store_dir_)) {
    std::cerr << "yagura intel stats: no indicator store at " << store_dir_
              << " (import a feed first)\n";
    return EXIT_PARTIAL;
  }
  auto store = intel::IntelStore::Open(store_dir_);
  if (!store) {
    std::cerr << "yagura intel stats: " << store.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  Diagnostics diagnostics;
  std::vector<std::shared_ptr<const intel::FeedSnapshot>> snapshots;
  for (const auto& source : store->Sources()) {
    auto snapshot = intel::FeedSnapshot::Load(source.path, source.format, source.name, diagnostics);
    if (snapshot) snapshots.push_back(*snapshot);
  }
  const int64_t now = intel::CurrentTimeMs();
  auto statuses = intel::ClassifyIndicators(snapshots, now);
  std::map<std::string, uint64_t> by_type, by_feed, by_tlp, by_status, by_expiry;
  uint64_t total = 0;
  size_t memory = 0;
  constexpr int64_t DAY = 86'400'000;
  for (size_t s = 0; s < snapshots.size(); ++s) {
    const auto& snapshot = *snapshots[s];
    memory += snapshot.MemoryBytes();
    for (uint32_t i = 0; i < snapshot.size(); ++i) {
      ++total;
      const auto& indicator = snapshot.indicator(i);
      auto status = statuses[s][i];
      ++by_status[std::string(intel::ToString(status))];
      if (status != intel::IndicatorStatus::kActive) continue;
      ++by_type[std::string(TypeOf(snapshot, i))];
      ++by_feed[std::string(snapshot.View(i).feed)];
      std::string_view tlp = intel::ToString(indicator.tlp);
      ++by_tlp[tlp.empty() ? "none" : std::string(tlp)];
      const int64_t valid_until = snapshot.times(i).valid_until;
      int64_t left = valid_until - now;
      const char* bucket = valid_until == intel::NO_TIME_AFTER ? "never"
                           : left <= DAY                                  ? "within 1 day"
                           : left <= 7 * DAY                              ? "within 7 days"
                           : left <= 30 * DAY                             ? "within 30 days"
                                                                          : "later";
      ++by_expiry[bucket];
    }
  }
  auto active = by_status["active"];
  if (json_) {
    std::string out;
    JsonWriter w(out);
    w.BeginObject().Key("indicators").Uint(total).Key("active").Uint(active);
    w.Key("feeds").Uint(snapshots.size()).Key("memory_bytes").Uint(memory);
    auto write_map = [&](const char* key, const std::map<std::string, uint64_t>& counts) {
      w.Key(key).BeginObject();
      for (const auto& [name, count] : counts) w.Key(name).Uint(count);
      w.EndObject();
    };
    write_map("by_status", by_status);
    write_map("by_type", by_type);
    write_map("by_feed", by_feed);
    write_map("by_tlp", by_tlp);
    write_map("by_expiry", by_expiry);
    w.EndObject();
    std::cout << out << "\n";
    return EXIT_OK;
  }
  std::cout << fmt::format("{} indicators in {} feeds, {} active ({:.1f} MB in memory)\n", total,
                           snapshots.size(), active, memory / 1e6);
  auto print = [](const char* heading, const std::map<std::string, uint64_t>& counts) {
    std::cout << "\n" << heading << "\n";
    for (const auto& [name, count] : counts) std::cout << fmt::format("  {:>10}  {}\n", count, name);
  };
  print("By status", by_status);
  print("Active by type", by_type);
  print("Active by feed", by_feed);
  print("Active by TLP", by_tlp);
  print("Active by expiry", by_expiry);
  return EXIT_OK;
}

}  // namespace yagura::cli
