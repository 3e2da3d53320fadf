// Alerts and campaigns: storing what live detection found and triaging it (see alerts.hpp).
//
// The detector's batches arrive as one transaction each. Alert ids are deterministic, so an
// insert is `ON CONFLICT (id) DO NOTHING` and a replayed batch changes nothing; campaign rows
// and the campaign id of member alerts are rewritten only when a value really changes, so a
// replay leaves every row as it was. Text from events is made valid UTF-8 without NUL before it
// is stored: PostgreSQL refuses anything else, and one bad byte must not stall detection by
// failing the same batch forever.
//
// Reads follow hub/policy.hpp: an alert's marking (AlertMarking) is TLP:AMBER, owned by its
// organisation and shared with the centre's organisation, and CanRead decides single reads.
// Lists use the same rule as a SQL condition (AlertReadCondition), written beside it. Every
// triage write re-reads the alert, asks the policy, checks the lifecycle, and then updates the
// row on the condition that its status is still the one checked, so two analysts acting at
// once cannot both win (the loser gets a conflict).
#include "hub/alerts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "core/json_value.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "hub/attack.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/identity.hpp"

namespace yagura::hub {
namespace {

constexpr std::string_view OBJECT_TYPE = "alert";

constexpr std::array<std::string_view, 4> STATUS_NAMES = {"new", "acknowledged", "closed",
                                                          "promoted"};
constexpr std::array<std::string_view, 4> KIND_NAMES = {"rule", "indicator", "correlation",
                                                        "campaign"};
constexpr std::array<std::string_view, 5> LEVEL_NAMES = {"informational", "low", "medium", "high",
                                                         "critical"};
constexpr std::array<std::string_view, 3> RESOLUTION_NAMES = {"true_positive", "false_positive",
                                                              "duplicate"};

// An incident holds at most this many alerts in its own JSON (the rest stay findable with
// GET /api/v1/alerts?incident_id=...).
constexpr int INCIDENT_ALERTS_MAX = 1000;
// Indicators copied from one alert into a promoted incident.
constexpr size_t PROMOTED_INDICATORS_MAX = 50;

// The columns every load reads, in this order (see RowToAlert); `details` is appended for
// single reads only.
constexpr std::string_view ALERT_COLUMNS =
    "a.id, a.kind, a.org_id, a.rule_id, a.title, a.level, a.techniques, a.tags, a.event_time, "
    "a.detected_at, a.logsource, a.sensor_id, a.spool_seq, a.group_key, a.campaign_id, "
    "a.status, a.resolution, a.resolution_reason, a.assignee_id, a.incident_id, "
    "a.acknowledged_by, a.acknowledged_at, a.closed_by, a.closed_at, a.created_at, "
    "a.updated_at, a.occurrences, a.last_event_time";

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& names, std::string_view value) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

tl::unexpected<AlertError> Refuse(AlertErrorKind kind, std::string message,
                                  std::string field = {}) {
  return tl::unexpected(AlertError{kind, std::move(message), std::move(field)});
}

tl::unexpected<AlertError> NotFound(std::string_view what = "alert") {
  return Refuse(AlertErrorKind::kNotFound, fmt::format("{} not found", what));
}

// Valid UTF-8 without NUL: invalid sequences and NUL become U+FFFD.
std::string Clean(std::string_view text) {
  static constexpr std::string_view REPLACEMENT = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = text[i] == '\0' ? 0 : Utf8SequenceLength(text, i);
    if (length != 0) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out.append(REPLACEMENT);
      ++i;
    }
  }
  return out;
}

// The first `max` code points of valid UTF-8 text.
std::string Truncate(const std::string& text, size_t max) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && count++ == max) {
      return text.substr(0, i);
    }
  }
  return text;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string JsonArrayText(const std::vector<std::string>& items) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& item : items) array.Push(Clean(item));
  return array.Serialize();
}

std::vector<std::string> ParseStringArray(const std::string& text) {
  std::vector<std::string> items;
  auto parsed = JsonValue::Parse(text);
  if (!parsed || !parsed->is_array()) return items;
  for (const auto& item : parsed->as_array()) {
    if (item.is_string()) items.push_back(item.as_string());
  }
  return items;
}

store::Param OptionalParam(const std::optional<std::string>& value) {
  if (!value) return store::Param{nullptr};
  return store::Param{*value};
}

std::optional<int64_t> OptionalInt(const store::Field& field) {
  if (field.is_null()) return std::nullopt;
  return field.as_int();
}

Alert RowToAlert(const std::vector<store::Field>& row, bool with_details) {
  Alert alert;
  size_t c = 0;
  alert.id = row[c++].text();
  alert.kind = row[c++].text();
  alert.org_id = row[c++].text();
  alert.rule_id = row[c++].text();
  alert.title = row[c++].text();
  alert.level = row[c++].text();
  alert.techniques = ParseStringArray(row[c++].text());
  alert.tags = ParseStringArray(row[c++].text());
  alert.event_time = row[c++].as_int();
  alert.detected_at = row[c++].as_int();
  alert.logsource = row[c++].text();
  alert.sensor_id = row[c++].text();
  alert.spool_seq = row[c++].as_int();
  alert.group_key = row[c++].text();
  alert.campaign_id = row[c++].text();
  alert.status = ParseAlertStatus(row[c++].text()).value_or(AlertStatus::kNew);
  alert.resolution = row[c++].optional_text();
  alert.reason = row[c++].optional_text();
  alert.assignee_id = row[c++].optional_text();
  alert.incident_id = row[c++].optional_text();
  alert.acknowledged_by = row[c++].optional_text();
  alert.acknowledged_at = OptionalInt(row[c++]);
  alert.closed_by = row[c++].optional_text();
  alert.closed_at = OptionalInt(row[c++]);
  alert.created_at = row[c++].as_int();
  alert.updated_at = row[c++].as_int();
  alert.occurrences = row[c++].as_int();
  alert.last_event_time = row[c++].as_int();
  if (with_details) alert.details = row[c++].text();
  return alert;
}

