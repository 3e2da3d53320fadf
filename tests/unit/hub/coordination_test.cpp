// Advisories, requests and recommendations against a real database: SQLite in a temporary
// directory always, PostgreSQL as well when YAGURA_TEST_POSTGRES_URL names a server (each test
// then works in a schema of its own). Organisations and users are inserted directly, so these
// tests depend on nothing but the schema; "now" is passed in, so due dates pass without
// waiting.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "hub/advisories.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/recommendations.hpp"
#include "hub/requests.hpp"
#include "hub/schema.hpp"
#include "test_support/together.hpp"
#include "unit/hub/upload_race.hpp"

namespace yagura::hub {
namespace {

using store::Engine;
using store::Param;
using Kind = CoordinationError::Kind;

constexpr int64_t T0 = 1'800'000'000'000;  // 2027-01-15, a fixed "now"
constexpr int64_t HOUR = 3'600'000;

std::string RandomSuffix() {
  std::random_device device;
  std::mt19937_64 random(device());
  static constexpr char DIGITS[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 12; ++i) out += DIGITS[random() % 16];
  return out;
}

class CoordinationTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    std::string target;
    if (GetParam() == Engine::kSqlite) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "yagura-coordination-XXXXXX").string();
      ASSERT_NE(mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      target = (dir_ / "hub.db").string();
    } else {
      const char* url = std::getenv("YAGURA_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') {
        GTEST_SKIP() << "PostgreSQL variant skipped: YAGURA_TEST_POSTGRES_URL is not set";
      }
      auto admin = store::Database::Open(url, 1);
      ASSERT_TRUE(admin) << admin.error().ToString();
      admin_ = std::move(*admin);
      schema_ = "coordination_" + RandomSuffix();
      admin_->Acquire()->ExecuteScript("CREATE SCHEMA " + schema_);
      std::string base(url);
      target = base + (base.find('?') == std::string::npos ? "?" : "&") +
               "options=-csearch_path%3D" + schema_;
    }
    auto opened = store::Database::Open(target, 4);
    ASSERT_TRUE(opened) << opened.error().ToString();
    db_ = std::move(*opened);
    auto migrated = MigrateSchema(*db_);
    ASSERT_TRUE(migrated) << migrated.error().ToString();

    centre_ = AddOrg("Centre", OrgType::kCentre);
    ministry_ = AddOrg("Ministry A", OrgType::kMinistry);
    ministry_b_ = AddOrg("Ministry B", OrgType::kMinistry);
    city_ = AddOrg("City", OrgType::kLocalGovernment);
    agency_ = AddOrg("Independent Agency", OrgType::kIndependentAgency);
    bank_ = AddOrg("Bank", OrgType::kCriticalInfrastructure, "finance");
    card_ = AddOrg("Card Issuer", OrgType::kCriticalInfrastructure, "finance");
    water_ = AddOrg("Water Utility", OrgType::kCriticalInfrastructure, "water");
    partner_ = AddOrg("Partner CERT", OrgType::kPartnerCert);

