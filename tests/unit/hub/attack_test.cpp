// The ATT&CK catalogue through the hub functions, on SQLite and (through scripts/with-postgres)
// on PostgreSQL: exact counts of a small hand-written bundle, revoked and deprecated objects,
// sub-technique parents, idempotent re-import, resolution, the catalogue reads, the heatmap's
// counts under the access policy, coverage, the techniques of incidents, and the real
// enterprise and ICS bundles from the shared data.
#include "hub/attack.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "hub/alerts.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/incidents.hpp"
#include "attack_test_bundle.hpp"
#include "hub_test_database.hpp"

namespace yagura::hub {
namespace {

using store::Param;
using testing::Backend;

constexpr int64_t T0 = 1'800'000'000'000;  // 2027-01-15T08:00:00Z
constexpr int64_t DAY = 86'400'000;

class AttackTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string reason;
    if (!db_.Open(GetParam(), reason)) GTEST_SKIP() << reason;
  }

  AttackImportReport Import(const std::string& text = testing::SmallAttackBundle()) {
    auto report = ImportAttackBundle(*db_, text, T0);
    EXPECT_TRUE(report) << (report ? "" : report.error().ToString());
    return report.value_or(AttackImportReport{});
  }

  int64_t Count(const std::string& sql) {
    return db_->Acquire()->Query(sql).rows.at(0).at(0).as_int();
  }

  template <typename F>
  auto With(F&& work) {
    auto connection = db_->Acquire();
    return work(*connection);
  }

  std::string AddOrg(const std::string& name, OrgType type, const std::string& sector = "") {
    std::string id = NewId();
    db_->Acquire()->Execute(
        "INSERT INTO organizations (id, name, type, sector, contact_email, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, 'soc@example.go.jp', $5, $5)",
        {Param{id}, Param{name}, Param{std::string(ToString(type))},
         sector.empty() ? Param{nullptr} : Param{sector}, Param{T0}});
    return id;
  }

  Principal AddUser(const std::string& name, const std::string& org_id, OrgType type, Role role) {
    Principal p;
    p.user_id = NewId();
    p.username = name;
    p.org_id = org_id;
    p.org_type = type;
    p.roles = {role};
    p.remote_address = "127.0.0.1";
    db_->Acquire()->Execute(
        "INSERT INTO users (id, username, display_name, email, org_id, roles, created_at, "
        "updated_at) VALUES ($1, $2, $2, 'user@example.go.jp', $3, $4, $5, $5)",
        {Param{p.user_id}, Param{name}, Param{org_id}, Param{std::string(ToString(role))},
         Param{T0}});
    return p;
  }

  static DetectedAlert MakeAlert(const std::string& org, int64_t event_time,
                                 std::vector<std::string> techniques,
                                 const std::string& kind = "rule") {
    DetectedAlert a;
    a.id = NewId();
    a.kind = kind;
    a.org_id = org;
    a.rule_id = "rule-1";
    a.title = "SSH brute force";
    a.level = "high";
    a.techniques = std::move(techniques);
    a.event_time_ms = event_time;
    a.detected_at_ms = event_time + 1000;
    a.logsource = "product=linux,service=sshd";
    a.sensor_id = "sensor-1";
    a.details_json = "{}";
    return a;
  }

  static IncidentReport Report(std::vector<std::string> techniques, int64_t detected_at = T0) {
    IncidentReport r;
    r.title = "Password spraying against the VPN";
    r.description = "Many failed logins";
    r.category = "unauthorized_access";
    r.functional_impact = "no_impact_to_services";
    r.information_impact = "suspected_but_not_identified";
    r.recoverability = "regular";
    r.location = "U";
    r.detected_at = detected_at;
    r.point_of_contact = {"Sato Hanako", "sato@a.example.go.jp", std::nullopt};
    r.techniques = std::move(techniques);
    return r;
  }

