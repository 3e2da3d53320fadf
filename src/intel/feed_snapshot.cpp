#include "intel/feed_snapshot.hpp"

#include <fmt/format.h>

#include <map>
#include <unordered_map>

#include "intel/normalise.hpp"
#include "intel/path_forms.hpp"

namespace yagura::intel {

bool NormaliseValue(ObservableType type, HashAlgorithm algorithm, std::string_view value,
                    std::string& out) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
    value.remove_suffix(1);
  switch (type) {
    case ObservableType::kIpv4: {
      auto network = ParseIpv4Network(value);
      if (!network) return false;
      out = fmt::format("{}.{}.{}.{}/{}", network->address >> 24, (network->address >> 16) & 255,
                        (network->address >> 8) & 255, network->address & 255, network->prefix);
      return true;
    }
    case ObservableType::kIpv6: {
      auto network = ParseIpv6Network(value);
      if (!network) return false;
      out.clear();
      for (size_t i = 0; i < 16; i += 2)
        out += fmt::format("{}{:x}", i ? ":" : "", network->address[i] << 8 | network->address[i + 1]);
      out += fmt::format("/{}", network->prefix);
      return true;
    }
    case ObservableType::kDomain: return NormaliseDomain(value, out);
    case ObservableType::kUrl: return NormaliseUrl(value, out);
    case ObservableType::kHash: return NormaliseHash(value, algorithm, out);
    case ObservableType::kEmail: return NormaliseEmail(value, out);
    case ObservableType::kFileName:
    case ObservableType::kProcessName: return CanonicalFileName(value, out);
    case ObservableType::kRegistryKey: return CanonicalRegistryKey(value, out);
    case ObservableType::kPort: {
      if (value.empty() || value.size() > 5) return false;
      unsigned port = 0;
      for (char c : value) {
        if (c < '0' || c > '9') return false;
        port = port * 10 + static_cast<unsigned>(c - '0');
      }
      if (port > 65535) return false;
      out = std::to_string(port);
      return true;
    }
    case ObservableType::kUserAgent:
      if (value.empty()) return false;
      out.assign(value);
      return true;
  }
  return false;
}

// Strings that repeat across a feed's indicators (names, pattern prefixes, feeds, markings)
// are stored once; the maps exist only while the snapshot is being built.
struct FeedSnapshot::Builder::Interning {
  std::unordered_map<std::string, StrRef> texts;
  std::unordered_map<std::string, uint32_t> feeds;
  std::map<std::vector<std::string>, uint32_t> lists;
};

FeedSnapshot::Builder::Builder(std::string source, Diagnostics& diagnostics)
    : snapshot_(new FeedSnapshot()),
      interning_(std::make_unique<Interning>()),
      diagnostics_(diagnostics) {
  snapshot_->source_ = std::move(source);
  snapshot_->string_lists_.emplace_back();
}

FeedSnapshot::Builder::~Builder() = default;

namespace {

FeedSnapshot::StrRef Append(std::string& pool, std::string_view text) {
  FeedSnapshot::StrRef ref{static_cast<uint32_t>(pool.size()), static_cast<uint32_t>(text.size())};
  pool.append(text);
  return ref;
}

}  // namespace

