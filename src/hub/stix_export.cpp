// STIX 2.1 objects of the centre's publications (see stix_export.hpp).
//
// Objects are built as JsonValue documents with their members in the order STIX documents show
// them (type, spec_version, id, created_by_ref, created, modified, ...), then handed to
// AddTaxiiObjects, which validates them like anything a partner posts: the exporter has no
// private path into a collection. Objects several publications share (the TLP marking
// definition, the centre's identity, observables, ATT&CK techniques) are added only when the
// collection does not hold them yet, so a collection has one copy and one version of each.
#include "hub/stix_export.hpp"

#include <openssl/evp.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include <fmt/format.h>

#include "core/time.hpp"
#include "hub/incidents.hpp"
#include "hub/scoring.hpp"

namespace yagura::hub {
namespace {

using store::Param;

constexpr std::string_view TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";
constexpr std::string_view TLP2_CREATED = "2022-10-01T00:00:00.000Z";

struct TlpIds {
  Tlp tlp;
  std::string_view v2;    // TLP 2.0 marking definition
  std::string_view v1;    // TLP 1.0 (empty: none)
  std::string_view name;  // "TLP:CLEAR"
};
constexpr std::array<TlpIds, 5> TLP_IDS = {{
    {Tlp::kClear, "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
     "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:CLEAR"},
    {Tlp::kGreen, "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
     "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN"},
    {Tlp::kAmber, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
     "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER"},
    {Tlp::kAmberStrict, "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "",
     "TLP:AMBER+STRICT"},
    {Tlp::kRed, "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
     "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED"},
}};

constexpr std::array<std::string_view, 9> OBSERVABLE_TYPES = {
    "ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512"};
constexpr std::array<std::string_view, 4> KIND_NAMES = {"indicator", "sighting",
                                                        "incident_summary", "report"};

std::string FormatUuid(const unsigned char* bytes) {
  std::string text;
  text.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += fmt::format("{:02x}", bytes[i]);
  }
  return text;
}

bool ParseUuid(std::string_view text, unsigned char* bytes) {
  if (text.size() != 36) return false;
  int out = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      ++i;
      continue;
    }
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int high = nibble(text[i]), low = i + 1 < text.size() ? nibble(text[i + 1]) : -1;
    if (high < 0 || low < 0) return false;
    bytes[out++] = static_cast<unsigned char>(high * 16 + low);
    i += 2;
  }
  return out == 16;
}

void AppendCanonicalString(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void AppendCanonical(std::string& out, const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kObject: {
      // RFC 8785 sorts by UTF-16 code units; for the ASCII property names of STIX that is the
      // byte order.
      std::vector<const std::pair<std::string, JsonValue>*> members;
      for (const auto& member : value.as_object()) members.push_back(&member);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out += ',';
        AppendCanonicalString(out, members[i]->first);
        out += ':';
        AppendCanonical(out, members[i]->second);
      }
      out += '}';
      break;
    }
    case JsonValue::Type::kArray: {
      out += '[';
      bool first = true;
      for (const auto& item : value.as_array()) {
        if (!first) out += ',';
        first = false;
        AppendCanonical(out, item);
      }
      out += ']';
      break;
    }
    case JsonValue::Type::kString:
      AppendCanonicalString(out, value.as_string());
      break;
    default:
      value.SerializeTo(out);  // null, booleans, numbers: already in their shortest form
  }
}

bool IsHex(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

bool HasControlOrSpace(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
}

bool IsIpv4(std::string_view text) {
  std::string_view address = text.substr(0, text.find('/'));
  int parts = 0;
  size_t at = 0;
  while (at <= address.size()) {
    size_t dot = address.find('.', at);
    std::string_view part = address.substr(at, dot == std::string_view::npos ? dot : dot - at);
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(part)) > 255 || (part.size() > 1 && part[0] == '0')) {
      return false;
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  if (parts != 4) return false;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 2 ||
        !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(bits)) > 32) {
      return false;
    }
  }
  return true;
}

