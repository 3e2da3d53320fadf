// Evidence items and their chain of custody (rules in evidence.hpp).
//
// The item's row holds what changes (holder, location, status, the stored file's name); the
// custody events hold how it came to be so. VerifyEvidence replays the events to check the
// row's hashes and size against what the chain recorded, so a hash edited in the database
// without an event is found, as is an event edited, removed or moved.
#include "hub/evidence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "core/time.hpp"
#include "hub/crypto.hpp"
#include "hub/text_checks.hpp"

namespace yagura::hub {
namespace {

constexpr std::array<std::string_view, 9> KIND_NAMES = {
    "disk_image",      "memory_image",    "log_collection",
    "network_capture", "mobile_device",   "document",
    "malware_sample",  "physical_device", "other"};
constexpr std::array<std::string_view, 4> STATUS_NAMES = {"in_custody", "checked_out", "released",
                                                          "destroyed"};
constexpr std::array<std::string_view, 13> ACTION_NAMES = {
    "acquired", "transferred", "checked_out",   "checked_in", "examined", "verified", "copied",
    "sealed",   "unsealed",    "content_added", "accessed",   "released", "destroyed"};
constexpr std::array<std::string_view, 10> RECORDABLE_NAMES = {
    "transferred", "checked_out", "checked_in", "examined", "verified",
    "copied",      "sealed",      "unsealed",   "released", "destroyed"};

// Before the first event there is nothing: its predecessor's hash is all zeros.
const std::string GENESIS_HASH(64, '0');

constexpr std::string_view EVIDENCE_COLUMNS =
    "id, case_id, number, label, description, kind, source_org_id, source_host, acquired_at, "
    "acquired_by, acquisition_method, sha256, sha1, md5, size, holder, location, status, "
    "filename, content_type, has_content, created_by, created_at, updated_at, seal";

constexpr std::string_view CUSTODY_COLUMNS =
    "id, evidence_id, seq, action, at, recorded_at, recorded_by, holder_from, holder_to, "
    "location, purpose, seal, sha256_observed, outcome, detail, prev_hash, hash";

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& names, std::string_view value) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

CaseError Invalid(std::string message, std::string field) {
  return InvalidCaseField(std::move(message), std::move(field));
}

tl::unexpected<CaseError> NotFound(std::string_view what) { return CaseNotFound(what); }

std::optional<CaseError> CheckText(std::string_view field, const std::string& text,
                                   size_t max_length, bool required) {
  return CheckCaseText(field, text, max_length, required);
}

std::optional<CaseError> CheckOptionalText(std::string_view field,
                                           const std::optional<std::string>& text,
                                           size_t max_length) {
  if (!text) return std::nullopt;
  return CheckText(field, *text, max_length, true);
}

bool IsHex(std::string_view text, size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::optional<CaseError> CheckDigest(std::string_view field, const std::optional<std::string>& hex,
                                     size_t length, std::string_view name) {
  if (!hex || IsHex(*hex, length)) return std::nullopt;
  return Invalid(
      fmt::format("{} must be a {} in {} lower-case hexadecimal digits", field, name, length),
      std::string(field));
}

store::Param Optional(const std::optional<std::string>& value) {
  return value ? store::Param{*value} : store::Param{nullptr};
}

store::Param OptionalInt(const std::optional<int64_t>& value) {
  return value ? store::Param{*value} : store::Param{nullptr};
}

std::string Reference(const Case& kase, int64_t number) {
  return fmt::format("{}-E{:03d}", kase.reference, number);
}

EvidenceItem RowToItem(const std::vector<store::Field>& row) {
  EvidenceItem item;
  item.id = row[0].text();
  item.case_id = row[1].text();
  item.number = row[2].as_int();
  EvidenceRegistration& r = item.registration;
  r.label = row[3].text();
  r.description = row[4].text();
  r.kind = row[5].text();
  r.source_org_id = row[6].optional_text();
  r.source_host = row[7].optional_text();
  r.acquired_at = row[8].as_int();
  r.acquired_by = row[9].text();
  r.acquisition_method = row[10].optional_text();
  r.sha256 = row[11].optional_text();
  r.sha1 = row[12].optional_text();
  r.md5 = row[13].optional_text();
  if (!row[14].is_null()) r.size = row[14].as_int();
  item.holder = row[15].text();
  item.location = row[16].optional_text();
  item.status = row[17].text();
  item.filename = row[18].optional_text();
  item.content_type = row[19].optional_text();
  item.has_content = row[20].as_int() != 0;
  item.created_by = row[21].text();
  item.created_at = row[22].as_int();
  item.updated_at = row[23].as_int();
  r.seal = row[24].optional_text();
  return item;
}

CustodyEvent RowToEvent(const std::vector<store::Field>& row) {
  CustodyEvent event;
  event.id = row[0].text();
  event.evidence_id = row[1].text();
  event.seq = row[2].as_int();
  event.action = row[3].text();
  event.at = row[4].as_int();
  event.recorded_at = row[5].as_int();
  event.recorded_by = row[6].text();
  event.holder_from = row[7].text();
  event.holder_to = row[8].text();
  event.location = row[9].optional_text();
  event.purpose = row[10].text();
  event.seal = row[11].optional_text();
  event.sha256_observed = row[12].optional_text();
  event.outcome = row[13].text();
  event.detail = row[14].text();
  event.prev_hash = row[15].text();
  event.hash = row[16].text();
  return event;
}

std::optional<EvidenceItem> LoadItem(store::Connection& connection, const Case& kase,
                                     std::string_view evidence_id) {
  if (!PlausibleId(evidence_id)) return std::nullopt;
  store::Rows rows = connection.Query(
      fmt::format("SELECT {}, (SELECT COUNT(*) FROM custody_events c WHERE c.evidence_id = "
                  "e.id) FROM evidence e WHERE e.id = $1 AND e.case_id = $2",
                  EVIDENCE_COLUMNS),
      {store::Param{std::string(evidence_id)}, store::Param{kase.id}});
  if (rows.empty()) return std::nullopt;
  EvidenceItem item = RowToItem(rows.rows[0]);
  item.reference = Reference(kase, item.number);
  item.custody_events = rows.rows[0][25].as_int();
  return item;
}

std::vector<CustodyEvent> LoadChain(store::Connection& connection, std::string_view evidence_id) {
  std::vector<CustodyEvent> events;
  for (const auto& row :
       connection
           .Query(fmt::format("SELECT {} FROM custody_events WHERE evidence_id = $1 ORDER BY seq",
                              CUSTODY_COLUMNS),
                  {store::Param{std::string(evidence_id)}})
           .rows) {
    events.push_back(RowToEvent(row));
  }
  return events;
}

JsonValue RegistrationJson(const EvidenceRegistration& r) {
  JsonValue json = JsonValue::MakeObject();
  auto optional = [&](std::string_view key, const std::optional<std::string>& value) {
    json.Set(key, value ? JsonValue(*value) : JsonValue());
  };
  json.Set("label", r.label);
  json.Set("kind", r.kind);
  optional("source_org_id", r.source_org_id);
  optional("source_host", r.source_host);
  json.Set("acquired_by", r.acquired_by);
  optional("acquisition_method", r.acquisition_method);
  optional("sha256", r.sha256);
  optional("sha1", r.sha1);
  optional("md5", r.md5);
  json.Set("size", r.size ? JsonValue(*r.size) : JsonValue());
  optional("seal", r.seal);
  return json;
}

// Appends one event at the end of the item's chain (the caller holds the item's lock).
CustodyEvent AppendEvent(store::Connection& connection, CustodyEvent event) {
  store::Rows last = connection.Query(
      "SELECT seq, hash FROM custody_events WHERE evidence_id = $1 ORDER BY seq DESC LIMIT 1",
      {store::Param{event.evidence_id}});
  event.seq = last.empty() ? 1 : last.rows[0][0].as_int() + 1;
  event.prev_hash = last.empty() ? GENESIS_HASH : last.rows[0][1].text();
  if (event.id.empty()) event.id = NewId();
  if (event.detail.empty()) event.detail = "{}";
  event.hash = CustodyHashOf(event);
  connection.Execute(
      fmt::format("INSERT INTO custody_events ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                  "$10, $11, $12, $13, $14, $15, $16, $17)",
                  CUSTODY_COLUMNS),
      {store::Param{event.id}, store::Param{event.evidence_id}, store::Param{event.seq},
       store::Param{event.action}, store::Param{event.at}, store::Param{event.recorded_at},
       store::Param{event.recorded_by}, store::Param{event.holder_from},
       store::Param{event.holder_to}, Optional(event.location), store::Param{event.purpose},
       Optional(event.seal), Optional(event.sha256_observed), store::Param{event.outcome},
       store::Param{event.detail}, store::Param{event.prev_hash}, store::Param{event.hash}});
  return event;
}

// Two custody events recorded at once for one item must not both read the same last event.
void LockItem(store::Connection& connection, std::string_view evidence_id) {
  store::SerializeWith(connection, fmt::format("custody {}", evidence_id));
}

// An event the centre writes itself (a file stored, a file read): the item stays where it is,
// with whom it is.
CustodyEvent CentreEvent(const EvidenceItem& item, std::string action, const Principal& principal,
                         int64_t now_ms) {
  CustodyEvent event;
  event.evidence_id = item.id;
  event.action = std::move(action);
  event.at = now_ms;
  event.recorded_at = now_ms;
  event.recorded_by = principal.user_id;
  event.holder_from = item.holder;
  event.holder_to = item.holder;
  event.location = item.location;
  return event;
}

bool Terminal(std::string_view status) { return status == "released" || status == "destroyed"; }

JsonValue EventDetail(const EvidenceItem& item, const CustodyEvent& event) {
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("evidence_id", item.id);
  detail.Set("reference", item.reference);
  detail.Set("action", event.action);
  detail.Set("seq", event.seq);
  if (!event.outcome.empty()) detail.Set("outcome", event.outcome);
  return detail;
}

}  // namespace

