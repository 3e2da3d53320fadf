// Incident reports through the hub functions, on SQLite in a temporary file and, when
// YAGURA_TEST_POSTGRES_URL names a server, on PostgreSQL in a schema of its own.
//
// Organisations, users and principals are made here directly (rows and structs), so these
// tests depend on the schema and the policy only.
#include "hub/incidents.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>

#include "core/json_value.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/schema.hpp"
#include "test_support/together.hpp"
#include "unit/hub/upload_race.hpp"

namespace yagura::hub {
namespace {

constexpr int64_t T0 = 1'790'000'000'000;  // 2026-09-21
// Connections in the pool, and clients uploading the same file at once.
constexpr int UPLOADERS = 4;

std::string RandomSuffix() {
  std::random_device device;
  std::mt19937_64 random(device());
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += DIGITS[random() % 16];
  return out;
}

class IncidentsTest : public ::testing::TestWithParam<store::Engine> {
 protected:
  void SetUp() override {
    std::string target;
    if (GetParam() == store::Engine::kSqlite) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "yagura-incidents-XXXXXX").string();
      ASSERT_NE(mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      target = (dir_ / "test.db").string();
    } else {
      const char* url = std::getenv("YAGURA_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') {
        GTEST_SKIP() << "PostgreSQL variant skipped: YAGURA_TEST_POSTGRES_URL is not set";
      }
      auto admin = store::Database::Open(url, 1);
      ASSERT_TRUE(admin) << admin.error().ToString();
      admin_ = std::move(*admin);
      schema_ = "test_" + RandomSuffix();
      admin_->Acquire()->ExecuteScript("CREATE SCHEMA " + schema_);
      const std::string base(url);
      target = base + (base.find('?') == std::string::npos ? "?" : "&") +
               "options=-csearch_path%3D" + schema_;
    }
    auto db = store::Database::Open(target, UPLOADERS);
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    auto migrated = MigrateSchema(*db_);
    ASSERT_TRUE(migrated) << migrated.error().ToString();

    centre_ = AddOrg("centre", OrgType::kCentre);
    org_a_ = AddOrg("ministry-a", OrgType::kMinistry);
    org_b_ = AddOrg("ministry-b", OrgType::kMinistry);
    org_c_ = AddOrg("operator-c", OrgType::kCriticalInfrastructure);
    partner_org_ = AddOrg("partner", OrgType::kPartnerCert);
    admin_p_ = AddUser("duty", centre_, OrgType::kCentre, {Role::kCentreAdmin});
    analyst_ = AddUser("analyst", centre_, OrgType::kCentre, {Role::kCentreAnalyst});
    analyst2_ = AddUser("analyst2", centre_, OrgType::kCentre, {Role::kCentreAnalyst});
    reporter_a_ = AddUser("rep-a", org_a_, OrgType::kMinistry, {Role::kOrgReporter});
    reporter_a2_ = AddUser("rep-a2", org_a_, OrgType::kMinistry, {Role::kOrgReporter});
    reporter_b_ = AddUser("rep-b", org_b_, OrgType::kMinistry, {Role::kOrgReporter});
    reporter_c_ = AddUser("rep-c", org_c_, OrgType::kCriticalInfrastructure,
                          {Role::kOrgReporter});
    partner_ = AddUser("partner", partner_org_, OrgType::kPartnerCert, {Role::kPartner});
  }