Marking CampaignMarking(const std::vector<std::string>& centre_org_ids) {
  Marking marking;
  marking.tlp = Tlp::kAmber;
  marking.owner_org_id = centre_org_ids.empty() ? std::string("\x01") : centre_org_ids.front();
  marking.shared_org_ids = centre_org_ids;
  return marking;
}

void Audit(store::Connection& connection, const Principal& principal, std::string action,
           const Alert& alert, const JsonValue& detail, int64_t at) {
  AuditEntry entry =
      EntryFor(principal, std::move(action), std::string(OBJECT_TYPE), alert.id, Tlp::kAmber);
  entry.detail = detail.Serialize();
  AuditLog::Append(connection, entry, at);
}

// Loads an alert the principal may triage: kNotFound when it may not read it, kForbidden when
// it may read but not triage.
AlertResult<Alert> LoadForTriage(store::Connection& connection, const Principal& principal,
                                 std::string_view id) {
  auto alert = GetAlert(connection, principal, id);
  if (!alert) return alert;
  if (!can::ReportIncidentFor(principal, alert->org_id)) {
    return Refuse(AlertErrorKind::kForbidden, "your role may not triage this alert");
  }
  return alert;
}

std::optional<AlertError> RequireOpen(const Alert& alert, std::string_view action) {
  if (alert.status == AlertStatus::kNew || alert.status == AlertStatus::kAcknowledged) {
    return std::nullopt;
  }
  std::string why = alert.status == AlertStatus::kClosed
                        ? "the alert is closed; reopen it first"
                        : "the alert was promoted and is handled in its incident";
  return AlertError{AlertErrorKind::kConflict, fmt::format("cannot {}: {}", action, why), {}};
}

// Runs an UPDATE of one alert guarded by its expected status; kConflict when another change
// came first. `assignments` is the SET list with parameters from $3 on ($1 id, $2 status).
AlertResult<void> UpdateGuarded(store::Connection& connection, const Alert& alert,
                                const std::string& assignments, std::vector<store::Param> params) {
  params.insert(params.begin(), store::Param{std::string(ToString(alert.status))});
  params.insert(params.begin(), store::Param{alert.id});
  int64_t changed = connection.Execute(
      fmt::format("UPDATE alerts SET {} WHERE id = $1 AND status = $2", assignments), params);
  if (changed == 0) {
    return Refuse(AlertErrorKind::kConflict, "the alert was changed meanwhile; load it again");
  }
  return {};
}

std::string StatusText(AlertStatus status) { return std::string(ToString(status)); }

// ---- detection ---------------------------------------------------------------------------------

// Inserts `a` as a new alert that already counts `occurrences` events, the last of them at
// `last_event_ms` and spool position `last_seq`. False when its id is stored already.
bool InsertAlert(store::Connection& connection, const DetectedAlert& a, int64_t occurrences,
                 int64_t last_event_ms, uint64_t last_seq, int64_t now_ms, size_t& inserted) {
  std::vector<std::string> techniques;
  for (const auto& technique : a.techniques) {
    std::string upper = Upper(Clean(technique));
    if (!upper.empty() &&
        std::find(techniques.begin(), techniques.end(), upper) == techniques.end()) {
      techniques.push_back(std::move(upper));
    }
  }
  std::string details = a.details_json.empty() ? std::string("{}") : Clean(a.details_json);
  int64_t changed = connection.Execute(
      "INSERT INTO alerts (id, kind, org_id, rule_id, title, level, level_rank, techniques, tags, "
      "event_time, detected_at, logsource, sensor_id, spool_seq, group_key, campaign_id, "
      "details, status, created_at, updated_at, occurrences, last_event_time, last_spool_seq) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'new', "
      "$18, $18, $19, $20, $21) ON CONFLICT (id) DO NOTHING",
      {store::Param{Clean(a.id)},
       store::Param{Clean(a.kind)},
       store::Param{Clean(a.org_id)},
       store::Param{Clean(a.rule_id)},
       store::Param{Clean(a.title)},
       store::Param{Clean(a.level)},
       store::Param{static_cast<int64_t>(AlertLevelRank(a.level))},
       store::Param{JsonArrayText(techniques)},
       store::Param{JsonArrayText(a.tags)},
       store::Param{a.event_time_ms},
       store::Param{a.detected_at_ms},
       store::Param{Clean(a.logsource)},
       store::Param{Clean(a.sensor_id)},
       store::Param{static_cast<int64_t>(a.spool_seq)},
       store::Param{Clean(a.group_key)},
       a.campaign_id.empty() ? store::Param{nullptr} : store::Param{Clean(a.campaign_id)},
       store::Param{std::move(details)},
       store::Param{now_ms},
       store::Param{occurrences},
       store::Param{last_event_ms},
       store::Param{static_cast<int64_t>(last_seq)}});
  if (changed == 0) return false;
  ++inserted;
  for (const auto& technique : techniques) {
    connection.Execute(
        "INSERT INTO alert_techniques (alert_id, technique) VALUES ($1, $2) ON CONFLICT DO "
        "NOTHING",
        {store::Param{Clean(a.id)}, store::Param{technique}});
  }
  return true;
}

// Counts `count` repeats, spool positions `first_seq` to `last_seq`, on the stored alert `id`,
// unless it counted them already. Returns how many were counted (0 or `count`).
int64_t CountRepeats(store::Connection& connection, const std::string& id, int64_t count,
                     int64_t last_event_ms, uint64_t first_seq, uint64_t last_seq, int64_t now_ms) {
  const int64_t changed = connection.Execute(
      "UPDATE alerts SET occurrences = occurrences + $2, last_event_time = CASE WHEN $3 > "
      "last_event_time THEN $3 ELSE last_event_time END, last_spool_seq = $4, updated_at = $5 "
      "WHERE id = $1 AND last_spool_seq < $6",
      {store::Param{id}, store::Param{count}, store::Param{last_event_ms},
       store::Param{static_cast<int64_t>(last_seq)}, store::Param{now_ms},
       store::Param{static_cast<int64_t>(first_seq)}});
  return changed > 0 ? count : 0;
}