  IncidentResult<Incident> File(const Principal& p, IncidentReport report) {
    return db_->Transact([&](store::Connection& c) {
      return CreateIncident(c, p, report, std::nullopt, T0);
    });
  }

  testing::TestDatabase db_;
};

const ResolvedTechnique* Find(const std::vector<ResolvedTechnique>& list, const std::string& id) {
  auto found = std::find_if(list.begin(), list.end(),
                            [&](const ResolvedTechnique& r) { return r.id == id; });
  return found == list.end() ? nullptr : &*found;
}

TEST_P(AttackTest, ImportsTheSmallBundleWithExactCounts) {
  AttackImportReport report = Import();
  EXPECT_EQ(report.domain, "enterprise-attack");
  EXPECT_EQ(report.name, "Enterprise ATT&CK");
  EXPECT_EQ(report.version, "99.1");
  std::map<std::string, int64_t> expected = {
      {"technique", 4}, {"subtechnique", 1}, {"tactic", 2},     {"group", 1},
      {"software", 2},  {"campaign", 1},     {"mitigation", 2}, {"matrix", 1},
      {"relationship", 7}};
  EXPECT_EQ(report.counts, expected);
  EXPECT_EQ(report.revoked, 1);
  EXPECT_EQ(report.deprecated, 2);
  EXPECT_EQ(report.skipped, 3);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_objects"), 14);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_relationships"), 7);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_technique_tactics"), 4);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_imports WHERE domain = 'enterprise-attack'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log WHERE action = 'attack.import'"), 1);
  // The description is kept whole, not truncated.
  EXPECT_EQ(With([](store::Connection& c) {
              return c.Query("SELECT description FROM attack_objects WHERE stix_id = "
                             "'attack-pattern--bf'")
                  .rows.at(0)
                  .at(0)
                  .text();
            }),
            "Adversaries may use brute force techniques to gain access to accounts.");
}

TEST_P(AttackTest, RefusesWhatIsNotAnAttackBundle) {
  EXPECT_FALSE(ImportAttackBundle(*db_, "{\"type\":\"bundle\"", T0));
  EXPECT_FALSE(ImportAttackBundle(*db_, "[1,2]", T0));
  EXPECT_FALSE(ImportAttackBundle(*db_, R"({"type":"indicator","objects":[]})", T0));
  // A bundle without techniques would wipe a domain for nothing.
  auto empty = ImportAttackBundle(*db_, R"({"type":"bundle","id":"bundle--1","objects":[]})", T0);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("domain"), std::string::npos) << empty.error().message;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_objects"), 0);
  EXPECT_FALSE(ImportAttackFile(*db_, "/nonexistent/enterprise-attack.json", T0));
}

TEST_P(AttackTest, ReimportReplacesTheDomainIdempotently) {
  Import();
  int64_t objects = Count("SELECT COUNT(*) FROM attack_objects");
  int64_t relationships = Count("SELECT COUNT(*) FROM attack_relationships");
  int64_t tactics = Count("SELECT COUNT(*) FROM attack_technique_tactics");
  Import();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_objects"), objects);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_relationships"), relationships);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_technique_tactics"), tactics);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_imports"), 1);
  // A newer release replaces the rows.
  Import(testing::SmallAttackBundle("Brute Force (renamed)"));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_objects"), objects);
  std::vector<std::string> ids = {"T1110"};
  auto resolved = With([&](store::Connection& c) { return ResolveTechniques(c, ids); });
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].name, "Brute Force (renamed)");
}