  void TearDown() override {
    db_.reset();
    if (admin_) admin_->Acquire()->ExecuteScript("DROP SCHEMA " + schema_ + " CASCADE");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string AddOrg(const std::string& name, OrgType type) {
    std::string id = NewId();
    db_->Acquire()->Execute(
        "INSERT INTO organizations (id, name, type, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $4)",
        {store::Param{id}, store::Param{name}, store::Param{std::string(ToString(type))},
         store::Param{T0}});
    return id;
  }

  Principal AddUser(const std::string& name, const std::string& org_id, OrgType type,
                    std::vector<Role> roles) {
    Principal p;
    p.user_id = NewId();
    p.username = name;
    p.org_id = org_id;
    p.org_type = type;
    p.roles = std::move(roles);
    p.remote_address = "127.0.0.1";
    std::string role_text;
    for (Role role : p.roles) {
      if (!role_text.empty()) role_text += ",";
      role_text += ToString(role);
    }
    db_->Acquire()->Execute(
        "INSERT INTO users (id, username, display_name, org_id, roles, created_at, updated_at) "
        "VALUES ($1, $2, $2, $3, $4, $5, $5)",
        {store::Param{p.user_id}, store::Param{name}, store::Param{org_id},
         store::Param{role_text}, store::Param{T0}});
    return p;
  }

  static IncidentReport Report(std::string title = "Ransomware on file servers") {
    IncidentReport r;
    r.title = std::move(title);
    r.description = "Files encrypted on two servers";
    r.category = "malware";
    r.functional_impact = "significant_impact_to_non_critical_services";
    r.information_impact = "privacy_data_breach";
    r.recoverability = "supplemented";
    r.location = "2";
    r.observed_activity = "presence";
    r.detected_at = T0 - 3600'000;
    r.point_of_contact = {"Sato Hanako", "sato@a.example.go.jp", std::nullopt};
    return r;
  }

  Incident Create(const Principal& p, IncidentReport report = Report(),
                  std::optional<std::string> owner = std::nullopt, int64_t at = T0) {
    auto created = db_->Transact([&](store::Connection& c) {
      return CreateIncident(c, p, report, owner, at);
    });
    EXPECT_TRUE(created) << created.error().message;
    return created.value_or(Incident{});
  }

  template <typename F>
  auto With(F&& work) {
    return db_->Transact(std::forward<F>(work));
  }

  IncidentResult<Incident> Get(const Principal& p, const std::string& id) {
    return With([&](store::Connection& c) { return GetIncident(c, p, id); });
  }

  IncidentResult<Incident> Move(const Principal& p, const std::string& id, IncidentStatus to,
                                std::string note = {}) {
    return With([&](store::Connection& c) {
      return TransitionIncident(c, p, id, to, note, ++clock_);
    });
  }

  std::vector<std::string> ListIds(const Principal& p, const IncidentFilter& filter = {},
                                   int limit = 200) {
    std::vector<std::string> ids;
    std::optional<std::pair<int64_t, std::string>> before;
    while (true) {
      IncidentPage page = With([&](store::Connection& c) {
        return ListIncidents(c, p, filter, before, limit);
      });
      for (const auto& item : page.items) ids.push_back(item.id);
      if (!page.more) break;
      before = std::make_pair(page.items.back().created_at, page.items.back().id);
    }
    return ids;
  }

  int64_t AuditCount(const std::string& action) {
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1", {store::Param{action}})
        .rows[0][0]
        .as_int();
  }

  int64_t clock_ = T0 + 1000;  // times of the transitions, one millisecond apart
  std::filesystem::path dir_;
  std::unique_ptr<store::Database> admin_;
  std::string schema_;
  std::unique_ptr<store::Database> db_;
  std::string centre_, org_a_, org_b_, org_c_, partner_org_;
  Principal admin_p_, analyst_, analyst2_, reporter_a_, reporter_a2_, reporter_b_, reporter_c_,
      partner_;
};

TEST_P(IncidentsTest, CreateAssignsReferenceScoreHistoryAndAudit) {
  Incident first = Create(reporter_a_);
  Incident second = Create(reporter_a_);
  EXPECT_EQ(first.reference, "INC-2026-000001");
  EXPECT_EQ(second.reference, "INC-2026-000002");
  EXPECT_EQ(first.owner_org_id, org_a_);
  EXPECT_EQ(first.author_id, reporter_a_.user_id);
  EXPECT_EQ(first.status, IncidentStatus::kReported);
  EXPECT_EQ(first.report.tlp, Tlp::kAmber);
  EXPECT_EQ(first.version, 1);
  // (50x20 + 70x15 + 30x15 + 40x15 + 40x10) / 75
  EXPECT_DOUBLE_EQ(first.score.value, 46.7);
  EXPECT_EQ(first.score.priority.level, 1);

  auto loaded = Get(reporter_a_, first.id);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->report.title, first.report.title);
  EXPECT_EQ(loaded->report.point_of_contact.email, "sato@a.example.go.jp");
  EXPECT_DOUBLE_EQ(loaded->score.value, 46.7);
  EXPECT_EQ(loaded->comment_count, 0);

  auto history = With([&](store::Connection& c) { return IncidentHistory(c, reporter_a_, first.id); });
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].kind, "created");
  EXPECT_EQ((*history)[0].actor_id, reporter_a_.user_id);
  EXPECT_EQ((*history)[0].to_status, "reported");
  EXPECT_EQ(AuditCount("incident.create"), 2);
  auto verified = With([](store::Connection& c) { return AuditLog::Verify(c); });
  EXPECT_TRUE(verified.intact) << verified.problem;
}

TEST_P(IncidentsTest, StructuredFieldsRoundTrip) {
  IncidentReport r = Report();
  r.occurred_at = T0 - 7200'000;
  r.systems_affected = 2;
  r.records_affected = 0;
  r.users_affected = 1500;
  r.attack_vector = "email_phishing";
  r.actor_characterization = "criminal";
  r.cross_sector_dependency = "low";
  r.potential_impact = "medium";
  r.indicators = {{"ip", "203.0.113.7"}, {"hash", std::string(64, 'a')}};
  r.mitigations = "Isolated the servers";
  r.point_of_contact.phone = "+81-3-0000-0000";
  Incident created = Create(reporter_a_, r);
  auto loaded = Get(reporter_a_, created.id);
  ASSERT_TRUE(loaded);
  const IncidentReport& l = loaded->report;
  EXPECT_EQ(l.occurred_at, r.occurred_at);
  EXPECT_EQ(l.systems_affected, 2);
  EXPECT_EQ(l.records_affected, 0);
  EXPECT_EQ(l.users_affected, 1500);
  EXPECT_EQ(l.attack_vector, "email_phishing");
  EXPECT_EQ(l.actor_characterization, "criminal");
  ASSERT_EQ(l.indicators.size(), 2u);
  EXPECT_EQ(l.indicators[0].type, "ip");
  EXPECT_EQ(l.indicators[1].value, std::string(64, 'a'));
  EXPECT_EQ(l.mitigations, "Isolated the servers");
  EXPECT_EQ(l.point_of_contact.phone, "+81-3-0000-0000");
  EXPECT_EQ(loaded->score.factors.size(), 8u);
}

