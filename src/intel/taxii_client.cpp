// TAXII 2.1 client (see taxii_client.hpp).
#include "intel/taxii_client.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "core/json_value.hpp"
#include "core/json_writer.hpp"
#include "core/stable_id.hpp"
#include "core/time.hpp"

namespace yagura::intel {
namespace {

namespace fs = std::filesystem;

constexpr const char* TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1";
constexpr const char* SOURCES_FILE = "taxii.json";

struct HttpAnswer {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string transport_error;                 // set when no answer came
};

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = std::string(value);
  }
  return size * count;
}

std::string Secret(const std::string& literal, const std::string& env) {
  if (!literal.empty()) return literal;
  if (!env.empty()) {
    if (const char* value = std::getenv(env.c_str())) return value;
  }
  return {};
}

HttpAnswer Get(const TaxiiSource& source, const std::string& url, int64_t timeout_ms) {
  static std::once_flag curl_initialised;
  std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  HttpAnswer answer;
  CURL* curl = curl_easy_init();
  if (!curl) {
    answer.transport_error = "cannot start an HTTP request";
    return answer;
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, fmt::format("Accept: {}", TAXII_MEDIA_TYPE).c_str());
  std::string token = Secret(source.token, source.token_env);
  if (!token.empty()) {
    headers = curl_slist_append(headers, fmt::format("Authorization: Bearer {}", token).c_str());
  }
  std::string password = Secret("", source.password_env);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!source.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, source.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  }
  if (!source.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, source.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.headers);
  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    answer.transport_error = curl_easy_strerror(code);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

std::string Escape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// One request with retries: connection errors, 429 and 5xx are retried with exponential
// backoff (or the server's Retry-After); anything else is returned as it is.
HttpAnswer GetWithRetries(const TaxiiSource& source, const std::string& url,
                          const TaxiiPullOptions& options) {
  int64_t backoff = options.first_backoff_ms;
  HttpAnswer answer;
  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    if (options.cancelled && options.cancelled()) {
      answer = HttpAnswer{};
      answer.transport_error = "the pull was cancelled";
      break;
    }
    answer = Get(source, url, options.timeout_ms);
    bool retry = !answer.transport_error.empty() || answer.status == 429 || answer.status >= 500;
    if (!retry || attempt == options.max_attempts) break;
    int64_t wait = backoff;
    if (auto after = answer.headers.find("retry-after"); after != answer.headers.end()) {
      int64_t seconds = std::atoll(after->second.c_str());
      if (seconds > 0) wait = std::min<int64_t>(seconds * 1000, 60'000);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    backoff = std::min<int64_t>(backoff * 2, 30'000);
  }
  return answer;
}

std::string DescribeFailure(const HttpAnswer& answer) {
  if (!answer.transport_error.empty()) return answer.transport_error;
  std::string detail;
  if (auto body = JsonValue::Parse(answer.body); body && body->is_object()) {
    if (const JsonValue* title = body->Find("title"); title && title->is_string())
      detail = title->as_string();
    if (const JsonValue* description = body->Find("description");
        description && description->is_string())
      detail += (detail.empty() ? "" : ": ") + description->as_string();
  }
  return fmt::format("HTTP {}{}{}", answer.status, detail.empty() ? "" : " ", detail);
}

// The objects of the feed's stored bundle, by id, with their `modified` (or `created`).
void LoadStoredObjects(const IntelStore& store, const std::string& feed,
                       std::map<std::string, std::pair<std::string, std::string>>& objects) {
  fs::path dir = fs::path(store.dir()) / "feeds" / feed;
  std::error_code error;
  if (!fs::is_directory(dir, error)) return;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto bundle = JsonValue::Parse(text.str());
    if (!bundle || !bundle->is_object()) continue;
    const JsonValue* list = bundle->Find("objects");
    if (!list || !list->is_array()) continue;
    for (const auto& object : list->as_array()) {
      const JsonValue* id = object.Find("id");
      if (!id || !id->is_string()) continue;
      const JsonValue* modified = object.Find("modified");
      if (!modified) modified = object.Find("created");
      objects[id->as_string()] = {modified && modified->is_string() ? modified->as_string() : "",
                                  object.Serialize()};
    }
  }
}

void Merge(const JsonValue& object,
           std::map<std::string, std::pair<std::string, std::string>>& objects) {
  const JsonValue* id = object.Find("id");
  if (!id || !id->is_string()) return;
  const JsonValue* modified = object.Find("modified");
  if (!modified) modified = object.Find("created");
  std::string version = modified && modified->is_string() ? modified->as_string() : "";
  auto found = objects.find(id->as_string());
  // RFC 3339 times in STIX's UTC form compare correctly as text.
  if (found != objects.end() && found->second.first > version) return;
  objects[id->as_string()] = {version, object.Serialize()};
}

