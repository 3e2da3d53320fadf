// Sensor tokens (see sensors.hpp).
#include "hub/sensors.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/policy.hpp"

namespace yagura::hub {
namespace {

using store::Param;

constexpr std::string_view SENSOR_TOKEN_PREFIX = "ygs_";

Sensor ReadSensor(const std::vector<store::Field>& row) {
  Sensor sensor;
  sensor.id = row[0].text();
  sensor.org_id = row[1].text();
  sensor.name = row[2].text();
  sensor.logsource = row[3].text();
  sensor.created_at = row[4].as_int();
  if (!row[5].is_null()) sensor.revoked_at = row[5].as_int();
  return sensor;
}

constexpr const char* COLUMNS = "id, org_id, name, logsource, created_at, revoked_at";

}  // namespace

Result<std::string> NormaliseLogsource(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) {
      return Fail(fmt::format("logsource part \"{}\" is not key=value", part));
    }
    std::string key(part.substr(0, equals));
    std::string value(part.substr(equals + 1));
    if (key != "product" && key != "category" && key != "service") {
      return Fail(fmt::format("logsource key \"{}\" is not product, category or service", key));
    }
    bool valid = !value.empty() && value.size() <= 64 &&
                 std::all_of(value.begin(), value.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                 });
    if (!valid) return Fail(fmt::format("logsource {} \"{}\" must be [a-z0-9_-]", key, value));
    if (std::any_of(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == key; })) {
      return Fail(fmt::format("logsource key \"{}\" appears twice", key));
    }
    pairs.emplace_back(std::move(key), std::move(value));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // One spelling per logsource: product, category, service.
  std::string normal;
  for (const char* key : {"product", "category", "service"}) {
    for (const auto& [k, v] : pairs) {
      if (k != key) continue;
      if (!normal.empty()) normal += ',';
      normal += k + "=" + v;
    }
  }
  return normal;
}

Result<CreatedSensorToken> CreateSensorToken(store::Database& database, const Principal& actor,
                                             std::string_view org_id, std::string_view name,
                                             std::string_view logsource, int64_t now_ms) {
  if (actor.method != AuthMethod::kInternal && !can::ManageUsersOf(actor, org_id)) {
    return Fail("only the centre's administrators or the organisation's administrators create "
                "sensor tokens");
  }
  if (name.empty() || name.size() > 100) return Fail("a sensor needs a name of 1 to 100 characters");
  auto normal = NormaliseLogsource(logsource);
  if (!normal) return tl::unexpected(normal.error());
  CreatedSensorToken created;
  created.sensor.id = NewId();
  created.sensor.org_id = std::string(org_id);
  created.sensor.name = std::string(name);
  created.sensor.logsource = *normal;
  created.sensor.created_at = now_ms;
  created.secret = std::string(SENSOR_TOKEN_PREFIX) + RandomToken(32);
  bool org_exists = database.Transact([&](store::Connection& connection) {
    if (connection.Query("SELECT 1 FROM organizations WHERE id = $1", {Param{created.sensor.org_id}})
            .empty()) {
      return false;
    }
    connection.Execute(
        "INSERT INTO sensor_tokens (id, org_id, name, logsource, token_hash, created_by, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {Param{created.sensor.id}, Param{created.sensor.org_id}, Param{created.sensor.name},
         Param{created.sensor.logsource}, Param{Sha256Hex(created.secret)}, Param{actor.user_id},
         Param{now_ms}});
    AuditEntry entry = EntryFor(actor, "sensor.create", "sensor", created.sensor.id);
    entry.detail = fmt::format(R"({{"org_id":"{}","logsource":"{}"}})", created.sensor.org_id,
                               created.sensor.logsource);
    AuditLog::Append(connection, entry, now_ms);
    return true;
  });
  if (!org_exists) return Fail(fmt::format("organisation {} does not exist", org_id));
  return created;
}

Result<void> RevokeSensorToken(store::Database& database, const Principal& actor,
                               std::string_view id, int64_t now_ms) {
  return database.Transact([&](store::Connection& connection) -> Result<void> {
    store::Rows rows = connection.Query("SELECT org_id FROM sensor_tokens WHERE id = $1",
                                        {Param{std::string(id)}});
    if (rows.empty() || (actor.method != AuthMethod::kInternal &&
                         !can::ManageUsersOf(actor, rows.rows[0][0].text()))) {
      return Fail("no such sensor");
    }
    connection.Execute(
        "UPDATE sensor_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        {Param{std::string(id)}, Param{now_ms}});
    AuditLog::Append(connection, EntryFor(actor, "sensor.revoke", "sensor", std::string(id)),
                     now_ms);
    return {};
  });
}

std::vector<Sensor> ListSensors(store::Database& database, std::string_view org_id) {
  store::PooledConnection connection = database.Acquire();
  store::Rows rows = connection->Query(
      fmt::format("SELECT {} FROM sensor_tokens WHERE org_id = $1 ORDER BY created_at, id", COLUMNS),
      {Param{std::string(org_id)}});
  std::vector<Sensor> sensors;
  for (const auto& row : rows.rows) sensors.push_back(ReadSensor(row));
  return sensors;
}

std::optional<Sensor> AuthenticateSensor(store::Database& database, std::string_view secret) {
  if (!secret.starts_with(SENSOR_TOKEN_PREFIX) || secret.size() > 256) return std::nullopt;
  store::PooledConnection connection = database.Acquire();
  store::Rows rows = connection->Query(
      fmt::format("SELECT {} FROM sensor_tokens WHERE token_hash = $1", COLUMNS),
      {Param{Sha256Hex(secret)}});
  if (rows.empty()) return std::nullopt;
  Sensor sensor = ReadSensor(rows.rows[0]);
  if (sensor.revoked_at) return std::nullopt;
  return sensor;
}

}  // namespace yagura::hub
