// What the rules and intelligence route tests share: a store on each backend, the centre's
// administrator, an analyst and an auditor of the centre, a ministry's reporter, each with an
// API token; a job registry; calls through the router; and waiting (bounded, on state, never
// on time) for a job to finish.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/metrics.hpp"
#include "core/time.hpp"
#include "http/api.hpp"
#include "http/jobs.hpp"
#include "http/router.hpp"
#include "hub/audit_log.hpp"
#include "hub/identity.hpp"
#include "hub/passwords.hpp"
#include "unit/hub/hub_test_database.hpp"

namespace yagura::http::testing {

using hub::testing::Backend;

class ConsoleApiTest : public ::testing::TestWithParam<Backend> {
 protected:
  // Opens the store and makes the users; the caller then registers routes on router_.
  void SetUpWorld() {
    hub::SetPasswordCost(hub::PasswordCost::Minimal());
    std::string reason;
    if (!db_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
    audit_ = std::make_unique<hub::AuditLog>(*db_);
    jobs_ = std::make_unique<JobRegistry>();
    context_ = std::make_unique<ApiContext>(ApiContext{*db_, *audit_, metrics_, {}});
    context_->jobs = jobs_.get();
    RegisterJobRoutes(router_, *context_);

    auto boot = hub::BootstrapCentre(*db_, "duty", "duty officer password");
    ASSERT_TRUE(boot) << boot.error().message;
    centre_id_ = boot->org_id;
    hub::Principal admin;
    admin.user_id = boot->user_id;
    admin.username = "duty";
    admin.org_id = boot->org_id;
    admin.org_type = hub::OrgType::kCentre;
    admin.roles = {hub::Role::kCentreAdmin};
    admin.method = hub::AuthMethod::kInternal;
    admin.remote_address = "127.0.0.1";
    hub::NewOrganization ministry;
    ministry.name = "Ministry A";
    ministry.type = hub::OrgType::kMinistry;
    auto org = hub::CreateOrganization(*db_, admin, ministry);
    ASSERT_TRUE(org) << org.error().message;
    ministry_id_ = org->id;
    admin_user_id_ = boot->user_id;
    admin_ = TokenFor(admin, boot->user_id);
    analyst_ = TokenFor(admin, AddUser(admin, centre_id_, "analyst", hub::Role::kCentreAnalyst));
    auditor_ = TokenFor(admin, AddUser(admin, centre_id_, "auditor", hub::Role::kAuditor));
    reporter_ = TokenFor(admin, AddUser(admin, ministry_id_, "reporter", hub::Role::kOrgReporter));
  }

  void TearDownWorld() {
    if (jobs_) jobs_->Stop();
    audit_.reset();
  }

  std::string AddUser(const hub::Principal& admin, const std::string& org_id,
                      const std::string& username, hub::Role role) {
    hub::NewUser user;
    user.username = username;
    user.email = username + "@example.go.jp";
    user.org_id = org_id;
    user.roles = {role};
    auto created = hub::CreateUser(*db_, admin, user);
    EXPECT_TRUE(created) << created.error().message;
    return created ? created->id : "";
  }

  std::string TokenFor(const hub::Principal& admin, const std::string& user_id) {
    auto token =
        hub::CreateToken(*db_, admin, user_id, "tests", {"read", "write"}, std::nullopt, NowMs());
    EXPECT_TRUE(token) << token.error().message;
    return token ? token->secret : "";
  }

  Response Call(std::string method, const std::string& target, const std::string& token,
                std::string body = {}) {
    Request request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_TRUE(DecodeTarget(target, request));
    request.remote_address = "127.0.0.1";
    if (!body.empty()) {
      request.body = std::move(body);
      request.headers.Set("Content-Type", "application/json");
    }
    if (!token.empty()) request.headers.Set("Authorization", "Bearer " + token);
    return router_.Dispatch(request);
  }

  JsonValue Get(const std::string& target, const std::string& token) {
    Response response = Call("GET", target, token);
    EXPECT_EQ(response.status, 200) << target << ": " << response.body;
    auto parsed = JsonValue::Parse(response.body);
    EXPECT_TRUE(parsed) << response.body;
    return parsed ? *parsed : JsonValue();
  }

  static JsonValue Body(const Response& response) {
    auto parsed = JsonValue::Parse(response.body);
    return parsed ? *parsed : JsonValue();
  }

  static std::string ErrorCode(const Response& response) {
    JsonValue body = Body(response);
    const JsonValue* error = body.Find("error");
    const JsonValue* code = error ? error->Find("code") : nullptr;
    return code && code->is_string() ? code->as_string() : std::string();
  }

  // The job a 202 answer started, polled through GET /api/v1/jobs/{id} until it has finished.
  JsonValue FinishedJob(const Response& accepted, const std::string& token) {
    EXPECT_EQ(accepted.status, 202) << accepted.body;
    JsonValue body = Body(accepted);
    const JsonValue* job = body.Find("job");
    if (job == nullptr || job->Find("id") == nullptr) return JsonValue();
    std::string id = job->Find("id")->as_string();
    JsonValue current;
    for (int i = 0; i < 6000; ++i) {
      current = Get("/api/v1/jobs/" + id, token);
      const JsonValue* state = current.Find("state");
      if (state == nullptr || state->as_string() != "running") return current;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "job " << id << " did not finish";
    return current;
  }

  int64_t AuditCount(const std::string& action, const std::string& outcome) {
    audit_->Flush();
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2",
                {store::Param{action}, store::Param{outcome}})
        .rows.at(0)
        .at(0)
        .as_int();
  }

  hub::testing::TestDatabase db_;
  std::unique_ptr<hub::AuditLog> audit_;
  Metrics metrics_;
  std::unique_ptr<JobRegistry> jobs_;
  std::unique_ptr<ApiContext> context_;
  Router router_;
  std::string centre_id_, ministry_id_, admin_user_id_;
  std::string admin_, analyst_, auditor_, reporter_;
};

}  // namespace yagura::http::testing