std::string Text(const JsonValue& object, const char* key) {
  const JsonValue* value = object.Find(key);
  return value && value->is_string() ? value->as_string() : std::string();
}

}  // namespace

Result<TaxiiSources> TaxiiSources::Load(const std::string& store_dir) {
  TaxiiSources sources;
  sources.path_ = (fs::path(store_dir) / SOURCES_FILE).string();
  std::ifstream in(sources.path_, std::ios::binary);
  if (!in) return sources;  // none yet
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = JsonValue::Parse(text.str());
  if (!parsed || !parsed->is_object() || !parsed->Find("sources") ||
      !parsed->Find("sources")->is_array()) {
    return Fail("not a list of TAXII sources", sources.path_);
  }
  for (const auto& entry : parsed->Find("sources")->as_array()) {
    TaxiiSource source;
    source.name = Text(entry, "name");
    source.collection_url = Text(entry, "collection_url");
    source.token = Text(entry, "token");
    source.token_env = Text(entry, "token_env");
    source.username = Text(entry, "username");
    source.password_env = Text(entry, "password_env");
    source.ca_file = Text(entry, "ca_file");
    source.bookmark = Text(entry, "bookmark");
    source.last_pull = Text(entry, "last_pull");
    source.last_error = Text(entry, "last_error");
    if (const JsonValue* pulled = entry.Find("objects_pulled"); pulled && pulled->is_number())
      source.objects_pulled = static_cast<uint64_t>(pulled->as_int());
    sources.sources_.push_back(std::move(source));
  }
  return sources;
}

Result<void> TaxiiSources::Save() const {
  std::string text;
  JsonWriter w(text);
  w.BeginObject().Key("sources").BeginArray();
  for (const auto& s : sources_) {
    w.BeginObject()
        .Key("name").String(s.name)
        .Key("collection_url").String(s.collection_url)
        .Key("token").String(s.token)
        .Key("token_env").String(s.token_env)
        .Key("username").String(s.username)
        .Key("password_env").String(s.password_env)
        .Key("ca_file").String(s.ca_file)
        .Key("bookmark").String(s.bookmark)
        .Key("last_pull").String(s.last_pull)
        .Key("last_error").String(s.last_error)
        .Key("objects_pulled").Uint(s.objects_pulled)
        .EndObject();
  }
  w.EndArray().EndObject();
  text.push_back('\n');
  std::string temporary = path_ + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return Fail("cannot write", temporary);
    out << text;
    if (!out.flush()) return Fail("cannot write", temporary);
  }
  ::chmod(temporary.c_str(), 0600);  // it may hold a token
  std::error_code error;
  fs::rename(temporary, path_, error);
  if (error) return Fail(fmt::format("cannot replace {}: {}", path_, error.message()));
  return {};
}

Result<void> TaxiiSources::Put(TaxiiSource source) {
  if (source.name.empty() || source.name.size() > 64 ||
      !std::all_of(source.name.begin(), source.name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_';
      })) {
    return Fail("a TAXII source name is 1-64 letters, digits, '-' or '_'");
  }
  const std::string& url = source.collection_url;
  bool https = url.starts_with("https://");
  bool loopback_http = url.starts_with("http://127.") || url.starts_with("http://[::1]") ||
                       url.starts_with("http://localhost");
  if (!https && !loopback_http) {
    return Fail("the collection URL must be https:// (plain http only on loopback, for tests)");
  }
  if (url.find("/collections/") == std::string::npos) {
    return Fail("the URL must name a collection: https://HOST/API-ROOT/collections/ID/");
  }
  if (!source.collection_url.ends_with("/")) source.collection_url.push_back('/');
  if (!source.username.empty() && !https) {
    return Fail("HTTP Basic credentials are only sent over https");
  }
  if (!source.token.empty() && !source.token_env.empty()) {
    return Fail("give the token or the variable that holds it, not both");
  }
  if (TaxiiSource* existing = Find(source.name)) {
    // Re-adding keeps how far the source was pulled, unless it now names another collection.
    if (existing->collection_url == source.collection_url) {
      source.bookmark = existing->bookmark;
      source.objects_pulled = existing->objects_pulled;
    }
    *existing = std::move(source);
  } else {
    sources_.push_back(std::move(source));
  }
  return {};
}

bool TaxiiSources::Remove(const std::string& name) {
  auto it = std::find_if(sources_.begin(), sources_.end(),
                         [&](const TaxiiSource& s) { return s.name == name; });
  if (it == sources_.end()) return false;
  sources_.erase(it);
  return true;
}

TaxiiSource* TaxiiSources::Find(const std::string& name) {
  for (auto& source : sources_) {
    if (source.name == name) return &source;
  }
  return nullptr;
}

