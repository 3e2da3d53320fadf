#include "intel/indicator_index.hpp"

// Inlined: every event value looked up is hashed, most of them short.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstring>
#include <set>
#include <unordered_map>

namespace yagura::intel {
namespace {

// Table keys carry a kind byte so one table holds every type: string types use their
// ObservableType value; IPv4 ranges IPV4_KIND + prefix, IPv6 ranges IPV6_KIND + prefix.
constexpr uint8_t IPV4_KIND = 32;
constexpr uint8_t IPV6_KIND = 96;  // 96..224

// IPv4 keys are hashed inline (an address meets up to 33 prefix lengths on every lookup):
// the splitmix64 finaliser over the address and the kind.
inline uint64_t HashIpv4(uint32_t address, uint8_t kind) {
  uint64_t h = (uint64_t{address} | (uint64_t{kind} << 32)) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

uint64_t HashBytes(const void* data, size_t size, uint8_t kind) {
  return XXH3_64bits_withSeed(data, size, kind);
}

uint32_t Ipv4Mask(uint8_t prefix) {
  return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
}

Ipv6Bytes MaskIpv6(const Ipv6Bytes& address, uint8_t prefix) {
  Ipv6Bytes masked{};
  for (size_t i = 0; i < 16; ++i) {
    int bits = std::clamp(static_cast<int>(prefix) - static_cast<int>(i * 8), 0, 8);
    masked[i] = static_cast<uint8_t>(address[i] & (bits == 0 ? 0 : 0xFF << (8 - bits)));
  }
  return masked;
}

}  // namespace

int64_t CurrentTimeMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view ToString(IndicatorStatus status) {
  switch (status) {
    case IndicatorStatus::kActive: return "active";
    case IndicatorStatus::kRevoked: return "revoked";
    case IndicatorStatus::kExpired: return "expired";
    case IndicatorStatus::kNotYetValid: return "not-yet-valid";
    case IndicatorStatus::kSuperseded: return "superseded";
  }
  return "";
}

// Open addressing with linear probing. A slot holds the upper half of the key's hash (0 marks
// an empty slot) and the index of a posting; a posting is a run of refs. The key itself is not
// stored: on a tag match it is checked against an atom of the posting, which holds the canonical
// value, so the table costs 8 bytes a slot plus 8 a posting.
struct IndicatorIndex::Table {
  struct Slot {
    uint32_t tag = 0;
    uint32_t posting = 0;
  };
  struct Posting {
    uint32_t begin = 0;
    uint32_t count = 0;
  };
  std::vector<Slot> slots;
  std::vector<Posting> postings;
  std::vector<Ref> refs;
  uint64_t mask = 0;