std::span<const std::string_view> EvidenceKindNames() { return KIND_NAMES; }
std::span<const std::string_view> EvidenceStatusNames() { return STATUS_NAMES; }
std::span<const std::string_view> CustodyActionNames() { return ACTION_NAMES; }
std::span<const std::string_view> RecordableCustodyActionNames() { return RECORDABLE_NAMES; }

std::string CustodyHashOf(const CustodyEvent& event) {
  // A JSON array of every field in a fixed order: unambiguous (each value is delimited and
  // escaped), and the same text on every machine.
  JsonValue fields = JsonValue::MakeArray();
  auto optional = [&](const std::optional<std::string>& value) {
    fields.Push(value ? JsonValue(*value) : JsonValue());
  };
  fields.Push(event.evidence_id);
  fields.Push(event.seq);
  fields.Push(event.action);
  fields.Push(event.at);
  fields.Push(event.recorded_at);
  fields.Push(event.recorded_by);
  fields.Push(event.holder_from);
  fields.Push(event.holder_to);
  optional(event.location);
  fields.Push(event.purpose);
  optional(event.seal);
  optional(event.sha256_observed);
  fields.Push(event.outcome);
  fields.Push(event.detail);
  fields.Push(event.prev_hash);
  return Sha256Hex(fields.Serialize());
}

