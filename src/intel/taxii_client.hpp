// TAXII 2.1 client: pulls partner CERTs' collections into the indicator store.
//
// A source is one collection of one partner's TAXII server. Pulling it asks for the objects
// added after the source's bookmark, follows `next` while the server says `more`, and stores
// what arrived as the feed "taxii-<source name>" of the IntelStore, together with what earlier
// pulls brought (the STIX reader keeps the latest version of each object and honours its
// markings, revocation and validity). Only once the store holds the new version does the
// bookmark move on to the last page's X-TAXII-Date-Added-Last, so a pull that fails or is cut
// off half way is simply repeated from the old bookmark: nothing is lost and, as objects are
// keyed by id and version, nothing is counted twice.
//
// Sources live in the store directory (DIR/taxii.json, mode 0600 because it may hold a token).
// Requests are retried with exponential backoff (honouring Retry-After) on connection errors,
// 429 and 5xx; other 4xx answers fail at once with the server's TAXII error message.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostics.hpp"
#include "core/result.hpp"
#include "intel/store.hpp"

namespace yagura::intel {

struct TaxiiSource {
  std::string name;
  // The collection's URL: https://partner.example/taxii2/api1/collections/<id>/
  std::string collection_url;
  std::string token;           // Bearer token, or
  std::string token_env;       // the environment variable that holds it
  std::string username;        // HTTP Basic (only over https)
  std::string password_env;    // the environment variable that holds the password
  std::string ca_file;         // PEM CA bundle for the server's certificate; empty: system CAs
  std::string bookmark;        // the last date_added pulled (X-TAXII-Date-Added-Last)
  std::string last_pull;       // when the last pull finished (RFC 3339)
  std::string last_error;      // why the last pull failed; empty after a success
  uint64_t objects_pulled = 0; // over all pulls
};

struct TaxiiPullOptions {
  int page_limit = 500;          // `limit` asked for per page
  int max_attempts = 5;          // per request
  int64_t first_backoff_ms = 500;
  int64_t timeout_ms = 60'000;   // per request
  // Called after each page arrives with the pages and objects received so far (a pull started
  // from the console shows them as progress). Empty: not called.
  std::function<void(uint64_t pages, uint64_t objects)> on_page;
  // Asked before each request and retry: true gives up (nothing stored, bookmark unchanged),
  // so a stopping service does not wait out retries. Empty: never.
  std::function<bool()> cancelled;
};

struct TaxiiPullOutcome {
  uint64_t pages = 0;
  uint64_t objects = 0;          // objects received in this pull
  std::string bookmark;          // the new bookmark (unchanged when nothing arrived)
  ImportOutcome import;          // the store's verdict on the merged feed
};

// The sources of a store.
class TaxiiSources {
 public:
  [[nodiscard]] static Result<TaxiiSources> Load(const std::string& store_dir);
  Result<void> Save() const;

  // Adds or replaces a source (checked: name, https or loopback http URL, one credential).
  Result<void> Put(TaxiiSource source);
  bool Remove(const std::string& name);
  [[nodiscard]] TaxiiSource* Find(const std::string& name);
  [[nodiscard]] std::vector<TaxiiSource>& sources() { return sources_; }

 private:
  std::string path_;
  std::vector<TaxiiSource> sources_;
};

// Pulls one source into `store`, updating the source's bookmark and status (the caller saves
// the TaxiiSources afterwards). An error means nothing was stored and the bookmark is unchanged.
Result<TaxiiPullOutcome> PullTaxiiSource(TaxiiSource& source, IntelStore& store,
                                         Diagnostics& diagnostics,
                                         const TaxiiPullOptions& options = {});

// Pulls the source `name` of the store in `store_dir` the way the service's schedule does:
// holding the store's lock, then saving the sources (bookmark and status, also after a
// failure). Fails naming the source when the store has none of that name.
Result<TaxiiPullOutcome> PullStoredTaxiiSource(const std::string& store_dir,
                                               const std::string& name, Diagnostics& diagnostics,
                                               const TaxiiPullOptions& options = {});

}  // namespace yagura::intel
