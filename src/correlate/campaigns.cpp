// CampaignTracker and CampaignKeyFields (see campaigns.hpp).
//
// Per campaign key the tracker keeps the organisations that reported it, each with its first
// alert and the event times of its first and latest sighting. An organisation counts towards a
// campaign while its latest sighting is within `window_ms` of the observation being looked at;
// when `min_organisations` count, the campaign is raised with the members that count, first
// seen first. Once raised, any new organisation joins it, for as long as the key keeps being
// seen: a key not seen for `window_ms` of event time (behind the latest event time observed)
// is forgotten, and with it its campaign, so a much later wave raises a new campaign with a
// new id. Observations older than that horizon are ignored.
//
// The key table is bounded by `max_keys`, least recently observed first out. Expiry runs from
// an ordered set of (latest sighting, key number), so the work per observation is logarithmic
// and the order of everything depends only on the input. Snapshots are versioned binary with an
// XXH3-64 check, as for CorrelationEngine.
#include "correlate/campaigns.hpp"

#include <arpa/inet.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "core/stable_id.hpp"

namespace yagura::correlate {
namespace {

constexpr uint32_t SNAPSHOT_VERSION = 1;
constexpr char SNAPSHOT_MAGIC[4] = {'Y', 'C', 'M', 'P'};

// ---- key fields -----------------------------------------------------------------------------

enum class KeyKind : uint8_t { kAddress, kDomain, kHash, kHashList };

// The attacker-side fields, by the names the parsers and common log schemas give them. Only
// fields that name the remote party are listed: a Windows logon's IpAddress is the machine that
// tried to log on, a DNS query names what a host inside looked up, a process hash names a file
// that ran. Destination addresses are left out: for most events they are the organisation's own
// servers.
struct KeyField {
  std::string_view name;
  KeyKind kind;
};
constexpr KeyField KEY_FIELDS[] = {
    // addresses of the other end
    {"IpAddress", KeyKind::kAddress},      // Windows Security 4624/4625/4648/4776...
    {"SourceIp", KeyKind::kAddress},       // Sysmon network connection (inbound)
    {"SourceAddress", KeyKind::kAddress},  // Windows Filtering Platform 5156/5157
    {"ClientAddress", KeyKind::kAddress},  // Kerberos / RDP gateway
    {"src_ip", KeyKind::kAddress},         // firewalls, Suricata, sshd lines
    {"source.ip", KeyKind::kAddress},      // ECS
    {"client.ip", KeyKind::kAddress},      // ECS
    {"client_ip", KeyKind::kAddress},
    {"c-ip", KeyKind::kAddress},         // web access logs (W3C names)
    {"id.orig_h", KeyKind::kAddress},    // Zeek
    {"remote_addr", KeyKind::kAddress},  // nginx JSON logs
    // domains contacted or resolved
    {"DestinationHostname", KeyKind::kDomain},  // Sysmon network connection
    {"QueryName", KeyKind::kDomain},            // Sysmon DNS query
    {"dns.question.name", KeyKind::kDomain},    // ECS
    {"query", KeyKind::kDomain},                // Zeek dns.log
    {"url.domain", KeyKind::kDomain},           // ECS
    // files
    {"Hashes", KeyKind::kHashList},  // Sysmon: "SHA256=...,MD5=...,IMPHASH=..."
    {"Hash", KeyKind::kHashList},
    {"sha256", KeyKind::kHash},
    {"sha1", KeyKind::kHash},
    {"md5", KeyKind::kHash},
    {"hash.sha256", KeyKind::kHash},
    {"hash.sha1", KeyKind::kHash},
    {"hash.md5", KeyKind::kHash},
    {"file.hash.sha256", KeyKind::kHash},
    {"file.hash.sha1", KeyKind::kHash},
    {"file.hash.md5", KeyKind::kHash},
    {"process.hash.sha256", KeyKind::kHash},
};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// False for addresses that name no attacker on the Internet.
bool PublicIpv4(const unsigned char (&v4)[4]) {
  const unsigned a = v4[0];
  const unsigned b = v4[1];
  if (a == 0 || a == 10 || a == 127 || a >= 224)
    return false;                                  // this net, private, loopback,
                                                   // multicast, reserved, broadcast
  if (a == 169 && b == 254) return false;          // link-local
  if (a == 172 && (b & 0xf0) == 16) return false;  // private
  if (a == 192 && b == 168) return false;          // private
  if (a == 100 && (b & 0xc0) == 64) return false;  // carrier-grade NAT
  return true;
}

// True when `text` is an IPv4 address exactly as inet_ntop writes it (four decimal octets up to
// 255 without leading zeros), its bytes in `v4`. Such text is its own normal form, which spares
// the two library calls for the addresses most events carry.
bool CanonicalIpv4(std::string_view text, unsigned char (&v4)[4]) {
  size_t at = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (at >= text.size() || text[at] != '.') return false;
      ++at;
    }
    const size_t start = at;
    unsigned value = 0;
    while (at < text.size() && at - start < 3 && text[at] >= '0' && text[at] <= '9')
      value = value * 10 + static_cast<unsigned>(text[at++] - '0');
    const size_t digits = at - start;
    if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0')) return false;
    v4[octet] = static_cast<unsigned char>(value);
  }
  return at == text.size();
}