TEST_P(IncidentsTest, ValidationNamesTheField) {
  auto fails_on = [&](IncidentReport r, const std::string& field) {
    auto result = With([&](store::Connection& c) {
      return CreateIncident(c, reporter_a_, r, std::nullopt, T0);
    });
    ASSERT_FALSE(result) << field;
    EXPECT_EQ(result.error().kind, IncidentErrorKind::kInvalid) << field;
    EXPECT_EQ(result.error().field, field) << result.error().message;
  };
  IncidentReport r = Report();
  r.category = "spam";
  fails_on(r, "category");
  r = Report();
  r.functional_impact = "catastrophic";
  fails_on(r, "functional_impact");
  r = Report();
  r.location = "8";
  fails_on(r, "location");
  r = Report();
  r.title = "";
  fails_on(r, "title");
  r = Report();
  r.users_affected = -1;
  fails_on(r, "users_affected");
  r = Report();
  r.occurred_at = r.detected_at + 1;
  fails_on(r, "occurred_at");
  r = Report();
  r.indicators = {{"ip", "1.2.3.4"}, {"registry_key", "x"}};
  fails_on(r, "indicators[1].type");
  r = Report();
  r.point_of_contact.email = "not-an-address";
  fails_on(r, "point_of_contact.email");
  r = Report();
  r.tlp = Tlp::kRed;
  r.shared_with = {org_b_};
  fails_on(r, "shared_with");
  r = Report();
  r.recipients = {analyst_.user_id};
  fails_on(r, "recipients");
  r = Report();
  r.shared_with = {org_b_, "no-such-org"};
  fails_on(r, "shared_with[1]");
  r = Report();
  r.tlp = Tlp::kRed;
  r.recipients = {"no-such-user"};
  fails_on(r, "recipients[0]");
  r = Report();
  r.title = std::string("nul\0inside", 10);
  fails_on(r, "title");
  r = Report();
  r.indicators = {{"url", "http://x.example/\xff"}};
  fails_on(r, "indicators[0].value");
  r = Report();
  r.shared_with = {"\xff\xfe"};
  fails_on(r, "shared_with[0]");
  // Nothing of the refused reports was written.
  EXPECT_EQ(db_->Acquire()->Query("SELECT COUNT(*) FROM incidents").rows[0][0].as_int(), 0);
}

TEST_P(IncidentsTest, OnlyCentreStaffReportOnBehalfOfAnotherOrganization) {
  auto as = [&](const Principal& p, std::optional<std::string> owner) {
    return With([&](store::Connection& c) {
      return CreateIncident(c, p, Report(), owner, T0);
    });
  };
  auto refused = as(reporter_a_, org_b_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, IncidentErrorKind::kForbidden);
  auto own = as(reporter_a_, org_a_);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->owner_org_id, org_a_);
  auto on_behalf = as(analyst_, org_c_);
  ASSERT_TRUE(on_behalf);
  EXPECT_EQ(on_behalf->owner_org_id, org_c_);
  EXPECT_EQ(on_behalf->author_id, analyst_.user_id);
  auto partner = as(partner_, std::nullopt);
  ASSERT_FALSE(partner);
  EXPECT_EQ(partner.error().kind, IncidentErrorKind::kForbidden);
  auto unknown_org = as(admin_p_, std::string("nope"));
  ASSERT_FALSE(unknown_org);
  EXPECT_EQ(unknown_org.error().field, "owner_org_id");
}

TEST_P(IncidentsTest, OnlyTheReportingOrganizationWidensTheAudience) {
  // A RED report names the duty officer; as a recipient it may edit the report's facts but
  // not pass it on more widely.
  IncidentReport red = Report();
  red.tlp = Tlp::kRed;
  red.recipients = {admin_p_.user_id};
  Incident incident = Create(reporter_a_, red);
  auto update = [&](const Principal& p, IncidentReport r) {
    return With([&](store::Connection& c) {
      return UpdateIncident(c, p, incident.id, r, std::nullopt, ++clock_);
    });
  };
  IncidentReport widened = red;
  widened.tlp = Tlp::kAmber;
  widened.recipients.clear();
  auto refused = update(admin_p_, widened);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, IncidentErrorKind::kForbidden);
  IncidentReport more = red;
  more.recipients = {admin_p_.user_id, analyst_.user_id};
  EXPECT_FALSE(update(admin_p_, more));  // adding a recipient widens too
  IncidentReport facts = red;
  facts.description = "Files encrypted on three servers";
  EXPECT_TRUE(update(admin_p_, facts));  // the facts may change
  auto still = Get(reporter_a_, incident.id);
  ASSERT_TRUE(still);
  EXPECT_EQ(still->report.tlp, Tlp::kRed);
  EXPECT_TRUE(update(reporter_a_, widened));  // the reporter decides
  EXPECT_EQ(Get(reporter_a_, incident.id)->report.tlp, Tlp::kAmber);
}

TEST_P(IncidentsTest, OtherOrganizationsCannotSeeAReport) {
  Incident incident = Create(reporter_a_);
  // Same organisation: yes. Another organisation: not found, not even in lists.
  EXPECT_TRUE(Get(reporter_a2_, incident.id));
  auto other = Get(reporter_b_, incident.id);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, IncidentErrorKind::kNotFound);
  EXPECT_TRUE(ListIds(reporter_b_).empty());
  EXPECT_EQ(ListIds(reporter_a2_), std::vector<std::string>{incident.id});
  // The duty officer sees what was reported to the centre; an unassigned analyst does not.
  EXPECT_TRUE(Get(admin_p_, incident.id));
  EXPECT_EQ(ListIds(admin_p_), std::vector<std::string>{incident.id});
  EXPECT_FALSE(Get(analyst_, incident.id));
  EXPECT_TRUE(ListIds(analyst_).empty());
  // A missing id reads the same as a forbidden one.
  auto missing = Get(reporter_b_, NewId());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, IncidentErrorKind::kNotFound);
}