// Stores the alerts of one batch. Alerts that share an id are repeats of one alert (the
// detector gives repeats within the fold window the id of the first), and so are the batch's
// `repeats`, which name the alert they repeat: the first alert stored makes the row, and the
// others are counted on it. A repeat counts only when its spool position lies beyond the last
// one the row counted, so a batch replayed after a crash (whole or in part, and cut
// differently) counts nothing twice. Returns the repeats counted on rows that existed before
// this batch or were made by it.
int64_t StoreAlerts(store::Connection& connection, std::span<const DetectedAlert> alerts,
                    std::span<const DetectedRepeat> batch_repeats, int64_t now_ms,
                    size_t& inserted) {
  // Positions of the alerts by id, in the batch's (spool) order.
  std::vector<size_t> order(alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return alerts[x].id < alerts[y].id; });
  // The repeats of each alert, as ranges of one array ordered by alert.
  std::vector<uint32_t> repeats_from(alerts.size() + 1, 0);
  for (const auto& r : batch_repeats) ++repeats_from[r.alert + 1];
  for (size_t i = 1; i < repeats_from.size(); ++i) repeats_from[i] += repeats_from[i - 1];
  std::vector<const DetectedRepeat*> repeats_of(batch_repeats.size());
  {
    std::vector<uint32_t> next(repeats_from.begin(), repeats_from.end() - 1);
    for (const auto& r : batch_repeats) repeats_of[next[r.alert]++] = &r;
  }
  int64_t repeats = 0;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    while (end < order.size() && alerts[order[end]].id == alerts[order[begin]].id) ++end;
    const DetectedAlert& first = alerts[order[begin]];
    const std::string id = Clean(first.id);
    // Every detection of the group: its alerts and their repeats, as (spool position, time).
    auto for_each_detection = [&](auto&& visit) {
      for (size_t k = begin; k < end; ++k) {
        const size_t a = order[k];
        visit(alerts[a].spool_seq, alerts[a].event_time_ms);
        for (uint32_t r = repeats_from[a]; r < repeats_from[a + 1]; ++r)
          visit(repeats_of[r]->spool_seq, repeats_of[r]->event_time_ms);
      }
    };
    const bool alone =
        end - begin == 1 && repeats_from[order[begin]] == repeats_from[order[begin] + 1];
    if (first.spool_seq == 0) {
      // Campaign alerts come again with every update of their campaign: not repeats.
      InsertAlert(connection, first, 1, first.event_time_ms, 0, now_ms, inserted);
    } else if (alone) {
      // The common case in one statement; a replay of it changes nothing.
      if (!InsertAlert(connection, first, 1, first.event_time_ms, first.spool_seq, now_ms,
                       inserted)) {
        repeats += CountRepeats(connection, id, 1, first.event_time_ms, first.spool_seq,
                                first.spool_seq, now_ms);
      }
    } else {
      store::Rows row =
          connection.Query("SELECT last_spool_seq FROM alerts WHERE id = $1", {store::Param{id}});
      const bool exists = !row.empty();
      const auto counted_to = exists ? static_cast<uint64_t>(row.rows[0][0].as_int()) : 0;
      int64_t count = 0;
      int64_t last_event = 0;
      uint64_t first_seq = 0;
      uint64_t last_seq = 0;
      for_each_detection([&](uint64_t seq, int64_t event_time) {
        if (exists && seq <= counted_to) return;
        if (count == 0 || event_time > last_event) last_event = event_time;
        first_seq = count == 0 ? seq : std::min(first_seq, seq);
        last_seq = std::max(last_seq, seq);
        ++count;
      });
      if (!exists) {
        InsertAlert(connection, first, count, last_event, last_seq, now_ms, inserted);
        repeats += count - 1;
      } else if (count > 0) {
        repeats += CountRepeats(connection, id, count, last_event, first_seq, last_seq, now_ms);
      }
    }
    begin = end;
  }
  return repeats;
}

// Creates the campaign or brings it up to date; true when a row changed.
bool UpsertCampaign(store::Connection& connection, const DetectedCampaign& k, int64_t now_ms) {
  std::string id = Clean(k.id);
  int64_t first = k.first_time_ms;
  int64_t last = k.last_time_ms;
  for (const auto& member : k.members) {
    first = std::min(first, member.first_time_ms);
    last = std::max(last, member.first_time_ms);
  }
  store::Rows existing = connection.Query(
      "SELECT first_time, last_time, title, org_count FROM campaigns WHERE id = $1",
      {store::Param{id}});
  bool changed = false;
  if (existing.empty()) {
    connection.Execute(
        "INSERT INTO campaigns (id, key_kind, key_id, key_value, title, first_time, last_time, "
        "org_count, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, "
        "'open', $8, $8)",
        {store::Param{id}, store::Param{Clean(k.key_kind)}, store::Param{Clean(k.key_id)},
         store::Param{Clean(k.key_value)}, store::Param{Clean(k.title)}, store::Param{first},
         store::Param{last}, store::Param{now_ms}});
    changed = true;
  }
  for (const auto& member : k.members) {
    changed |= connection.Execute(
                   "INSERT INTO campaign_members (campaign_id, org_id, alert_id, first_time) "
                   "VALUES ($1, $2, $3, $4) ON CONFLICT (campaign_id, org_id) DO NOTHING",
                   {store::Param{id}, store::Param{Clean(member.org_id)},
                    store::Param{Clean(member.alert_id)}, store::Param{member.first_time_ms}}) > 0;
    changed |=
        connection.Execute(
            "UPDATE alerts SET campaign_id = $1, updated_at = $2 WHERE id = $3 AND "
            "(campaign_id IS NULL OR campaign_id <> $1)",
            {store::Param{id}, store::Param{now_ms}, store::Param{Clean(member.alert_id)}}) > 0;
  }
  int64_t org_count =
      connection
          .Query("SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1", {store::Param{id}})
          .rows.at(0)
          .at(0)
          .as_int();
  std::string title = Clean(k.title);
  if (!existing.empty()) {
    const auto& row = existing.rows[0];
    first = std::min(first, row[0].as_int());
    last = std::max(last, row[1].as_int());
    if (first == row[0].as_int() && last == row[1].as_int() && title == row[2].text() &&
        org_count == row[3].as_int()) {
      return changed;
    }
  }
  connection.Execute(
      "UPDATE campaigns SET first_time = $2, last_time = $3, title = $4, org_count = $5, "
      "updated_at = $6 WHERE id = $1 AND (first_time <> $2 OR last_time <> $3 OR title <> $4 OR "
      "org_count <> $5)",
      {store::Param{id}, store::Param{first}, store::Param{last}, store::Param{title},
       store::Param{org_count}, store::Param{now_ms}});
  return true;
}

