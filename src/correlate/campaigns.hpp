// CampaignTracker: one attacker seen by several organisations.
//
// No single agency can see that the address probing it is probing three others: the centre can.
// Every alert the detector emits is offered here with its campaign keys: the indicator that
// matched, or the rule that fired together with the attacker-side values of the event (source
// address, domain, hash). When the same key is seen at `min_organisations` or more distinct
// organisations within `window_ms` of event time, a campaign is raised; organisations that
// join later extend the same campaign (its id does not change) instead of raising another.
// Deterministic and snapshotted like CorrelationEngine, and bounded by `max_keys` (oldest
// evicted first).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"

namespace yagura::correlate {

struct CampaignOptions {
  size_t min_organisations = 3;
  int64_t window_ms = 24 * 3600 * 1000LL;
  size_t max_keys = 1'000'000;
};

// What makes two alerts "the same attack": kind ("indicator" or "rule"), the indicator or rule
// id, and for rules the key value ("" for indicators, whose id is the key).
struct CampaignKeyView {
  std::string_view kind;
  std::string_view id;
  std::string_view value;
  std::string_view title;  // rule title or indicator name, for the campaign's title
};

struct CampaignKey {
  std::string kind;
  std::string id;
  std::string value;
  std::string title;

  [[nodiscard]] CampaignKeyView View() const { return {kind, id, value, title}; }
};

// The attacker-side values of an event that rule campaigns are keyed by: source addresses,
// queried or contacted domains, file hashes. Call InternFields before building the parser.
// The fields (KEY_FIELDS in campaigns.cpp, docs/correlation.md): addresses IpAddress,
// SourceIp, SourceAddress, ClientAddress, src_ip, source.ip, client.ip, client_ip, c-ip,
// id.orig_h, remote_addr; domains DestinationHostname, QueryName, dns.question.name, query,
// url.domain; hashes Hashes/Hash ("SHA256=..,MD5=.." split, IMPHASH left out), sha256, sha1,
// md5 and their ECS hash.* / file.hash.* names. Destination addresses are not keys: for most
// events they are the organisation's own servers. Values that are not an address, a domain or
// a hash in the field's kind are skipped, as are internal names (single-label, .local, .lan,
// .internal, .corp, .home, .arpa) and carrier-grade NAT and multicast addresses.
class CampaignKeyFields {
 public:
  static void InternFields(event::FieldCatalog& catalog);
  explicit CampaignKeyFields(const event::FieldCatalog& catalog);
  // Appends (field name, value) pairs found in the event; values normalised (lower-case
  // domains and hashes, IPv4-mapped IPv6 as IPv4), private/loopback/unspecified addresses left
  // out (they name a machine inside an organisation, not an attacker).
  void Extract(const event::Event& event,
               std::vector<std::pair<std::string, std::string>>& out) const;

 private:
  struct KeyField {
    std::string name;
    event::FieldId id;
    uint8_t kind;  // address, domain, hash or hash list (campaigns.cpp), found once here
  };
  std::vector<KeyField> fields_;
};

struct CampaignMember {
  std::string org_id;
  std::string alert_id;        // the first alert of that organisation in the campaign
  int64_t first_time_ms = 0;
};

struct CampaignUpdate {
  std::string id;  // deterministic: hash of the key and the time it was first raised
  bool created = false;  // false: an organisation joined an existing campaign
  CampaignKey key;
  std::vector<CampaignMember> members;  // all of them, first seen first
  int64_t first_time_ms = 0;
  int64_t last_time_ms = 0;
};

class CampaignTracker {
 public:
  explicit CampaignTracker(CampaignOptions options = {});
  ~CampaignTracker();
  CampaignTracker(const CampaignTracker&) = delete;
  CampaignTracker& operator=(const CampaignTracker&) = delete;

  // Offers one alert; appends a CampaignUpdate when it raises a campaign or adds an
  // organisation to one.
  void Observe(const CampaignKeyView& key, std::string_view org_id, std::string_view alert_id,
               int64_t event_time_ms, std::vector<CampaignUpdate>& out);
  void Observe(const CampaignKey& key, std::string_view org_id, std::string_view alert_id,
               int64_t event_time_ms, std::vector<CampaignUpdate>& out);

  [[nodiscard]] std::string Snapshot() const;
  [[nodiscard]] Result<void> Restore(std::string_view snapshot);
  [[nodiscard]] size_t keys() const;
  [[nodiscard]] uint64_t evicted() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::correlate