    admin_p_ = AddUser("admin", centre_, {Role::kCentreAdmin});
    analyst_p_ = AddUser("analyst", centre_, {Role::kCentreAnalyst});
    minister_admin_ = AddUser("ma", ministry_, {Role::kOrgAdmin});
    minister_reporter_ = AddUser("mr", ministry_, {Role::kOrgReporter});
    ministry_b_admin_ = AddUser("mba", ministry_b_, {Role::kOrgAdmin});
    city_admin_ = AddUser("ca", city_, {Role::kOrgAdmin});
    bank_reporter_ = AddUser("br", bank_, {Role::kOrgReporter});
    bank_admin_ = AddUser("ba", bank_, {Role::kOrgAdmin});
    card_admin_ = AddUser("cda", card_, {Role::kOrgAdmin});
    water_admin_ = AddUser("wa", water_, {Role::kOrgAdmin});
    partner_user_ = AddUser("pu", partner_, {Role::kPartner});
  }

  void TearDown() override {
    db_.reset();
    if (admin_) admin_->Acquire()->ExecuteScript("DROP SCHEMA " + schema_ + " CASCADE");
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  struct OrgRef {
    std::string id;
    OrgType type;
    std::string sector;
  };

  OrgRef AddOrg(const std::string& name, OrgType type, const std::string& sector = {}) {
    OrgRef org{NewId(), type, sector};
    db_->Acquire()->Execute(
        "INSERT INTO organizations (id, name, type, sector, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $5)",
        {Param{org.id}, Param{name}, Param{std::string(ToString(type))},
         sector.empty() ? Param{nullptr} : Param{sector}, Param{T0 - HOUR}});
    return org;
  }

  Principal AddUser(const std::string& username, const OrgRef& org, std::vector<Role> roles) {
    Principal p;
    p.user_id = NewId();
    p.username = username;
    p.org_id = org.id;
    p.org_type = org.type;
    p.sector = org.sector;
    p.roles = std::move(roles);
    p.method = AuthMethod::kInternal;
    std::string roles_text;
    for (Role role : p.roles) {
      if (!roles_text.empty()) roles_text += ',';
      roles_text += ToString(role);
    }
    db_->Acquire()->Execute(
        "INSERT INTO users (id, username, display_name, org_id, roles, created_at, updated_at) "
        "VALUES ($1, $2, $2, $3, $4, $5, $5)",
        {Param{p.user_id}, Param{username}, Param{org.id}, Param{roles_text}, Param{T0 - HOUR}});
    return p;
  }

  NewAdvisory SectorAdvisory(const std::string& sector, Tlp tlp = Tlp::kAmber) {
    NewAdvisory input;
    input.title = "Exploitation of a VPN appliance";
    input.body = "Patch now.";
    input.severity = "high";
    input.tlp = tlp;
    input.target_kind = "sector";
    input.target_value = sector;
    input.references = {"https://example.org/advisory"};
    input.cves = {"CVE-2024-3400"};
    input.ttps = {"T1190"};
    return input;
  }

  std::vector<std::string> ListedIds(const Principal& p, const AdvisoryFilter& filter = {}) {
    auto page = ListAdvisories(*db_, p, filter, PageQuery{});
    EXPECT_TRUE(page);
    std::vector<std::string> ids;
    if (page) {
      for (const auto& item : page->items) ids.push_back(item.id);
    }
    return ids;
  }

  int64_t AuditCount(std::string_view action) {
    return db_->Acquire()
        ->Query("SELECT COUNT(*) FROM audit_log WHERE action = $1", {Param{std::string(action)}})
        .rows.at(0)
        .at(0)
        .as_int();
  }

  NewMaterialsRequest Outbound(const std::string& basis, const OrgRef& target,
                               int64_t due_at = T0 + 24 * HOUR) {
    NewMaterialsRequest input;
    input.legal_basis = basis;
    input.target_org_id = target.id;
    input.title = "Logs of the mail gateway";
    input.body = "Please provide the logs for 1-7 January.";
    input.due_at = due_at;
    input.tlp = Tlp::kAmber;
    return input;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Database> admin_;
  std::string schema_;
  std::unique_ptr<store::Database> db_;
  OrgRef centre_, ministry_, ministry_b_, city_, agency_, bank_, card_, water_, partner_;
  Principal admin_p_, analyst_p_, minister_admin_, minister_reporter_, ministry_b_admin_,
      city_admin_, bank_reporter_, bank_admin_, card_admin_, water_admin_, partner_user_;
};

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// ---------------------------------------------------------------------------------------------
// Advisories

TEST_P(CoordinationTest, SectorAdvisoryReachesExactlyTheSectorsOrganisations) {
  auto created = CreateAdvisory(*db_, analyst_p_, SectorAdvisory("finance"), T0);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->reference.substr(0, 9), "ADV-2027-");
  EXPECT_EQ(created->owner_org_id, centre_.id);
  std::vector<std::string> recipients = created->recipient_org_ids;
  std::sort(recipients.begin(), recipients.end());
  std::vector<std::string> expected = {bank_.id, card_.id};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(recipients, expected);
  EXPECT_EQ(created->pending_count, 2);

  for (const Principal* reader : {&bank_reporter_, &card_admin_, &admin_p_, &analyst_p_}) {
    EXPECT_TRUE(ReadAdvisory(*db_, *reader, created->id)) << reader->username;
    EXPECT_TRUE(Contains(ListedIds(*reader), created->id)) << reader->username;
  }
  for (const Principal* outsider : {&water_admin_, &minister_admin_, &partner_user_}) {
    auto read = ReadAdvisory(*db_, *outsider, created->id);
    ASSERT_FALSE(read) << outsider->username;
    EXPECT_EQ(read.error().kind, Kind::kNotFound);
    EXPECT_FALSE(Contains(ListedIds(*outsider), created->id)) << outsider->username;
  }

  // A recipient sees its own state, not the rest of the audience.
  auto seen = ReadAdvisory(*db_, bank_reporter_, created->id);
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->full_view);
  EXPECT_TRUE(seen->recipient_org_ids.empty());
  EXPECT_TRUE(seen->acknowledgements.empty());
  ASSERT_TRUE(seen->own_acknowledgement);
  EXPECT_EQ(seen->own_acknowledgement->org_id, bank_.id);
  EXPECT_FALSE(seen->own_acknowledgement->acknowledged_at);
  EXPECT_EQ(seen->cves, std::vector<std::string>{"CVE-2024-3400"});
  EXPECT_EQ(seen->references, std::vector<std::string>{"https://example.org/advisory"});
  EXPECT_EQ(AuditCount("advisory.create"), 1);
}