CaseResult<EvidenceItem> RegisterEvidence(store::Connection& connection, const Principal& principal,
                                          std::string_view case_id,
                                          const EvidenceRegistration& registration,
                                          int64_t now_ms) {
  auto kase = CaseForWork(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  const EvidenceRegistration& r = registration;
  std::optional<CaseError> error;
  if ((error = CheckText("label", r.label, EVIDENCE_LABEL_MAX, true)) ||
      (error = CheckText("description", r.description, CASE_TEXT_MAX, false)) ||
      (error = CheckText("acquired_by", r.acquired_by, EVIDENCE_FIELD_MAX, true)) ||
      (error = CheckText("holder", r.holder, EVIDENCE_FIELD_MAX, true)) ||
      (error = CheckOptionalText("source_host", r.source_host, EVIDENCE_FIELD_MAX)) ||
      (error = CheckOptionalText("acquisition_method", r.acquisition_method, EVIDENCE_FIELD_MAX)) ||
      (error = CheckOptionalText("location", r.location, EVIDENCE_FIELD_MAX)) ||
      (error = CheckOptionalText("seal", r.seal, EVIDENCE_FIELD_MAX)) ||
      (error = CheckDigest("sha256", r.sha256, 64, "SHA-256")) ||
      (error = CheckDigest("sha1", r.sha1, 40, "SHA-1")) ||
      (error = CheckDigest("md5", r.md5, 32, "MD5"))) {
    return tl::unexpected(*error);
  }
  if (!OneOf(KIND_NAMES, r.kind)) {
    return tl::unexpected(Invalid("kind is not one of the evidence kinds", "kind"));
  }
  if (r.size && *r.size < 0) return tl::unexpected(Invalid("size must not be negative", "size"));
  if (r.acquired_at > now_ms + CUSTODY_CLOCK_SKEW_MS) {
    return tl::unexpected(Invalid("acquired_at is in the future", "acquired_at"));
  }
  if (r.source_org_id &&
      (!PlausibleId(*r.source_org_id) ||
       connection
           .Query("SELECT 1 FROM organizations WHERE id = $1", {store::Param{*r.source_org_id}})
           .empty())) {
    return tl::unexpected(Invalid("source_org_id names no organization", "source_org_id"));
  }
  store::SerializeWith(connection, fmt::format("evidence {}", kase->id));
  store::Rows count =
      connection.Query("SELECT COUNT(*), COALESCE(MAX(number), 0) FROM evidence WHERE case_id = $1",
                       {store::Param{kase->id}});
  if (count.rows[0][0].as_int() >= static_cast<int64_t>(EVIDENCE_PER_CASE_MAX)) {
    return RefuseCase(
        CaseErrorKind::kConflict,
        fmt::format("a case holds at most {} items of evidence", EVIDENCE_PER_CASE_MAX));
  }
  EvidenceItem item;
  item.id = NewId();
  item.case_id = kase->id;
  item.number = count.rows[0][1].as_int() + 1;
  item.reference = Reference(*kase, item.number);
  item.registration = r;
  item.status = "in_custody";
  item.holder = r.holder;
  item.location = r.location;
  item.created_by = principal.user_id;
  item.created_at = item.updated_at = now_ms;
  connection.Execute(
      fmt::format("INSERT INTO evidence ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                  "$11, $12, $13, $14, $15, $16, $17, $18, NULL, NULL, 0, $19, $20, $20, $21)",
                  EVIDENCE_COLUMNS),
      {store::Param{item.id},
       store::Param{item.case_id},
       store::Param{item.number},
       store::Param{r.label},
       store::Param{r.description},
       store::Param{r.kind},
       Optional(r.source_org_id),
       Optional(r.source_host),
       store::Param{r.acquired_at},
       store::Param{r.acquired_by},
       Optional(r.acquisition_method),
       Optional(r.sha256),
       Optional(r.sha1),
       Optional(r.md5),
       OptionalInt(r.size),
       store::Param{r.holder},
       Optional(r.location),
       store::Param{item.status},
       store::Param{principal.user_id},
       store::Param{now_ms},
       Optional(r.seal)});
  CustodyEvent acquired;
  acquired.evidence_id = item.id;
  acquired.action = "acquired";
  acquired.at = r.acquired_at;
  acquired.recorded_at = now_ms;
  acquired.recorded_by = principal.user_id;
  acquired.holder_from = r.acquired_by;
  acquired.holder_to = r.holder;
  acquired.location = r.location;
  acquired.purpose = r.acquisition_method.value_or("");
  acquired.seal = r.seal;
  acquired.sha256_observed = r.sha256;
  acquired.detail = RegistrationJson(r).Serialize();
  acquired = AppendEvent(connection, std::move(acquired));
  item.custody_events = 1;
  JsonValue detail = EventDetail(item, acquired);
  detail.Set("label", r.label);
  detail.Set("kind", r.kind);
  if (r.sha256) detail.Set("sha256", *r.sha256);
  RecordCaseActivity(connection, principal, *kase, "evidence_registered", "case.evidence.register",
                     detail, now_ms);
  return item;
}