void FeedSnapshot::Builder::Add(Indicator&& indicator) {
  FeedSnapshot& snap = *snapshot_;
  CompactIndicator compact;
  compact.first_atom = static_cast<uint32_t>(snap.atoms_.size());

  // Normalise every atom; a conjunction with an unusable value is dropped whole (dropping just
  // the atom would widen what the indicator matches), and so is one left without a positive
  // atom or with nothing but ports (a port alone names no attacker).
  uint16_t kept_conjunctions = 0;
  for (const Conjunction& conjunction : indicator.any_of) {
    size_t begin = snap.atoms_.size();
    bool usable = !conjunction.empty();
    bool has_positive_value = false;
    for (const Atom& atom : conjunction) {
      if (!NormaliseValue(atom.type, atom.algorithm, atom.value, buffer_)) {
        diagnostics_.Report(DiagnosticKind::kWarning, snap.source_,
                            fmt::format("indicator {}: '{}' is not a valid {} value", indicator.id,
                                        atom.value, ToString(atom.type)));
        usable = false;
        break;
      }
      if (!atom.negated && atom.type != ObservableType::kPort) has_positive_value = true;
      CompactAtom compact_atom;
      compact_atom.value = Append(snap.pool_, buffer_);
      compact_atom.conjunction = kept_conjunctions;
      compact_atom.type = atom.type;
      compact_atom.algorithm = atom.algorithm;
      compact_atom.direction = atom.direction;
      compact_atom.negated = atom.negated;
      snap.atoms_.push_back(compact_atom);
    }
    if (usable && !has_positive_value) {
      diagnostics_.Report(DiagnosticKind::kWarning, snap.source_,
                          fmt::format("indicator {}: a conjunction without a positive address, "
                                      "domain, URL, hash or name cannot be matched",
                                      indicator.id));
      usable = false;
    }
    if (!usable) {
      snap.atoms_.resize(begin);
      continue;
    }
    ++kept_conjunctions;
  }
  // A revoked indicator is kept without values: it retires older versions of its id.
  if (kept_conjunctions == 0 && !indicator.revoked) {
    ++rejected_;
    return;
  }
  compact.atom_count = static_cast<uint16_t>(snap.atoms_.size() - compact.first_atom);
  compact.conjunction_count = kept_conjunctions;

  compact.id = Append(snap.pool_, indicator.id);
  auto intern_text = [&](const std::string& text) {
    if (text.empty()) return StrRef{};
    auto [it, inserted] = interning_->texts.try_emplace(text);
    if (inserted) it->second = Append(snap.pool_, text);
    return it->second;
  };
  compact.name = intern_text(indicator.name);
  // One-value indicators from lists and MISP write their pattern as "type:value"; storing the
  // prefix once instead of the whole text per indicator halves their pooled bytes.
  if (indicator.any_of.size() == 1 && indicator.any_of[0].size() == 1 &&
      indicator.pattern.ends_with(indicator.any_of[0][0].value)) {
    compact.pattern = intern_text(indicator.pattern.substr(
        0, indicator.pattern.size() - indicator.any_of[0][0].value.size()));
    compact.pattern_is_prefix = true;
  } else {
    compact.pattern = Append(snap.pool_, indicator.pattern);
  }
  {
    auto [it, inserted] =
        interning_->feeds.try_emplace(indicator.feed, static_cast<uint32_t>(snap.feeds_.size()));
    if (inserted) snap.feeds_.push_back(indicator.feed);
    compact.feed = it->second;
  }
  auto intern_list = [&](std::vector<std::string>& list) -> uint32_t {
    if (list.empty()) return 0;
    auto [it, inserted] =
        interning_->lists.try_emplace(list, static_cast<uint32_t>(snap.string_lists_.size()));
    if (inserted) snap.string_lists_.push_back(std::move(list));
    return it->second;
  };
  compact.markings = intern_list(indicator.markings);
  compact.labels = intern_list(indicator.labels);
  if (indicator.valid_from) compact.valid_from = *indicator.valid_from;
  if (indicator.valid_until) compact.valid_until = *indicator.valid_until;
  if (indicator.modified) compact.modified = *indicator.modified;
  compact.tlp = indicator.tlp;
  compact.confidence = static_cast<int8_t>(std::clamp(indicator.confidence, -1, 100));
  compact.revoked = indicator.revoked;
  snap.indicators_.push_back(compact);
}

std::shared_ptr<const FeedSnapshot> FeedSnapshot::Builder::Finish(FeedStats stats) {
  stats.skipped += rejected_;
  stats.indicators -= std::min(stats.indicators, rejected_);
  snapshot_->stats_ = stats;
  snapshot_->pool_.shrink_to_fit();
  snapshot_->indicators_.shrink_to_fit();
  snapshot_->atoms_.shrink_to_fit();
  interning_.reset();
  return std::shared_ptr<const FeedSnapshot>(snapshot_.release());
}

Result<std::shared_ptr<const FeedSnapshot>> FeedSnapshot::Load(const std::string& path,
                                                               FeedFormat format,
                                                               std::string_view feed_name,
                                                               Diagnostics& diagnostics) {
  Builder builder(path, diagnostics);
  auto stats = LoadFeed(path, format, feed_name, builder.Sink(), diagnostics);
  if (!stats) return tl::unexpected(stats.error());
  return builder.Finish(*stats);
}

IndicatorView FeedSnapshot::View(uint32_t index) const {
  const CompactIndicator& compact = indicators_[index];
  IndicatorView view;
  view.id = Text(compact.id);
  view.feed = feeds_[compact.feed];
  view.name = Text(compact.name);
  view.pattern.assign(Text(compact.pattern));
  if (compact.pattern_is_prefix && compact.atom_count == 1) {
    const CompactAtom& atom = atoms_[compact.first_atom];
    if (view.pattern.empty()) view.pattern = fmt::format("{}:", ToString(atom.type));
    view.pattern.append(Text(atom.value));
  }
  view.tlp = compact.tlp;
  view.confidence = compact.confidence;
  view.valid_from = compact.valid_from;
  view.valid_until = compact.valid_until;
  view.modified = compact.modified;
  view.revoked = compact.revoked;
  view.markings = &string_lists_[compact.markings];
  view.labels = &string_lists_[compact.labels];
  return view;
}

size_t FeedSnapshot::MemoryBytes() const {
  size_t bytes = sizeof(*this) + pool_.capacity() +
                 indicators_.capacity() * sizeof(CompactIndicator) +
                 atoms_.capacity() * sizeof(CompactAtom);
  for (const auto& feed : feeds_) bytes += sizeof(feed) + feed.capacity();
  for (const auto& list : string_lists_) {
    bytes += sizeof(list);
    for (const auto& text : list) bytes += sizeof(text) + text.capacity();
  }
  return bytes;
}

}  // namespace yagura::intel
