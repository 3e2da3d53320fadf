// Router: maps (method, path pattern) to handlers and documents every route for OpenAPI.
//
// Patterns are literal segments and "{name}" parameters: "/api/v1/incidents/{id}/comments".
// The router answers 404 for unknown paths and 405 (with Allow) for known paths with another
// method, so handlers only see requests they declared. When several patterns match, the one
// with a literal segment at the first position where they differ wins ("/incidents/stats" beats
// "/incidents/{id}"). HEAD is served by the GET route without a body unless a HEAD route exists.
// A fallback handler (the console's static files) may take the requests whose path matches no
// route at all; it decides itself which of them to answer and returns the 404 for the rest.
//
// Thread-safety: Add() before serving; Dispatch() is const and may run on many threads.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace yagura::http {

using Handler = std::function<Response(Request&)>;

// What the OpenAPI document says about a route; the test that keeps the document in sync with
// the routes walks these.
struct RouteDoc {
  std::string summary;
  std::string tag;                 // "incidents", "identity", ...
  std::string request_schema;      // name under components/schemas, or empty
  std::string response_schema;     // name under components/schemas, or empty
  bool authenticated = true;
  std::vector<std::string> query;  // documented query parameters
};

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  RouteDoc doc;
};

class Router {
 public:
  // Throws std::invalid_argument for a malformed pattern or a duplicate (method, pattern): both
  // are programming errors found at start-up.
  void Add(std::string method, std::string pattern, Handler handler, RouteDoc doc = {});
  // Finds the route, fills request.path_params and calls it. Exceptions from a handler become
  // 500 without details (they are logged by the server).
  Response Dispatch(Request& request) const;
  // Called instead of the 404 when the path matches no route for any method (a path that some
  // route serves with another method still gets 405). request.route is left empty, so metrics
  // do not label by client-chosen paths. Set before serving.
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }
  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool param = false;
  };
  std::vector<Route> routes_;
  std::vector<std::vector<Segment>> segments_;  // parsed patterns, parallel to routes_
  Handler fallback_;
};

}  // namespace yagura::http
