// `yagura events`: the event store's raw events on the command line, read beside the running
// service or without it (docs/investigations.md, "Raw events from the event store").
//
// The store is opened read-only: nothing is cut, removed or rewritten, and a block the service
// is still writing is left out. The events come in event-time order, page after page, as
// JSON lines shaped as GET /api/v1/events lists them, as Timesketch JSONL (what a case's
// timeline imports), or as the payloads alone. Whoever can read the service's data folder can
// read every organisation's events: the API's access policy does not apply to the files.
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "pipeline/event_store.hpp"

namespace yagura::cli {

EventsCommand::EventsCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "events", "Read the service's stored raw events by host, window and text (read-only)");
  command_->add_option("--data", data_dir_, "The service's data folder (its events/ is read)")
      ->capture_default_str();
  command_->add_option("--dir", store_dir_, "The event store's folder, when not DATA/events");
  command_->add_option("--host", host_, "Only this host (any case)");
  command_->add_option("--from", from_, "Event time at or after (RFC 3339, e.g. 2026-11-20T09:00:00Z)");
  command_->add_option("--to", to_, "Event time before (RFC 3339)");
  command_->add_option("--text", text_, "Only events holding this text (any case)");
  command_->add_option("--org", orgs_, "Only this organisation's events (an id; repeatable)");
  command_->add_option("--limit", limit_, "At most this many events (0: all)")->check(CLI::NonNegativeNumber);
  command_->add_option("--format", format_, "jsonl (as the API lists them), timesketch, or payload")
      ->check(CLI::IsMember({"jsonl", "timesketch", "payload"}))
      ->capture_default_str();
  command_->add_option("--output,-o", output_, "Write to this file instead of stdout");
}

int EventsCommand::Run() {
  pipeline::EventQuery query;
  auto time = [&](const std::string& text, const char* flag) -> std::optional<int64_t> {
    if (text.empty()) return std::nullopt;
    auto ms = ParseIsoDateTimeMs(text);
    if (!ms) {
      std::fprintf(stderr, "yagura events: %s must be an RFC 3339 time with a zone, not \"%s\"\n",
                   flag, text.c_str());
    }
    return ms;
  };
  query.from = time(from_, "--from");
  query.to = time(to_, "--to");
  if ((!from_.empty() && !query.from) || (!to_.empty() && !query.to)) return EXIT_USAGE;
  if (query.from && query.to && *query.from >= *query.to) {
    std::fprintf(stderr, "yagura events: --from must be before --to\n");
    return EXIT_USAGE;
  }
  if (!host_.empty()) query.host = host_;
  if (!text_.empty()) query.text = text_;
  query.org_ids = orgs_;

  pipeline::EventStoreOptions options;
  options.dir = store_dir_.empty() ? (std::filesystem::path(data_dir_) / "events").string() : store_dir_;
  options.read_only = true;
  if (!std::filesystem::is_directory(options.dir)) {
    std::fprintf(stderr, "yagura events: no event store at %s (see --data, --dir)\n",
                 options.dir.c_str());
    return EXIT_PARTIAL;
  }
  auto store = pipeline::EventStore::Open(options);
  if (!store) {
    std::fprintf(stderr, "yagura events: %s\n", store.error().ToString().c_str());
    return EXIT_PARTIAL;
  }
  std::FILE* out = stdout;
  if (!output_.empty() && output_ != "-") {
    out = std::fopen(output_.c_str(), "wb");
    if (!out) {
      std::fprintf(stderr, "yagura events: cannot write %s\n", output_.c_str());
      return EXIT_USAGE;
    }
  }
  uint64_t written = 0;
  uint64_t damaged = 0;
  bool more = true;
  std::string line;
  while (more && (limit_ == 0 || written < limit_)) {
    query.limit = 10'000;
    if (limit_ != 0) query.limit = std::min<uint64_t>(query.limit, limit_ - written);
    auto page = (*store)->Query(query);
    if (!page) {
      std::fprintf(stderr, "yagura events: %s\n", page.error().ToString().c_str());
      if (out != stdout) std::fclose(out);
      return EXIT_PARTIAL;
    }
    damaged += page->blocks_damaged;
    for (const auto& event : page->events) {
      if (format_ == "timesketch") {
        line = http::StoredEventTimesketchLine(event);
      } else if (format_ == "payload") {
        line = event.payload;
      } else {
        line = http::StoredEventJson(event).Serialize();
      }
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), out);
      ++written;
    }
    more = page->more && !page->events.empty();
    if (more) query.after = std::make_pair(page->events.back().time_ms, page->events.back().seq);
  }
  const bool write_failed = std::ferror(out) != 0 || (out != stdout ? std::fclose(out) != 0 : std::fflush(out) != 0);
  std::fprintf(stderr, "yagura events: %llu events%s%s\n", static_cast<unsigned long long>(written),
               more ? " (more match: raise --limit)" : "",
               damaged ? fmt::format(", {} damaged blocks passed over", damaged).c_str() : "");
  if (write_failed) {
    std::fprintf(stderr, "yagura events: the output could not be written\n");
    return EXIT_PARTIAL;
  }
  return damaged ? EXIT_PARTIAL : EXIT_OK;
}

}  // namespace yagura::cli