bool IsIpv6(std::string_view text) {
  std::string_view address = text.substr(0, text.find('/'));
  if (address.size() < 2 || address.size() > 45 || address.find(':') == std::string_view::npos) {
    return false;
  }
  return std::all_of(address.begin(), address.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == ':' || c == '.';
  });
}

bool IsDomain(std::string_view text) {
  if (text.empty() || text.size() > 253 || text.find('.') == std::string_view::npos ||
      text.front() == '.' || text.back() == '.' || text.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

// A string literal of a STIX pattern: single quotes, with ' and \ escaped.
std::string PatternLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

JsonValue Strings(const std::vector<std::string>& items) {
  JsonValue array = JsonValue::MakeArray();
  for (const auto& item : items) array.Push(item);
  return array;
}

tl::unexpected<TaxiiError> Error(TaxiiErrorKind kind, std::string message, std::string field = {}) {
  return tl::unexpected(TaxiiError{kind, std::move(message), std::move(field)});
}

// The members every object the centre publishes starts with.
JsonValue Base(std::string_view type, const std::string& id, int64_t created_ms,
               int64_t modified_ms, const std::string& identity_id, Tlp tlp) {
  JsonValue object = JsonValue::MakeObject();
  object.Set("type", std::string(type));
  object.Set("spec_version", "2.1");
  object.Set("id", id);
  if (!identity_id.empty()) object.Set("created_by_ref", identity_id);
  object.Set("created", StixTimestamp(created_ms));
  object.Set("modified", StixTimestamp(std::max(created_ms, modified_ms)));
  JsonValue markings = JsonValue::MakeArray();
  markings.Push(std::string(TlpMarkingId(tlp)));
  object.Set("object_marking_refs", std::move(markings));
  return object;
}

// The centre's identity: the creator named by created_by_ref. Its id is derived from the
// organisation's, its version from the organisation's last change.
JsonValue CentreIdentity(store::Connection& connection, const std::string& org_id, Tlp tlp) {
  store::Rows rows = connection.Query(
      "SELECT name, created_at, updated_at FROM organizations WHERE id = $1", {Param{org_id}});
  std::string name = rows.empty() ? "National Cyber Defence Centre" : rows.rows[0][0].text();
  int64_t created = rows.empty() ? 0 : rows.rows[0][1].as_int();
  int64_t updated = rows.empty() ? 0 : rows.rows[0][2].as_int();
  std::string id = "identity--" + Uuid5(YAGURA_STIX_NAMESPACE, "organization:" + org_id);
  JsonValue identity = Base("identity", id, created, updated, {}, tlp);
  identity.Set("name", name);
  identity.Set("identity_class", "organization");
  identity.Set("sectors", Strings({"government-national"}));
  return identity;
}

bool IsTechniqueId(std::string_view text) {
  auto digits = [&](size_t at, size_t count) {
    return at + count <= text.size() &&
           std::all_of(text.begin() + static_cast<long>(at),
                       text.begin() + static_cast<long>(at + count),
                       [](char c) { return c >= '0' && c <= '9'; });
  };
  if (text.size() == 5) return text[0] == 'T' && digits(1, 4);
  return text.size() == 9 && text[0] == 'T' && digits(1, 4) && text[5] == '.' && digits(6, 3);
}

// An ATT&CK technique as an attack-pattern: the catalogue's own object (its STIX id and
// version) when the catalogue is loaded, otherwise one with a stable id derived from the
// technique id, so partners can still match it by its external reference.
JsonValue AttackPattern(store::Connection& connection, const std::string& technique, Tlp tlp,
                        int64_t now_ms) {
  store::Rows rows = connection.Query(
      "SELECT stix_id, name, created, modified FROM attack_objects WHERE external_id = $1 AND "
      "stix_type = 'attack-pattern' AND revoked = 0 ORDER BY domain LIMIT 1",
      {Param{technique}});
  std::string id, name = technique;
  int64_t created = now_ms, modified = now_ms;
  if (!rows.empty() && IsStixId(rows.rows[0][0].text())) {
    id = rows.rows[0][0].text();
    name = rows.rows[0][1].text();
    created = rows.rows[0][2].as_int();
    modified = rows.rows[0][3].as_int();
  } else {
    id = "attack-pattern--" + Uuid5(YAGURA_STIX_NAMESPACE, "mitre-attack:" + technique);
  }
  JsonValue pattern = Base("attack-pattern", id, created, modified, {}, tlp);
  pattern.Set("name", name);
  JsonValue reference = JsonValue::MakeObject();
  reference.Set("source_name", "mitre-attack");
  reference.Set("external_id", technique);
  std::string path = technique.substr(1);
  std::replace(path.begin(), path.end(), '.', '/');
  reference.Set("url", "https://attack.mitre.org/techniques/T" + path + "/");
  JsonValue references = JsonValue::MakeArray();
  references.Push(std::move(reference));
  pattern.Set("external_references", std::move(references));
  return pattern;
}

std::string Sentence(std::string_view value) {
  std::string text(value);
  std::replace(text.begin(), text.end(), '_', ' ');
  return text;
}

}  // namespace

// ---- primitives --------------------------------------------------------------------------------

std::string_view TlpMarkingId(Tlp tlp) { return TLP_IDS[static_cast<size_t>(tlp)].v2; }

std::optional<Tlp> TlpOfMarkingId(std::string_view id) {
  for (const auto& entry : TLP_IDS) {
    if (entry.v2 == id || (!entry.v1.empty() && entry.v1 == id)) return entry.tlp;
  }
  return std::nullopt;
}

JsonValue TlpMarkingDefinition(Tlp tlp) {
  const TlpIds& entry = TLP_IDS[static_cast<size_t>(tlp)];
  JsonValue marking = JsonValue::MakeObject();
  marking.Set("type", "marking-definition");
  marking.Set("spec_version", "2.1");
  marking.Set("id", std::string(entry.v2));
  marking.Set("created", std::string(TLP2_CREATED));
  marking.Set("name", std::string(entry.name));
  JsonValue extension = JsonValue::MakeObject();
  extension.Set("extension_type", "property-extension");
  extension.Set("tlp_2_0", std::string(ToString(tlp)));
  JsonValue extensions = JsonValue::MakeObject();
  extensions.Set(TLP_EXTENSION, std::move(extension));
  marking.Set("extensions", std::move(extensions));
  return marking;
}

std::string StixTimestamp(int64_t ms) { return FormatTimestampMs(ms); }

std::string NewUuid4() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof(bytes));
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  return FormatUuid(bytes);
}

