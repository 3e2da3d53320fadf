// What live detection hands to the centre's store: alerts and campaigns, as plain data.
//
// The detector (src/pipeline) produces these and the hub (src/hub/alerts.hpp) stores them; the
// two may not include each other, so the vocabulary lives here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace yagura {

// One alert as the detector hands it over (not yet seen by anyone).
struct DetectedAlert {
  std::string id;              // deterministic UUID-shaped id; repeats share their first's
                               // (pipeline/detector.hpp, fold_window_ms)
  std::string kind;            // rule | indicator | correlation | campaign
  std::string org_id;          // whose events raised it (campaign: the centre's organisation)
  std::string rule_id;         // Sigma rule / correlation id, or indicator id
  std::string title;           // rule title or indicator name
  std::string level;           // informational | low | medium | high | critical
  std::vector<std::string> techniques;  // ATT&CK ids from the rule's tags ("T1110.001")
  std::vector<std::string> tags;
  int64_t event_time_ms = 0;   // event time of the (first) event
  int64_t detected_at_ms = 0;
  std::string logsource;       // "product=linux,service=sshd"
  std::string sensor_id;       // token or syslog sender that delivered the event
  uint64_t spool_seq = 0;      // the event's position in the spool (0 for campaigns)
  std::string group_key;       // correlation: group-by values as JSON; campaign: the key
  std::string campaign_id;     // set on member alerts once they belong to a campaign
  std::string details_json;    // the alert as `yagura scan` writes it (rule, event, matched...)
};

// A detection that repeats an alert of the same batch (same id, pipeline/detector.hpp,
// fold_window_ms): the store counts it on that alert, which has everything else. On a brute-force
// stream most detections are repeats, so they are kept this small.
struct DetectedRepeat {
  uint32_t alert = 0;         // index of the repeated alert in the batch's alerts
  uint64_t spool_seq = 0;     // the repeat's event's position in the spool
  int64_t event_time_ms = 0;  // the repeat's event time
};

// A campaign as the detector raises or extends it.
struct DetectedCampaign {
  std::string id;
  std::string key_kind;   // rule | indicator
  std::string key_id;     // rule or indicator id
  std::string key_value;  // source address, domain, hash ("" for indicators)
  std::string title;
  int64_t first_time_ms = 0;
  int64_t last_time_ms = 0;
  struct Member {
    std::string org_id;
    std::string alert_id;
    int64_t first_time_ms = 0;
  };
  std::vector<Member> members;
};

}  // namespace yagura