TEST_P(IncidentsTest, AmberSharedWithAndRedRecipients) {
  IncidentReport shared = Report("shared");
  shared.shared_with = {org_b_, org_b_};  // repeated ids are kept once
  Incident amber = Create(reporter_a_, shared);
  EXPECT_EQ(amber.report.shared_with, std::vector<std::string>{org_b_});
  EXPECT_TRUE(Get(reporter_b_, amber.id));
  EXPECT_FALSE(Get(reporter_c_, amber.id));

  IncidentReport secret = Report("red");
  secret.tlp = Tlp::kRed;
  secret.recipients = {analyst2_.user_id};
  Incident red = Create(reporter_a_, secret);
  EXPECT_TRUE(Get(reporter_a_, red.id));       // author
  EXPECT_FALSE(Get(reporter_a2_, red.id));     // same organisation, not named
  EXPECT_FALSE(Get(admin_p_, red.id));         // RED stays with its recipients
  EXPECT_TRUE(Get(analyst2_, red.id));         // named
  EXPECT_EQ(ListIds(analyst2_), std::vector<std::string>{red.id});
}

TEST_P(IncidentsTest, AssignmentLetsAnAnalystReadAndTriage) {
  Incident incident = Create(reporter_a_);
  // The reporter cannot assign; the duty officer can, to centre staff only.
  auto by_reporter = With([&](store::Connection& c) {
    return AssignIncident(c, reporter_a_, incident.id, analyst_.user_id, T0);
  });
  ASSERT_FALSE(by_reporter);
  EXPECT_EQ(by_reporter.error().kind, IncidentErrorKind::kForbidden);
  auto outsider = With([&](store::Connection& c) {
    return AssignIncident(c, admin_p_, incident.id, reporter_b_.user_id, T0);
  });
  ASSERT_FALSE(outsider);
  EXPECT_EQ(outsider.error().field, "user_id");
  auto assigned = With([&](store::Connection& c) {
    return AssignIncident(c, admin_p_, incident.id, analyst_.user_id, T0);
  });
  ASSERT_TRUE(assigned);
  EXPECT_TRUE(*assigned);
  auto again = With([&](store::Connection& c) {
    return AssignIncident(c, admin_p_, incident.id, analyst_.user_id, T0);
  });
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);

  auto read = Get(analyst_, incident.id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->assignee_ids, std::vector<std::string>{analyst_.user_id});
  IncidentFilter mine;
  mine.assigned_to_me = true;
  EXPECT_EQ(ListIds(analyst_, mine), std::vector<std::string>{incident.id});
  EXPECT_TRUE(ListIds(admin_p_, mine).empty());
  auto moved = Move(analyst_, incident.id, IncidentStatus::kTriaged, "looking");
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->status, IncidentStatus::kTriaged);

  auto removed = With([&](store::Connection& c) {
    return UnassignIncident(c, admin_p_, incident.id, analyst_.user_id, T0);
  });
  ASSERT_TRUE(removed);
  EXPECT_FALSE(Get(analyst_, incident.id));
  auto not_assigned = With([&](store::Connection& c) {
    return UnassignIncident(c, admin_p_, incident.id, analyst_.user_id, T0);
  });
  ASSERT_FALSE(not_assigned);
  EXPECT_EQ(not_assigned.error().kind, IncidentErrorKind::kNotFound);
}

TEST_P(IncidentsTest, LifecycleRules) {
  Incident incident = Create(reporter_a_);
  // The reporter reads it but may not move it.
  auto by_reporter = Move(reporter_a_, incident.id, IncidentStatus::kTriaged);
  ASSERT_FALSE(by_reporter);
  EXPECT_EQ(by_reporter.error().kind, IncidentErrorKind::kForbidden);
  // Someone must triage first.
  auto skip = Move(admin_p_, incident.id, IncidentStatus::kInvestigating);
  ASSERT_FALSE(skip);
  EXPECT_EQ(skip.error().kind, IncidentErrorKind::kConflict);
  ASSERT_TRUE(Move(admin_p_, incident.id, IncidentStatus::kTriaged));
  auto same = Move(admin_p_, incident.id, IncidentStatus::kTriaged);
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().kind, IncidentErrorKind::kConflict);
  // From triaged on, forward skips are allowed.
  ASSERT_TRUE(Move(admin_p_, incident.id, IncidentStatus::kResolved, "false positive"));
  auto back = Move(admin_p_, incident.id, IncidentStatus::kContained);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().kind, IncidentErrorKind::kConflict);
  ASSERT_TRUE(Move(admin_p_, incident.id, IncidentStatus::kClosed));

  // Closed: no edits until reopened, and reopening needs a centre_admin and a reason.
  auto edit = With([&](store::Connection& c) {
    return UpdateIncident(c, reporter_a_, incident.id, Report("changed"), std::nullopt, T0);
  });
  ASSERT_FALSE(edit);
  EXPECT_EQ(edit.error().kind, IncidentErrorKind::kConflict);
  With([&](store::Connection& c) {
    return AssignIncident(c, admin_p_, incident.id, analyst_.user_id, ++clock_);
  });
  auto by_analyst = Move(analyst_, incident.id, IncidentStatus::kInvestigating, "new evidence");
  ASSERT_FALSE(by_analyst);
  EXPECT_EQ(by_analyst.error().kind, IncidentErrorKind::kForbidden);
  auto no_reason = Move(admin_p_, incident.id, IncidentStatus::kInvestigating, "  ");
  ASSERT_FALSE(no_reason);
  EXPECT_EQ(no_reason.error().kind, IncidentErrorKind::kInvalid);
  EXPECT_EQ(no_reason.error().field, "note");
  auto to_reported = Move(admin_p_, incident.id, IncidentStatus::kReported, "why");
  ASSERT_FALSE(to_reported);
  EXPECT_EQ(to_reported.error().kind, IncidentErrorKind::kConflict);
  auto reopened = Move(admin_p_, incident.id, IncidentStatus::kInvestigating, "new evidence");
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ(reopened->status, IncidentStatus::kInvestigating);

  auto history = With([&](store::Connection& c) {
    return IncidentHistory(c, reporter_a_, incident.id);
  });
  ASSERT_TRUE(history);
  std::vector<std::string> kinds;
  for (const auto& entry : *history) kinds.push_back(entry.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"created", "transition", "transition", "transition",
                                             "assigned", "reopened"}));
  const HistoryEntry& last = history->back();
  EXPECT_EQ(last.actor_id, admin_p_.user_id);
  EXPECT_EQ(last.from_status, "closed");
  EXPECT_EQ(last.to_status, "investigating");
  EXPECT_EQ(last.at, clock_);
  auto detail = JsonValue::Parse(last.detail);
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->Find("note")->as_string(), "new evidence");
  EXPECT_EQ(AuditCount("incident.transition"), 3);
  EXPECT_EQ(AuditCount("incident.reopen"), 1);
}