TEST_P(CoordinationTest, AcknowledgementIsIdempotentAndShrinksThePendingList) {
  auto created = CreateAdvisory(*db_, analyst_p_, SectorAdvisory("finance"), T0);
  ASSERT_TRUE(created);

  auto first = AcknowledgeAdvisoryFor(*db_, bank_reporter_, created->id, T0 + 1000);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->acknowledged_at, T0 + 1000);
  EXPECT_EQ(first->user_id, bank_reporter_.user_id);
  // Again, by another user of the same organisation, later: the first acknowledgement stays.
  auto again = AcknowledgeAdvisoryFor(*db_, bank_admin_, created->id, T0 + 5000);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->acknowledged_at, T0 + 1000);
  EXPECT_EQ(again->user_id, bank_reporter_.user_id);
  EXPECT_EQ(AuditCount("advisory.acknowledge"), 1);

  auto centre_view = ReadAdvisory(*db_, analyst_p_, created->id);
  ASSERT_TRUE(centre_view);
  EXPECT_TRUE(centre_view->full_view);
  EXPECT_EQ(centre_view->pending_count, 1);
  ASSERT_EQ(centre_view->acknowledgements.size(), 2u);
  for (const auto& ack : centre_view->acknowledgements) {
    EXPECT_EQ(ack.acknowledged_at.has_value(), ack.org_id == bank_.id) << ack.org_name;
  }

  // Outsiders cannot acknowledge (and do not learn it exists); the centre is no recipient.
  auto outsider = AcknowledgeAdvisoryFor(*db_, water_admin_, created->id, T0);
  ASSERT_FALSE(outsider);
  EXPECT_EQ(outsider.error().kind, Kind::kNotFound);
  auto centre = AcknowledgeAdvisoryFor(*db_, analyst_p_, created->id, T0);
  ASSERT_FALSE(centre);
  EXPECT_EQ(centre.error().kind, Kind::kForbidden);

  // ?unacknowledged=true for the caller's organisation.
  AdvisoryFilter unacknowledged;
  unacknowledged.unacknowledged = true;
  EXPECT_FALSE(Contains(ListedIds(bank_admin_, unacknowledged), created->id));
  EXPECT_TRUE(Contains(ListedIds(card_admin_, unacknowledged), created->id));
}

TEST_P(CoordinationTest, RedAdvisoryReachesOnlyTheNamedUsers) {
  NewAdvisory input = SectorAdvisory("finance", Tlp::kRed);
  auto unnamed = CreateAdvisory(*db_, analyst_p_, input, T0);
  ASSERT_FALSE(unnamed);
  EXPECT_EQ(unnamed.error().field, "recipients");

  input.recipients = {water_admin_.user_id};  // not in the target sector
  auto outside = CreateAdvisory(*db_, analyst_p_, input, T0);
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().kind, Kind::kInvalid);

  input.recipients = {bank_reporter_.user_id};
  auto created = CreateAdvisory(*db_, analyst_p_, input, T0);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->recipient_org_ids, std::vector<std::string>{bank_.id});

  EXPECT_TRUE(ReadAdvisory(*db_, bank_reporter_, created->id));
  EXPECT_TRUE(Contains(ListedIds(bank_reporter_), created->id));
  // Not the named user's colleague, not the other organisation of the sector, not other
  // centre staff: RED is for the named recipients (and the author).
  for (const Principal* other : {&bank_admin_, &card_admin_, &admin_p_}) {
    EXPECT_FALSE(ReadAdvisory(*db_, *other, created->id)) << other->username;
    EXPECT_FALSE(Contains(ListedIds(*other), created->id)) << other->username;
  }
  EXPECT_TRUE(ReadAdvisory(*db_, analyst_p_, created->id));
  EXPECT_TRUE(AcknowledgeAdvisoryFor(*db_, bank_reporter_, created->id, T0 + 1));
}

TEST_P(CoordinationTest, AmberStrictGoesToASingleOrganisationOnly) {
  auto sector = CreateAdvisory(*db_, analyst_p_, SectorAdvisory("finance", Tlp::kAmberStrict), T0);
  ASSERT_FALSE(sector);
  EXPECT_EQ(sector.error().kind, Kind::kInvalid);
  EXPECT_EQ(sector.error().field, "tlp");

  NewAdvisory input = SectorAdvisory("finance", Tlp::kAmberStrict);
  input.target_kind = "organization";
  input.target_value = bank_.id;
  auto created = CreateAdvisory(*db_, analyst_p_, input, T0);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(ReadAdvisory(*db_, bank_reporter_, created->id));
  EXPECT_TRUE(ReadAdvisory(*db_, admin_p_, created->id));  // duty officer
  EXPECT_FALSE(ReadAdvisory(*db_, card_admin_, created->id));
  EXPECT_TRUE(AcknowledgeAdvisoryFor(*db_, bank_admin_, created->id, T0 + 1));
}

