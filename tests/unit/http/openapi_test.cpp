// The OpenAPI document against the routes it describes: every route is documented with its
// method, nothing documented is missing from the router, every schema reference resolves, and
// every path parameter of a route is declared.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <set>

#include "core/metrics.hpp"
#include "hub/audit_log.hpp"
#include "hub/schema.hpp"
#include "http/api.hpp"
#include "http/openapi.hpp"
#include "http/router.hpp"

namespace yagura::http {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "yagura-openapi-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto opened = store::Database::Open((dir_ / "hub.db").string(), 2);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    ASSERT_TRUE(hub::MigrateSchema(*db_));
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, {}});
    RegisterApi(router_, *context_);
    Request request;
    request.method = "GET";
    request.target = "/api/v1/openapi.json";
    ASSERT_TRUE(DecodeTarget(request.target, request));
    Response response = router_.Dispatch(request);
    ASSERT_EQ(response.status, 200);
    auto parsed = JsonValue::Parse(response.body);
    ASSERT_TRUE(parsed) << parsed.error().message;
    document_ = std::move(*parsed);
  }
  void TearDown() override {
    audit_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  JsonValue document_;
};

TEST_F(OpenApiTest, IsAnOpenApi31Document) {
  EXPECT_EQ(document_.Find("openapi")->as_string(), "3.1.0");
  ASSERT_NE(document_.Find("info"), nullptr);
  EXPECT_FALSE(document_.Find("info")->Find("version")->as_string().empty());
  ASSERT_NE(document_.Find("components")->Find("securitySchemes")->Find("bearer"), nullptr);
}

TEST_F(OpenApiTest, EveryRouteIsDocumentedAndNothingElse) {
  const JsonValue& paths = *document_.Find("paths");
  std::set<std::pair<std::string, std::string>> routes;
  for (const Route& route : router_.routes()) {
    routes.emplace(route.pattern, Lower(route.method));
    const JsonValue* item = paths.Find(route.pattern);
    ASSERT_NE(item, nullptr) << route.pattern << " is not in the document";
    const JsonValue* operation = item->Find(Lower(route.method));
    ASSERT_NE(operation, nullptr) << route.method << " " << route.pattern << " is not documented";
    EXPECT_NE(operation->Find("summary"), nullptr)
        << route.method << " " << route.pattern << " has no summary";
    // Every {param} of the pattern is declared as a path parameter.
    std::set<std::string> declared;
    if (const JsonValue* parameters = operation->Find("parameters")) {
      for (const auto& parameter : parameters->as_array()) {
        if (parameter.Find("in")->as_string() == "path") declared.insert(parameter.Find("name")->as_string());
      }
    }
    for (size_t open = route.pattern.find('{'); open != std::string::npos;
         open = route.pattern.find('{', open + 1)) {
      std::string name = route.pattern.substr(open + 1, route.pattern.find('}', open) - open - 1);
      EXPECT_EQ(declared.count(name), 1u) << route.pattern << " does not declare {" << name << "}";
    }
  }
  for (const auto& [path, item] : paths.as_object()) {
    for (const auto& [method, operation] : item.as_object()) {
      EXPECT_EQ(routes.count({path, method}), 1u) << method << " " << path << " is documented but not routed";
    }
  }
  // The resources the service promises are all there.
  for (const char* path : {"/api/v1/auth/login", "/api/v1/organizations", "/api/v1/users",
                           "/api/v1/tokens", "/api/v1/incidents", "/api/v1/advisories",
                           "/api/v1/requests", "/api/v1/recommendations", "/api/v1/audit-log",
                           "/healthz", "/metrics", "/api/v1/openapi.json"}) {
    EXPECT_NE(paths.Find(path), nullptr) << path;
  }
}

TEST_F(OpenApiTest, EverySchemaReferenceResolves) {
  const JsonValue& schemas = *document_.Find("components")->Find("schemas");
  size_t references = 0;
  std::function<void(const JsonValue&, const std::string&)> walk = [&](const JsonValue& value,
                                                                       const std::string& where) {
    if (value.is_object()) {
      for (const auto& [key, member] : value.as_object()) {
        if (key == "$ref" && member.is_string()) {
          ++references;
          const std::string prefix = "#/components/schemas/";
          ASSERT_EQ(member.as_string().rfind(prefix, 0), 0u) << where;
          EXPECT_NE(schemas.Find(member.as_string().substr(prefix.size())), nullptr)
              << where << " refers to the missing schema " << member.as_string();
        } else {
          walk(member, where + "/" + key);
        }
      }
    } else if (value.is_array()) {
      for (const auto& item : value.as_array()) walk(item, where + "[]");
    }
  };
  walk(document_, "");
  EXPECT_GT(references, router_.routes().size() / 2);
  for (const auto& [name, schema] : schemas.as_object()) {
    EXPECT_TRUE(schema.is_object()) << name;
    EXPECT_TRUE(schema.Find("type") != nullptr || schema.Find("$ref") != nullptr ||
                schema.Find("oneOf") != nullptr || schema.Find("anyOf") != nullptr ||
                schema.Find("allOf") != nullptr)
        << "schema " << name << " says nothing about its type";
  }
}

}  // namespace
}  // namespace yagura::http