  static uint32_t Tag(uint64_t hash) {
    uint32_t tag = static_cast<uint32_t>(hash >> 32);
    return tag ? tag : 1;
  }
};

IndicatorIndex::IndicatorIndex() : table_(std::make_unique<Table>()), filter_(1, 0) {}
IndicatorIndex::~IndicatorIndex() = default;

std::vector<std::vector<IndicatorStatus>> ClassifyIndicators(
    const std::vector<std::shared_ptr<const FeedSnapshot>>& snapshots, int64_t now) {
  // Versions: sort every indicator by a hash of its id, then settle each run of equal ids
  // (16 bytes an indicator while sorting, instead of a hash map of strings).
  struct Entry {
    uint64_t id_hash;
    uint32_t snapshot;
    uint32_t indicator;
  };
  std::vector<std::vector<IndicatorStatus>> statuses(snapshots.size());
  std::vector<Entry> entries;
  size_t total = 0;
  for (const auto& snapshot : snapshots) total += snapshot->size();
  entries.reserve(total);
  std::string id;
  for (uint32_t s = 0; s < snapshots.size(); ++s) {
    const FeedSnapshot& snapshot = *snapshots[s];
    statuses[s].assign(snapshot.size(), IndicatorStatus::kSuperseded);
    for (uint32_t i = 0; i < snapshot.size(); ++i) {
      id.clear();
      snapshot.AppendId(i, id);
      entries.push_back({XXH3_64bits(id.data(), id.size()), s, i});
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) {
    if (x.id_hash != y.id_hash) return x.id_hash < y.id_hash;
    if (x.snapshot != y.snapshot) return x.snapshot < y.snapshot;
    return x.indicator < y.indicator;
  });
  auto settle = [&](const Entry& winner) {
    const FeedSnapshot& snapshot = *snapshots[winner.snapshot];
    const auto& indicator = snapshot.indicator(winner.indicator);
    const auto& times = snapshot.times(winner.indicator);
    IndicatorStatus status = IndicatorStatus::kActive;
    if (indicator.revoked)
      status = IndicatorStatus::kRevoked;
    else if (times.valid_until <= now)
      status = IndicatorStatus::kExpired;
    else if (times.valid_from > now)
      status = IndicatorStatus::kNotYetValid;
    statuses[winner.snapshot][winner.indicator] = status;
  };
  std::string other;
  for (size_t i = 0; i < entries.size();) {
    size_t j = i + 1;
    while (j < entries.size() && entries[j].id_hash == entries[i].id_hash) ++j;
    if (j == i + 1) {
      settle(entries[i]);
      i = j;
      continue;
    }
    // Equal hashes: group by the actual id (a hash collision must not merge two ids); within
    // an id the latest `modified` wins, a later feed or position on a tie.
    std::vector<bool> done(j - i, false);
    for (size_t k = i; k < j; ++k) {
      if (done[k - i]) continue;
      id.clear();
      snapshots[entries[k].snapshot]->AppendId(entries[k].indicator, id);
      Entry winner = entries[k];
      for (size_t m = k; m < j; ++m) {
        if (done[m - i]) continue;
        other.clear();
        snapshots[entries[m].snapshot]->AppendId(entries[m].indicator, other);
        if (other != id) continue;
        done[m - i] = true;
        int64_t modified = snapshots[entries[m].snapshot]->times(entries[m].indicator).modified;
        if (modified >= snapshots[winner.snapshot]->times(winner.indicator).modified)
          winner = entries[m];
      }
      settle(winner);
    }
    i = j;
  }
  return statuses;
}

namespace {

// The table kind and hash of an atom's canonical value.
bool KeyOf(const FeedSnapshot::CompactAtom& atom, std::string_view text, uint8_t& kind,
           uint64_t& hash) {
  switch (atom.type) {
    case ObservableType::kIpv4: {
      auto network = ParseIpv4Network(text);
      if (!network) return false;
      kind = static_cast<uint8_t>(IPV4_KIND + network->prefix);
      hash = HashIpv4(network->address, kind);
      return true;
    }
    case ObservableType::kIpv6: {
      auto network = ParseIpv6Network(text);
      if (!network) return false;
      kind = static_cast<uint8_t>(IPV6_KIND + network->prefix);
      hash = HashBytes(network->address.data(), 16, kind);
      return true;
    }
    default:
      kind = static_cast<uint8_t>(atom.type);
      hash = HashBytes(text.data(), text.size(), kind);
      return true;
  }
}

// Whether two atoms have the same table key: same kind and canonical text (IPv4 and IPv6
// texts are canonical too, so text equality is key equality).
bool SameKey(const FeedSnapshot& a_snapshot, const FeedSnapshot::CompactAtom& a,
             const FeedSnapshot& b_snapshot, const FeedSnapshot::CompactAtom& b) {
  return a.type == b.type && a_snapshot.Text(a.value) == b_snapshot.Text(b.value);
}

}  // namespace

std::shared_ptr<const IndicatorIndex> IndicatorIndex::Build(
    std::vector<std::shared_ptr<const FeedSnapshot>> snapshots, const IndexOptions& options) {
  static std::atomic<uint64_t> generations{0};
  auto index = std::make_shared<IndicatorIndex>();
  index->generation_ = ++generations;
  index->options_ = options;
  if (index->options_.now_ms == 0) index->options_.now_ms = CurrentTimeMs();
  IndexStats& stats = index->stats_;
  Table& table = *index->table_;

  auto statuses = ClassifyIndicators(snapshots, index->options_.now_ms);
  size_t atom_total = 0;
  for (uint32_t s = 0; s < snapshots.size(); ++s) {
    const FeedSnapshot& snapshot = *snapshots[s];
    for (uint32_t i = 0; i < snapshot.size(); ++i) {
      ++stats.indicators;
      switch (statuses[s][i]) {
        case IndicatorStatus::kActive:
          ++stats.active;
          atom_total += snapshot.indicator(i).atom_count;
          break;
        case IndicatorStatus::kRevoked: ++stats.revoked; break;
        case IndicatorStatus::kExpired: ++stats.expired; break;
        case IndicatorStatus::kNotYetValid: ++stats.not_yet_valid; break;
        case IndicatorStatus::kSuperseded: ++stats.superseded; break;
      }
    }
  }

  // Two passes over the atoms of active indicators, without materialising them: the first
  // inserts each distinct key and counts its references, the second places the references.
  // A posting's representative atom (snapshot, atom index) identifies its key during the build.
  size_t capacity = std::bit_ceil(std::max<size_t>(16, atom_total * 2));
  // 16 filter bits per key: about 0.5% false positives with three bits in one word.
  size_t filter_words = std::bit_ceil(std::max<size_t>(1, atom_total / 4));
  index->filter_.assign(filter_words, 0);
  index->filter_mask_ = filter_words - 1;
  table.slots.assign(capacity, {});
  table.mask = capacity - 1;
  struct Representative {
    uint32_t snapshot;
    uint32_t atom;
  };
  std::vector<Representative> representatives;
  std::set<std::string> top_labels;
  auto for_each_atom = [&](auto&& visit) {
    for (uint32_t s = 0; s < snapshots.size(); ++s) {
      const FeedSnapshot& snapshot = *snapshots[s];
      for (uint32_t i = 0; i < snapshot.size(); ++i) {
        if (statuses[s][i] != IndicatorStatus::kActive) continue;
        const auto& indicator = snapshot.indicator(i);
        uint32_t end = indicator.first_atom + indicator.atom_count;
        // Atoms are stored conjunction by conjunction; number them within each.
        for (uint32_t a = indicator.first_atom; a < end;) {
          uint32_t conjunction_end = a;
          while (conjunction_end < end &&
                 snapshot.atom(conjunction_end).conjunction == snapshot.atom(a).conjunction)
            ++conjunction_end;
          uint32_t positives = 0;
          for (uint32_t b = a; b < conjunction_end; ++b) positives += !snapshot.atom(b).negated;
          uint32_t position = 0;
          for (uint32_t b = a; b < conjunction_end; ++b) {
            const auto& atom = snapshot.atom(b);
            Ref ref;
            ref.snapshot = s;
            ref.indicator = i;
            ref.conjunction = atom.conjunction;
            ref.atom_in_conjunction =
                atom.negated ? 255 : static_cast<uint8_t>(std::min<uint32_t>(position++, 254));
            ref.atoms_in_conjunction = static_cast<uint8_t>(std::min<uint32_t>(positives, 254));
            ref.direction = atom.direction;
            ref.negated = atom.negated;
            visit(snapshot, b, atom, ref);
          }
          a = conjunction_end;
        }
      }
    }
  };
  // Finds the posting of an atom's key, or the empty slot where it belongs.
  auto locate = [&](const FeedSnapshot& snapshot, const FeedSnapshot::CompactAtom& atom,
                    uint64_t hash) -> Table::Slot& {
    uint32_t tag = Table::Tag(hash);
    for (uint64_t at = hash & table.mask;; at = (at + 1) & table.mask) {
      Table::Slot& slot = table.slots[at];
      if (slot.tag == 0) return slot;
      if (slot.tag != tag) continue;
      const Representative& rep = representatives[slot.posting];
      if (SameKey(*snapshots[rep.snapshot], snapshots[rep.snapshot]->atom(rep.atom), snapshot,
                  atom))
        return slot;
    }
  };
  for_each_atom([&](const FeedSnapshot& snapshot, uint32_t atom_index,
                    const FeedSnapshot::CompactAtom& atom, const Ref& ref) {
    uint8_t kind;
    uint64_t hash;
    if (!KeyOf(atom, snapshot.Text(atom.value), kind, hash)) return;
    Table::Slot& slot = locate(snapshot, atom, hash);
    if (slot.tag == 0) {
      slot = {Table::Tag(hash), static_cast<uint32_t>(table.postings.size())};
      table.postings.push_back({0, 0});
      representatives.push_back({ref.snapshot, atom_index});
      index->present_types_ |= 1u << static_cast<unsigned>(atom.type);
      if (atom.type == ObservableType::kDomain) {
        std::string_view text = snapshot.Text(atom.value);
        top_labels.insert(std::string(text.substr(text.rfind('.') + 1)));
      }
      if (atom.type == ObservableType::kHash) {
        size_t length = snapshot.Text(atom.value).size();
        if (length < 256) index->hash_lengths_[length / 64] |= uint64_t{1} << (length % 64);
      }
      if (kind >= IPV6_KIND) {
        unsigned prefix = kind - IPV6_KIND;
        index->ipv6_prefixes_[prefix / 8] |= static_cast<uint8_t>(1u << (prefix % 8));
      } else if (kind >= IPV4_KIND) {
        index->ipv4_prefixes_ |= uint64_t{1} << (kind - IPV4_KIND);
        if (auto network = ParseIpv4Network(snapshot.Text(atom.value))) {
          auto& blocks = index->ipv4_blocks_;
          if (blocks.empty()) blocks.assign((uint64_t{1} << 24) / 64, 0);
          const uint32_t first = network->address >> 8;
          const uint32_t count = network->prefix >= 24 ? 1u : 1u << (24 - network->prefix);
          for (uint32_t block = first; block < first + count; ++block) {
            blocks[block >> 6] |= uint64_t{1} << (block & 63);
          }
        }
      }
      index->AddToFilter(hash);
    }
    ++table.postings[slot.posting].count;
  });
  index->top_labels_.assign(top_labels.begin(), top_labels.end());
  top_labels = {};
  uint32_t next = 0;
  for (auto& posting : table.postings) {
    posting.begin = next;
    next += posting.count;
    posting.count = 0;
  }
  table.refs.resize(next);
  for_each_atom([&](const FeedSnapshot& snapshot, uint32_t, const FeedSnapshot::CompactAtom& atom,
                    const Ref& ref) {
    uint8_t kind;
    uint64_t hash;
    if (!KeyOf(atom, snapshot.Text(atom.value), kind, hash)) return;
    Table::Posting& posting = table.postings[locate(snapshot, atom, hash).posting];
    table.refs[posting.begin + posting.count++] = ref;
  });
  representatives = {};
  statuses = {};
  table.postings.shrink_to_fit();
  stats.values = table.postings.size();
  stats.memory_bytes = table.slots.capacity() * sizeof(Table::Slot) +
                       table.postings.capacity() * sizeof(Table::Posting) +
                       table.refs.capacity() * sizeof(Ref) +
                       index->filter_.capacity() * sizeof(uint64_t) +
                       index->ipv4_blocks_.capacity() * sizeof(uint64_t);
  index->snapshots_ = std::move(snapshots);
  return index;
}

template <typename Same>
static void Probe(const IndicatorIndex::Table& table, uint64_t hash, Same&& same,
                  IndicatorIndex::Visitor& visitor) {
  if (table.postings.empty()) return;
  uint32_t tag = IndicatorIndex::Table::Tag(hash);
  for (uint64_t at = hash & table.mask;; at = (at + 1) & table.mask) {
    const auto& slot = table.slots[at];
    if (slot.tag == 0) return;
    if (slot.tag != tag) continue;
    const auto& posting = table.postings[slot.posting];
    if (!same(table.refs[posting.begin])) continue;
    for (uint32_t i = 0; i < posting.count; ++i) visitor.Visit(table.refs[posting.begin + i]);
    return;
  }
}

namespace {

// Passes refs on and remembers that one was found: the address lookups stop at the longest
// prefix that holds the address.
class NoteFound final : public IndicatorIndex::Visitor {
 public:
  explicit NoteFound(IndicatorIndex::Visitor& inner) : inner_(inner) {}
  void Visit(const IndicatorIndex::Ref& ref) override {
    found = true;
    inner_.Visit(ref);
  }
  bool found = false;