TEST_P(IncidentsTest, CheckTransitionTable) {
  using S = IncidentStatus;
  const S all[] = {S::kReported, S::kTriaged, S::kInvestigating,
                   S::kContained, S::kResolved, S::kClosed};
  for (S from : all) {
    for (S to : all) {
      auto error = CheckTransition(admin_p_, from, to, "reason");
      bool expected_ok = (from == S::kReported && to == S::kTriaged) ||
                         (from != S::kReported && to > from) ||
                         ((from == S::kResolved || from == S::kClosed) &&
                          to == S::kInvestigating);
      EXPECT_EQ(!error.has_value(), expected_ok) << ToString(from) << " -> " << ToString(to);
    }
  }
}

TEST_P(IncidentsTest, UpdateRescoresAndChecksVersion) {
  Incident incident = Create(reporter_a_);
  IncidentReport r = incident.report;
  r.functional_impact = "denial_of_critical_services";
  r.information_impact = "destruction_of_critical_system";
  r.recoverability = "not_recoverable";
  r.location = "7";
  r.observed_activity = "effect";
  auto stale = With([&](store::Connection& c) {
    return UpdateIncident(c, reporter_a_, incident.id, r, 7, T0 + 5);
  });
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().kind, IncidentErrorKind::kConflict);
  auto updated = With([&](store::Connection& c) {
    return UpdateIncident(c, reporter_a_, incident.id, r, 1, T0 + 5);
  });
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->version, 2);
  EXPECT_DOUBLE_EQ(updated->score.value, 100);
  EXPECT_EQ(updated->score.priority.level, 5);
  EXPECT_EQ(updated->updated_at, T0 + 5);
  // The stored priority serves the list filter.
  IncidentFilter urgent;
  urgent.priority_min = 5;
  EXPECT_EQ(ListIds(admin_p_, urgent), std::vector<std::string>{incident.id});
  // Another organisation cannot edit (and cannot see it at all).
  auto other = With([&](store::Connection& c) {
    return UpdateIncident(c, reporter_b_, incident.id, r, std::nullopt, T0 + 6);
  });
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().kind, IncidentErrorKind::kNotFound);
  // Sharing with B by an update: B now reads it.
  r.shared_with = {org_b_};
  ASSERT_TRUE(With([&](store::Connection& c) {
    return UpdateIncident(c, reporter_a_, incident.id, r, std::nullopt, T0 + 7);
  }));
  EXPECT_TRUE(Get(reporter_b_, incident.id));
  // B may read but not edit.
  auto shared_edit = With([&](store::Connection& c) {
    return UpdateIncident(c, reporter_b_, incident.id, r, std::nullopt, T0 + 8);
  });
  ASSERT_FALSE(shared_edit);
  EXPECT_EQ(shared_edit.error().kind, IncidentErrorKind::kForbidden);
  EXPECT_EQ(AuditCount("incident.update"), 2);
}

TEST_P(IncidentsTest, CommentsArePagedOldestFirst) {
  Incident incident = Create(reporter_a_);
  for (int i = 0; i < 5; ++i) {
    auto added = With([&](store::Connection& c) {
      return AddComment(c, i % 2 ? admin_p_ : reporter_a_, incident.id,
                        "comment " + std::to_string(i), T0 + i);
    });
    ASSERT_TRUE(added);
  }
  auto empty = With([&](store::Connection& c) {
    return AddComment(c, reporter_a_, incident.id, "", T0);
  });
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().field, "body");
  auto by_outsider = With([&](store::Connection& c) {
    return AddComment(c, reporter_b_, incident.id, "hello", T0);
  });
  ASSERT_FALSE(by_outsider);
  EXPECT_EQ(by_outsider.error().kind, IncidentErrorKind::kNotFound);

  std::vector<std::string> bodies;
  std::optional<std::pair<int64_t, std::string>> after;
  while (true) {
    auto page = With([&](store::Connection& c) {
      return ListComments(c, reporter_a_, incident.id, after, 2);
    });
    ASSERT_TRUE(page);
    for (const auto& comment : page->items) bodies.push_back(comment.body);
    if (!page->more) break;
    after = std::make_pair(page->items.back().created_at, page->items.back().id);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"comment 0", "comment 1", "comment 2", "comment 3",
                                              "comment 4"}));
  EXPECT_EQ(Get(reporter_a_, incident.id)->comment_count, 5);
}

