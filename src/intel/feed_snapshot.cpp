#include "intel/feed_snapshot.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <tuple>
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

std::optional<uint32_t> StringPool::Add(std::string_view text) {
  if (text.size() > capacity_ - used_ || blocks_.empty()) {
    // A new block: 1 MiB, or as many block numbers as a longer string needs.
    size_t spans = std::max<size_t>(1, (text.size() + BLOCK - 1) / BLOCK);
    if ((starts_.size() + spans) > (size_t{1} << (32 - BLOCK_BITS))) return std::nullopt;
    capacity_ = spans * BLOCK;
    blocks_.push_back(std::make_unique<char[]>(capacity_));
    bytes_ += capacity_;
    for (size_t i = 0; i < spans; ++i) starts_.push_back(blocks_.back().get() + i * BLOCK);
    used_ = 0;
  }
  size_t block_number = starts_.size() - std::max<size_t>(1, capacity_ / BLOCK);
  uint32_t offset = static_cast<uint32_t>((block_number << BLOCK_BITS) + used_);
  std::memcpy(blocks_.back().get() + used_, text.data(), text.size());
  used_ += text.size();
  return offset;
}

void StringPool::Trim() {
  if (blocks_.empty() || used_ == capacity_ || capacity_ > BLOCK) return;
  auto trimmed = std::make_unique<char[]>(std::max<size_t>(used_, 1));
  std::memcpy(trimmed.get(), blocks_.back().get(), used_);
  bytes_ = bytes_ - capacity_ + used_;
  starts_.back() = trimmed.get();
  blocks_.back() = std::move(trimmed);
  capacity_ = used_;
}

// Strings that repeat across a feed's indicators (names, pattern prefixes, id prefixes, feeds,
// markings) are stored once; the maps exist only while the snapshot is being built.
struct FeedSnapshot::Builder::Interning {
  std::unordered_map<std::string, uint32_t> texts;  // -> index into texts_
  std::unordered_map<std::string, uint32_t> feeds;
  std::map<std::vector<std::string>, uint32_t> lists;
  std::map<std::tuple<int64_t, int64_t, int64_t>, uint32_t> times;
};

FeedSnapshot::Builder::Builder(std::string source, Diagnostics& diagnostics)
    : snapshot_(new FeedSnapshot()),
      interning_(std::make_unique<Interning>()),
      diagnostics_(diagnostics) {
  snapshot_->source_ = std::move(source);
  snapshot_->string_lists_.emplace_back();
  snapshot_->texts_.emplace_back();
  snapshot_->times_.emplace_back();
}

FeedSnapshot::Builder::~Builder() = default;

namespace {

// Pools `text`; a feed beyond 4 GiB of text is refused value by value.
bool Append(StringPool& pool, std::string_view text, FeedSnapshot::StrRef& ref) {
  auto offset = pool.Add(text);
  if (!offset) return false;
  ref = {*offset, static_cast<uint32_t>(text.size())};
  return true;
}

// "name:1234" -> ("name:", 1234) when the number has no leading zero and fits.
bool SplitNumberedId(std::string_view id, std::string_view& prefix, uint32_t& number) {
  size_t colon = id.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= id.size() || id.size() - colon - 1 > 9)
    return false;
  std::string_view digits = id.substr(colon + 1);
  if (digits.size() > 1 && digits[0] == '0') return false;
  uint32_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  prefix = id.substr(0, colon + 1);
  number = value;
  return true;
}

}  // namespace

