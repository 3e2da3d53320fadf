// `yagura intel taxii add|pull|list|remove`: partner CERTs' TAXII 2.1 collections as indicator
// feeds of the store (intel/taxii_client.hpp).
#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/diagnostics.hpp"
#include "core/json_writer.hpp"
#include "intel/taxii_client.hpp"

namespace yagura::cli {

void IntelCommand::AddTaxiiCommands() {
  taxii_ = command_->add_subcommand("taxii", "Partner TAXII 2.1 collections pulled into the store");
  taxii_->require_subcommand(1);

  taxii_add_ = taxii_->add_subcommand("add", "Add (or change) a TAXII source");
  taxii_add_->add_option("name", taxii_name_, "Source name (letters, digits, '-', '_')")->required();
  taxii_add_->add_option("--url", taxii_url_,
                         "Collection URL: https://HOST/API-ROOT/collections/ID/")->required();
  taxii_add_->add_option("--token", taxii_token_, "Bearer token (stored in the store, mode 0600)");
  taxii_add_->add_option("--token-env", taxii_token_env_,
                         "Environment variable holding the bearer token (not stored)");
  taxii_add_->add_option("--user", taxii_user_, "HTTP Basic user name (https only)");
  taxii_add_->add_option("--password-env", taxii_password_env_,
                         "Environment variable holding the HTTP Basic password");
  taxii_add_->add_option("--ca-file", taxii_ca_file_, "PEM CA bundle for the server certificate");

  taxii_pull_ = taxii_->add_subcommand(
      "pull", "Fetch what the sources added since their bookmark (all sources by default)");
  taxii_pull_->add_option("names", taxii_names_, "Sources to pull");
  taxii_pull_->add_option("--page-limit", taxii_page_limit_, "Objects asked for per page (default 500)")
      ->check(CLI::Range(1, 100000));

  taxii_list_ = taxii_->add_subcommand("list", "List the sources, their bookmarks and last pull");
  taxii_list_->add_flag("--json", json_, "As JSON");

  taxii_remove_ = taxii_->add_subcommand("remove", "Forget a source (its feed stays until removed)");
  taxii_remove_->add_option("name", taxii_name_, "Source name")->required();
}

int IntelCommand::Taxii() {
  // Held for the whole command: `serve` pulls the same store on its schedule.
  auto lock = intel::StoreLock::Acquire(store_dir_);
  if (!lock) {
    std::cerr << "yagura intel taxii: " << lock.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  auto sources = intel::TaxiiSources::Load(store_dir_);
  if (!sources) {
    std::cerr << "yagura intel taxii: " << sources.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  if (taxii_add_->parsed()) {
    intel::TaxiiSource source;
    source.name = taxii_name_;
    source.collection_url = taxii_url_;
    source.token = taxii_token_;
    source.token_env = taxii_token_env_;
    source.username = taxii_user_;
    source.password_env = taxii_password_env_;
    source.ca_file = taxii_ca_file_;
    if (!source.username.empty() && source.password_env.empty()) {
      std::cerr << "yagura intel taxii add: --user needs --password-env\n";
      return EXIT_USAGE;
    }
    if (auto stored = intel::IntelStore::Open(store_dir_); !stored) {
      std::cerr << "yagura intel taxii add: " << stored.error().ToString() << "\n";
      return EXIT_PARTIAL;
    }
    if (auto put = sources->Put(std::move(source)); !put) {
      std::cerr << "yagura intel taxii add: " << put.error().ToString() << "\n";
      return EXIT_USAGE;
    }
    if (auto saved = sources->Save(); !saved) {
      std::cerr << "yagura intel taxii add: " << saved.error().ToString() << "\n";
      return EXIT_PARTIAL;
    }
    std::cout << fmt::format("TAXII source '{}' added; `yagura intel taxii pull {}` fetches it\n",
                             taxii_name_, taxii_name_);
    return EXIT_OK;
  }
  if (taxii_remove_->parsed()) {
    if (!sources->Remove(taxii_name_)) {
      std::cerr << "yagura intel taxii remove: no source named '" << taxii_name_ << "'\n";
      return EXIT_USAGE;
    }
    if (auto saved = sources->Save(); !saved) {
      std::cerr << "yagura intel taxii remove: " << saved.error().ToString() << "\n";
      return EXIT_PARTIAL;
    }
    return EXIT_OK;
  }
  if (taxii_list_->parsed()) {
    if (json_) {
      std::string out;
      JsonWriter w(out);
      w.BeginArray();
      for (const auto& s : sources->sources()) {
        w.BeginObject().Key("name").String(s.name).Key("collection_url").String(s.collection_url)
            .Key("bookmark").String(s.bookmark).Key("last_pull").String(s.last_pull)
            .Key("last_error").String(s.last_error).Key("objects_pulled").Uint(s.objects_pulled)
            .EndObject();
      }
      w.EndArray();
      std::cout << out << "\n";
      return EXIT_OK;
    }
    for (const auto& s : sources->sources()) {
      std::cout << fmt::format("{}  {}  bookmark {}  {} objects{}\n", s.name, s.collection_url,
                               s.bookmark.empty() ? "(none)" : s.bookmark, s.objects_pulled,
                               s.last_error.empty() ? "" : "  last error: " + s.last_error);
    }
    return EXIT_OK;
  }
  // pull
  auto store = intel::IntelStore::Open(store_dir_);
  if (!store) {
    std::cerr << "yagura intel taxii pull: " << store.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  Diagnostics diagnostics([](const Diagnostic& d) {
    std::cerr << "yagura intel taxii pull: " << d.where << ": " << d.message << "\n";
  });
  int status = EXIT_OK;
  bool any = false;
  for (auto& source : sources->sources()) {
    if (!taxii_names_.empty() &&
        std::find(taxii_names_.begin(), taxii_names_.end(), source.name) == taxii_names_.end())
      continue;
    any = true;
    intel::TaxiiPullOptions options;
    options.page_limit = taxii_page_limit_;
    auto pulled = intel::PullTaxiiSource(source, *store, diagnostics, options);
    if (!pulled) {
      std::cerr << pulled.error().ToString() << " (the bookmark stays; the next pull repeats it)\n";
      status = EXIT_PARTIAL;
      continue;
    }
    std::cout << fmt::format("{}: {} objects in {} pages; bookmark {}{}\n", source.name,
                             pulled->objects, pulled->pages,
                             pulled->bookmark.empty() ? "(none)" : pulled->bookmark,
                             pulled->objects ? fmt::format("; feed '{}' holds {} indicators",
                                                           pulled->import.name,
                                                           pulled->import.stats.indicators)
                                             : "");
  }
  if (!any) {
    std::cerr << "yagura intel taxii pull: no such source\n";
    return EXIT_USAGE;
  }
  if (auto saved = sources->Save(); !saved) {
    std::cerr << "yagura intel taxii pull: " << saved.error().ToString() << "\n";
    return EXIT_PARTIAL;
  }
  return status;
}

}  // namespace yagura::cli