std::string RandomStixId(std::string_view type) { return std::string(type) + "--" + NewUuid4(); }

std::string Uuid5(std::string_view namespace_uuid, std::string_view name) {
  unsigned char space[16] = {};
  if (!ParseUuid(namespace_uuid, space)) return {};
  std::string input(reinterpret_cast<const char*>(space), sizeof(space));
  input.append(name);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);
  return FormatUuid(digest);
}

std::string CanonicalJson(const JsonValue& value) {
  std::string out;
  AppendCanonical(out, value);
  return out;
}

std::string DeterministicScoId(const JsonValue& object) {
  static const std::vector<std::pair<std::string_view, std::vector<std::string_view>>> CONTRIBUTING = {
      {"artifact", {"hashes", "payload_bin"}},
      {"autonomous-system", {"number"}},
      {"directory", {"path"}},
      {"domain-name", {"value"}},
      {"email-addr", {"value"}},
      {"email-message", {"from_ref", "subject", "body"}},
      {"file", {"hashes", "name", "extensions", "parent_directory_ref"}},
      {"ipv4-addr", {"value"}},
      {"ipv6-addr", {"value"}},
      {"mac-addr", {"value"}},
      {"mutex", {"name"}},
      {"network-traffic",
       {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"}},
      {"software", {"name", "cpe", "swid", "vendor", "version"}},
      {"url", {"value"}},
      {"user-account", {"account_type", "user_id", "account_login"}},
      {"windows-registry-key", {"key", "values"}},
      {"x509-certificate", {"hashes", "serial_number"}},
  };
  const JsonValue* type = object.Find("type");
  if (type == nullptr || !type->is_string()) return {};
  for (const auto& [name, properties] : CONTRIBUTING) {
    if (name != type->as_string()) continue;
    JsonValue contributing = JsonValue::MakeObject();
    for (std::string_view property : properties) {
      const JsonValue* value = object.Find(property);
      if (value == nullptr) continue;
      if (property == "hashes" && value->is_object()) {
        // One hash only, the first of the STIX preference list the object has.
        JsonValue chosen = JsonValue::MakeObject();
        for (std::string_view algorithm : {"MD5", "SHA-1", "SHA-256", "SHA-512"}) {
          if (const JsonValue* hash = value->Find(algorithm)) {
            chosen.Set(algorithm, *hash);
            break;
          }
        }
        contributing.Set(property, chosen.as_object().empty() ? *value : chosen);
      } else {
        contributing.Set(property, *value);
      }
    }
    if (contributing.as_object().empty()) return {};
    return std::string(name) + "--" + Uuid5(STIX_SCO_NAMESPACE, CanonicalJson(contributing));
  }
  return {};
}

std::span<const std::string_view> ObservableTypeNames() { return OBSERVABLE_TYPES; }

Result<Observable> MakeObservable(std::string_view type, std::string_view input) {
  std::string value(input);
  if (value.empty() || value.size() > 2048 || HasControlOrSpace(value)) {
    return Fail("value must be 1-2048 characters without spaces or control characters");
  }
  JsonValue object = JsonValue::MakeObject();
  std::string pattern;
  auto simple = [&](std::string_view sco_type) {
    object.Set("type", std::string(sco_type));
    object.Set("spec_version", "2.1");
    object.Set("value", value);
    pattern = fmt::format("[{}:value = {}]", sco_type, PatternLiteral(value));
  };
  auto hash = [&](std::string_view algorithm, size_t length) -> Result<void> {
    if (value.size() != length || !IsHex(value)) {
      return Fail(fmt::format("a {} hash is {} hexadecimal digits", algorithm, length));
    }
    std::transform(value.begin(), value.end(), value.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c); });
    object.Set("type", "file");
    object.Set("spec_version", "2.1");
    JsonValue hashes = JsonValue::MakeObject();
    hashes.Set(algorithm, value);
    object.Set("hashes", std::move(hashes));
    bool quoted = algorithm.find('-') != std::string_view::npos;
    pattern = fmt::format("[file:hashes.{} = {}]",
                          quoted ? "'" + std::string(algorithm) + "'" : std::string(algorithm),
                          PatternLiteral(value));
    return {};
  };
  if (type == "ipv4") {
    if (!IsIpv4(value)) return Fail("not an IPv4 address or CIDR block");
    simple("ipv4-addr");
  } else if (type == "ipv6") {
    if (!IsIpv6(value)) return Fail("not an IPv6 address or CIDR block");
    std::transform(value.begin(), value.end(), value.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c + 32 : c); });
    simple("ipv6-addr");
  } else if (type == "domain") {
    std::transform(value.begin(), value.end(), value.begin(),
                   [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    if (!IsDomain(value)) return Fail("not a domain name");
    simple("domain-name");
  } else if (type == "url") {
    size_t scheme = value.find("://");
    if (scheme == std::string::npos || scheme == 0 || scheme + 3 >= value.size()) {
      return Fail("a URL needs a scheme and a host (\"https://example.org/path\")");
    }
    simple("url");
  } else if (type == "email") {
    size_t at = value.find('@');
    if (at == std::string::npos || at == 0 || value.find('@', at + 1) != std::string::npos ||
        !IsDomain(value.substr(at + 1))) {
      return Fail("not an e-mail address");
    }
    simple("email-addr");
  } else if (type == "md5") {
    if (auto ok = hash("MD5", 32); !ok) return tl::unexpected(ok.error());
  } else if (type == "sha1") {
    if (auto ok = hash("SHA-1", 40); !ok) return tl::unexpected(ok.error());
  } else if (type == "sha256") {
    if (auto ok = hash("SHA-256", 64); !ok) return tl::unexpected(ok.error());
  } else if (type == "sha512") {
    if (auto ok = hash("SHA-512", 128); !ok) return tl::unexpected(ok.error());
  } else {
    return Fail("unknown observable type");
  }
  // The id goes right after type and spec_version, where readers look for it.
  std::string id = DeterministicScoId(object);
  JsonValue ordered = JsonValue::MakeObject();
  for (const auto& [key, member] : object.as_object()) {
    ordered.Set(key, member);
    if (key == "spec_version") ordered.Set("id", id);
  }
  return Observable{std::move(ordered), std::move(pattern)};
}

std::span<const std::string_view> PublishKindNames() { return KIND_NAMES; }

std::optional<PublishKind> ParsePublishKind(std::string_view text) {
  for (size_t i = 0; i < KIND_NAMES.size(); ++i) {
    if (KIND_NAMES[i] == text) return static_cast<PublishKind>(i);
  }
  return std::nullopt;
}

// ---- publishing --------------------------------------------------------------------------------

TaxiiResult<PublishResult> Publish(store::Connection& connection, const Principal& principal,
                                   std::string_view collection_id, const PublishRequest& request,
                                   int64_t now_ms) {
  if (!CanPublishTaxii(principal)) {
    return Error(TaxiiErrorKind::kForbidden, "only the centre's analysts publish to partners");
  }
  auto loaded = GetTaxiiCollection(connection, principal, {}, collection_id);
  if (!loaded) return tl::unexpected(loaded.error());
  const TaxiiCollection& collection = *loaded;
  if (request.tlp == Tlp::kAmberStrict || request.tlp == Tlp::kRed) {
    return Error(TaxiiErrorKind::kForbidden,
                 fmt::format("TLP:{} information never leaves its audience: it is not published "
                             "to partners",
                             request.tlp == Tlp::kRed ? "RED" : "AMBER+STRICT"),
                 "tlp");
  }
  if (request.tlp > collection.max_tlp) {
    return Error(TaxiiErrorKind::kInvalid,
                 fmt::format("the collection shares at most TLP:{}", ToString(collection.max_tlp)),
                 "tlp");
  }

  PublishResult result;
  std::vector<JsonValue> objects;
  // Shared objects go in once per collection.
  auto add_shared = [&](JsonValue object) {
    const std::string& id = object.Find("id")->as_string();
    bool listed = std::any_of(objects.begin(), objects.end(), [&](const JsonValue& other) {
      return other.Find("id")->as_string() == id;
    });
    if (!listed && !TaxiiHasObject(connection, collection.id, id)) objects.push_back(object);
    result.objects.push_back(std::move(object));
  };
  auto add = [&](JsonValue object) {
    objects.push_back(object);
    result.objects.push_back(std::move(object));
  };

  add_shared(TlpMarkingDefinition(request.tlp));
  JsonValue identity = CentreIdentity(connection, principal.org_id, request.tlp);
  const std::string identity_id = identity.Find("id")->as_string();
  add_shared(std::move(identity));

  switch (request.kind) {
    case PublishKind::kIndicator: {
      auto observable = MakeObservable(request.observable_type, request.value);
      if (!observable) {
        return Error(TaxiiErrorKind::kInvalid, observable.error().message,
                     observable.error().message == "unknown observable type" ? "type" : "value");
      }
      JsonValue sco = observable->object;
      JsonValue markings = JsonValue::MakeArray();
      markings.Push(std::string(TlpMarkingId(request.tlp)));
      sco.Set("object_marking_refs", std::move(markings));
      add_shared(std::move(sco));
      JsonValue indicator =
          Base("indicator", RandomStixId("indicator"), now_ms, now_ms, identity_id, request.tlp);
      indicator.Set("name", request.name.empty()
                                ? fmt::format("{} {}", request.observable_type,
                                              observable->object.Find("value")
                                                  ? observable->object.Find("value")->as_string()
                                                  : request.value)
                                : request.name);
      if (!request.description.empty()) indicator.Set("description", request.description);
      indicator.Set("indicator_types", Strings({"malicious-activity"}));
      indicator.Set("pattern", observable->pattern);
      indicator.Set("pattern_type", "stix");
      indicator.Set("pattern_version", "2.1");
      int64_t valid_from = request.valid_from.value_or(now_ms);
      if (request.valid_until && *request.valid_until <= valid_from) {
        return Error(TaxiiErrorKind::kInvalid, "valid_until must be later than valid_from",
                     "valid_until");
      }
      indicator.Set("valid_from", StixTimestamp(valid_from));
      if (request.valid_until) indicator.Set("valid_until", StixTimestamp(*request.valid_until));
      result.primary_id = indicator.Find("id")->as_string();
      add(std::move(indicator));
      break;
    }
    case PublishKind::kSighting: {
      if (!IsStixId(request.sighting_of_ref) ||
          request.sighting_of_ref.starts_with("sighting--") ||
          !TaxiiHasObject(connection, collection.id, request.sighting_of_ref)) {
        return Error(TaxiiErrorKind::kInvalid,
                     "sighting_of_ref must name an object of the collection", "sighting_of_ref");
      }
      if (request.first_seen && request.last_seen && *request.last_seen < *request.first_seen) {
        return Error(TaxiiErrorKind::kInvalid, "last_seen must not be earlier than first_seen",
                     "last_seen");
      }
      JsonValue sighting =
          Base("sighting", RandomStixId("sighting"), now_ms, now_ms, identity_id, request.tlp);
      sighting.Set("sighting_of_ref", request.sighting_of_ref);
      sighting.Set("count", request.count);
      if (request.first_seen) sighting.Set("first_seen", StixTimestamp(*request.first_seen));
      if (request.last_seen) sighting.Set("last_seen", StixTimestamp(*request.last_seen));
      JsonValue where = JsonValue::MakeArray();
      where.Push(identity_id);
      sighting.Set("where_sighted_refs", std::move(where));
      result.primary_id = sighting.Find("id")->as_string();
      add(std::move(sighting));
      break;
    }
    case PublishKind::kIncidentSummary: {
      auto incident = GetIncident(connection, principal, request.incident_id);
      if (!incident) return Error(TaxiiErrorKind::kNotFound, "incident not found", "incident_id");
      const IncidentReport& report = incident->report;
      if (request.tlp < report.tlp) {
        return Error(TaxiiErrorKind::kForbidden,
                     fmt::format("the incident is TLP:{}: its summary may not be shared more "
                                 "widely (publish it as TLP:{} or more restrictive)",
                                 ToString(report.tlp), ToString(report.tlp)),
                     "tlp");
      }
      // Only what cannot name the victim: no title, description, organisation, sector,
      // contacts or indicators.
      std::string day = StixTimestamp(report.detected_at).substr(0, 10);
      std::string description = fmt::format(
          "Category: {}. Status: {}. Detected: {}. Functional impact: {}. Information impact: "
          "{}. Recoverability: {}.",
          Sentence(report.category), Sentence(ToString(incident->status)), day,
          Sentence(report.functional_impact), Sentence(report.information_impact),
          Sentence(report.recoverability));
      if (report.attack_vector) {
        description += fmt::format(" Attack vector: {}.", Sentence(*report.attack_vector));
      }
      description += fmt::format(" Priority: {}.", incident->score.priority.name);
      std::string incident_stix_id =
          "incident--" + Uuid5(YAGURA_STIX_NAMESPACE, "incident:" + incident->id);
      JsonValue summary = Base("incident", incident_stix_id, incident->created_at, now_ms,
                               identity_id, request.tlp);
      summary.Set("name", fmt::format("{} incident detected {}", Sentence(report.category), day));
      summary.Set("description", description);
      summary.Set("labels", Strings({report.category}));
      std::string report_id =
          "report--" + Uuid5(YAGURA_STIX_NAMESPACE, "incident-summary:" + incident->id);
      JsonValue wrapper =
          Base("report", report_id, incident->created_at, now_ms, identity_id, request.tlp);
      wrapper.Set("name",
                  fmt::format("Sanitised incident summary: {} ({})", Sentence(report.category), day));
      wrapper.Set("description", description);
      wrapper.Set("report_types", Strings({"threat-report"}));
      wrapper.Set("published", StixTimestamp(now_ms));
      JsonValue refs = JsonValue::MakeArray();
      refs.Push(incident_stix_id);
      wrapper.Set("object_refs", std::move(refs));
      result.primary_id = report_id;
      add(std::move(summary));
      add(std::move(wrapper));
      break;
    }
    case PublishKind::kReport: {
      if (request.name.empty()) {
        return Error(TaxiiErrorKind::kInvalid, "name is required for a report", "name");
      }
      std::vector<std::string> refs;
      std::vector<std::string> labels;
      for (size_t i = 0; i < request.techniques.size(); ++i) {
        const std::string& technique = request.techniques[i];
        if (!IsTechniqueId(technique)) {
          return Error(TaxiiErrorKind::kInvalid,
                       "techniques must be ATT&CK technique ids such as T1059 or T1059.001",
                       fmt::format("techniques[{}]", i));
        }
        JsonValue pattern = AttackPattern(connection, technique, request.tlp, now_ms);
        refs.push_back(pattern.Find("id")->as_string());
        std::string label = "attack." + technique;
        std::transform(label.begin(), label.end(), label.begin(),
                       [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
        labels.push_back(label);
        add_shared(std::move(pattern));
      }
      for (size_t i = 0; i < request.object_refs.size(); ++i) {
        const std::string& ref = request.object_refs[i];
        if (!IsStixId(ref) || !TaxiiHasObject(connection, collection.id, ref)) {
          return Error(TaxiiErrorKind::kInvalid, "object_refs must name objects of the collection",
                       fmt::format("object_refs[{}]", i));
        }
        refs.push_back(ref);
      }
      if (refs.empty()) {
        return Error(TaxiiErrorKind::kInvalid, "a report needs techniques or object_refs",
                     "techniques");
      }
      JsonValue wrapper =
          Base("report", RandomStixId("report"), now_ms, now_ms, identity_id, request.tlp);
      wrapper.Set("name", request.name);
      if (!request.description.empty()) wrapper.Set("description", request.description);
      wrapper.Set("report_types", Strings({"threat-report"}));
      wrapper.Set("published", StixTimestamp(now_ms));
      wrapper.Set("object_refs", Strings(refs));
      if (!labels.empty()) wrapper.Set("labels", Strings(labels));
      result.primary_id = wrapper.Find("id")->as_string();
      add(std::move(wrapper));
      break;
    }
  }

  auto status = AddTaxiiObjects(connection, principal, collection, objects, now_ms);
  if (!status) return tl::unexpected(status.error());
  if (!status->failures.empty()) {
    // The exporter's objects are checked like a partner's; a refusal here is a defect, and the
    // caller's transaction must not keep half a publication.
    const TaxiiStatusEntry& failure = status->failures.front();
    return Error(TaxiiErrorKind::kInvalid,
                 fmt::format("object {} was refused: {}", failure.id, failure.message));
  }
  result.status = std::move(*status);
  return result;
}

}  // namespace yagura::hub