TEST_P(IncidentsTest, LinksNeedBothIncidentsReadable) {
  Incident a1 = Create(reporter_a_, Report("a1"));
  Incident a2 = Create(reporter_a_, Report("a2"));
  Incident b1 = Create(reporter_b_, Report("b1"));
  auto link = [&](const Principal& p, const std::string& from, const std::string& to,
                  const std::string& relation) {
    return With([&](store::Connection& c) {
      return LinkIncidents(c, p, from, to, relation, T0 + 10);
    });
  };
  auto hidden = link(reporter_a_, a1.id, b1.id, "related");
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().field, "incident_id");
  auto self = link(reporter_a_, a1.id, a1.id, "related");
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().kind, IncidentErrorKind::kInvalid);
  auto bad_relation = link(reporter_a_, a1.id, a2.id, "sibling");
  ASSERT_FALSE(bad_relation);
  EXPECT_EQ(bad_relation.error().field, "relation");
  auto made = link(reporter_a_, a1.id, a2.id, "parent");
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->reference, a2.reference);
  auto duplicate = link(reporter_a_, a2.id, a1.id, "related");
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().kind, IncidentErrorKind::kConflict);

  auto from_a2 = Get(reporter_a_, a2.id);
  ASSERT_TRUE(from_a2);
  ASSERT_EQ(from_a2->links.size(), 1u);
  EXPECT_EQ(from_a2->links[0].incident_id, a1.id);
  EXPECT_EQ(from_a2->links[0].relation, "child");  // a1 is a2's parent

  // The duty officer links A's and B's incidents; each side only sees links it may read.
  ASSERT_TRUE(link(admin_p_, a1.id, b1.id, "duplicate"));
  EXPECT_EQ(Get(admin_p_, a1.id)->links.size(), 2u);
  EXPECT_EQ(Get(reporter_a_, a1.id)->links.size(), 1u);
  EXPECT_EQ(Get(reporter_b_, b1.id)->links.size(), 0u);

  auto unlink = [&](const Principal& p, const std::string& from, const std::string& to) {
    return With([&](store::Connection& c) { return UnlinkIncidents(c, p, from, to, T0 + 20); });
  };
  auto unseen = unlink(reporter_a_, a1.id, b1.id);
  ASSERT_FALSE(unseen);
  EXPECT_EQ(unseen.error().kind, IncidentErrorKind::kNotFound);
  ASSERT_TRUE(unlink(reporter_a_, a2.id, a1.id));  // either direction
  EXPECT_TRUE(Get(reporter_a_, a2.id)->links.empty());
  auto gone = unlink(reporter_a_, a2.id, a1.id);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, IncidentErrorKind::kNotFound);
}

// Text the database would refuse (NUL, bytes that are not UTF-8) is answered before any query.
TEST_P(IncidentsTest, MalformedIdsAndTextNeverReachTheDatabase) {
  Incident incident = Create(reporter_a_);
  for (std::string id : {std::string("\xff\xfe"), std::string("a\0b", 3), std::string(100, 'a'),
                         std::string()}) {
    auto got = Get(reporter_a_, id);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().kind, IncidentErrorKind::kNotFound);
  }
  auto attachment = With([&](store::Connection& c) {
    return GetAttachment(c, reporter_a_, incident.id, "\xff");
  });
  ASSERT_FALSE(attachment);
  EXPECT_EQ(attachment.error().kind, IncidentErrorKind::kNotFound);
  auto assign = With([&](store::Connection& c) {
    return AssignIncident(c, admin_p_, incident.id, std::string("x\0", 2), T0);
  });
  ASSERT_FALSE(assign);
  EXPECT_EQ(assign.error().field, "user_id");
  auto link = With([&](store::Connection& c) {
    return LinkIncidents(c, reporter_a_, incident.id, "\xff", "related", T0);
  });
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().field, "incident_id");
  auto file = With([&](store::Connection& c) {
    return AddAttachment(c, reporter_a_, incident.id, "bad\xff.txt", "text/plain", "x", T0);
  });
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().field, "filename");
  auto type = With([&](store::Connection& c) {
    return AddAttachment(c, reporter_a_, incident.id, "a.txt", "text/plain; x=\xff", "x", T0);
  });
  ASSERT_FALSE(type);
  auto comment = With([&](store::Connection& c) {
    return AddComment(c, reporter_a_, incident.id, std::string("a\0", 2), T0);
  });
  ASSERT_FALSE(comment);
  EXPECT_EQ(comment.error().field, "body");
  auto note = Move(admin_p_, incident.id, IncidentStatus::kTriaged, "\xc0\xaf");
  ASSERT_FALSE(note);
  EXPECT_EQ(note.error().field, "note");
  IncidentFilter odd;
  odd.title_contains = "\xff";
  EXPECT_TRUE(ListIds(reporter_a_, odd).empty());
  odd = {};
  odd.owner_org_id = std::string("\0", 1);
  EXPECT_TRUE(ListIds(admin_p_, odd).empty());
}