// ---- promotion ---------------------------------------------------------------------------------

// The incident's indicator type for an intelligence observable type (intel/indicator.hpp).
std::string IndicatorTypeOf(std::string_view observable) {
  std::string type = Lower(observable);
  if (type == "ipv4" || type == "ipv6" || type == "ip") return "ip";
  if (type == "domain" || type == "url" || type == "hash" || type == "email") return type;
  if (type == "file-name" || type == "file_name") return "file_name";
  return "other";
}

// The type of a campaign key value: an address, a hash or a domain (the kinds of values
// campaigns are keyed by, correlate/campaigns.hpp).
std::string IndicatorTypeOfValue(std::string_view value) {
  bool hex = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
  if (hex && (value.size() == 32 || value.size() == 40 || value.size() == 64)) return "hash";
  bool address = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
           c == ':';
  });
  if (address && (value.find(':') != std::string_view::npos ||
                  std::count(value.begin(), value.end(), '.') == 3)) {
    return "ip";
  }
  if (value.find("://") != std::string_view::npos) return "url";
  if (value.find('.') != std::string_view::npos) return "domain";
  return "other";
}

std::vector<Indicator> IndicatorsOf(store::Connection& connection, const Alert& alert) {
  std::vector<Indicator> indicators;
  auto add = [&](std::string type, const std::string& value) {
    if (value.empty() || indicators.size() >= PROMOTED_INDICATORS_MAX) return;
    std::string text = Truncate(Clean(value), INCIDENT_INDICATOR_VALUE_MAX);
    for (const auto& known : indicators) {
      if (known.type == type && known.value == text) return;
    }
    indicators.push_back({std::move(type), std::move(text)});
  };
  auto details = JsonValue::Parse(alert.details);
  if (details && details->is_object()) {
    const JsonValue* indicator = details->Find("indicator");
    const JsonValue* values = details->Find("matched_values");
    if (indicator != nullptr && indicator->is_object() && values != nullptr && values->is_array()) {
      const JsonValue* type = indicator->Find("type");
      std::string indicator_type =
          IndicatorTypeOf(type != nullptr && type->is_string() ? type->as_string() : "");
      for (const auto& item : values->as_array()) {
        const JsonValue* value = item.Find("value");
        if (value != nullptr && value->is_string()) add(indicator_type, value->as_string());
      }
    }
  }
  if (!alert.campaign_id.empty()) {
    store::Rows key = connection.Query("SELECT key_kind, key_value FROM campaigns WHERE id = $1",
                                       {store::Param{alert.campaign_id}});
    if (!key.empty() && key.rows[0][0].text() == "rule" && !key.rows[0][1].text().empty()) {
      add(IndicatorTypeOfValue(key.rows[0][1].text()), key.rows[0][1].text());
    }
  }
  return indicators;
}

std::string DescriptionOf(const Alert& alert) {
  std::string text = fmt::format("Promoted from {} alert {}: \"{}\" (rule {}, level {}).",
                                 alert.kind, alert.id, alert.title, alert.rule_id, alert.level);
  text += fmt::format("\nEvent time: {}. Detected: {}.", FormatTimestampMs(alert.event_time),
                      FormatTimestampMs(alert.detected_at));
  if (!alert.logsource.empty()) text += fmt::format("\nLog source: {}.", alert.logsource);
  if (!alert.sensor_id.empty()) text += fmt::format("\nSensor: {}.", alert.sensor_id);
  if (!alert.techniques.empty()) {
    std::string list;
    for (const auto& technique : alert.techniques) list += (list.empty() ? "" : ", ") + technique;
    text += fmt::format("\nATT&CK techniques: {}.", list);
  }
  if (!alert.campaign_id.empty()) {
    text += fmt::format("\nPart of campaign {} seen at several organisations.", alert.campaign_id);
  }
  return Truncate(text, INCIDENT_DESCRIPTION_MAX);
}

}  // namespace

// The SQL form of CanRead(principal, AlertMarking(alert, centre organisations)) over alias
// `a`, clause for clause: the owner clause is `a.org_id = $org`; the shared clause ("the
// caller's organisation is a centre organisation") holds for every row or none, so it is a
// subquery on organizations that the database evaluates once. An alert has no author, named
// recipients or assignee grants, and TLP:AMBER has no community clause. For a caller outside
// the centre the shared clause is false and left out, so the organisation's index serves the
// page. Appends its parameter to `params`.
std::string AlertReadCondition(const Principal& principal, std::vector<store::Param>& params) {
  params.emplace_back(principal.org_id.empty() ? std::string("\x01") : principal.org_id);
  std::string org = fmt::format("${}", params.size());
  if (!principal.IsCentreStaff()) return fmt::format("a.org_id = {}", org);
  return fmt::format(
      "(a.org_id = {0} OR EXISTS (SELECT 1 FROM organizations o WHERE o.id = {0} AND "
      "o.type = 'centre'))",
      org);
}

// ---- vocabulary
// ----------------------------------------------------------------------------------

std::string_view ToString(AlertStatus status) { return STATUS_NAMES[static_cast<size_t>(status)]; }