CaseResult<std::vector<EvidenceItem>> ListEvidence(store::Connection& connection,
                                                   const Principal& principal,
                                                   std::string_view case_id) {
  auto kase = CaseForRead(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  std::vector<EvidenceItem> items;
  for (const auto& row :
       connection
           .Query(fmt::format("SELECT {}, (SELECT COUNT(*) FROM custody_events c WHERE "
                              "c.evidence_id = e.id) FROM evidence e WHERE e.case_id = $1 "
                              "ORDER BY e.number",
                              EVIDENCE_COLUMNS),
                  {store::Param{kase->id}})
           .rows) {
    EvidenceItem item = RowToItem(row);
    item.reference = Reference(*kase, item.number);
    item.custody_events = row[25].as_int();
    items.push_back(std::move(item));
  }
  return items;
}

CaseResult<EvidenceItem> GetEvidence(store::Connection& connection, const Principal& principal,
                                     std::string_view case_id, std::string_view evidence_id) {
  auto kase = CaseForRead(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  auto item = LoadItem(connection, *kase, evidence_id);
  if (!item) return NotFound("evidence");
  return std::move(*item);
}

CaseResult<CustodyEvent> RecordCustody(store::Connection& connection, const Principal& principal,
                                       std::string_view case_id, std::string_view evidence_id,
                                       const CustodyRecord& record, int64_t now_ms) {
  auto kase = CaseForWork(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  if (!PlausibleId(evidence_id)) return NotFound("evidence");
  LockItem(connection, evidence_id);
  auto item = LoadItem(connection, *kase, evidence_id);
  if (!item) return NotFound("evidence");
  const std::string& action = record.action;
  if (!OneOf(RECORDABLE_NAMES, action)) {
    return tl::unexpected(
        Invalid(OneOf(ACTION_NAMES, action)
                    ? fmt::format("{} is recorded by the centre itself, not by hand", action)
                    : std::string("action is not one of the custody actions"),
                "action"));
  }
  std::optional<CaseError> error;
  if ((error = CheckOptionalText("to_holder", record.to_holder, EVIDENCE_FIELD_MAX)) ||
      (error = CheckOptionalText("location", record.location, EVIDENCE_FIELD_MAX)) ||
      (error = CheckText("purpose", record.purpose, CASE_TEXT_MAX, false)) ||
      (error = CheckOptionalText("seal", record.seal, EVIDENCE_FIELD_MAX)) ||
      (error = CheckDigest("sha256_observed", record.sha256_observed, 64, "SHA-256"))) {
    return tl::unexpected(*error);
  }
  if (Terminal(item->status)) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("the evidence was {}: its custody ended", item->status));
  }
  const bool moves = action == "transferred" || action == "checked_out" || action == "checked_in" ||
                     action == "released";
  if (moves && !record.to_holder) {
    return tl::unexpected(
        Invalid(fmt::format("{} names who takes it in to_holder", action), "to_holder"));
  }
  if (!moves && record.to_holder) {
    return tl::unexpected(
        Invalid(fmt::format("{} does not change hands: no to_holder", action), "to_holder"));
  }
  const bool needs_purpose = action == "checked_out" || action == "examined" ||
                             action == "copied" || action == "released" || action == "destroyed";
  if (needs_purpose && record.purpose.empty()) {
    return tl::unexpected(Invalid(fmt::format("{} takes its purpose", action), "purpose"));
  }
  if ((action == "sealed" || action == "unsealed") && !record.seal) {
    return tl::unexpected(Invalid(fmt::format("{} names the seal", action), "seal"));
  }
  if (action == "verified" && !record.sha256_observed) {
    return tl::unexpected(
        Invalid("verified takes the SHA-256 computed from the item in "
                "sha256_observed",
                "sha256_observed"));
  }
  if (action == "checked_out" && item->status != "in_custody") {
    return RefuseCase(CaseErrorKind::kConflict, "the evidence is checked out already");
  }
  if (action == "checked_in" && item->status != "checked_out") {
    return RefuseCase(CaseErrorKind::kConflict, "the evidence is not checked out");
  }
  if (action == "transferred" && item->status == "checked_out") {
    return RefuseCase(CaseErrorKind::kConflict,
                      "the evidence is checked out: check it in before transferring it");
  }
  const int64_t at = record.at.value_or(now_ms);
  if (at > now_ms + CUSTODY_CLOCK_SKEW_MS) {
    return tl::unexpected(Invalid("at is in the future", "at"));
  }
  std::vector<CustodyEvent> chain = LoadChain(connection, item->id);
  if (!chain.empty() && at < chain.back().at) {
    return tl::unexpected(Invalid(
        fmt::format("at is before the last custody event ({}): events are recorded in the order "
                    "they happened",
                    FormatTimestampMs(chain.back().at)),
        "at"));
  }

  CustodyEvent event;
  event.evidence_id = item->id;
  event.action = action;
  event.at = at;
  event.recorded_at = now_ms;
  event.recorded_by = principal.user_id;
  event.holder_from = item->holder;
  event.holder_to = record.to_holder.value_or(item->holder);
  event.location = record.location ? record.location : item->location;
  event.purpose = record.purpose;
  event.seal = record.seal;
  event.sha256_observed = record.sha256_observed;
  std::optional<std::string> established;
  if (action == "verified") {
    const auto& registered = item->registration.sha256;
    if (!registered) {
      event.outcome = "established";
      established = record.sha256_observed;
    } else {
      event.outcome = *registered == *record.sha256_observed ? "match" : "mismatch";
    }
  }
  if (established) {
    JsonValue detail = JsonValue::MakeObject();
    detail.Set("sha256", *established);
    event.detail = detail.Serialize();
  }
  event = AppendEvent(connection, std::move(event));

  std::string status = item->status;
  if (action == "checked_out") status = "checked_out";
  if (action == "checked_in") status = "in_custody";
  if (action == "released") status = "released";
  if (action == "destroyed") status = "destroyed";
  connection.Execute(
      "UPDATE evidence SET holder = $2, location = $3, status = $4, updated_at = $5, "
      "sha256 = COALESCE(sha256, $6) WHERE id = $1",
      {store::Param{item->id}, store::Param{event.holder_to}, Optional(event.location),
       store::Param{status}, store::Param{now_ms}, Optional(established)});
  if (action == "destroyed" && item->has_content) {
    // Disposal deletes the centre's copy too; the hashes and the chain stay as its record.
    connection.Execute("DELETE FROM evidence_content WHERE evidence_id = $1",
                       {store::Param{item->id}});
    connection.Execute("UPDATE evidence SET has_content = 0 WHERE id = $1",
                       {store::Param{item->id}});
  }
  RecordCaseActivity(connection, principal, *kase, "custody_recorded", "case.evidence.custody",
                     EventDetail(*item, event), now_ms);
  return event;
}

CaseResult<std::vector<CustodyEvent>> CustodyChain(store::Connection& connection,
                                                   const Principal& principal,
                                                   std::string_view case_id,
                                                   std::string_view evidence_id) {
  auto item = GetEvidence(connection, principal, case_id, evidence_id);
  if (!item) return tl::unexpected(item.error());
  return LoadChain(connection, item->id);
}

CaseResult<EvidenceItem> AddEvidenceContent(store::Connection& connection,
                                            const Principal& principal, std::string_view case_id,
                                            std::string_view evidence_id,
                                            const std::string& filename,
                                            const std::string& content_type,
                                            const std::string& content, int64_t now_ms) {
  auto kase = CaseForWork(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  if (!PlausibleId(evidence_id)) return NotFound("evidence");
  LockItem(connection, evidence_id);
  auto item = LoadItem(connection, *kase, evidence_id);
  if (!item) return NotFound("evidence");
  if (!ValidFilename(filename)) {
    return tl::unexpected(
        Invalid("filename must be 1 to 255 characters without path "
                "separators, quotes or control characters",
                "filename"));
  }
  if (!ValidContentType(content_type)) {
    return tl::unexpected(Invalid("Content-Type is not a media type", "content_type"));
  }
  if (content.empty()) return tl::unexpected(Invalid("the file is empty", "body"));
  if (Terminal(item->status)) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("the evidence was {}: its custody ended", item->status));
  }
  if (item->has_content) {
    return RefuseCase(CaseErrorKind::kConflict, "the evidence has its file already");
  }
  const std::string sha256 = Sha256Hex(content);
  const auto size = static_cast<int64_t>(content.size());
  const EvidenceRegistration& r = item->registration;
  if (r.sha256 && *r.sha256 != sha256) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("the file's SHA-256 is {}, the evidence was registered with {}: "
                                  "it is not this item",
                                  sha256, *r.sha256));
  }
  if (r.size && *r.size != size) {
    return RefuseCase(
        CaseErrorKind::kConflict,
        fmt::format("the file has {} bytes, the evidence was registered with {}", size, *r.size));
  }
  connection.Execute("INSERT INTO evidence_content (evidence_id, content) VALUES ($1, $2)",
                     {store::Param{item->id}, store::Param{store::Blob{content}}});
  connection.Execute(
      "UPDATE evidence SET has_content = 1, filename = $2, content_type = $3, sha256 = $4, "
      "size = $5, updated_at = $6 WHERE id = $1",
      {store::Param{item->id}, store::Param{filename}, store::Param{content_type},
       store::Param{sha256}, store::Param{size}, store::Param{now_ms}});
  CustodyEvent event = CentreEvent(*item, "content_added", principal, now_ms);
  event.sha256_observed = sha256;
  JsonValue file = JsonValue::MakeObject();
  file.Set("filename", filename);
  file.Set("sha256", sha256);
  file.Set("size", size);
  event.detail = file.Serialize();
  event = AppendEvent(connection, std::move(event));
  JsonValue detail = EventDetail(*item, event);
  detail.Set("filename", filename);
  detail.Set("sha256", sha256);
  detail.Set("size", size);
  RecordCaseActivity(connection, principal, *kase, "content_added", "case.evidence.content", detail,
                     now_ms);
  return std::move(*LoadItem(connection, *kase, item->id));
}