uint32_t FeedSnapshot::Builder::InternText(std::string_view text) {
  if (text.empty()) return 0;
  auto [it, inserted] = interning_->texts.try_emplace(std::string(text), 0);
  if (inserted) {
    StrRef ref;
    if (!Append(snapshot_->pool_, text, ref)) {
      interning_->texts.erase(it);
      return 0;
    }
    it->second = static_cast<uint32_t>(snapshot_->texts_.size());
    snapshot_->texts_.push_back(ref);
  }
  return it->second;
}

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
      if (!Append(snap.pool_, buffer_, compact_atom.value)) {
        usable = false;
        break;
      }
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
      snap.atoms_.shrink(begin);
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

  std::string_view prefix;
  uint32_t number = 0;
  if (SplitNumberedId(indicator.id, prefix, number)) {
    compact.id_text = InternText(prefix);
    compact.id_number = number;
    compact.flags |= ID_NUMBERED;
  } else {
    StrRef ref;
    if (!Append(snap.pool_, indicator.id, ref)) {
      ++rejected_;
      snap.atoms_.shrink(compact.first_atom);
      return;
    }
    compact.id_text = ref.offset;
    compact.id_number = ref.length;
  }
  compact.name = InternText(indicator.name);
  // One-value indicators from lists and MISP write their pattern as "type:value"; storing the
  // prefix once instead of the whole text per indicator saves most of their pooled bytes.
  if (indicator.any_of.size() == 1 && indicator.any_of[0].size() == 1 &&
      indicator.pattern.ends_with(indicator.any_of[0][0].value)) {
    compact.pattern = InternText(std::string_view(indicator.pattern)
                                     .substr(0, indicator.pattern.size() -
                                                    indicator.any_of[0][0].value.size()));
    compact.flags |= PATTERN_IS_PREFIX;
  } else if (!indicator.pattern.empty()) {
    StrRef ref;
    if (Append(snap.pool_, indicator.pattern, ref)) {
      compact.pattern = static_cast<uint32_t>(snap.texts_.size());
      snap.texts_.push_back(ref);
    }
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
  // Most list indicators carry no times: they share entry 0, and equal times are stored once.
  Times times;
  if (indicator.valid_from) times.valid_from = *indicator.valid_from;
  if (indicator.valid_until) times.valid_until = *indicator.valid_until;
  if (indicator.modified) times.modified = *indicator.modified;
  if (indicator.valid_from || indicator.valid_until || indicator.modified) {
    auto [it, inserted] = interning_->times.try_emplace(
        std::tuple(times.valid_from, times.valid_until, times.modified),
        static_cast<uint32_t>(snap.times_.size()));
    if (inserted) snap.times_.push_back(times);
    compact.times = it->second;
  }
  compact.tlp = indicator.tlp;
  compact.confidence = static_cast<int8_t>(std::clamp(indicator.confidence, -1, 100));
  compact.revoked = indicator.revoked;
  snap.indicators_.push_back(compact);
}

std::shared_ptr<const FeedSnapshot> FeedSnapshot::Builder::Finish(FeedStats stats) {
  stats.skipped += rejected_;
  stats.indicators -= std::min(stats.indicators, rejected_);
  snapshot_->stats_ = stats;
  snapshot_->pool_.Trim();
  snapshot_->texts_.shrink_to_fit();
  snapshot_->times_.shrink_to_fit();
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

void FeedSnapshot::AppendId(uint32_t index, std::string& out) const {
  const CompactIndicator& compact = indicators_[index];
  if (compact.flags & ID_NUMBERED) {
    out.append(Text(texts_[compact.id_text]));
    out.append(std::to_string(compact.id_number));
  } else {
    out.append(Text(StrRef{compact.id_text, compact.id_number}));
  }
}

IndicatorView FeedSnapshot::View(uint32_t index) const {
  const CompactIndicator& compact = indicators_[index];
  IndicatorView view;
  AppendId(index, view.id);
  view.feed = feeds_[compact.feed];
  view.name = Text(texts_[compact.name]);
  view.pattern.assign(Text(texts_[compact.pattern]));
  if ((compact.flags & PATTERN_IS_PREFIX) && compact.atom_count == 1) {
    const CompactAtom& atom = atoms_[compact.first_atom];
    if (view.pattern.empty()) view.pattern = fmt::format("{}:", ToString(atom.type));
    view.pattern.append(Text(atom.value));
  }
  const Times& t = times_[compact.times];
  view.tlp = compact.tlp;
  view.confidence = compact.confidence;
  view.valid_from = t.valid_from;
  view.valid_until = t.valid_until;
  view.modified = t.modified;
  view.revoked = compact.revoked;
  view.markings = &string_lists_[compact.markings];
  view.labels = &string_lists_[compact.labels];
  return view;
}

size_t FeedSnapshot::MemoryBytes() const {
  size_t bytes = sizeof(*this) + pool_.MemoryBytes() + indicators_.MemoryBytes() +
                 atoms_.MemoryBytes() + texts_.capacity() * sizeof(StrRef) +
                 times_.capacity() * sizeof(Times);
  for (const auto& feed : feeds_) bytes += sizeof(feed) + feed.capacity();
  for (const auto& list : string_lists_) {
    bytes += sizeof(list);
    for (const auto& text : list) bytes += sizeof(text) + text.capacity();
  }
  return bytes;
}

}  // namespace yagura::intel