TEST_P(CoordinationTest, AllMeansEveryMemberButPartnersAndTheCentre) {
  NewAdvisory input = SectorAdvisory("finance", Tlp::kGreen);
  input.target_kind = "all";
  input.target_value.clear();
  auto created = CreateAdvisory(*db_, admin_p_, input, T0);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->recipient_org_ids.size(), 7u);
  EXPECT_FALSE(Contains(created->recipient_org_ids, partner_.id));
  EXPECT_FALSE(Contains(created->recipient_org_ids, centre_.id));
  EXPECT_FALSE(ReadAdvisory(*db_, partner_user_, created->id));
  EXPECT_TRUE(ReadAdvisory(*db_, city_admin_, created->id));
}

TEST_P(CoordinationTest, AdvisoryTargetsAndIssuersAreChecked) {
  auto by_member = CreateAdvisory(*db_, bank_admin_, SectorAdvisory("finance"), T0);
  ASSERT_FALSE(by_member);
  EXPECT_EQ(by_member.error().kind, Kind::kForbidden);

  auto bad_sector = CreateAdvisory(*db_, analyst_p_, SectorAdvisory("bakeries"), T0);
  ASSERT_FALSE(bad_sector);
  EXPECT_EQ(bad_sector.error().field, "target.sector");

  auto empty_sector = CreateAdvisory(*db_, analyst_p_, SectorAdvisory("ports"), T0);
  ASSERT_FALSE(empty_sector);
  EXPECT_EQ(empty_sector.error().field, "target.sector");

  NewAdvisory unknown_org = SectorAdvisory("finance");
  unknown_org.target_kind = "organization";
  unknown_org.target_value = NewId();
  auto unknown = CreateAdvisory(*db_, analyst_p_, unknown_org, T0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().field, "target.org_id");
  EXPECT_EQ(AuditCount("advisory.create"), 0);
}

TEST_P(CoordinationTest, AdvisoryListsPageNewestFirstAndFilterBySeverity) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    NewAdvisory input = SectorAdvisory("finance");
    input.severity = i % 2 == 0 ? "high" : "low";
    auto created = CreateAdvisory(*db_, analyst_p_, input, T0 + i);
    ASSERT_TRUE(created);
    ids.push_back(created->id);
  }
  PageQuery page;
  page.limit = 2;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 5; ++pages) {
    auto result = ListAdvisories(*db_, bank_admin_, {}, page);
    ASSERT_TRUE(result);
    for (const auto& item : result->items) seen.push_back(item.id);
    if (!result->next) break;
    page.after = result->next;
  }
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));

  AdvisoryFilter low;
  low.severity = "low";
  EXPECT_EQ(ListedIds(bank_admin_, low), (std::vector<std::string>{ids[3], ids[1]}));
}

// ---------------------------------------------------------------------------------------------
// Requests

TEST_P(CoordinationTest, LegalBasisMapsToTheOrganisationsTheActNames) {
  EXPECT_TRUE(LegalBasisCovers("art30", OrgType::kMinistry));
  EXPECT_FALSE(LegalBasisCovers("art30", OrgType::kLocalGovernment));
  EXPECT_FALSE(LegalBasisCovers("art30", OrgType::kCriticalInfrastructure));
  for (OrgType type : {OrgType::kLocalGovernment, OrgType::kIndependentAgency,
                       OrgType::kCriticalInfrastructure}) {
    EXPECT_TRUE(LegalBasisCovers("art31", type));
    EXPECT_FALSE(LegalBasisCovers("art30", type));
  }
  EXPECT_FALSE(LegalBasisCovers("art31", OrgType::kMinistry));
  EXPECT_FALSE(LegalBasisCovers("art31", OrgType::kPartnerCert));
  EXPECT_FALSE(LegalBasisCovers("art32", OrgType::kCentre));

  auto wrong30 = CreateMaterialsRequest(*db_, analyst_p_, Outbound("art30", city_), T0);
  ASSERT_FALSE(wrong30);
  EXPECT_EQ(wrong30.error().field, "target_org_id");
  auto wrong31 = CreateMaterialsRequest(*db_, analyst_p_, Outbound("art31", ministry_), T0);
  ASSERT_FALSE(wrong31);
  EXPECT_TRUE(CreateMaterialsRequest(*db_, analyst_p_, Outbound("art30", ministry_), T0));
  EXPECT_TRUE(CreateMaterialsRequest(*db_, analyst_p_, Outbound("art31", bank_), T0));
  EXPECT_TRUE(CreateMaterialsRequest(*db_, analyst_p_, Outbound("art31", agency_), T0));

  auto past = CreateMaterialsRequest(*db_, analyst_p_, Outbound("art30", ministry_, T0 - 1), T0);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().field, "due_at");
  auto by_member = CreateMaterialsRequest(*db_, minister_admin_, Outbound("art31", bank_), T0);
  ASSERT_FALSE(by_member);
  EXPECT_EQ(by_member.error().kind, Kind::kForbidden);
}

