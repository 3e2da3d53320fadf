// Sensor tokens: how an organisation's sensors authenticate when they send events to the centre.
//
// A token names its organisation and the logsource of what it sends (Sigma's
// "product=windows,service=sysmon"), so every event it delivers is tagged with both without
// trusting the event's own content. Like API tokens, the secret ("ygs_...") is shown once and
// only its SHA-256 is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "hub/principal.hpp"
#include "store/database.hpp"

namespace yagura::hub {

struct Sensor {
  std::string id;
  std::string org_id;
  std::string name;
  std::string logsource;  // "product=windows,service=sysmon"
  int64_t created_at = 0;
  std::optional<int64_t> revoked_at;
};

struct CreatedSensorToken {
  Sensor sensor;
  std::string secret;  // shown once
};

// Normalises and checks a logsource description: comma-separated key=value pairs with keys
// product, category and service, values of [a-z0-9_-]; at least one pair.
Result<std::string> NormaliseLogsource(std::string_view text);

// Creates a token for `org_id` (centre_admin, or the organisation's org_admin), audited.
Result<CreatedSensorToken> CreateSensorToken(store::Database& database, const Principal& actor,
                                             std::string_view org_id, std::string_view name,
                                             std::string_view logsource, int64_t now_ms);
Result<void> RevokeSensorToken(store::Database& database, const Principal& actor,
                               std::string_view id, int64_t now_ms);
std::vector<Sensor> ListSensors(store::Database& database, std::string_view org_id);
// The sensor of a secret; nullopt when unknown or revoked.
std::optional<Sensor> AuthenticateSensor(store::Database& database, std::string_view secret);

}  // namespace yagura::hub