Result<TaxiiPullOutcome> PullTaxiiSource(TaxiiSource& source, IntelStore& store,
                                         Diagnostics& diagnostics,
                                         const TaxiiPullOptions& options) {
  TaxiiPullOutcome outcome;
  auto fail = [&](std::string message) -> Result<TaxiiPullOutcome> {
    source.last_error = message;
    return Fail(fmt::format("TAXII source {}: {}", source.name, message));
  };
  std::vector<JsonValue> received;
  std::string next;
  std::string last_added = source.bookmark;
  for (;;) {
    std::string url = fmt::format("{}objects/?limit={}", source.collection_url, options.page_limit);
    // The bookmark stays the same while paging: `next` carries the position (TAXII 2.1 5.4).
    if (!source.bookmark.empty()) url += "&added_after=" + Escape(source.bookmark);
    if (!next.empty()) url += "&next=" + Escape(next);
    HttpAnswer answer = GetWithRetries(source, url, options);
    if (!answer.transport_error.empty() || answer.status != 200) {
      return fail(DescribeFailure(answer));
    }
    auto envelope = JsonValue::Parse(answer.body);
    if (!envelope || !envelope->is_object()) return fail("the answer is not a TAXII envelope");
    ++outcome.pages;
    if (const JsonValue* objects = envelope->Find("objects"); objects && objects->is_array()) {
      for (const auto& object : objects->as_array()) received.push_back(object);
    }
    if (options.on_page) options.on_page(outcome.pages, received.size());
    if (auto last = answer.headers.find("x-taxii-date-added-last"); last != answer.headers.end()) {
      if (last->second > last_added) last_added = last->second;
    }
    const JsonValue* more = envelope->Find("more");
    const JsonValue* next_value = envelope->Find("next");
    bool has_more = more && more->is_bool() && more->as_bool();
    if (!has_more) break;
    if (!next_value || !next_value->is_string() || next_value->as_string().empty()) {
      return fail("the server says there is more but gives no `next`");
    }
    if (next_value->as_string() == next) return fail("the server repeated the same `next`");
    next = next_value->as_string();
  }
  outcome.objects = received.size();
  outcome.bookmark = last_added;
  if (received.empty()) {
    source.last_error.clear();
    source.last_pull = FormatTimestampMs(NowMs());
    return outcome;
  }

  std::string feed = "taxii-" + source.name;
  std::map<std::string, std::pair<std::string, std::string>> objects;
  LoadStoredObjects(store, feed, objects);
  for (const auto& object : received) Merge(object, objects);
  std::string bundle;
  JsonWriter w(bundle);
  w.BeginObject()
      .Key("type").String("bundle")
      .Key("id").String("bundle--" + StableId({"taxii", source.name, last_added}))
      .Key("objects").BeginArray();
  for (const auto& [id, versioned] : objects) w.Raw(versioned.second);
  w.EndArray().EndObject();
  fs::path temporary_dir = fs::temp_directory_path() / fmt::format("yagura-taxii-{}-{}", ::getpid(), source.name);
  std::error_code error;
  fs::create_directories(temporary_dir, error);
  fs::path file = temporary_dir / (feed + ".json");
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << bundle;
    if (!out.flush()) {
      fs::remove_all(temporary_dir, error);
      return fail("cannot write the pulled objects to " + file.string());
    }
  }
  outcome.import = store.Import(file.string(), feed, FeedFormat::kStix, diagnostics);
  fs::remove_all(temporary_dir, error);
  if (!outcome.import.stored) {
    return fail("the store kept its previous version: " + outcome.import.error);
  }
  source.bookmark = last_added;
  source.objects_pulled += received.size();
  source.last_error.clear();
  source.last_pull = FormatTimestampMs(NowMs());
  return outcome;
}

Result<TaxiiPullOutcome> PullStoredTaxiiSource(const std::string& store_dir,
                                               const std::string& name, Diagnostics& diagnostics,
                                               const TaxiiPullOptions& options) {
  auto lock = StoreLock::Acquire(store_dir);
  if (!lock) return tl::unexpected(lock.error());
  auto sources = TaxiiSources::Load(store_dir);
  if (!sources) return tl::unexpected(sources.error());
  TaxiiSource* source = sources->Find(name);
  if (source == nullptr) return Fail(fmt::format("no TAXII source named \"{}\"", name));
  auto store = IntelStore::Open(store_dir);
  if (!store) return tl::unexpected(store.error());
  auto pulled = PullTaxiiSource(*source, *store, diagnostics, options);
  // The source's status changes either way (bookmark on success, last_error on failure).
  auto saved = sources->Save();
  if (!pulled) return pulled;
  if (!saved) return tl::unexpected(saved.error());
  return pulled;
}

}  // namespace yagura::intel