// Normalised public address, or "" when the text is not an address or names a host that cannot
// be an attacker on the Internet (private, loopback, link-local, unspecified, multicast...).
std::string PublicAddress(std::string_view text) {
  text = Trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 63) return {};
  unsigned char v4[4];
  if (CanonicalIpv4(text, v4)) return PublicIpv4(v4) ? std::string(text) : std::string();
  std::string buffer(text);
  if (auto percent = buffer.find('%'); percent != std::string::npos) buffer.resize(percent);
  unsigned char v6[16];
  if (inet_pton(AF_INET, buffer.c_str(), v4) != 1) {
    if (inet_pton(AF_INET6, buffer.c_str(), v6) != 1) return {};
    static constexpr unsigned char MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6, MAPPED, 12) == 0) {
      std::memcpy(v4, v6 + 12, 4);
    } else {
      bool zero = std::all_of(v6, v6 + 15, [](unsigned char b) { return b == 0; });
      if (zero && (v6[15] == 0 || v6[15] == 1)) return {};     // :: and ::1
      if (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80) return {};  // fe80::/10 link-local
      if ((v6[0] & 0xfe) == 0xfc) return {};                   // fc00::/7 unique local
      if (v6[0] == 0xff) return {};                            // multicast
      char out[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, v6, out, sizeof out);
      return out;
    }
  }
  if (!PublicIpv4(v4)) return {};
  char out[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, v4, out, sizeof out);
  return out;
}

// Lower-case domain without a trailing dot, or "" for names that are not worth keying on.
std::string Domain(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.size() < 3 || text.size() > 253) return {};
  std::string domain = Lower(text);
  if (domain.find('.') == std::string::npos) return {};  // single-label: an internal name
  for (char c : domain) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
              c == '_' || static_cast<unsigned char>(c) >= 0x80;
    if (!ok) return {};
  }
  if (!PublicAddress(domain).empty()) return {};  // an address in a name field
  for (std::string_view internal :
       {".local", ".localdomain", ".lan", ".internal", ".arpa", ".home", ".corp"}) {
    if (domain.size() >= internal.size() &&
        domain.compare(domain.size() - internal.size(), internal.size(), internal) == 0)
      return {};
  }
  return domain;
}

// Lower-case hex of an MD5, SHA-1 or SHA-256, or "".
std::string Hash(std::string_view text) {
  text = Trim(text);
  if (text.size() != 32 && text.size() != 40 && text.size() != 64) return {};
  std::string hash = Lower(text);
  for (char c : hash)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  if (std::all_of(hash.begin(), hash.end(), [](char c) { return c == '0'; })) return {};
  return hash;
}

}  // namespace