TEST_P(AttackTest, ResolvesTechniquesWithTacticsParentsAndStatus) {
  EXPECT_FALSE(With([](store::Connection& c) { return AttackCatalogueLoaded(c); }));
  Import();
  EXPECT_TRUE(With([](store::Connection& c) { return AttackCatalogueLoaded(c); }));
  std::vector<std::string> ids = {"t1110.001", "T1000", "T1999", "T9999", "junk", "T1110",
                                  "T1110.001"};
  auto resolved = With([&](store::Connection& c) { return ResolveTechniques(c, ids); });
  ASSERT_EQ(resolved.size(), 5u);  // junk left out, the repeated id once
  EXPECT_EQ(resolved[0].id, "T1110.001");

  const ResolvedTechnique* sub = Find(resolved, "T1110.001");
  ASSERT_NE(sub, nullptr);
  EXPECT_TRUE(sub->known);
  EXPECT_EQ(sub->name, "Password Guessing");
  EXPECT_TRUE(sub->is_subtechnique);
  EXPECT_EQ(sub->parent_id, "T1110");
  ASSERT_EQ(sub->tactics.size(), 1u);
  EXPECT_EQ(sub->tactics[0].id, "TA0006");
  EXPECT_EQ(sub->tactics[0].shortname, "credential-access");
  EXPECT_EQ(sub->tactics[0].name, "Credential Access");
  EXPECT_EQ(sub->url, "https://attack.mitre.org/techniques/T1110/001");

  const ResolvedTechnique* revoked = Find(resolved, "T1000");
  ASSERT_NE(revoked, nullptr);
  EXPECT_TRUE(revoked->revoked);
  EXPECT_EQ(revoked->revoked_by, "T1110");
  const ResolvedTechnique* deprecated = Find(resolved, "T1999");
  ASSERT_NE(deprecated, nullptr);
  EXPECT_TRUE(deprecated->deprecated);
  EXPECT_FALSE(deprecated->revoked);
  // The deprecated mitigation that shares the id T1110 does not shadow the technique.
  const ResolvedTechnique* brute = Find(resolved, "T1110");
  ASSERT_NE(brute, nullptr);
  EXPECT_EQ(brute->name, "Brute Force");
  EXPECT_FALSE(brute->deprecated);
  const ResolvedTechnique* unknown = Find(resolved, "T9999");
  ASSERT_NE(unknown, nullptr);
  EXPECT_FALSE(unknown->known);
  EXPECT_TRUE(unknown->name.empty());
}

TEST_P(AttackTest, ListsTechniquesWithFiltersAndPaging) {
  Import();
  auto list = [&](AttackTechniqueFilter filter,
                  std::optional<std::pair<std::string, std::string>> after = std::nullopt,
                  int limit = 50) {
    return With([&](store::Connection& c) {
      return ListAttackTechniques(c, filter, after, limit);
    });
  };
  auto ids = [](const AttackTechniquePage& page) {
    std::vector<std::string> out;
    for (const auto& t : page.items) out.push_back(t.id);
    return out;
  };
  EXPECT_EQ(ids(list({})), (std::vector<std::string>{"T1078", "T1110", "T1110.001"}));
  AttackTechniqueFilter with_old;
  with_old.include_deprecated = true;
  EXPECT_EQ(ids(list(with_old)),
            (std::vector<std::string>{"T1000", "T1078", "T1110", "T1110.001", "T1999"}));
  AttackTechniqueFilter top;
  top.include_subtechniques = false;
  EXPECT_EQ(ids(list(top)), (std::vector<std::string>{"T1078", "T1110"}));
  AttackTechniqueFilter tactic;
  tactic.tactic = "credential-access";
  EXPECT_EQ(ids(list(tactic)), (std::vector<std::string>{"T1110", "T1110.001"}));
  tactic.tactic = "TA0001";
  EXPECT_EQ(ids(list(tactic)), (std::vector<std::string>{"T1078"}));
  AttackTechniqueFilter q;
  q.q = "PASSWORD";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"T1110.001"}));
  q.q = "1110";
  EXPECT_EQ(ids(list(q)), (std::vector<std::string>{"T1110", "T1110.001"}));
  q.q = "%";
  EXPECT_TRUE(list(q).items.empty());
  AttackTechniqueFilter ics;
  ics.domain = "ics-attack";
  EXPECT_TRUE(list(ics).items.empty());

  // Pages of two, walked with the last item's key.
  AttackTechniquePage first = list({}, std::nullopt, 2);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"T1078", "T1110"}));
  EXPECT_TRUE(first.more);
  AttackTechniquePage second =
      list({}, std::make_pair(first.items.back().id, first.items.back().domain), 2);
  EXPECT_EQ(ids(second), (std::vector<std::string>{"T1110.001"}));
  EXPECT_FALSE(second.more);
  ASSERT_EQ(first.items[1].tactics.size(), 1u);
  EXPECT_EQ(first.items[1].tactics[0].shortname, "credential-access");
  EXPECT_EQ(first.items[1].platforms, (std::vector<std::string>{"Windows", "Linux"}));
  EXPECT_TRUE(first.items[1].description.empty());  // lists leave descriptions out
}

