// Alerts: what streaming detection found in an organisation's events, kept in the centre's
// database for triage (issue: live GSOC monitoring).
//
// Kinds: `rule` (a Sigma rule matched one event), `indicator` (a threat-intelligence indicator
// matched), `correlation` (a Sigma correlation rule fired over several events) and `campaign`
// (the same attack seen at several organisations; owned by the centre).
//
// Ids are chosen by the detector, deterministically from the spool position and the rule, so
// inserting the same alert twice (a replay after a crash) is a no-op: InsertDetections() uses
// INSERT ... ON CONFLICT DO NOTHING and reports how many were new.
//
// Repeats: a rule or indicator that fires again for the same organisation and host within the
// detector's fold window (pipeline/detector.hpp, `fold_window_ms`) gets the id of its first
// alert, and InsertDetections() counts it there (`occurrences`, `last_event_time`) instead of
// storing a row of its own. The row keeps the first event's details. A brute-force campaign
// of a million attempts is then a handful of alerts with their counts, which is both what an
// analyst wants to see and what the store can write at the rate such a stream arrives. Each
// row remembers the spool position of the last repeat it counted, so replays count nothing
// twice.
//
// Lifecycle: new -> acknowledged -> closed (as true_positive, false_positive with a reason, or
// duplicate), or promoted into an incident (new or existing); closed alerts can be reopened.
// Access follows hub/policy.hpp: an alert is an AMBER object owned by the organisation whose
// events raised it, readable by that organisation and the centre's staff; campaigns are owned
// by the centre, and an organisation sees only its own member alerts of a campaign (their
// campaign id, never the other members).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/detection.hpp"
#include "core/result.hpp"
#include "hub/incidents.hpp"
#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// The detector's output (core/detection.hpp): shared with src/pipeline, which may not include
// the hub.
using DetectedAlert = yagura::DetectedAlert;
using DetectedCampaign = yagura::DetectedCampaign;
using DetectedRepeat = yagura::DetectedRepeat;

// Stores what the detector found, in one transaction: new alerts (existing ids are left as
// they are, or count the batch's repeats of them), campaigns (created or their members and times
// updated) and the campaign id of their member alerts. Returns the number of alerts that were new;
// `repeats`, when given, is set to the repeats counted on alerts (new or stored before). Written
// by the detector as the system; each batch is one audit entry ("alert.detect") with the counts.
// `batch_repeats` are repeats of the batch's alerts (DetectedRepeat), counted as alerts that
// share an id are.
Result<size_t> InsertDetections(store::Database& database, std::span<const DetectedAlert> alerts,
                                std::span<const DetectedRepeat> batch_repeats,
                                std::span<const DetectedCampaign> campaigns, int64_t now_ms,
                                size_t* repeats = nullptr);
Result<size_t> InsertDetections(store::Database& database, std::span<const DetectedAlert> alerts,
                                std::span<const DetectedCampaign> campaigns, int64_t now_ms,
                                size_t* repeats = nullptr);

// ---- triage -----------------------------------------------------------------------------------
//
// The functions below take the caller's connection and run inside the caller's transaction, as
// hub/incidents.hpp does: the writes append their audit entry ("alert.acknowledge",
// "alert.assign", "alert.close", "alert.reopen", "alert.promote", "alert.attach") in it.
// Refusals reuse the incidents' error kinds (invalid 400, forbidden 403, not found 404,
// conflict 409): promotion creates an incident, so one vocabulary serves both.
//
// Who may do what (docs/access-policy.md, "Alerts and campaigns"):
//   - read an alert: users of its organisation and the centre's staff. In policy terms an
//     alert is a TLP:AMBER object owned by its organisation and shared with the centre's
//     organisation (AlertMarking); campaign alerts are owned by the centre, so only its staff
//     read them. An organisation sees the campaign id on its own member alerts, never the
//     campaign itself or the other members.
//   - triage it (acknowledge, assign, close, reopen, promote): whoever may report an incident
//     for the alert's organisation (can::ReportIncidentFor) — centre_admin and centre_analyst
//     for every organisation, org_admin and org_reporter for their own — because triage ends in
//     a report or in the decision not to make one.
//   - assign it to: a user of the alert's organisation, or, when the assigner is centre staff,
//     a user of the centre. An organisation does not task the centre's people.
//   - attach it to an existing incident: may triage the alert, may read the incident and may
//     edit its report (can::EditIncidentReport).
//   - campaigns: the centre's staff only.