TEST_P(CoordinationTest, OutboundRequestIsAnsweredWithAnAttachmentAndOverdueFollowsTime) {
  const int64_t due = T0 + 24 * HOUR;
  auto created = CreateMaterialsRequest(*db_, analyst_p_, Outbound("art30", ministry_, due), T0);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->direction, "outbound");
  EXPECT_EQ(created->status, "open");
  EXPECT_EQ(created->requester_org_id, centre_.id);
  EXPECT_FALSE(created->overdue);

  MaterialsRequestFilter overdue;
  overdue.overdue = true;
  auto before = ListMaterialsRequests(*db_, analyst_p_, overdue, {}, due - 1);
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->items.empty());
  auto after = ListMaterialsRequests(*db_, analyst_p_, overdue, {}, due + 1);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->items.size(), 1u);
  EXPECT_TRUE(after->items[0].overdue);
  auto read_late = ReadMaterialsRequest(*db_, minister_reporter_, created->id, due + 1);
  ASSERT_TRUE(read_late);
  EXPECT_TRUE(read_late->overdue);

  // Outsiders neither see nor answer it; the centre does not answer its own request.
  EXPECT_FALSE(ReadMaterialsRequest(*db_, ministry_b_admin_, created->id, T0));
  auto outsider = AddRequestResponse(*db_, ministry_b_admin_, created->id, "x", T0);
  ASSERT_FALSE(outsider);
  EXPECT_EQ(outsider.error().kind, Kind::kNotFound);
  auto own = AddRequestResponse(*db_, analyst_p_, created->id, "x", T0);
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().kind, Kind::kForbidden);

  auto response =
      AddRequestResponse(*db_, minister_reporter_, created->id, "Logs attached.", due + 2);
  ASSERT_TRUE(response) << response.error().message;
  const std::string bytes("line 1\nline 2\n\0binary", 21);
  auto attachment = AddResponseAttachment(*db_, minister_reporter_, created->id, response->id,
                                          "gateway.log", "text/plain", bytes, due + 3);
  ASSERT_TRUE(attachment) << attachment.error().message;
  EXPECT_EQ(attachment->size, 21);
  EXPECT_EQ(attachment->sha256, Sha256Hex(bytes));
  EXPECT_FALSE(attachment->already_attached);
  // The same file again (a retried upload) is the attachment it already is; other bytes under
  // the same name are another.
  auto again = AddResponseAttachment(*db_, minister_reporter_, created->id, response->id,
                                     "gateway.log", "text/plain", bytes, due + 4);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->already_attached);
  EXPECT_EQ(again->id, attachment->id);
  EXPECT_EQ(again->uploaded_at, due + 3);
  auto other = AddResponseAttachment(*db_, minister_reporter_, created->id, response->id,
                                     "gateway.log", "text/plain", bytes + "!", due + 4);
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(other->already_attached);
  auto attachments = ListResponseAttachments(*db_, analyst_p_, created->id, response->id);
  ASSERT_TRUE(attachments) << attachments.error().message;
  EXPECT_EQ(attachments->items.size(), 2u);
  // Only the responding organisation attaches to its response.
  EXPECT_FALSE(AddResponseAttachment(*db_, analyst_p_, created->id, response->id, "x", "text/plain",
                                     "x", due + 3));

  auto answered = ReadMaterialsRequest(*db_, analyst_p_, created->id, due + 10);
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, "answered");
  EXPECT_FALSE(answered->overdue);
  EXPECT_EQ(answered->answered_at, due + 2);
  ASSERT_EQ(answered->responses.size(), 1u);
  ASSERT_EQ(answered->responses[0].attachments.size(), 2u);  // the file and its other bytes
  EXPECT_EQ(answered->responses[0].attachments[0].filename, "gateway.log");

  auto content = ReadResponseAttachment(*db_, analyst_p_, created->id, response->id,
                                        attachment->id);
  ASSERT_TRUE(content) << content.error().message;
  EXPECT_EQ(content->bytes, bytes);
  EXPECT_FALSE(ReadResponseAttachment(*db_, ministry_b_admin_, created->id, response->id,
                                      attachment->id));
  auto listed = ListMaterialsRequests(*db_, analyst_p_, overdue, {}, due + 10);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->items.empty());

  // The requester closes; the addressed organisation cannot, and a closed request takes no
  // more responses.
  auto by_target = TransitionMaterialsRequest(*db_, minister_admin_, created->id, "closed", due);
  ASSERT_FALSE(by_target);
  EXPECT_EQ(by_target.error().kind, Kind::kForbidden);
  auto closed = TransitionMaterialsRequest(*db_, analyst_p_, created->id, "closed", due + 20);
  ASSERT_TRUE(closed) << closed.error().message;
  EXPECT_EQ(closed->status, "closed");
  auto late = AddRequestResponse(*db_, minister_reporter_, created->id, "more", due + 30);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, Kind::kConflict);
  EXPECT_EQ(AuditCount("request.create"), 1);
  EXPECT_EQ(AuditCount("request.respond"), 1);
  EXPECT_EQ(AuditCount("request.attach"), 3);  // the retried upload too
  EXPECT_EQ(AuditCount("request.transition"), 1);
}