TEST_P(AttackTest, ReadsOneTechniqueWithItsRelations) {
  Import();
  auto detail = With([](store::Connection& c) {
    return GetAttackTechnique(c, "t1110", std::nullopt);
  });
  ASSERT_TRUE(detail);
  EXPECT_EQ(detail->technique.name, "Brute Force");
  EXPECT_FALSE(detail->technique.description.empty());
  EXPECT_EQ(detail->technique.version, "2.6");
  ASSERT_EQ(detail->subtechniques.size(), 1u);
  EXPECT_EQ(detail->subtechniques[0].id, "T1110.001");
  ASSERT_EQ(detail->groups.size(), 1u);
  EXPECT_EQ(detail->groups[0].id, "G0001");
  EXPECT_TRUE(detail->software.empty());  // ExampleRAT uses the sub-technique
  ASSERT_EQ(detail->mitigations.size(), 1u);
  EXPECT_EQ(detail->mitigations[0].id, "M1032");

  auto sub = With([](store::Connection& c) {
    return GetAttackTechnique(c, "T1110.001", std::string("enterprise-attack"));
  });
  ASSERT_TRUE(sub);
  ASSERT_TRUE(sub->parent);
  EXPECT_EQ(sub->parent->id, "T1110");
  ASSERT_EQ(sub->software.size(), 1u);
  EXPECT_EQ(sub->software[0].id, "S0001");
  EXPECT_EQ(sub->software[0].stix_type, "malware");

  EXPECT_FALSE(With([](store::Connection& c) {
    return GetAttackTechnique(c, "T1110", std::string("ics-attack"));
  }));
  EXPECT_FALSE(With([](store::Connection& c) {
    return GetAttackTechnique(c, "M1032", std::nullopt);
  }));
}

TEST_P(AttackTest, ListsTacticsInMatrixOrderAndGroupsWithTheirTechniques) {
  Import();
  auto tactics = With([](store::Connection& c) { return ListAttackTactics(c, std::nullopt); });
  ASSERT_EQ(tactics.size(), 2u);
  EXPECT_EQ(tactics[0].id, "TA0001");
  EXPECT_EQ(tactics[0].ordinal, 1);
  EXPECT_EQ(tactics[0].technique_count, 1);  // T1078; the deprecated T1999 is not counted
  EXPECT_EQ(tactics[1].id, "TA0006");
  EXPECT_EQ(tactics[1].technique_count, 2);

  AttackGroupFilter filter;
  filter.q = "testers";  // an alias
  auto groups = With([&](store::Connection& c) {
    return ListAttackGroups(c, filter, std::nullopt, 10);
  });
  ASSERT_EQ(groups.items.size(), 1u);
  EXPECT_EQ(groups.items[0].id, "G0001");
  EXPECT_EQ(groups.items[0].aliases, (std::vector<std::string>{"Example Panda", "Testers"}));
  EXPECT_EQ(groups.items[0].domains, (std::vector<std::string>{"enterprise-attack"}));
  auto after = With([&](store::Connection& c) {
    return ListAttackGroups(c, {}, std::string("G0001"), 10);
  });
  EXPECT_TRUE(after.items.empty());

  auto group = With([](store::Connection& c) { return GetAttackGroup(c, "g0001"); });
  ASSERT_TRUE(group);
  EXPECT_EQ(group->group.description, "A group for tests.");
  ASSERT_EQ(group->techniques.size(), 1u);
  EXPECT_EQ(group->techniques[0].technique.id, "T1110");
  ASSERT_EQ(group->techniques[0].tactics.size(), 1u);
  EXPECT_EQ(group->techniques[0].tactics[0].id, "TA0006");
  ASSERT_EQ(group->software.size(), 1u);
  EXPECT_EQ(group->software[0].id, "S0001");
  ASSERT_EQ(group->campaigns.size(), 1u);
  EXPECT_EQ(group->campaigns[0].id, "C0001");
  EXPECT_FALSE(With([](store::Connection& c) { return GetAttackGroup(c, "G9999"); }));
  EXPECT_FALSE(With([](store::Connection& c) { return GetAttackGroup(c, "G0001'--"); }));
}

