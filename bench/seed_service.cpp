// Seeds a store for the service benchmark: the centre, K ministries with a reporter each, and N
// incident reports spread over them through the same hub functions the API uses (so scores,
// references and audit entries are real), then prints an API token of one reporter.
//
//   yagura_seed_service --database TARGET [--incidents 100000] [--orgs 50]
//
// stdout: "token <secret>" and "org <id>" (the organisation whose page the benchmark lists).
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "core/time.hpp"
#include "hub/identity.hpp"
#include "hub/incidents.hpp"
#include "hub/passwords.hpp"
#include "hub/schema.hpp"
#include "hub/scoring.hpp"

using namespace yagura;

int main(int argc, char** argv) {
  std::string target;
  long incidents = 100000;
  long organisations = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--database") target = argv[i + 1];
    else if (flag == "--incidents") incidents = std::atol(argv[i + 1]);
    else if (flag == "--orgs") organisations = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  if (target.empty() || incidents < 1 || organisations < 1) {
    std::fprintf(stderr, "usage: yagura_seed_service --database TARGET [--incidents N] [--orgs K]\n");
    return 2;
  }
  hub::SetPasswordCost(hub::PasswordCost::Minimal());
  auto database = store::Database::Open(target, 4);
  if (!database) {
    std::fprintf(stderr, "%s\n", database.error().ToString().c_str());
    return 1;
  }
  if (auto migrated = hub::MigrateSchema(**database); !migrated) {
    std::fprintf(stderr, "%s\n", migrated.error().ToString().c_str());
    return 1;
  }
  auto centre = hub::BootstrapCentre(**database, "admin", "benchmark admin password");
  if (!centre) {
    std::fprintf(stderr, "%s\n", centre.error().message.c_str());
    return 1;
  }
  hub::Principal system = hub::SystemPrincipal();
  std::vector<hub::Principal> reporters;
  std::string token;
  for (long k = 0; k < organisations; ++k) {
    hub::NewOrganization org;
    org.name = fmt::format("Ministry {}", k);
    org.type = hub::OrgType::kMinistry;
    auto created = hub::CreateOrganization(**database, system, org);
    if (!created) {
      std::fprintf(stderr, "organisation: %s\n", created.error().message.c_str());
      return 1;
    }
    hub::NewUser user;
    user.username = fmt::format("reporter{}", k);
    user.org_id = created->id;
    user.roles = {hub::Role::kOrgReporter};
    auto made = hub::CreateUser(**database, system, user);
    if (!made) {
      std::fprintf(stderr, "user: %s\n", made.error().message.c_str());
      return 1;
    }
    auto minted = hub::CreateToken(**database, system, made->id, "benchmark", {"read"},
                                   std::nullopt, NowMs());
    if (!minted) {
      std::fprintf(stderr, "token: %s\n", minted.error().message.c_str());
      return 1;
    }
    auto principal = hub::AuthenticateToken(**database, minted->secret, NowMs());
    if (!principal) {
      std::fprintf(stderr, "the new token does not authenticate\n");
      return 1;
    }
    reporters.push_back(*principal);
    if (k == 0) {
      token = minted->secret;
      std::printf("org %s\n", created->id.c_str());
    }
  }
  auto functional = hub::FactorValues(hub::ScoringFactor::kFunctionalImpact);
  auto information = hub::FactorValues(hub::ScoringFactor::kInformationImpact);
  auto recoverability = hub::FactorValues(hub::ScoringFactor::kRecoverability);
  auto categories = hub::IncidentCategoryNames();
  const char* tlps[] = {"amber", "amber+strict", "green", "amber"};
  int64_t start = NowMs() - incidents * 1000;
  constexpr long BATCH = 1000;
  for (long first = 0; first < incidents; first += BATCH) {
    (*database)->Transact([&](store::Connection& connection) {
      for (long i = first; i < std::min(incidents, first + BATCH); ++i) {
        const hub::Principal& reporter = reporters[i % reporters.size()];
        hub::IncidentReport report;
        report.title = fmt::format("Suspicious activity #{}", i);
        report.description = "Generated for the service benchmark.";
        report.category = std::string(categories[i % categories.size()]);
        report.functional_impact = std::string(functional[i % functional.size()]);
        report.information_impact = std::string(information[i % information.size()]);
        report.recoverability = std::string(recoverability[i % recoverability.size()]);
        report.location = std::to_string(i % 8);
        report.detected_at = start + i * 1000;
        report.point_of_contact = {"Duty desk", "desk@example.go.jp", std::nullopt};
        report.tlp = *hub::ParseTlp(tlps[i % 4]);
        auto created = hub::CreateIncident(connection, reporter, report, std::nullopt,
                                           start + i * 1000);
        if (!created) throw std::runtime_error(created.error().message);
      }
    });
    if ((first / BATCH) % 10 == 9) std::fprintf(stderr, "seeded %ld incidents\n", first + BATCH);
  }
  std::printf("token %s\n", token.c_str());
  return 0;
}