TEST_P(CoordinationTest, TheSameResponseFileAtOnceIsStoredOnce) {
  // Retries that overlap their first attempt: one upload makes the attachment, the others get
  // it back as already attached. Each round starts every upload together with a file of its own.
  auto created = CreateMaterialsRequest(*db_, analyst_p_, Outbound("art30", ministry_), T0);
  ASSERT_TRUE(created) << created.error().message;
  auto response = AddRequestResponse(*db_, minister_reporter_, created->id, "Logs.", T0 + 1);
  ASSERT_TRUE(response) << response.error().message;
  constexpr int ROUNDS = 12;
  constexpr int UPLOADERS = 4;  // the pool's connections
  for (int round = 0; round < ROUNDS; ++round) {
    const std::string bytes = "proxy log " + std::to_string(round);
    std::vector<CoordinationResult<RequestAttachment>> results(UPLOADERS);
    test_support::RunTogether(UPLOADERS, [&](int i) {
      try {
        results[i] = AddResponseAttachment(*db_, minister_reporter_, created->id, response->id,
                                           "proxy.log", "text/plain", bytes, T0 + 2 + round);
      } catch (const std::exception& error) {
        results[i] = tl::unexpected(CoordinationError{Kind::kConflict, error.what(), {}});
      }
    });
    ExpectOneAttachmentMade(results, round);
  }
  auto attachments = ListResponseAttachments(*db_, analyst_p_, created->id, response->id);
  ASSERT_TRUE(attachments) << attachments.error().message;
  EXPECT_EQ(attachments->items.size(), static_cast<size_t>(ROUNDS));
  EXPECT_EQ(AuditCount("request.attach"), ROUNDS * UPLOADERS);
}

TEST_P(CoordinationTest, LocalGovernmentAsksTheCentreUnderArticle32) {
  NewMaterialsRequest input;
  input.legal_basis = "art32";
  input.title = "Help with a ransomware incident";
  input.body = "Our file servers are encrypted.";
  input.tlp = Tlp::kAmber;

  auto by_ministry = CreateMaterialsRequest(*db_, minister_admin_, input, T0);
  ASSERT_FALSE(by_ministry);
  EXPECT_EQ(by_ministry.error().kind, Kind::kForbidden);
  auto by_centre = CreateMaterialsRequest(*db_, analyst_p_, input, T0);
  ASSERT_FALSE(by_centre);
  EXPECT_EQ(by_centre.error().kind, Kind::kForbidden);

  auto created = CreateMaterialsRequest(*db_, city_admin_, input, T0);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->direction, "inbound");
  EXPECT_EQ(created->target_org_id, centre_.id);
  EXPECT_EQ(created->owner_org_id, city_.id);
  EXPECT_FALSE(created->due_at);

  MaterialsRequestFilter inbound;
  inbound.direction = "inbound";
  auto centre_list = ListMaterialsRequests(*db_, analyst_p_, inbound, {}, T0);
  ASSERT_TRUE(centre_list);
  ASSERT_EQ(centre_list->items.size(), 1u);
  EXPECT_FALSE(ReadMaterialsRequest(*db_, minister_admin_, created->id, T0));

  // The local government cannot answer its own request; the centre can.
  EXPECT_FALSE(AddRequestResponse(*db_, city_admin_, created->id, "x", T0 + 1));
  auto answer = AddRequestResponse(*db_, analyst_p_, created->id, "We are sending a team.", T0 + 2);
  ASSERT_TRUE(answer) << answer.error().message;
  auto withdraw = TransitionMaterialsRequest(*db_, city_admin_, created->id, "withdrawn", T0 + 3);
  ASSERT_FALSE(withdraw);
  EXPECT_EQ(withdraw.error().kind, Kind::kConflict);
  auto closed = TransitionMaterialsRequest(*db_, city_admin_, created->id, "closed", T0 + 3);
  ASSERT_TRUE(closed) << closed.error().message;
  EXPECT_EQ(closed->status, "closed");
}