TEST_P(AttackTest, IncidentsCarryTechniquesCheckedAgainstTheCatalogue) {
  std::string org = AddOrg("Ministry A", OrgType::kMinistry);
  Principal reporter = AddUser("rep-a", org, OrgType::kMinistry, Role::kOrgReporter);
  // Before the catalogue is imported any well-formed id is accepted.
  auto early = File(reporter, Report({"t9999"}));
  ASSERT_TRUE(early) << early.error().message;
  EXPECT_EQ(early->report.techniques, (std::vector<std::string>{"T9999"}));
  auto malformed = File(reporter, Report({"T1110", "brute force"}));
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().field, "techniques[1]");

  Import();
  auto unknown = File(reporter, Report({"T1110", "T9999"}));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, IncidentErrorKind::kInvalid);
  EXPECT_EQ(unknown.error().field, "techniques[1]");

  auto created = File(reporter, Report({"t1110.001", "T1078", "T1110.001"}));
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->report.techniques, (std::vector<std::string>{"T1078", "T1110.001"}));
  auto loaded = With([&](store::Connection& c) { return GetIncident(c, reporter, created->id); });
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->report.techniques, (std::vector<std::string>{"T1078", "T1110.001"}));

  // An update replaces them and records the change.
  IncidentReport changed = loaded->report;
  changed.techniques = {"T1110"};
  auto updated = db_->Transact([&](store::Connection& c) {
    return UpdateIncident(c, reporter, created->id, changed, std::nullopt, T0 + 1000);
  });
  ASSERT_TRUE(updated) << updated.error().message;
  loaded = With([&](store::Connection& c) { return GetIncident(c, reporter, created->id); });
  EXPECT_EQ(loaded->report.techniques, (std::vector<std::string>{"T1110"}));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM incident_history WHERE kind = 'updated' AND detail LIKE "
                  "'%techniques%'"),
            1);
  // The early incident keeps its id, which the catalogue does not know; editing something else
  // does not trip over it.
  IncidentReport early_changed = early->report;
  early_changed.title = "Renamed";
  EXPECT_TRUE(db_->Transact([&](store::Connection& c) {
    return UpdateIncident(c, reporter, early->id, early_changed, std::nullopt, T0 + 2000);
  }));
}