void CampaignKeyFields::InternFields(event::FieldCatalog& catalog) {
  for (const auto& field : KEY_FIELDS) catalog.Intern(field.name);
}

CampaignKeyFields::CampaignKeyFields(const event::FieldCatalog& catalog) {
  for (const auto& field : KEY_FIELDS) {
    event::FieldId id = catalog.Find(field.name);
    if (id != event::NO_FIELD) {
      fields_.push_back({std::string(field.name), id, static_cast<uint8_t>(field.kind)});
    }
  }
}

void CampaignKeyFields::Extract(const event::Event& event,
                                std::vector<std::pair<std::string, std::string>>& out) const {
  size_t first = out.size();
  auto add = [&](const std::string& field, std::string value) {
    if (value.empty()) return;
    for (size_t i = first; i < out.size(); ++i)
      if (out[i].second == value) return;  // the same value through another field
    out.emplace_back(field, std::move(value));
  };
  // Once per alert, for some forty fields: the kinds were looked up by name here before, which
  // was a tenth of the detector's time on a brute-force stream.
  for (const auto& [name, id, kind_value] : fields_) {
    if (!event.Has(id)) continue;
    const auto kind = static_cast<KeyKind>(kind_value);
    for (const event::FieldValue& value : event.Values(id)) {
      switch (kind) {
        case KeyKind::kAddress:
          add(name, PublicAddress(value.text));
          break;
        case KeyKind::kDomain:
          add(name, Domain(value.text));
          break;
        case KeyKind::kHash:
          add(name, Hash(value.text));
          break;
        case KeyKind::kHashList: {
          // "SHA256=AB..,MD5=CD..": each algorithm's value separately; IMPHASH names an import
          // table many unrelated programs share, so it is not a key.
          std::string_view rest = value.text;
          while (!rest.empty()) {
            size_t comma = rest.find(',');
            std::string_view part = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            size_t eq = part.find('=');
            std::string algorithm =
                Lower(Trim(eq == std::string_view::npos ? std::string_view() : part.substr(0, eq)));
            if (algorithm == "imphash") continue;
            add(name, Hash(eq == std::string_view::npos ? part : part.substr(eq + 1)));
          }
          break;
        }
      }
    }
  }
}

// ---- tracker ----------------------------------------------------------------------------------