TEST_P(CoordinationTest, AnAnalystAssignedToAnAmberStrictRequestWorksOnIt) {
  // At AMBER+STRICT a local government's request is the centre's duty officers' alone, until
  // one of them assigns an analyst to it.
  NewMaterialsRequest input;
  input.legal_basis = "art32";
  input.title = "Help with a ransomware incident";
  input.body = "Our file servers are encrypted.";
  input.tlp = Tlp::kAmberStrict;
  auto created = CreateMaterialsRequest(*db_, city_admin_, input, T0);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_TRUE(created->assignee_ids.empty());
  EXPECT_FALSE(ReadMaterialsRequest(*db_, analyst_p_, created->id, T0));
  EXPECT_TRUE(ListMaterialsRequests(*db_, analyst_p_, {}, {}, T0)->items.empty());
  // Who cannot see it cannot assign anyone to it, not even themselves.
  auto blind = AssignMaterialsRequest(*db_, analyst_p_, created->id, analyst_p_.user_id, T0);
  ASSERT_FALSE(blind);
  EXPECT_EQ(blind.error().kind, Kind::kNotFound);
  // The requester sees it but is not the centre.
  auto requester = AssignMaterialsRequest(*db_, city_admin_, created->id, analyst_p_.user_id, T0);
  ASSERT_FALSE(requester);
  EXPECT_EQ(requester.error().kind, Kind::kForbidden);
  // Only active centre staff can be assigned.
  for (const std::string& nobody :
       {city_admin_.user_id, std::string("no-such-user"), std::string("bad\nid")}) {
    auto refused = AssignMaterialsRequest(*db_, admin_p_, created->id, nobody, T0);
    ASSERT_FALSE(refused) << nobody;
    EXPECT_EQ(refused.error().kind, Kind::kInvalid) << nobody;
  }

  auto assigned = AssignMaterialsRequest(*db_, admin_p_, created->id, analyst_p_.user_id, T0 + 1);
  ASSERT_TRUE(assigned) << assigned.error().message;
  EXPECT_TRUE(*assigned);
  auto again = AssignMaterialsRequest(*db_, admin_p_, created->id, analyst_p_.user_id, T0 + 2);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto seen = ReadMaterialsRequest(*db_, analyst_p_, created->id, T0 + 3);
  ASSERT_TRUE(seen) << seen.error().message;
  EXPECT_EQ(seen->assignee_ids, std::vector<std::string>{analyst_p_.user_id});
  auto listed = ListMaterialsRequests(*db_, analyst_p_, {}, {}, T0 + 3);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].assignee_ids, std::vector<std::string>{analyst_p_.user_id});
  // The duty officer sees it too, but it is not assigned to them.
  MaterialsRequestFilter mine;
  mine.assigned_to_me = true;
  EXPECT_EQ(ListMaterialsRequests(*db_, analyst_p_, mine, {}, T0 + 3)->items.size(), 1u);
  EXPECT_EQ(ListMaterialsRequests(*db_, admin_p_, {}, {}, T0 + 3)->items.size(), 1u);
  EXPECT_TRUE(ListMaterialsRequests(*db_, admin_p_, mine, {}, T0 + 3)->items.empty());
  auto answer = AddRequestResponse(*db_, analyst_p_, created->id, "A team is on its way.", T0 + 4);
  ASSERT_TRUE(answer) << answer.error().message;
  // Nobody outside sees more than before.
  EXPECT_FALSE(ReadMaterialsRequest(*db_, minister_admin_, created->id, T0 + 4));
  EXPECT_FALSE(ReadMaterialsRequest(*db_, partner_user_, created->id, T0 + 4));
  EXPECT_EQ(AuditCount("request.assign"), 1);

  // Unassigned, the analyst loses sight of it; the answer stays.
  auto missing = UnassignMaterialsRequest(*db_, admin_p_, created->id, admin_p_.user_id, T0 + 5);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, Kind::kNotFound);
  ASSERT_TRUE(UnassignMaterialsRequest(*db_, admin_p_, created->id, analyst_p_.user_id, T0 + 5));
  EXPECT_FALSE(ReadMaterialsRequest(*db_, analyst_p_, created->id, T0 + 6));
  EXPECT_EQ(AuditCount("request.unassign"), 1);
  auto after = ReadMaterialsRequest(*db_, admin_p_, created->id, T0 + 6);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->assignee_ids.empty());
  EXPECT_EQ(after->responses.size(), 1u);
}