CaseResult<EvidenceContent> ReadEvidenceContent(store::Connection& connection,
                                                const Principal& principal,
                                                std::string_view case_id,
                                                std::string_view evidence_id,
                                                const std::string& purpose, int64_t now_ms) {
  auto kase = CaseForRead(connection, principal, case_id);
  if (!kase) return tl::unexpected(kase.error());
  if (!PlausibleId(evidence_id)) return NotFound("evidence");
  if (purpose.empty()) {
    return tl::unexpected(
        Invalid("a download states its purpose (?purpose=): it is recorded in "
                "the chain of custody",
                "purpose"));
  }
  if (auto error = CheckText("purpose", purpose, EVIDENCE_FIELD_MAX, true)) {
    return tl::unexpected(*error);
  }
  LockItem(connection, evidence_id);
  auto item = LoadItem(connection, *kase, evidence_id);
  if (!item) return NotFound("evidence");
  if (!item->has_content) return NotFound("evidence file");
  store::Rows rows = connection.Query("SELECT content FROM evidence_content WHERE evidence_id = $1",
                                      {store::Param{item->id}});
  if (rows.empty()) return NotFound("evidence file");
  EvidenceContent result;
  result.content = rows.rows[0][0].text();
  CustodyEvent event = CentreEvent(*item, "accessed", principal, now_ms);
  event.purpose = purpose;
  event.sha256_observed = Sha256Hex(result.content);
  std::vector<CustodyEvent> chain = LoadChain(connection, item->id);
  // A download is dated now; an event someone dated a little ahead (within the clock skew)
  // keeps the chain's times in order.
  if (!chain.empty() && event.at < chain.back().at) event.at = chain.back().at;
  event = AppendEvent(connection, std::move(event));
  JsonValue detail = EventDetail(*item, event);
  detail.Set("purpose", purpose);
  RecordCaseActivity(connection, principal, *kase, "evidence_accessed", "case.evidence.access",
                     detail, now_ms);
  result.item = std::move(*item);
  result.item.custody_events += 1;
  return result;
}