using AlertError = IncidentError;
using AlertErrorKind = IncidentErrorKind;
template <typename T>
using AlertResult = IncidentResult<T>;

enum class AlertStatus { kNew, kAcknowledged, kClosed, kPromoted };

// "new", "acknowledged", "closed", "promoted".
std::string_view ToString(AlertStatus status);
std::optional<AlertStatus> ParseAlertStatus(std::string_view text);
std::span<const std::string_view> AlertStatusNames();
// "rule", "indicator", "correlation", "campaign".
std::span<const std::string_view> AlertKindNames();
// "informational", "low", "medium", "high", "critical" (Sigma's levels, least severe first).
std::span<const std::string_view> AlertLevelNames();
// 1 (informational) .. 5 (critical); 0 for a level that is none of these.
int AlertLevelRank(std::string_view level);
// "true_positive", "false_positive", "duplicate".
std::span<const std::string_view> AlertResolutionNames();

inline constexpr size_t ALERT_REASON_MAX = 2000;

struct Alert {
  std::string id;
  std::string kind;
  std::string org_id;
  std::string rule_id;
  std::string title;
  std::string level;
  std::vector<std::string> techniques;
  std::vector<std::string> tags;
  int64_t event_time = 0;
  int64_t detected_at = 0;
  std::string logsource;
  std::string sensor_id;
  int64_t spool_seq = 0;
  std::string group_key;    // as the detector wrote it ("" when none)
  std::string campaign_id;  // "" when not part of a campaign
  std::string details;      // the detection as JSON text (empty in list pages)
  AlertStatus status = AlertStatus::kNew;
  std::optional<std::string> resolution;
  std::optional<std::string> reason;
  std::optional<std::string> assignee_id;
  std::optional<std::string> incident_id;
  std::optional<std::string> acknowledged_by;
  std::optional<int64_t> acknowledged_at;
  std::optional<std::string> closed_by;
  std::optional<int64_t> closed_at;
  int64_t created_at = 0;  // when the centre stored it
  int64_t updated_at = 0;
  int64_t occurrences = 1;      // events it stands for: the first and its repeats
  int64_t last_event_time = 0;  // event time of the latest of them (always stored)
};

// The access-relevant facts of an alert: TLP:AMBER, owned by its organisation, shared with the
// centre's organisations (`centre_org_ids`, see CentreOrganizationIds).
Marking AlertMarking(const Alert& alert, const std::vector<std::string>& centre_org_ids);
// The ids of the organisations of type "centre" (normally one).
std::vector<std::string> CentreOrganizationIds(store::Connection& connection);
// The SQL form of CanRead(principal, AlertMarking(...)) over the alerts table aliased `a`, as
// the lists use it, for other reads over alerts (the ATT&CK heatmap's counts). Appends its
// parameter to `params` and numbers it accordingly.
std::string AlertReadCondition(const Principal& principal, std::vector<store::Param>& params);

// kNotFound when it does not exist or the principal may not read it.
AlertResult<Alert> GetAlert(store::Connection& connection, const Principal& principal,
                            std::string_view id);

// Lists: filters, all optional, combined with AND.
struct AlertFilter {
  std::optional<std::string> org_id;
  std::optional<int> level_min;  // AlertLevelRank
  std::optional<std::string> rule_id;
  // "T1110" also matches its sub-techniques ("T1110.001").
  std::optional<std::string> technique;
  std::optional<std::string> kind;
  std::optional<AlertStatus> status;
  std::optional<std::string> campaign_id;
  std::optional<int64_t> since;  // event_time >= since
  std::optional<int64_t> until;  // event_time < until
  std::optional<std::string> assignee_id;
  std::optional<std::string> incident_id;
};

struct AlertPage {
  std::vector<Alert> items;  // without details
  bool more = false;         // another page follows the last item
};

// Newest event first (event_time desc, id desc); `before` is the (event_time, id) of the last
// item of the previous page. Event time, not arrival, because that is what analysts correlate
// and what since/until mean; a late event lands at its place in time (watch status=new for
// what is unseen). Filtered in SQL by the same rule as GetAlert: a page never holds an alert a
// single read would refuse. One query per page.
AlertPage ListAlerts(store::Connection& connection, const Principal& principal,
                     const AlertFilter& filter,
                     std::optional<std::pair<int64_t, std::string>> before, int limit);