TEST_P(IncidentsTest, AttachmentsKeepContentAndSha256) {
  Incident incident = Create(reporter_a_);
  std::string content("MZ\x90\0\x03\0binary", 12);
  auto added = With([&](store::Connection& c) {
    return AddAttachment(c, reporter_a_, incident.id, "sample.exe", "application/octet-stream",
                         content, T0);
  });
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(added->size, 12);
  EXPECT_EQ(added->sha256, Sha256Hex(content));
  auto bad_name = With([&](store::Connection& c) {
    return AddAttachment(c, reporter_a_, incident.id, "../etc/passwd", "text/plain", "x", T0);
  });
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().field, "filename");
  auto bad_type = With([&](store::Connection& c) {
    return AddAttachment(c, reporter_a_, incident.id, "a.txt", "text", "x", T0);
  });
  ASSERT_FALSE(bad_type);
  auto outsider = With([&](store::Connection& c) {
    return AddAttachment(c, reporter_b_, incident.id, "a.txt", "text/plain", "x", T0);
  });
  ASSERT_FALSE(outsider);
  EXPECT_EQ(outsider.error().kind, IncidentErrorKind::kNotFound);

  auto listed = With([&](store::Connection& c) {
    return ListAttachments(c, admin_p_, incident.id);
  });
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].filename, "sample.exe");
  auto fetched = With([&](store::Connection& c) {
    return GetAttachment(c, reporter_a2_, incident.id, added->id);
  });
  ASSERT_TRUE(fetched);
  EXPECT_EQ(fetched->content, content);
  EXPECT_EQ(fetched->info.content_type, "application/octet-stream");
  auto hidden = With([&](store::Connection& c) {
    return GetAttachment(c, reporter_b_, incident.id, added->id);
  });
  ASSERT_FALSE(hidden);
  EXPECT_EQ(Get(reporter_a_, incident.id)->attachments.size(), 1u);
}

TEST_P(IncidentsTest, TheSameFileAgainIsTheAttachmentItAlreadyIs) {
  // A client that retries an upload whose answer it lost sends the same file again: it gets the
  // attachment it made, and nothing is stored twice. Another name, or other bytes under the
  // same name, make another attachment. Every attempt is audited; the history has the three.
  Incident incident = Create(reporter_a_);
  auto add = [&](const Principal& who, const std::string& name, const std::string& bytes,
                 int64_t at) {
    return With([&](store::Connection& c) {
      return AddAttachment(c, who, incident.id, name, "text/plain", bytes, at);
    });
  };
  auto first = add(reporter_a_, "auth.log", "failed login", T0);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_FALSE(first->already_attached);
  auto again = add(reporter_a2_, "auth.log", "failed login", T0 + 5);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->already_attached);
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->uploaded_at, T0);
  EXPECT_EQ(again->uploaded_by, first->uploaded_by);
  auto renamed = add(reporter_a_, "auth-copy.log", "failed login", T0 + 6);
  ASSERT_TRUE(renamed);
  EXPECT_FALSE(renamed->already_attached);
  auto changed = add(reporter_a_, "auth.log", "failed logins", T0 + 7);
  ASSERT_TRUE(changed);
  EXPECT_FALSE(changed->already_attached);
  EXPECT_NE(changed->id, first->id);
  // Refusals come first: an outsider learns nothing from a file it guesses.
  auto outsider = add(reporter_b_, "auth.log", "failed login", T0 + 8);
  ASSERT_FALSE(outsider);
  EXPECT_EQ(outsider.error().kind, IncidentErrorKind::kNotFound);

  EXPECT_EQ(Get(reporter_a_, incident.id)->attachments.size(), 3u);
  EXPECT_EQ(AuditCount("incident.attachment.add"), 4);
  auto history = With([&](store::Connection& c) {
    return IncidentHistory(c, reporter_a_, incident.id);
  });
  ASSERT_TRUE(history);
  EXPECT_EQ(std::count_if(history->begin(), history->end(),
                          [](const HistoryEntry& e) { return e.kind == "attachment_added"; }),
            3);
}

TEST_P(IncidentsTest, TheSameFileAtOnceIsStoredOnce) {
  // Clients that retry before their first answer arrives send the same file at the same
  // instant. One of them makes the attachment; the others get it back as already attached.
  // Each round starts every upload together, a file of its own per round.
  Incident incident = Create(reporter_a_);
  constexpr int ROUNDS = 12;
  for (int round = 0; round < ROUNDS; ++round) {
    const std::string bytes = "capture " + std::to_string(round);
    std::vector<IncidentResult<AttachmentInfo>> results(UPLOADERS);
    test_support::RunTogether(UPLOADERS, [&](int i) {
      try {
        results[i] = With([&](store::Connection& c) {
          return AddAttachment(c, reporter_a_, incident.id, "capture.pcap",
                               "application/vnd.tcpdump.pcap", bytes, T0 + round);
        });
      } catch (const std::exception& error) {
        results[i] = tl::unexpected(IncidentError{IncidentErrorKind::kConflict, error.what(), {}});
      }
    });
    ExpectOneAttachmentMade(results, round);
  }
  EXPECT_EQ(Get(reporter_a_, incident.id)->attachments.size(), static_cast<size_t>(ROUNDS));
  EXPECT_EQ(AuditCount("incident.attachment.add"), ROUNDS * UPLOADERS);
}

