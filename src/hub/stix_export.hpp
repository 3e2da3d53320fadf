// STIX 2.1 export: what the centre publishes to its partners, as STIX objects under TLP 2.0.
//
// Four kinds of publication, each turned into a small set of STIX objects and added to a TAXII
// collection (a sharing group, hub/taxii.hpp) in one transaction with its audit entry:
//   - indicator: an observable (IP, domain, URL, e-mail address, file hash) becomes its
//     cyber-observable object and an indicator whose STIX pattern tests it;
//   - sighting: a sighting of an indicator already in the collection (counts, first/last seen);
//   - incident_summary: a sanitised summary of an incident report — an `incident` object and a
//     `report` about it that carry only the category, impacts, attack vector, status and the day
//     it was detected; never the title, description, reporting organisation, sector, contacts
//     or indicators, which can identify the victim;
//   - report: an analyst's report tagged with ATT&CK techniques (attack-pattern objects, taken
//     from the ATT&CK catalogue when it is loaded).
// Every object carries the TLP 2.0 marking-definition it is published under in
// object_marking_refs, and the marking-definition itself and the centre's identity are added to
// the collection once, so a partner receiving the collection can resolve every reference.
//
// Identifiers follow STIX 2.1: cyber-observables get deterministic UUIDv5 ids over the JCS
// serialisation of their id-contributing properties in the OASIS namespace, so the same IP
// published twice is one object everywhere; objects derived from one incident get UUIDv5 ids in
// Yagura's own namespace, so re-publishing a summary adds a new version, not a new object; the
// rest get random UUIDv4 ids (the schemas' identifier pattern admits only versions 1-5, so the
// service's UUIDv7 ids are never used as STIX ids). Timestamps have millisecond precision.
//
// What may leave the centre: CLEAR, GREEN and AMBER; never AMBER+STRICT (the owner's
// organisation only) or RED (named people only), and never more than the collection's sharing
// level. An incident summary is never less restrictive than the incident itself.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_value.hpp"
#include "hub/policy.hpp"
#include "hub/principal.hpp"
#include "hub/taxii.hpp"
#include "store/database.hpp"

namespace yagura::hub {

// ---- STIX primitives ---------------------------------------------------------------------------

// The namespace of STIX 2.1 deterministic cyber-observable ids.
inline constexpr std::string_view STIX_SCO_NAMESPACE = "00abedb4-aa42-466c-9c01-fed23315a9b7";
// Yagura's namespace for ids derived from its own records (an incident's summary).
inline constexpr std::string_view YAGURA_STIX_NAMESPACE = "6f1c1f0e-3a9d-5b6e-9d42-7a1b9c0e2f51";

// The OASIS TLP 2.0 marking-definition id of `tlp` ("marking-definition--94868c89-..." for CLEAR).
std::string_view TlpMarkingId(Tlp tlp);
// The TLP of a marking-definition id: the TLP 2.0 ids and the TLP 1.0 ones (WHITE is CLEAR).
std::optional<Tlp> TlpOfMarkingId(std::string_view id);
// The TLP 2.0 marking-definition object of `tlp`, exactly as OASIS publishes it.
JsonValue TlpMarkingDefinition(Tlp tlp);

// "2026-11-26T06:00:00.123Z".
std::string StixTimestamp(int64_t ms);
// A random UUIDv4 in canonical text form (TAXII collection ids, STIX ids).
std::string NewUuid4();
// "<type>--<random UUIDv4>".
std::string RandomStixId(std::string_view type);
// A UUIDv5 (RFC 9562) of `name` in `namespace_uuid`, in canonical text form.
std::string Uuid5(std::string_view namespace_uuid, std::string_view name);
// RFC 8785 JSON canonicalisation (keys sorted, no whitespace, shortest numbers).
std::string CanonicalJson(const JsonValue& value);
// The deterministic id of a cyber-observable: UUIDv5 over the JCS text of its id-contributing
// properties (value for addresses and names; one hash — MD5, SHA-1, SHA-256, SHA-512 in that
// preference — and the name for files). Empty when `object` has none of them.
std::string DeterministicScoId(const JsonValue& object);

// An observable the centre publishes and the STIX objects that express it.
struct Observable {
  JsonValue object;     // the cyber-observable object (with its deterministic id)
  std::string pattern;  // "[ipv4-addr:value = '198.51.100.7']"
};
// Types: ipv4, ipv6, domain, url, email, md5, sha1, sha256, sha512. Fails (a message naming
// the problem) for an unknown type or a value that is not of that type.
Result<Observable> MakeObservable(std::string_view type, std::string_view value);
std::span<const std::string_view> ObservableTypeNames();

// ---- publishing --------------------------------------------------------------------------------

enum class PublishKind { kIndicator, kSighting, kIncidentSummary, kReport };
std::span<const std::string_view> PublishKindNames();  // indicator, sighting, incident_summary, report
std::optional<PublishKind> ParsePublishKind(std::string_view text);

struct PublishRequest {
  PublishKind kind = PublishKind::kIndicator;
  Tlp tlp = Tlp::kAmber;
  // indicator
  std::string observable_type;
  std::string value;
  std::string name;         // indicator and report: defaults from the content when empty
  std::string description;  // indicator and report
  std::optional<int64_t> valid_from;
  std::optional<int64_t> valid_until;
  // sighting
  std::string sighting_of_ref;  // an indicator id in the collection
  int64_t count = 1;
  std::optional<int64_t> first_seen;
  std::optional<int64_t> last_seen;
  // incident_summary
  std::string incident_id;
  // report
  std::vector<std::string> techniques;   // "T1059.001"
  std::vector<std::string> object_refs;  // STIX ids already in the collection
};

struct PublishResult {
  std::vector<JsonValue> objects;  // everything added (new or already present)
  std::string primary_id;          // the indicator, sighting or report
  TaxiiStatus status;
};

// Builds the objects of `request` and adds them to the collection (TaxiiErrorKind kInvalid for
// bad input, kForbidden when the caller may not publish or the marking may not leave the
// centre, kNotFound for an unknown collection or an incident the caller cannot read). Runs in
// the caller's transaction; the objects' audit entry is written by AddTaxiiObjects.
TaxiiResult<PublishResult> Publish(store::Connection& connection, const Principal& principal,
                                   std::string_view collection_id, const PublishRequest& request,
                                   int64_t now_ms);

}  // namespace yagura::hub