CaseResult<EvidenceIntegrity> VerifyEvidence(store::Connection& connection,
                                             const Principal& principal, std::string_view case_id,
                                             std::string_view evidence_id) {
  auto item = GetEvidence(connection, principal, case_id, evidence_id);
  if (!item) return tl::unexpected(item.error());
  EvidenceIntegrity integrity;
  std::vector<CustodyEvent> chain = LoadChain(connection, item->id);
  integrity.events = static_cast<int64_t>(chain.size());
  std::string prev = GENESIS_HASH;
  // What the chain says the item's hashes and size are, replayed from its events.
  std::optional<JsonValue> registered;
  std::optional<std::string> sha256;
  std::optional<int64_t> size;
  for (size_t i = 0; i < chain.size(); ++i) {
    const CustodyEvent& event = chain[i];
    std::string_view problem;
    if (event.seq != static_cast<int64_t>(i) + 1) {
      problem = "an event is missing or out of order";
    } else if (event.prev_hash != prev) {
      problem = "the event does not follow its predecessor";
    } else if (CustodyHashOf(event) != event.hash) {
      problem = "the event was altered after it was recorded";
    } else if (i == 0 && event.action != "acquired") {
      problem = "the chain does not begin with the acquisition";
    }
    if (!problem.empty()) {
      integrity.chain_intact = false;
      integrity.first_bad_seq = static_cast<int64_t>(i) + 1;
      integrity.problem = std::string(problem);
      break;
    }
    prev = event.hash;
    auto detail = JsonValue::Parse(event.detail);
    if (!detail || !detail->is_object()) continue;
    auto text_of = [&](std::string_view key) -> std::optional<std::string> {
      const JsonValue* value = detail->Find(key);
      if (value == nullptr || !value->is_string()) return std::nullopt;
      return value->as_string();
    };
    if (event.action == "acquired") {
      registered = *detail;
      sha256 = text_of("sha256");
      const JsonValue* value = detail->Find("size");
      if (value != nullptr && value->is_integer()) size = value->as_int();
    } else if (event.action == "content_added") {
      sha256 = text_of("sha256");
      const JsonValue* value = detail->Find("size");
      if (value != nullptr && value->is_integer()) size = value->as_int();
    } else if (event.action == "verified" && event.outcome == "established") {
      sha256 = text_of("sha256");
    }
  }
  if (integrity.chain_intact) {
    const EvidenceRegistration& r = item->registration;
    std::string problem;
    if (!registered) {
      problem = "no acquisition records the registration";
    } else if (sha256 != r.sha256) {
      problem = "the item's SHA-256 is not the one its custody recorded";
    } else if (size != r.size) {
      problem = "the item's size is not the one its custody recorded";
    } else {
      JsonValue now = RegistrationJson(r);
      for (std::string_view key :
           {"label", "kind", "sha1", "md5", "acquired_by", "source_host", "source_org_id"}) {
        const JsonValue* then = registered->Find(key);
        const JsonValue* current = now.Find(key);
        if (then == nullptr || current == nullptr || !(*then == *current)) {
          problem = fmt::format("the item's {} is not the one its acquisition recorded", key);
          break;
        }
      }
    }
    if (!problem.empty()) {
      integrity.registration_intact = false;
      integrity.registration_problem = std::move(problem);
    }
  }
  if (item->has_content) {
    store::Rows rows = connection.Query(
        "SELECT content FROM evidence_content WHERE evidence_id = $1", {store::Param{item->id}});
    integrity.content_stored = !rows.empty();
    if (!rows.empty()) {
      integrity.content_sha256 = Sha256Hex(rows.rows[0][0].text());
      integrity.content_matches = item->registration.sha256 == integrity.content_sha256;
    }
  }
  return integrity;
}

}  // namespace yagura::hub