TEST_P(IncidentsTest, ListFiltersAndKeysetPaging) {
  std::vector<std::string> created;  // oldest first
  std::vector<std::pair<int64_t, std::string>> keys;
  for (int i = 0; i < 7; ++i) {
    IncidentReport r = Report(i % 2 ? "Phishing wave" : "Server outage");
    r.category = i % 2 ? "phishing" : "ddos";
    if (i == 3) r.tlp = Tlp::kGreen;
    // Equal creation times for pairs of them, so the id must break ties.
    created.push_back(Create(reporter_a_, r, std::nullopt, T0 + i / 2).id);
    keys.emplace_back(T0 + i / 2, created.back());
  }
  std::sort(keys.rbegin(), keys.rend());
  std::vector<std::string> newest_first;
  for (const auto& key : keys) newest_first.push_back(key.second);
  EXPECT_EQ(ListIds(reporter_a_, {}, 2), newest_first);
  EXPECT_EQ(ListIds(reporter_a_, {}, 200), newest_first);

  IncidentFilter phishing;
  phishing.category = "phishing";
  EXPECT_EQ(ListIds(reporter_a_, phishing).size(), 3u);
  IncidentFilter title;
  title.title_contains = "OUTAGE";
  EXPECT_EQ(ListIds(reporter_a_, title).size(), 4u);
  IncidentFilter percent;
  percent.title_contains = "%";
  EXPECT_TRUE(ListIds(reporter_a_, percent).empty());
  IncidentFilter green;
  green.tlp = Tlp::kGreen;
  EXPECT_EQ(ListIds(reporter_a_, green), std::vector<std::string>{created[3]});
  // GREEN reaches every member organisation, never a partner CERT abroad.
  EXPECT_EQ(ListIds(reporter_b_), std::vector<std::string>{created[3]});
  EXPECT_TRUE(ListIds(partner_).empty());
  IncidentFilter owner;
  owner.owner_org_id = org_a_;
  EXPECT_EQ(ListIds(reporter_b_, owner), std::vector<std::string>{created[3]});
  EXPECT_EQ(ListIds(reporter_a_, owner, 3), newest_first);

  ASSERT_TRUE(Move(admin_p_, created[0], IncidentStatus::kTriaged));
  IncidentFilter triaged;
  triaged.status = IncidentStatus::kTriaged;
  EXPECT_EQ(ListIds(reporter_a_, triaged), std::vector<std::string>{created[0]});
}

// The list filter in SQL agrees with CanRead for every principal over a mixed population.
TEST_P(IncidentsTest, ListAgreesWithCanRead) {
  std::vector<Principal> people = {admin_p_, analyst_, analyst2_, reporter_a_, reporter_a2_,
                                   reporter_b_, reporter_c_, partner_};
  const Tlp tlps[] = {Tlp::kClear, Tlp::kGreen, Tlp::kAmber, Tlp::kAmberStrict, Tlp::kRed};
  int n = 0;
  for (const Principal* author : {&reporter_a_, &reporter_b_, &analyst_}) {
    for (Tlp tlp : tlps) {
      IncidentReport r = Report("mixed " + std::to_string(n));
      r.tlp = tlp;
      if (tlp == Tlp::kAmber && n % 2 == 0) r.shared_with = {org_c_};
      if (tlp == Tlp::kRed) r.recipients = {reporter_c_.user_id};
      std::optional<std::string> owner;
      if (author == &analyst_) owner = org_b_;
      Incident incident = Create(*author, r, owner, T0 + n);
      if (n % 3 == 0) {
        With([&](store::Connection& c) {
          return AssignIncident(c, admin_p_, incident.id, analyst2_.user_id, T0);
        });
      }
      ++n;
    }
  }
  std::vector<Incident> all;
  for (const auto& row : db_->Acquire()->Query("SELECT id FROM incidents").rows) {
    // Load through a principal who reads everything they are granted: the author.
    std::string author = db_->Acquire()
                             ->Query("SELECT author_id FROM incidents WHERE id = $1",
                                     {store::Param{row[0].text()}})
                             .rows[0][0]
                             .text();
    Principal* as = nullptr;
    for (auto& p : people) {
      if (p.user_id == author) as = &p;
    }
    ASSERT_NE(as, nullptr);
    all.push_back(*Get(*as, row[0].text()));
  }
  for (const auto& p : people) {
    std::set<std::string> expected;
    for (const auto& incident : all) {
      if (CanRead(p, incident.ToMarking())) expected.insert(incident.id);
    }
    std::vector<std::string> listed = ListIds(p, {}, 4);
    std::set<std::string> got(listed.begin(), listed.end());
    EXPECT_EQ(got.size(), listed.size()) << p.username << ": a page repeated an item";
    EXPECT_EQ(got, expected) << p.username;
    for (const auto& incident : all) {
      EXPECT_EQ(Get(p, incident.id).has_value(), expected.count(incident.id) == 1)
          << p.username << " " << incident.report.title;
    }
  }
}

TEST_P(IncidentsTest, ManyIncidentsInOneTransaction) {
  constexpr int COUNT = 2000;
  std::vector<std::string> orgs = {org_a_, org_b_, org_c_};
  db_->Transact([&](store::Connection& c) {
    for (int i = 0; i < COUNT; ++i) {
      auto created = CreateIncident(c, admin_p_, Report("bulk " + std::to_string(i)),
                                    orgs[i % orgs.size()], T0 + i);
      ASSERT_TRUE(created) << created.error().message;
    }
  });
  EXPECT_EQ(db_->Acquire()->Query("SELECT COUNT(*) FROM incidents").rows[0][0].as_int(), COUNT);
  IncidentFilter owner;
  owner.owner_org_id = org_b_;
  auto page = With([&](store::Connection& c) {
    return ListIncidents(c, reporter_b_, owner, std::nullopt, 50);
  });
  ASSERT_EQ(page.items.size(), 50u);
  EXPECT_TRUE(page.more);
  for (const auto& item : page.items) EXPECT_EQ(item.owner_org_id, org_b_);
  EXPECT_EQ(page.items.front().title, "bulk 1999");  // the newest of B's (i % 3 == 1)
  auto verified = With([](store::Connection& c) { return AuditLog::Verify(c); });
  EXPECT_TRUE(verified.intact) << verified.problem;
}

INSTANTIATE_TEST_SUITE_P(Engines, IncidentsTest,
                         ::testing::Values(store::Engine::kSqlite, store::Engine::kPostgres),
                         [](const auto& info) {
                           return info.param == store::Engine::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace yagura::hub