 private:
  IndicatorIndex::Visitor& inner_;
};

// Whether the conjunction a ref points to has an atom of `type` whose text satisfies `same`:
// the check of a table key against the canonical values the table does not store.
template <typename Same>
bool ConjunctionHasAtom(const FeedSnapshot& snapshot, const IndicatorIndex::Ref& ref,
                        ObservableType type, Same&& same) {
  const auto& indicator = snapshot.indicator(ref.indicator);
  for (uint32_t a = indicator.first_atom; a < indicator.first_atom + indicator.atom_count; ++a) {
    const auto& atom = snapshot.atom(a);
    if (atom.type == type && atom.conjunction == ref.conjunction && same(snapshot.Text(atom.value)))
      return true;
  }
  return false;
}

}  // namespace

void IndicatorIndex::FindIpv4(uint32_t address, Visitor& visitor) const {
  if (ipv4_blocks_.empty() || ((ipv4_blocks_[address >> 14] >> ((address >> 8) & 63)) & 1) == 0) {
    return;
  }
  NoteFound note(visitor);
  // The filter words of every prefix length present are fetched first: with a million
  // indicators each is a cache miss, and fetched together they overlap.
  uint64_t hashes[33];
  for (uint64_t prefixes = ipv4_prefixes_; prefixes;) {
    const unsigned prefix = 63 - static_cast<unsigned>(std::countl_zero(prefixes));
    prefixes &= ~(uint64_t{1} << prefix);
    hashes[prefix] = HashIpv4(address & Ipv4Mask(static_cast<uint8_t>(prefix)),
                              static_cast<uint8_t>(IPV4_KIND + prefix));
    __builtin_prefetch(&filter_[(hashes[prefix] >> 40) & filter_mask_]);
  }
  // Longest prefix first; stop at the first length that holds the address.
  for (uint64_t prefixes = ipv4_prefixes_; prefixes && !note.found;) {
    unsigned prefix = 63 - static_cast<unsigned>(std::countl_zero(prefixes));
    prefixes &= ~(uint64_t{1} << prefix);
    uint32_t masked = address & Ipv4Mask(static_cast<uint8_t>(prefix));
    const uint64_t hash = hashes[prefix];
    if (!MayContain(hash)) continue;
    Probe(*table_, hash,
          [&](const Ref& ref) {
            return ConjunctionHasAtom(*snapshots_[ref.snapshot], ref, ObservableType::kIpv4,
                                      [&](std::string_view text) {
                                        auto network = ParseIpv4Network(text);
                                        return network && network->prefix == prefix &&
                                               network->address == masked;
                                      });
          },
          note);
  }
}

void IndicatorIndex::FindIpv6(const Ipv6Bytes& address, Visitor& visitor) const {
  NoteFound note(visitor);
  for (int prefix = 128; prefix >= 0 && !note.found; --prefix) {
    if (!((ipv6_prefixes_[prefix / 8] >> (prefix % 8)) & 1)) continue;
    Ipv6Bytes masked = MaskIpv6(address, static_cast<uint8_t>(prefix));
    uint64_t hash = HashBytes(masked.data(), 16, static_cast<uint8_t>(IPV6_KIND + prefix));
    if (!MayContain(hash)) continue;
    Probe(*table_, hash,
          [&](const Ref& ref) {
            return ConjunctionHasAtom(*snapshots_[ref.snapshot], ref, ObservableType::kIpv6,
                                      [&](std::string_view text) {
                                        auto network = ParseIpv6Network(text);
                                        return network && network->prefix == prefix &&
                                               network->address == masked;
                                      });
          },
          note);
  }
}

void IndicatorIndex::Lookup(uint64_t key_hash, uint8_t kind, std::string_view key,
                            Visitor& visitor) const {
  if (!MayContain(key_hash)) return;
  Probe(*table_, key_hash,
        [&](const Ref& ref) {
          return ConjunctionHasAtom(*snapshots_[ref.snapshot], ref,
                                    static_cast<ObservableType>(kind),
                                    [&](std::string_view text) { return text == key; });
        },
        visitor);
}

void IndicatorIndex::FindExact(ObservableType type, std::string_view value,
                               Visitor& visitor) const {
  if (!Has(type)) return;
  auto kind = static_cast<uint8_t>(type);
  Lookup(HashBytes(value.data(), value.size(), kind), kind, value, visitor);
}

uint64_t IndicatorIndex::PrefetchExact(ObservableType type, std::string_view value) const {
  const uint64_t hash = HashBytes(value.data(), value.size(), static_cast<uint8_t>(type));
  if (!filter_.empty()) __builtin_prefetch(&filter_[(hash >> 40) & filter_mask_]);
  return hash;
}

void IndicatorIndex::FindExact(ObservableType type, std::string_view value, uint64_t prefetched,
                               Visitor& visitor) const {
  if (!Has(type)) return;
  Lookup(prefetched, static_cast<uint8_t>(type), value, visitor);
}

void IndicatorIndex::FindPort(uint16_t port, Visitor& visitor) const {
  if (!Has(ObservableType::kPort)) return;
  char text[8];
  size_t length = 0;
  char reversed[8];
  do {
    reversed[length++] = static_cast<char>('0' + port % 10);
    port /= 10;
  } while (port);
  for (size_t i = 0; i < length; ++i) text[i] = reversed[length - 1 - i];
  FindExact(ObservableType::kPort, std::string_view(text, length), visitor);
}

bool IndicatorIndex::HasTopLabel(std::string_view domain) const {
  // The same trimming as NormaliseDomain: white space, then one trailing dot.
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!domain.empty() && space(domain.back())) domain.remove_suffix(1);
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  std::string_view label = domain.substr(domain.rfind('.') + 1);
  if (label.empty() || label.size() > 63) return false;
  char lower[64];
  for (size_t i = 0; i < label.size(); ++i) {
    char c = label[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  }
  return std::binary_search(top_labels_.begin(), top_labels_.end(),
                            std::string_view(lower, label.size()),
                            [](std::string_view a, std::string_view b) { return a < b; });
}

void IndicatorIndex::FindDomain(std::string_view domain, Visitor& visitor) const {
  if (!Has(ObservableType::kDomain)) return;
  FindExact(ObservableType::kDomain, domain, visitor);
  if (!options_.match_subdomains) return;
  // Parents down to two labels: "a.b.evil.com" also looks up "b.evil.com" and "evil.com",
  // never "com".
  for (size_t dot = domain.find('.'); dot != std::string_view::npos; dot = domain.find('.')) {
    domain.remove_prefix(dot + 1);
    if (domain.find('.') == std::string_view::npos) break;
    FindExact(ObservableType::kDomain, domain, visitor);
  }
}

void IndicatorIndex::FindRegistryKey(std::string_view key, Visitor& visitor) const {
  if (!Has(ObservableType::kRegistryKey)) return;
  // The key, then each parent: an event's TargetObject names a value under the key.
  while (!key.empty()) {
    FindExact(ObservableType::kRegistryKey, key, visitor);
    size_t slash = key.rfind('\\');
    if (slash == std::string_view::npos || slash == 0) break;
    key = key.substr(0, slash);
  }
}

}  // namespace yagura::intel