TEST_P(AttackTest, HeatmapCountsOnlyWhatThePrincipalMayRead) {
  Import();
  std::string centre = AddOrg("Centre", OrgType::kCentre);
  std::string org_a = AddOrg("Ministry A", OrgType::kMinistry);
  std::string org_b = AddOrg("Power Company B", OrgType::kCriticalInfrastructure, "electric_power");
  Principal duty = AddUser("duty", centre, OrgType::kCentre, Role::kCentreAdmin);
  Principal analyst = AddUser("analyst", centre, OrgType::kCentre, Role::kCentreAnalyst);
  Principal rep_a = AddUser("rep-a", org_a, OrgType::kMinistry, Role::kOrgReporter);
  Principal rep_b = AddUser("rep-b", org_b, OrgType::kCriticalInfrastructure, Role::kOrgReporter);

  std::vector<DetectedAlert> alerts = {
      MakeAlert(org_a, T0, {"T1110.001"}),
      MakeAlert(org_a, T0 + 1000, {"T1110.001", "T1110.003"}),
      MakeAlert(org_a, T0 + 40 * DAY, {"T1078"}),
      MakeAlert(org_b, T0, {"T1110.001"}),
      MakeAlert(centre, T0, {"T1110.001"}, "campaign"),  // would count B's and A's alerts again
  };
  ASSERT_TRUE(InsertDetections(*db_, alerts, {}, T0));
  // B reports an AMBER incident; A a RED one addressed to nobody else.
  ASSERT_TRUE(File(rep_b, Report({"T1110"})));
  IncidentReport red = Report({"T1078"});
  red.tlp = Tlp::kRed;
  ASSERT_TRUE(File(rep_a, red));

  auto heatmap = [&](const Principal& p, HeatmapQuery query) {
    return With([&](store::Connection& c) { return TechniqueHeatmap(c, p, query); });
  };
  auto cell = [](const Heatmap& h, const std::string& technique, const std::string& bucket) {
    auto found = std::find_if(h.cells.begin(), h.cells.end(), [&](const HeatmapCell& c) {
      return c.technique == technique && c.bucket == bucket;
    });
    return found == h.cells.end() ? HeatmapCell{} : *found;
  };

  // An organisation's user counts only its own alerts and the incidents it may read.
  Heatmap a = heatmap(rep_a, {});
  for (const auto& c : a.cells) EXPECT_EQ(c.bucket, org_a) << c.technique;
  EXPECT_EQ(cell(a, "T1110.001", org_a).alerts, 2);
  EXPECT_EQ(cell(a, "T1110.003", org_a).alerts, 1);
  EXPECT_EQ(cell(a, "T1078", org_a).alerts, 1);
  EXPECT_EQ(cell(a, "T1078", org_a).incidents, 1);  // its own RED report: the author reads it
  EXPECT_EQ(a.buckets.at(org_a), "Ministry A");
  EXPECT_EQ(a.highest, Tlp::kRed);
  Heatmap b = heatmap(rep_b, {});
  for (const auto& c : b.cells) EXPECT_EQ(c.bucket, org_b) << c.technique;
  EXPECT_EQ(cell(b, "T1110.001", org_b).alerts, 1);
  EXPECT_EQ(cell(b, "T1110", org_b).incidents, 1);
  EXPECT_EQ(b.highest, Tlp::kAmber);

  // The duty officer sees every organisation's alerts and the AMBER incident, not the RED one
  // (RED stays with its named recipients); campaign alerts are never counted.
  Heatmap all = heatmap(duty, {});
  EXPECT_EQ(cell(all, "T1110.001", org_a).alerts, 2);
  EXPECT_EQ(cell(all, "T1110.001", org_b).alerts, 1);
  EXPECT_EQ(cell(all, "T1110.001", centre).alerts, 0);
  EXPECT_EQ(cell(all, "T1110", org_b).incidents, 1);
  EXPECT_EQ(cell(all, "T1078", org_a).incidents, 0);
  // An analyst is not a duty officer: no incident is readable, the alerts are.
  Heatmap analysed = heatmap(analyst, {});
  EXPECT_EQ(cell(analysed, "T1110", org_b).incidents, 0);
  EXPECT_EQ(cell(analysed, "T1110.001", org_b).alerts, 1);

  HeatmapQuery rollup;
  rollup.rollup = true;
  rollup.incidents = false;
  Heatmap rolled = heatmap(duty, rollup);
  EXPECT_EQ(cell(rolled, "T1110", org_a).alerts, 2);  // one alert with two sub-techniques: once
  EXPECT_EQ(cell(rolled, "T1110", org_b).alerts, 1);
  EXPECT_EQ(cell(rolled, "T1110.001", org_a).alerts, 0);

  HeatmapQuery sector;
  sector.dimension = HeatmapDimension::kSector;
  Heatmap sectors = heatmap(duty, sector);
  EXPECT_EQ(cell(sectors, "T1110.001", "electric_power").alerts, 1);
  EXPECT_EQ(cell(sectors, "T1110.001", "ministry").alerts, 2);  // no sector: its type

  HeatmapQuery month;
  month.dimension = HeatmapDimension::kMonth;
  month.incidents = false;
  Heatmap months = heatmap(duty, month);
  EXPECT_EQ(cell(months, "T1110.001", "2027-01").alerts, 3);
  EXPECT_EQ(cell(months, "T1078", "2027-02").alerts, 1);

  HeatmapQuery window;
  window.since = T0 + DAY;
  window.alerts = true;
  Heatmap later = heatmap(duty, window);
  ASSERT_EQ(later.cells.size(), 1u);
  EXPECT_EQ(later.cells[0].technique, "T1078");

  // Nothing readable, nothing counted: nothing to audit.
  Principal stranger = AddUser("c", AddOrg("Ministry C", OrgType::kMinistry), OrgType::kMinistry,
                               Role::kOrgReporter);
  Heatmap none = heatmap(stranger, {});
  EXPECT_TRUE(none.cells.empty());
  EXPECT_FALSE(none.counted_anything);
}