namespace {

struct Sighting {
  std::string org;
  std::string alert_id;
  int64_t first_time = 0;
  int64_t last_time = 0;
};

struct KeyState {
  uint64_t number = 0;
  CampaignKey key;
  std::vector<Sighting> sightings;  // first seen first
  int64_t last_time = 0;            // latest sighting of any organisation
  uint64_t touch = 0;
  bool raised = false;
  std::string campaign_id;
  int64_t campaign_first = 0;
  int64_t campaign_last = 0;
  std::vector<CampaignMember> members;
};

// The key's identity as one string (kind, id and value, each length-prefixed), into `text`.
void WriteKeyText(const CampaignKeyView& key, std::string& text) {
  text.clear();
  for (std::string_view part : {key.kind, key.id, key.value}) {
    uint32_t size = static_cast<uint32_t>(part.size());
    text.append(reinterpret_cast<const char*>(&size), sizeof size);
    text.append(part);
  }
}

std::string KeyText(const CampaignKey& key) {
  std::string text;
  WriteKeyText(key.View(), text);
  return text;
}

// Lets the key index be searched with a view of the reused key text.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

template <typename T>
void Put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}
void PutStr(std::string& out, std::string_view s) {
  Put(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

struct In {
  std::string_view data;
  size_t pos = 0;
  template <typename T>
  bool Get(T& value) {
    if (data.size() - pos < sizeof value) return false;
    std::memcpy(&value, data.data() + pos, sizeof value);
    pos += sizeof value;
    return true;
  }
  bool Str(std::string& s) {
    uint32_t size = 0;
    if (!Get(size) || data.size() - pos < size) return false;
    s.assign(data.data() + pos, size);
    pos += size;
    return true;
  }
};

}  // namespace

struct CampaignTracker::Impl {
  CampaignOptions options;
  bool has_max = false;
  int64_t max_time = 0;
  uint64_t next_number = 1;
  uint64_t next_touch = 0;
  uint64_t evicted = 0;
  std::unordered_map<uint64_t, KeyState> keys;
  std::unordered_map<std::string, uint64_t, TextHash, std::equal_to<>> index;
  std::set<std::pair<int64_t, uint64_t>> expiry;  // (last_time, number)
  std::map<uint64_t, uint64_t> lru;               // touch -> number
  std::string key_text;                           // reused by Observe

  [[nodiscard]] int64_t Horizon() const {
    return has_max ? max_time - options.window_ms : std::numeric_limits<int64_t>::min();
  }

  void Remove(uint64_t number) {
    auto it = keys.find(number);
    if (it == keys.end()) return;
    expiry.erase({it->second.last_time, number});
    lru.erase(it->second.touch);
    index.erase(KeyText(it->second.key));
    keys.erase(it);
  }

  // Rebuilds the derived tables after Restore.
  void Reindex() {
    index.clear();
    expiry.clear();
    lru.clear();
    for (const auto& [number, state] : keys) {
      index.emplace(KeyText(state.key), number);
      expiry.emplace(state.last_time, number);
      lru.emplace(state.touch, number);
    }
  }

  // An attacker's every attempt is observed, so a key seen before costs no allocation: the
  // key is searched by a reused text, and its nodes in the ordered tables are moved, not
  // freed and made again.
  void Observe(const CampaignKeyView& key, std::string_view org, std::string_view alert_id,
               int64_t time, std::vector<CampaignUpdate>& out) {
    if (has_max && time < Horizon()) return;  // older than anything still remembered
    if (!has_max || time > max_time) {
      has_max = true;
      max_time = time;
    }
    while (!expiry.empty() && expiry.begin()->first < Horizon()) Remove(expiry.begin()->second);

    WriteKeyText(key, key_text);
    auto found = index.find(std::string_view(key_text));
    if (found == index.end()) {
      while (keys.size() >= std::max<size_t>(options.max_keys, 1) && !lru.empty()) {
        Remove(lru.begin()->second);
        ++evicted;
      }
      uint64_t number = next_number++;
      KeyState& fresh = keys[number];
      fresh.number = number;
      fresh.key = CampaignKey{std::string(key.kind), std::string(key.id), std::string(key.value),
                              std::string(key.title)};
      fresh.last_time = time;
      expiry.emplace(time, number);
      found = index.emplace(key_text, number).first;
    }
    KeyState& state = keys.at(found->second);
    const uint64_t touch = ++next_touch;
    if (state.touch) {
      auto node = lru.extract(state.touch);
      node.key() = touch;
      lru.insert(std::move(node));
    } else {
      lru.emplace(touch, state.number);
    }
    state.touch = touch;
    if (time > state.last_time) {
      auto node = expiry.extract({state.last_time, state.number});
      node.value().first = time;
      expiry.insert(std::move(node));
      state.last_time = time;
    }
    if (state.key.title.empty()) state.key.title = key.title;

    // Sightings that fell out of the window do not count; forgetting them keeps state small.
    int64_t window = options.window_ms;
    if (!state.raised) {
      std::erase_if(state.sightings,
                    [&](const Sighting& s) { return s.last_time < time - window; });
    }
    auto sighting = std::find_if(state.sightings.begin(), state.sightings.end(),
                                 [&](const Sighting& s) { return s.org == org; });
    if (sighting == state.sightings.end()) {
      state.sightings.push_back({std::string(org), std::string(alert_id), time, time});
      sighting = state.sightings.end() - 1;
    } else {
      sighting->first_time = std::min(sighting->first_time, time);
      sighting->last_time = std::max(sighting->last_time, time);
    }

    if (state.raised) {
      state.campaign_last = std::max(state.campaign_last, time);
      bool member = std::any_of(state.members.begin(), state.members.end(),
                                [&](const CampaignMember& m) { return m.org_id == org; });
      if (member) return;
      state.members.push_back({std::string(org), sighting->alert_id, sighting->first_time});
      state.campaign_first = std::min(state.campaign_first, sighting->first_time);
      out.push_back(Update(state, false));
      return;
    }
    size_t counting = 0;
    for (const Sighting& s : state.sightings)
      counting += s.last_time >= time - window && s.first_time <= time + window;
    if (counting < std::max<size_t>(options.min_organisations, 1)) return;
    std::vector<const Sighting*> counted;
    for (const Sighting& s : state.sightings) {
      if (s.last_time >= time - window && s.first_time <= time + window) counted.push_back(&s);
    }
    std::stable_sort(counted.begin(), counted.end(), [](const Sighting* a, const Sighting* b) {
      return a->first_time < b->first_time;
    });
    state.raised = true;
    state.campaign_id =
        StableId({"campaign", state.key.kind, state.key.id, state.key.value, std::to_string(time)});
    state.campaign_first = counted.front()->first_time;
    state.campaign_last = time;
    for (const Sighting* s : counted) state.members.push_back({s->org, s->alert_id, s->first_time});
    out.push_back(Update(state, true));
  }

  static CampaignUpdate Update(const KeyState& state, bool created) {
    CampaignUpdate update;
    update.id = state.campaign_id;
    update.created = created;
    update.key = state.key;
    update.members = state.members;
    update.first_time_ms = state.campaign_first;
    update.last_time_ms = state.campaign_last;
    return update;
  }

  [[nodiscard]] std::string Snapshot() const {
    std::string out(SNAPSHOT_MAGIC, sizeof SNAPSHOT_MAGIC);
    Put(out, SNAPSHOT_VERSION);
    Put(out, static_cast<uint8_t>(has_max));
    Put(out, max_time);
    Put(out, next_number);
    Put(out, next_touch);
    Put(out, evicted);
    std::vector<uint64_t> numbers;
    for (const auto& [number, state] : keys) numbers.push_back(number);
    std::sort(numbers.begin(), numbers.end());
    Put(out, static_cast<uint64_t>(numbers.size()));
    for (uint64_t number : numbers) {
      const KeyState& s = keys.at(number);
      Put(out, s.number);
      PutStr(out, s.key.kind);
      PutStr(out, s.key.id);
      PutStr(out, s.key.value);
      PutStr(out, s.key.title);
      Put(out, s.last_time);
      Put(out, s.touch);
      Put(out, static_cast<uint8_t>(s.raised));
      PutStr(out, s.campaign_id);
      Put(out, s.campaign_first);
      Put(out, s.campaign_last);
      Put(out, static_cast<uint32_t>(s.sightings.size()));
      for (const Sighting& g : s.sightings) {
        PutStr(out, g.org);
        PutStr(out, g.alert_id);
        Put(out, g.first_time);
        Put(out, g.last_time);
      }
      Put(out, static_cast<uint32_t>(s.members.size()));
      for (const CampaignMember& m : s.members) {
        PutStr(out, m.org_id);
        PutStr(out, m.alert_id);
        Put(out, m.first_time_ms);
      }
    }
    Put(out, static_cast<uint64_t>(XXH3_64bits(out.data(), out.size())));
    return out;
  }

  Result<void> Restore(std::string_view bytes) {
    auto bad = [](std::string_view why) {
      return Fail(std::string("campaign snapshot refused: ") + std::string(why));
    };
    if (bytes.size() < sizeof SNAPSHOT_MAGIC + 8 ||
        std::memcmp(bytes.data(), SNAPSHOT_MAGIC, sizeof SNAPSHOT_MAGIC) != 0)
      return bad("not a campaign snapshot");
    uint64_t checksum = 0;
    std::memcpy(&checksum, bytes.data() + bytes.size() - 8, 8);
    std::string_view body = bytes.substr(0, bytes.size() - 8);
    if (XXH3_64bits(body.data(), body.size()) != checksum) return bad("checksum mismatch");
    In in{body, sizeof SNAPSHOT_MAGIC};
    uint32_t version = 0;
    uint8_t max_flag = 0;
    Impl next;
    next.options = options;
    uint64_t count = 0;
    if (!in.Get(version) || version != SNAPSHOT_VERSION) return bad("unknown version");
    if (!in.Get(max_flag) || max_flag > 1 || !in.Get(next.max_time) || !in.Get(next.next_number) ||
        !in.Get(next.next_touch) || !in.Get(next.evicted) || !in.Get(count))
      return bad("truncated");
    next.has_max = max_flag == 1;
    for (uint64_t k = 0; k < count; ++k) {
      KeyState s;
      uint8_t raised = 0;
      uint32_t sightings = 0;
      uint32_t members = 0;
      if (!in.Get(s.number) || !in.Str(s.key.kind) || !in.Str(s.key.id) || !in.Str(s.key.value) ||
          !in.Str(s.key.title) || !in.Get(s.last_time) || !in.Get(s.touch) || !in.Get(raised) ||
          raised > 1 || !in.Str(s.campaign_id) || !in.Get(s.campaign_first) ||
          !in.Get(s.campaign_last) || !in.Get(sightings))
        return bad("truncated");
      s.raised = raised == 1;
      for (uint32_t i = 0; i < sightings; ++i) {
        Sighting g;
        if (!in.Str(g.org) || !in.Str(g.alert_id) || !in.Get(g.first_time) || !in.Get(g.last_time))
          return bad("truncated");
        s.sightings.push_back(std::move(g));
      }
      if (!in.Get(members)) return bad("truncated");
      for (uint32_t i = 0; i < members; ++i) {
        CampaignMember m;
        if (!in.Str(m.org_id) || !in.Str(m.alert_id) || !in.Get(m.first_time_ms))
          return bad("truncated");
        s.members.push_back(std::move(m));
      }
      if (s.number == 0 || s.number >= next.next_number || s.touch == 0 ||
          s.touch > next.next_touch)
        return bad("inconsistent counters");
      uint64_t number = s.number;
      if (!next.keys.emplace(number, std::move(s)).second) return bad("duplicate key");
    }
    if (in.pos != body.size()) return bad("trailing bytes");
    next.Reindex();
    if (next.index.size() != next.keys.size() || next.lru.size() != next.keys.size())
      return bad("duplicate key");
    *this = std::move(next);
    return {};
  }
};

CampaignTracker::CampaignTracker(CampaignOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}

CampaignTracker::~CampaignTracker() = default;

void CampaignTracker::Observe(const CampaignKeyView& key, std::string_view org_id,
                              std::string_view alert_id, int64_t event_time_ms,
                              std::vector<CampaignUpdate>& out) {
  impl_->Observe(key, org_id, alert_id, event_time_ms, out);
}

void CampaignTracker::Observe(const CampaignKey& key, std::string_view org_id,
                              std::string_view alert_id, int64_t event_time_ms,
                              std::vector<CampaignUpdate>& out) {
  impl_->Observe(key.View(), org_id, alert_id, event_time_ms, out);
}

std::string CampaignTracker::Snapshot() const { return impl_->Snapshot(); }

Result<void> CampaignTracker::Restore(std::string_view snapshot) {
  return impl_->Restore(snapshot);
}

size_t CampaignTracker::keys() const { return impl_->keys.size(); }

uint64_t CampaignTracker::evicted() const { return impl_->evicted; }

}  // namespace yagura::correlate
