// yagura: one binary, one subcommand per role (docs/architecture.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "Yagura (櫓): detection and coordination platform for a national cyber-defence centre"};
  app.set_version_flag("--version", std::string("yagura ") + YAGURA_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  yagura::cli::ScanCommand scan(app);
  yagura::cli::RulesCommand rules(app);
  yagura::cli::IntelCommand intel(app);
  yagura::cli::ServeCommand serve(app);
  yagura::cli::AdminCommand admin(app);
  yagura::cli::SearchCommand search(app);
  yagura::cli::StatsCommand stats(app);
  yagura::cli::DumpCommand dump(app);
  yagura::cli::ExtractBase64Command extract_base64(app);
  yagura::cli::CarveEvtxCommand carve_evtx(app);
  yagura::cli::EventsCommand events(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return yagura::cli::EXIT_USAGE;  // usage errors always exit 2
  }
  if (scan.parsed()) return scan.Run();
  if (rules.parsed()) return rules.Run();
  if (intel.parsed()) return intel.Run();
  if (serve.parsed()) return serve.Run();
  if (admin.parsed()) return admin.Run();
  if (search.parsed()) return search.Run();
  if (stats.parsed()) return stats.Run();
  if (dump.parsed()) return dump.Run();
  if (extract_base64.parsed()) return extract_base64.Run();
  if (carve_evtx.parsed()) return carve_evtx.Run();
  if (events.parsed()) return events.Run();
  return yagura::cli::EXIT_USAGE;
}