TEST_P(AttackTest, CoverageCountsRulesPerTechniqueAndFindsGapsAndStaleTags) {
  Import();
  std::vector<RuleTechniques> rules = {
      {"r1", "SSH password guessing", {"T1110.001"}},
      {"r2", "Brute force", {"T1110"}},
      {"r3", "Old tag", {"T1000"}},
      {"r4", "Typo", {"T9999"}},
      {"r5", "No techniques", {}},
  };
  AttackCoverage coverage = With([&](store::Connection& c) {
    return ComputeCoverage(c, rules, std::string("enterprise-attack"), true);
  });
  ASSERT_EQ(coverage.techniques.size(), 3u);  // T1078, T1110, T1110.001
  const auto& valid = coverage.techniques[0];
  EXPECT_EQ(valid.technique.id, "T1078");
  EXPECT_FALSE(valid.covered());
  const auto& brute = coverage.techniques[1];
  EXPECT_EQ(brute.technique.id, "T1110");
  ASSERT_EQ(brute.rules.size(), 1u);
  EXPECT_EQ(brute.rules[0]->rule_id, "r2");
  EXPECT_EQ(brute.subtechnique_rules, 1);
  const auto& guessing = coverage.techniques[2];
  ASSERT_EQ(guessing.rules.size(), 1u);
  EXPECT_EQ(guessing.rules[0]->rule_id, "r1");

  ASSERT_EQ(coverage.tactics.size(), 2u);
  EXPECT_EQ(coverage.tactics[0].tactic.id, "TA0001");
  EXPECT_EQ(coverage.tactics[0].techniques, 1);
  EXPECT_EQ(coverage.tactics[0].covered, 0);
  EXPECT_EQ(coverage.tactics[1].techniques, 2);
  EXPECT_EQ(coverage.tactics[1].covered, 2);

  ASSERT_EQ(coverage.stale.size(), 2u);
  EXPECT_EQ(coverage.stale[0].id, "T1000");
  EXPECT_EQ(coverage.stale[0].reason, "revoked");
  EXPECT_EQ(coverage.stale[0].revoked_by, "T1110");
  EXPECT_EQ(coverage.stale[1].id, "T9999");
  EXPECT_EQ(coverage.stale[1].reason, "unknown");
  ASSERT_EQ(coverage.stale[1].rules.size(), 1u);
  EXPECT_EQ(coverage.stale[1].rules[0]->rule_id, "r4");

  AttackCoverage top = With([&](store::Connection& c) {
    return ComputeCoverage(c, rules, std::nullopt, false);
  });
  ASSERT_EQ(top.techniques.size(), 2u);
  EXPECT_EQ(top.tactics[1].techniques, 1);
}