TEST_P(CoordinationTest, RequestListsFilterByStatusTargetAndDirection) {
  auto a = CreateMaterialsRequest(*db_, analyst_p_, Outbound("art30", ministry_), T0);
  auto b = CreateMaterialsRequest(*db_, analyst_p_, Outbound("art31", bank_), T0 + 1);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(TransitionMaterialsRequest(*db_, analyst_p_, b->id, "withdrawn", T0 + 2));
  MaterialsRequestFilter by_target;
  by_target.target_org_id = bank_.id;
  auto listed = ListMaterialsRequests(*db_, analyst_p_, by_target, {}, T0);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].status, "withdrawn");
  MaterialsRequestFilter open;
  open.status = "open";
  listed = ListMaterialsRequests(*db_, analyst_p_, open, {}, T0);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].id, a->id);
  // The bank sees only what is addressed to it.
  listed = ListMaterialsRequests(*db_, bank_admin_, {}, {}, T0);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0].id, b->id);
}

// ---------------------------------------------------------------------------------------------
// Recommendations

TEST_P(CoordinationTest, RecommendationGoesToAMinistryAndItsAdministratorResponds) {
  NewRecommendation input;
  input.target_org_id = bank_.id;
  input.title = "Enforce phishing-resistant MFA";
  input.body = "For all remote access.";
  input.due_at = T0 + 30 * 24 * HOUR;
  auto not_ministry = CreateRecommendation(*db_, admin_p_, input, T0);
  ASSERT_FALSE(not_ministry);
  EXPECT_EQ(not_ministry.error().field, "target_org_id");

  input.target_org_id = ministry_.id;
  auto by_analyst = CreateRecommendation(*db_, analyst_p_, input, T0);
  ASSERT_FALSE(by_analyst);
  EXPECT_EQ(by_analyst.error().kind, Kind::kForbidden);

  auto created = CreateRecommendation(*db_, admin_p_, input, T0);
  ASSERT_TRUE(created) << created.error().message;
  EXPECT_EQ(created->status, "issued");
  EXPECT_EQ(created->reference.substr(0, 4), "REC-");
  auto late = ReadRecommendation(*db_, minister_reporter_, created->id, *input.due_at + 1);
  ASSERT_TRUE(late);
  EXPECT_TRUE(late->overdue);

  EXPECT_FALSE(ReadRecommendation(*db_, ministry_b_admin_, created->id, T0));
  auto by_reporter = RespondToRecommendationAs(*db_, minister_reporter_, created->id, "ok", T0);
  ASSERT_FALSE(by_reporter);
  EXPECT_EQ(by_reporter.error().kind, Kind::kForbidden);
  auto by_other = RespondToRecommendationAs(*db_, ministry_b_admin_, created->id, "ok", T0);
  ASSERT_FALSE(by_other);
  EXPECT_EQ(by_other.error().kind, Kind::kNotFound);

  auto responded =
      RespondToRecommendationAs(*db_, minister_admin_, created->id, "Planned for Q2.", T0 + 5);
  ASSERT_TRUE(responded) << responded.error().message;
  EXPECT_EQ(responded->status, "responded");
  EXPECT_EQ(responded->response, "Planned for Q2.");
  EXPECT_EQ(responded->responded_by, minister_admin_.user_id);
  EXPECT_FALSE(responded->overdue);

  RecommendationUpdate update;
  update.status = "in_progress";
  update.follow_up_notes = "Checked at the March meeting.";
  auto by_agency = UpdateRecommendation(*db_, minister_admin_, created->id, update, T0 + 6);
  ASSERT_FALSE(by_agency);
  EXPECT_EQ(by_agency.error().kind, Kind::kForbidden);
  auto followed = UpdateRecommendation(*db_, admin_p_, created->id, update, T0 + 6);
  ASSERT_TRUE(followed) << followed.error().message;
  EXPECT_EQ(followed->status, "in_progress");
  EXPECT_EQ(followed->follow_up_notes, "Checked at the March meeting.");

  RecommendationFilter in_progress;
  in_progress.status = "in_progress";
  auto listed = ListRecommendations(*db_, minister_admin_, in_progress, {}, T0);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->items.size(), 1u);
  listed = ListRecommendations(*db_, ministry_b_admin_, {}, {}, T0);
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->items.empty());
  EXPECT_EQ(AuditCount("recommendation.create"), 1);
  EXPECT_EQ(AuditCount("recommendation.respond"), 1);
  EXPECT_EQ(AuditCount("recommendation.update"), 1);
  auto verified = AuditLog::Verify(*db_->Acquire());
  EXPECT_TRUE(verified.intact) << verified.problem;
}

INSTANTIATE_TEST_SUITE_P(Engines, CoordinationTest,
                         ::testing::Values(Engine::kSqlite, Engine::kPostgres),
                         [](const auto& info) {
                           return info.param == Engine::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace yagura::hub