// new -> acknowledged; kConflict from any other status.
AlertResult<Alert> AcknowledgeAlert(store::Connection& connection, const Principal& principal,
                                    std::string_view id, int64_t now_ms);

// Sets (or with nullopt clears) the assignee of a new or acknowledged alert.
AlertResult<Alert> AssignAlert(store::Connection& connection, const Principal& principal,
                               std::string_view id, const std::optional<std::string>& assignee_id,
                               int64_t now_ms);

// new or acknowledged -> closed with a resolution; false_positive needs a non-empty reason.
AlertResult<Alert> CloseAlert(store::Connection& connection, const Principal& principal,
                              std::string_view id, const std::string& resolution,
                              const std::string& reason, int64_t now_ms);

// closed -> acknowledged (someone has looked at it); resolution and reason are cleared.
// A promoted alert is handled in its incident and cannot be reopened.
AlertResult<Alert> ReopenAlert(store::Connection& connection, const Principal& principal,
                               std::string_view id, int64_t now_ms);

// What the promoting user may set instead of what is guessed from the alert.
struct PromoteOverrides {
  std::optional<std::string> title;
  std::optional<std::string> category;
  std::optional<Tlp> tlp;
  std::optional<std::string> summary;  // the incident's description
  std::optional<PointOfContact> point_of_contact;
};

// The report an alert would become: title, a category guessed from its ATT&CK techniques, TLP
// AMBER, the description, detection and event times, indicators where the alert names them
// (matched indicator values, a campaign's key) and the point of contact (the promoting user,
// else the organisation's contact address). kInvalid when no e-mail address is known for the
// point of contact and none is given.
AlertResult<IncidentReport> ReportFromAlert(store::Connection& connection,
                                            const Principal& principal, const Alert& alert,
                                            const PromoteOverrides& overrides);
// The category guessed from techniques and tags ("other" when nothing fits).
std::string GuessIncidentCategory(const Alert& alert);

// new or acknowledged -> promoted: creates an incident reported for the alert's organisation
// (hub::CreateIncident, with its own audit entry) and links the alert to it.
AlertResult<Incident> PromoteAlert(store::Connection& connection, const Principal& principal,
                                   std::string_view id, const PromoteOverrides& overrides,
                                   int64_t now_ms);

// new or acknowledged -> promoted, linked to an existing incident.
AlertResult<Alert> AttachAlert(store::Connection& connection, const Principal& principal,
                               std::string_view id, const std::string& incident_id, int64_t now_ms);

// The alerts linked to an incident that the principal may read, oldest event first (for the
// incident's own page; the caller has checked that the incident is readable).
struct AlertRef {
  std::string id;
  std::string title;
  std::string level;
  std::string kind;
  std::string org_id;
  int64_t event_time = 0;
};
std::vector<AlertRef> AlertsOfIncident(store::Connection& connection, const Principal& principal,
                                       std::string_view incident_id);

// ---- campaigns --------------------------------------------------------------------------------

struct CampaignMemberInfo {
  std::string org_id;
  std::string alert_id;
  int64_t first_time = 0;
};

struct Campaign {
  std::string id;
  std::string key_kind;
  std::string key_id;
  std::string key_value;
  std::string title;
  int64_t first_time = 0;
  int64_t last_time = 0;
  int64_t org_count = 0;
  std::string status;  // "open"
  int64_t created_at = 0;
  int64_t updated_at = 0;
  std::vector<CampaignMemberInfo> members;  // filled by GetCampaign, first seen first
  std::vector<std::string> alert_ids;       // campaign alerts raised for it (GetCampaign)
};

// The centre's staff only; kNotFound for everyone else, as for a campaign that does not exist.
AlertResult<Campaign> GetCampaign(store::Connection& connection, const Principal& principal,
                                  std::string_view id);

struct CampaignPage {
  std::vector<Campaign> items;  // without members
  bool more = false;
};
// Newest first (created_at desc, id desc); empty for anyone but the centre's staff.
CampaignPage ListCampaigns(store::Connection& connection, const Principal& principal,
                           std::optional<std::pair<int64_t, std::string>> before, int limit);

}  // namespace yagura::hub