std::optional<AlertStatus> ParseAlertStatus(std::string_view text) {
  for (size_t i = 0; i < STATUS_NAMES.size(); ++i) {
    if (STATUS_NAMES[i] == text) return static_cast<AlertStatus>(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> AlertStatusNames() { return STATUS_NAMES; }
std::span<const std::string_view> AlertKindNames() { return KIND_NAMES; }
std::span<const std::string_view> AlertLevelNames() { return LEVEL_NAMES; }
std::span<const std::string_view> AlertResolutionNames() { return RESOLUTION_NAMES; }

int AlertLevelRank(std::string_view level) {
  for (size_t i = 0; i < LEVEL_NAMES.size(); ++i) {
    if (LEVEL_NAMES[i] == level) return static_cast<int>(i) + 1;
  }
  return 0;
}

// ---- detection
// -----------------------------------------------------------------------------------

Result<size_t> InsertDetections(store::Database& database, std::span<const DetectedAlert> alerts,
                                std::span<const DetectedCampaign> campaigns, int64_t now_ms,
                                size_t* repeats_out) {
  return InsertDetections(database, alerts, {}, campaigns, now_ms, repeats_out);
}

Result<size_t> InsertDetections(store::Database& database, std::span<const DetectedAlert> alerts,
                                std::span<const DetectedRepeat> batch_repeats,
                                std::span<const DetectedCampaign> campaigns, int64_t now_ms,
                                size_t* repeats_out) {
  if (repeats_out != nullptr) *repeats_out = 0;
  for (size_t i = 0; i < batch_repeats.size(); ++i) {
    if (batch_repeats[i].alert >= alerts.size()) {
      return Fail(fmt::format("repeat {} of the batch names alert {} of {}", i,
                              batch_repeats[i].alert, alerts.size()));
    }
  }
  if (alerts.empty() && campaigns.empty()) return size_t{0};
  try {
    return database.Transact([&](store::Connection& connection) {
      size_t inserted = 0;
      const int64_t repeats = StoreAlerts(connection, alerts, batch_repeats, now_ms, inserted);
      int64_t campaigns_changed = 0;
      for (const auto& campaign : campaigns) {
        if (UpsertCampaign(connection, campaign, now_ms)) ++campaigns_changed;
      }
      JsonValue detail = JsonValue::MakeObject();
      detail.Set("alerts", static_cast<int64_t>(alerts.size() + batch_repeats.size()));
      detail.Set("new", static_cast<int64_t>(inserted));
      detail.Set("repeats", repeats);
      detail.Set("campaigns", static_cast<int64_t>(campaigns.size()));
      detail.Set("campaigns_changed", campaigns_changed);
      AuditEntry entry =
          EntryFor(SystemPrincipal(), "alert.detect", std::string(OBJECT_TYPE), "", Tlp::kAmber);
      entry.detail = detail.Serialize();
      AuditLog::Append(connection, entry, now_ms);
      if (repeats_out != nullptr) *repeats_out = static_cast<size_t>(repeats);
      return inserted;
    });
  } catch (const store::DatabaseError& error) {
    return Fail(fmt::format("storing {} alerts and {} campaigns failed: {}", alerts.size(),
                            campaigns.size(), error.what()));
  }
}

// ---- reads
// ---------------------------------------------------------------------------------------

std::vector<std::string> CentreOrganizationIds(store::Connection& connection) {
  std::vector<std::string> ids;
  for (const auto& row :
       connection.Query("SELECT id FROM organizations WHERE type = 'centre' ORDER BY id").rows) {
    ids.push_back(row[0].text());
  }
  return ids;
}

Marking AlertMarking(const Alert& alert, const std::vector<std::string>& centre_org_ids) {
  Marking marking;
  marking.tlp = Tlp::kAmber;
  marking.owner_org_id = alert.org_id;
  marking.shared_org_ids = centre_org_ids;
  return marking;
}

AlertResult<Alert> GetAlert(store::Connection& connection, const Principal& principal,
                            std::string_view id) {
  if (!PlausibleId(id)) return NotFound();
  store::Rows rows = connection.Query(
      fmt::format("SELECT {}, a.details FROM alerts a WHERE a.id = $1", ALERT_COLUMNS),
      {store::Param{std::string(id)}});
  if (rows.empty()) return NotFound();
  Alert alert = RowToAlert(rows.rows[0], true);
  if (!CanRead(principal, AlertMarking(alert, CentreOrganizationIds(connection)))) {
    return NotFound();
  }
  return alert;
}

AlertPage ListAlerts(store::Connection& connection, const Principal& principal,
                     const AlertFilter& filter,
                     std::optional<std::pair<int64_t, std::string>> before, int limit) {
  auto implausible = [](const std::optional<std::string>& id) { return id && !PlausibleId(*id); };
  limit = std::clamp(limit, 1, 1000);
  // Rule ids are usually UUIDs, but a correlation rule without an id is named by its title.
  bool odd_rule = filter.rule_id && (filter.rule_id->empty() || filter.rule_id->size() > 512 ||
                                     Clean(*filter.rule_id) != *filter.rule_id);
  if (odd_rule || implausible(filter.org_id) || implausible(filter.campaign_id) ||
      implausible(filter.assignee_id) || implausible(filter.incident_id) ||
      (filter.kind && !OneOf(KIND_NAMES, *filter.kind)) ||
      (before && !PlausibleId(before->second))) {
    return AlertPage{};
  }
  std::optional<std::string> technique;
  if (filter.technique) {
    technique = Upper(*filter.technique);
    bool valid = technique->size() >= 2 && technique->size() <= 16 && (*technique)[0] == 'T' &&
                 std::all_of(technique->begin() + 1, technique->end(),
                             [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (!valid) return AlertPage{};
  }
  std::vector<store::Param> params;
  std::string sql = fmt::format("SELECT {} FROM alerts a WHERE {}", ALERT_COLUMNS,
                                AlertReadCondition(principal, params));
  auto next = [&](store::Param param) {
    params.push_back(std::move(param));
    return fmt::format("${}", params.size());
  };
  auto equal = [&](std::string_view column, const std::optional<std::string>& value) {
    if (value) sql += fmt::format(" AND a.{} = {}", column, next(*value));
  };
  equal("org_id", filter.org_id);
  equal("rule_id", filter.rule_id);
  equal("kind", filter.kind);
  equal("campaign_id", filter.campaign_id);
  equal("assignee_id", filter.assignee_id);
  equal("incident_id", filter.incident_id);
  if (filter.status) equal("status", StatusText(*filter.status));
  if (filter.level_min) {
    sql += fmt::format(" AND a.level_rank >= {}", next(static_cast<int64_t>(*filter.level_min)));
  }
  if (technique) {
    std::string exact = next(*technique);
    std::string sub = next(*technique + ".%");
    sql += fmt::format(
        " AND EXISTS (SELECT 1 FROM alert_techniques t WHERE t.alert_id = a.id AND "
        "(t.technique = {} OR t.technique LIKE {}))",
        exact, sub);
  }
  if (filter.since) sql += fmt::format(" AND a.event_time >= {}", next(*filter.since));
  if (filter.until) sql += fmt::format(" AND a.event_time < {}", next(*filter.until));
  if (before) {
    std::string at = next(before->first);
    std::string id = next(before->second);
    sql += fmt::format(" AND (a.event_time < {0} OR (a.event_time = {0} AND a.id < {1}))", at, id);
  }
  sql += fmt::format(" ORDER BY a.event_time DESC, a.id DESC LIMIT {}",
                     next(static_cast<int64_t>(limit) + 1));
  AlertPage page;
  for (const auto& row : connection.Query(sql, params).rows) {
    page.items.push_back(RowToAlert(row, false));
  }
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.resize(static_cast<size_t>(limit));
    page.more = true;
  }
  return page;
}

std::vector<AlertRef> AlertsOfIncident(store::Connection& connection, const Principal& principal,
                                       std::string_view incident_id) {
  std::vector<AlertRef> refs;
  if (!PlausibleId(incident_id)) return refs;
  std::vector<store::Param> params = {store::Param{std::string(incident_id)}};
  std::string condition = AlertReadCondition(principal, params);
  params.emplace_back(static_cast<int64_t>(INCIDENT_ALERTS_MAX));
  store::Rows rows = connection.Query(
      fmt::format("SELECT a.id, a.title, a.level, a.kind, a.org_id, a.event_time FROM alerts a "
                  "WHERE a.incident_id = $1 AND {} ORDER BY a.event_time, a.id LIMIT ${}",
                  condition, params.size()),
      params);
  for (const auto& row : rows.rows) {
    refs.push_back({row[0].text(), row[1].text(), row[2].text(), row[3].text(), row[4].text(),
                    row[5].as_int()});
  }
  return refs;
}

// ---- triage
// --------------------------------------------------------------------------------------

AlertResult<Alert> AcknowledgeAlert(store::Connection& connection, const Principal& principal,
                                    std::string_view id, int64_t now_ms) {
  auto alert = LoadForTriage(connection, principal, id);
  if (!alert) return alert;
  if (alert->status != AlertStatus::kNew) {
    return Refuse(AlertErrorKind::kConflict,
                  fmt::format("only a new alert can be acknowledged; this one is {}",
                              ToString(alert->status)));
  }
  auto updated = UpdateGuarded(
      connection, *alert,
      "status = 'acknowledged', acknowledged_by = $3, acknowledged_at = $4, updated_at = $4",
      {store::Param{principal.user_id}, store::Param{now_ms}});
  if (!updated) return tl::unexpected(updated.error());
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", StatusText(alert->status));
  detail.Set("to", "acknowledged");
  Audit(connection, principal, "alert.acknowledge", *alert, detail, now_ms);
  return GetAlert(connection, principal, id);
}

AlertResult<Alert> AssignAlert(store::Connection& connection, const Principal& principal,
                               std::string_view id, const std::optional<std::string>& assignee_id,
                               int64_t now_ms) {
  auto alert = LoadForTriage(connection, principal, id);
  if (!alert) return alert;
  if (auto error = RequireOpen(*alert, "assign")) return tl::unexpected(*error);
  if (assignee_id) {
    std::string_view allowed = principal.IsCentreStaff()
                                   ? "an active user of the alert's organization or of the centre"
                                   : "an active user of the alert's organization";
    auto refuse = [&] {
      return Refuse(AlertErrorKind::kInvalid, fmt::format("assignee_id must name {}", allowed),
                    "assignee_id");
    };
    if (!PlausibleId(*assignee_id)) return refuse();
    store::Rows user = connection.Query(
        "SELECT u.org_id, o.type, u.disabled FROM users u JOIN organizations o ON o.id = u.org_id "
        "WHERE u.id = $1",
        {store::Param{*assignee_id}});
    if (user.empty() || user.rows[0][2].as_bool()) return refuse();
    bool own = user.rows[0][0].text() == alert->org_id;
    bool centre = user.rows[0][1].text() == "centre";
    if (!own && !(centre && principal.IsCentreStaff())) return refuse();
  }
  if (alert->assignee_id == assignee_id) return alert;
  auto updated = UpdateGuarded(connection, *alert, "assignee_id = $3, updated_at = $4",
                               {OptionalParam(assignee_id), store::Param{now_ms}});
  if (!updated) return tl::unexpected(updated.error());
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", alert->assignee_id ? JsonValue(*alert->assignee_id) : JsonValue());
  detail.Set("to", assignee_id ? JsonValue(*assignee_id) : JsonValue());
  Audit(connection, principal, "alert.assign", *alert, detail, now_ms);
  return GetAlert(connection, principal, id);
}

AlertResult<Alert> CloseAlert(store::Connection& connection, const Principal& principal,
                              std::string_view id, const std::string& resolution,
                              const std::string& reason, int64_t now_ms) {
  auto alert = LoadForTriage(connection, principal, id);
  if (!alert) return alert;
  if (!OneOf(RESOLUTION_NAMES, resolution)) {
    return Refuse(AlertErrorKind::kInvalid,
                  "resolution must be one of: true_positive, false_positive, duplicate",
                  "resolution");
  }
  if (Clean(reason) != reason || CodePoints(reason) > ALERT_REASON_MAX) {
    return Refuse(
        AlertErrorKind::kInvalid,
        fmt::format("reason must be UTF-8 text of at most {} characters", ALERT_REASON_MAX),
        "reason");
  }
  bool blank = std::all_of(reason.begin(), reason.end(),
                           [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
  if (resolution == "false_positive" && blank) {
    return Refuse(AlertErrorKind::kInvalid,
                  "reason is required for a false positive: say why it is not an attack, so the "
                  "rule can be tuned",
                  "reason");
  }
  if (auto error = RequireOpen(*alert, "close")) return tl::unexpected(*error);
  auto updated =
      UpdateGuarded(connection, *alert,
                    "status = 'closed', resolution = $3, resolution_reason = $4, closed_by = $5, "
                    "closed_at = $6, updated_at = $6",
                    {store::Param{resolution}, blank ? store::Param{nullptr} : store::Param{reason},
                     store::Param{principal.user_id}, store::Param{now_ms}});
  if (!updated) return tl::unexpected(updated.error());
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", StatusText(alert->status));
  detail.Set("to", "closed");
  detail.Set("resolution", resolution);
  Audit(connection, principal, "alert.close", *alert, detail, now_ms);
  return GetAlert(connection, principal, id);
}

AlertResult<Alert> ReopenAlert(store::Connection& connection, const Principal& principal,
                               std::string_view id, int64_t now_ms) {
  auto alert = LoadForTriage(connection, principal, id);
  if (!alert) return alert;
  if (alert->status != AlertStatus::kClosed) {
    return Refuse(AlertErrorKind::kConflict,
                  alert->status == AlertStatus::kPromoted
                      ? "a promoted alert is handled in its incident and cannot be reopened"
                      : "only a closed alert can be reopened");
  }
  auto updated = UpdateGuarded(
      connection, *alert,
      "status = 'acknowledged', resolution = NULL, resolution_reason = NULL, closed_by = NULL, "
      "closed_at = NULL, acknowledged_by = COALESCE(acknowledged_by, $3), "
      "acknowledged_at = COALESCE(acknowledged_at, $4), updated_at = $4",
      {store::Param{principal.user_id}, store::Param{now_ms}});
  if (!updated) return tl::unexpected(updated.error());
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", "closed");
  detail.Set("to", "acknowledged");
  detail.Set("resolution", alert->resolution ? JsonValue(*alert->resolution) : JsonValue());
  Audit(connection, principal, "alert.reopen", *alert, detail, now_ms);
  return GetAlert(connection, principal, id);
}

std::string GuessIncidentCategory(const Alert& alert) {
  // Most specific first: the technique that names what happened decides.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> BY_TECHNIQUE = {{
      {"T1491", "web_defacement"},
      {"T1498", "ddos"},
      {"T1499", "ddos"},
      {"T1566", "phishing"},
      {"T1598", "phishing"},
      {"T1486", "malware"},
      {"T1490", "malware"},
      {"T1204", "malware"},
      {"T1041", "data_leak"},
      {"T1048", "data_leak"},
      {"T1567", "data_leak"},
      {"T1190", "intrusion"},
      {"T1133", "intrusion"},
      {"T1210", "intrusion"},
      {"T1110", "unauthorized_access"},
      {"T1078", "unauthorized_access"},
  }};
  for (const auto& [prefix, category] : BY_TECHNIQUE) {
    for (const auto& technique : alert.techniques) {
      std::string upper = Upper(technique);
      if (upper == prefix || upper.starts_with(std::string(prefix) + ".")) {
        return std::string(category);
      }
    }
  }
  for (const auto& tag : alert.tags) {
    std::string lower = Lower(tag);
    if (lower.find("ransomware") != std::string::npos ||
        lower.find("malware") != std::string::npos) {
      return "malware";
    }
    if (lower.find("phishing") != std::string::npos) return "phishing";
    if (lower == "attack.exfiltration") return "data_leak";
    if (lower == "attack.credential_access") return "unauthorized_access";
  }
  return "other";
}

AlertResult<IncidentReport> ReportFromAlert(store::Connection& connection,
                                            const Principal& principal, const Alert& alert,
                                            const PromoteOverrides& overrides) {
  IncidentReport report;
  report.title = overrides.title.value_or(
      Truncate(alert.title.empty() ? "Alert " + alert.rule_id : alert.title, INCIDENT_TITLE_MAX));
  report.description = overrides.summary.value_or(DescriptionOf(alert));
  report.category = overrides.category.value_or(GuessIncidentCategory(alert));
  // What a detection alone establishes; the triager refines these on the incident.
  report.functional_impact = "no_impact_to_services";
  report.information_impact = "suspected_but_not_identified";
  report.recoverability = "regular";
  report.location = "U";
  report.detected_at = std::max<int64_t>(alert.detected_at, 0);
  if (alert.event_time > 0 && alert.event_time <= report.detected_at) {
    report.occurred_at = alert.event_time;
  }
  report.indicators = IndicatorsOf(connection, alert);
  // The alert's ATT&CK techniques carry over; once a catalogue is imported, only those it
  // knows (an incident refuses the others, and a detection must not fail on a stale tag).
  bool catalogue = AttackCatalogueLoaded(connection);
  for (const auto& technique : ResolveTechniques(connection, alert.techniques)) {
    if (!catalogue || technique.known) report.techniques.push_back(technique.id);
  }
  report.tlp = overrides.tlp.value_or(Tlp::kAmber);
  if (overrides.point_of_contact) {
    report.point_of_contact = *overrides.point_of_contact;
  } else {
    // The promoting user, reached at their own address or else their organisation's, or the
    // alert's organisation's.
    store::Rows user = connection.Query(
        "SELECT u.display_name, u.email, o.contact_email FROM users u "
        "JOIN organizations o ON o.id = u.org_id WHERE u.id = $1",
        {store::Param{principal.user_id}});
    store::Rows org = connection.Query("SELECT contact_email FROM organizations WHERE id = $1",
                                       {store::Param{alert.org_id}});
    std::string name = principal.username;
    std::string email;
    if (!user.empty()) {
      if (!user.rows[0][0].text().empty()) name = user.rows[0][0].text();
      email = !user.rows[0][1].text().empty() ? user.rows[0][1].text() : user.rows[0][2].text();
    }
    if (email.empty() && !org.empty()) email = org.rows[0][0].text();
    if (email.empty()) {
      return Refuse(AlertErrorKind::kInvalid,
                    "point_of_contact is required: neither you, your organization nor the "
                    "alert's organization has an e-mail address",
                    "point_of_contact");
    }
    report.point_of_contact.name = name.empty() ? std::string("Yagura") : name;
    report.point_of_contact.email = email;
  }
  return report;
}

AlertResult<Incident> PromoteAlert(store::Connection& connection, const Principal& principal,
                                   std::string_view id, const PromoteOverrides& overrides,
                                   int64_t now_ms) {
  auto alert = LoadForTriage(connection, principal, id);
  if (!alert) return tl::unexpected(alert.error());
  if (auto error = RequireOpen(*alert, "promote")) return tl::unexpected(*error);
  auto report = ReportFromAlert(connection, principal, *alert, overrides);
  if (!report) return tl::unexpected(report.error());
  auto incident = CreateIncident(connection, principal, *report, alert->org_id, now_ms);
  if (!incident) {
    AlertError error = incident.error();
    if (error.field == "description") {
      error.field = "summary";
      error.message = "summary: " + error.message;
    }
    return tl::unexpected(std::move(error));
  }
  auto updated =
      UpdateGuarded(connection, *alert, "status = 'promoted', incident_id = $3, updated_at = $4",
                    {store::Param{incident->id}, store::Param{now_ms}});
  if (!updated) return tl::unexpected(updated.error());
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", StatusText(alert->status));
  detail.Set("to", "promoted");
  detail.Set("incident_id", incident->id);
  detail.Set("reference", incident->reference);
  Audit(connection, principal, "alert.promote", *alert, detail, now_ms);
  return incident;
}

AlertResult<Alert> AttachAlert(store::Connection& connection, const Principal& principal,
                               std::string_view id, const std::string& incident_id,
                               int64_t now_ms) {
  auto alert = LoadForTriage(connection, principal, id);
  if (!alert) return alert;
  if (auto error = RequireOpen(*alert, "attach")) return tl::unexpected(*error);
  auto incident = GetIncident(connection, principal, incident_id);
  if (!incident) {
    return Refuse(AlertErrorKind::kInvalid, "incident_id names no incident you can read",
                  "incident_id");
  }
  if (!can::EditIncidentReport(principal, incident->ToMarking())) {
    return Refuse(AlertErrorKind::kForbidden, "you may not add alerts to this incident");
  }
  if (incident->status == IncidentStatus::kClosed) {
    return Refuse(AlertErrorKind::kConflict,
                  "the incident is closed; it must be reopened before alerts are added");
  }
  auto updated =
      UpdateGuarded(connection, *alert, "status = 'promoted', incident_id = $3, updated_at = $4",
                    {store::Param{incident->id}, store::Param{now_ms}});
  if (!updated) return tl::unexpected(updated.error());
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("from", StatusText(alert->status));
  detail.Set("to", "promoted");
  detail.Set("incident_id", incident->id);
  detail.Set("reference", incident->reference);
  Audit(connection, principal, "alert.attach", *alert, detail, now_ms);
  return GetAlert(connection, principal, id);
}

// ---- campaigns
// -----------------------------------------------------------------------------------

namespace {

constexpr std::string_view CAMPAIGN_COLUMNS =
    "c.id, c.key_kind, c.key_id, c.key_value, c.title, c.first_time, c.last_time, c.org_count, "
    "c.status, c.created_at, c.updated_at";

Campaign RowToCampaign(const std::vector<store::Field>& row) {
  Campaign campaign;
  campaign.id = row[0].text();
  campaign.key_kind = row[1].text();
  campaign.key_id = row[2].text();
  campaign.key_value = row[3].text();
  campaign.title = row[4].text();
  campaign.first_time = row[5].as_int();
  campaign.last_time = row[6].as_int();
  campaign.org_count = row[7].as_int();
  campaign.status = row[8].text();
  campaign.created_at = row[9].as_int();
  campaign.updated_at = row[10].as_int();
  return campaign;
}

}  // namespace

AlertResult<Campaign> GetCampaign(store::Connection& connection, const Principal& principal,
                                  std::string_view id) {
  if (!PlausibleId(id)) return NotFound("campaign");
  std::vector<std::string> centre = CentreOrganizationIds(connection);
  if (centre.empty() || !CanRead(principal, CampaignMarking(centre))) return NotFound("campaign");
  store::Rows rows =
      connection.Query(fmt::format("SELECT {} FROM campaigns c WHERE c.id = $1", CAMPAIGN_COLUMNS),
                       {store::Param{std::string(id)}});
  if (rows.empty()) return NotFound("campaign");
  Campaign campaign = RowToCampaign(rows.rows[0]);
  for (const auto& row :
       connection
           .Query("SELECT org_id, alert_id, first_time FROM campaign_members WHERE "
                  "campaign_id = $1 ORDER BY first_time, org_id",
                  {store::Param{campaign.id}})
           .rows) {
    campaign.members.push_back({row[0].text(), row[1].text(), row[2].as_int()});
  }
  for (const auto& row :
       connection
           .Query("SELECT id FROM alerts WHERE campaign_id = $1 AND kind = 'campaign' "
                  "ORDER BY event_time, id",
                  {store::Param{campaign.id}})
           .rows) {
    campaign.alert_ids.push_back(row[0].text());
  }
  return campaign;
}

CampaignPage ListCampaigns(store::Connection& connection, const Principal& principal,
                           std::optional<std::pair<int64_t, std::string>> before, int limit) {
  CampaignPage page;
  limit = std::clamp(limit, 1, 1000);
  if (before && !PlausibleId(before->second)) return page;
  // The SQL form of CanRead(principal, CampaignMarking(centre organisations)): the caller's
  // organisation is one of the centre's.
  std::vector<store::Param> params = {
      store::Param{principal.org_id.empty() ? std::string("\x01") : principal.org_id}};
  std::string sql = fmt::format(
      "SELECT {} FROM campaigns c WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = $1 "
      "AND o.type = 'centre')",
      CAMPAIGN_COLUMNS);
  if (before) {
    params.emplace_back(before->first);
    params.emplace_back(before->second);
    sql += " AND (c.created_at < $2 OR (c.created_at = $2 AND c.id < $3))";
  }
  params.emplace_back(static_cast<int64_t>(limit) + 1);
  sql += fmt::format(" ORDER BY c.created_at DESC, c.id DESC LIMIT ${}", params.size());
  for (const auto& row : connection.Query(sql, params).rows) {
    page.items.push_back(RowToCampaign(row));
  }
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.resize(static_cast<size_t>(limit));
    page.more = true;
  }
  return page;
}

}  // namespace yagura::hub