// The releases MITRE publishes, from the shared data.
TEST_P(AttackTest, ImportsTheRealEnterpriseAndIcsBundles) {
  const std::filesystem::path dir = std::filesystem::path(YAGURA_SHARED_DIR) / "data" / "attack";
  if (!std::filesystem::exists(dir / "enterprise-attack.json") ||
      !std::filesystem::exists(dir / "ics-attack.json")) {
    GTEST_SKIP() << "the shared ATT&CK data is not at " << dir;
  }
  auto enterprise = ImportAttackFile(*db_, (dir / "enterprise-attack.json").string(), T0);
  ASSERT_TRUE(enterprise) << enterprise.error().ToString();
  EXPECT_EQ(enterprise->domain, "enterprise-attack");
  EXPECT_FALSE(enterprise->version.empty());
  EXPECT_EQ(enterprise->counts["tactic"], 14);
  EXPECT_GT(enterprise->counts["technique"], 150);
  EXPECT_GT(enterprise->counts["subtechnique"], 300);
  EXPECT_GT(enterprise->counts["group"], 100);
  EXPECT_GT(enterprise->counts["software"], 500);
  EXPECT_GT(enterprise->counts["mitigation"], 40);
  EXPECT_GT(enterprise->counts["campaign"], 10);
  EXPECT_GT(enterprise->counts["relationship"], 10000);
  EXPECT_GT(enterprise->revoked, 50);
  EXPECT_GT(enterprise->deprecated, 10);
  auto ics = ImportAttackFile(*db_, (dir / "ics-attack.json").string(), T0);
  ASSERT_TRUE(ics) << ics.error().ToString();
  EXPECT_EQ(ics->domain, "ics-attack");
  EXPECT_EQ(ics->counts["tactic"], 12);
  EXPECT_GT(ics->counts["technique"], 50);

  std::vector<std::string> ids = {"T1110.001", "T1059.001", "T0855"};
  auto resolved = With([&](store::Connection& c) { return ResolveTechniques(c, ids); });
  ASSERT_EQ(resolved.size(), 3u);
  EXPECT_EQ(resolved[0].name, "Password Guessing");
  EXPECT_EQ(resolved[0].parent_id, "T1110");
  ASSERT_FALSE(resolved[0].tactics.empty());
  EXPECT_EQ(resolved[0].tactics[0].shortname, "credential-access");
  EXPECT_EQ(resolved[1].name, "PowerShell");
  EXPECT_EQ(resolved[2].domain, "ics-attack");
  EXPECT_TRUE(resolved[2].known);
  auto tactics = With([](store::Connection& c) {
    return ListAttackTactics(c, std::string("enterprise-attack"));
  });
  ASSERT_EQ(tactics.size(), 14u);
  EXPECT_EQ(tactics.front().shortname, "reconnaissance");  // the matrix's first column
  // Groups that appear in both domains are listed once, naming both.
  auto shared = With([](store::Connection& c) {
    return c.Query("SELECT external_id FROM attack_objects WHERE type = 'group' AND domain = "
                   "'ics-attack' AND external_id IN (SELECT external_id FROM attack_objects WHERE "
                   "type = 'group' AND domain = 'enterprise-attack') ORDER BY external_id LIMIT 1");
  });
  if (!shared.empty()) {
    auto group = With([&](store::Connection& c) {
      return GetAttackGroup(c, shared.rows[0][0].text());
    });
    ASSERT_TRUE(group);
    EXPECT_EQ(group->group.domains.size(), 2u);
  }

  int64_t objects = Count("SELECT COUNT(*) FROM attack_objects");
  auto again = ImportAttackFile(*db_, (dir / "ics-attack.json").string(), T0 + 1);
  ASSERT_TRUE(again);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_objects"), objects);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attack_imports"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, AttackTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         testing::BackendName);

}  // namespace
}  // namespace yagura::hub
