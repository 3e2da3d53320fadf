// Router: linear matching of segment patterns.
//
// The API has at most a few hundred routes and a request path has a handful of segments, so a
// scan over pre-split patterns is fast enough and keeps the precedence rule obvious: among the
// matching routes for the request's method, the one with a literal at the first position where
// two patterns differ wins. The path has already been percent-decoded by the server; it is
// checked again here (IsSafePath) so that no handler can be reached with a traversal path even
// when a Request is built by hand.
#include "http/router.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <set>
#include <stdexcept>

namespace yagura::http {
namespace {

// Splits "/a/b/c" into {"a","b","c"}; "/" gives one empty segment.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t start = 1;
  while (true) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      segments.push_back(path.substr(start));
      break;
    }
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

// Runs a handler; exceptions become a 500 without details, logged with the route.
Response CallHandler(const Handler& handler, Request& request, std::string_view pattern,
                     std::string_view method) {
  try {
    return handler(request);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "http: %.*s %.*s failed: %s\n", static_cast<int>(method.size()),
                 method.data(), static_cast<int>(pattern.size()), pattern.data(), error.what());
  } catch (...) {
    std::fprintf(stderr, "http: %.*s %.*s failed with a non-standard exception\n",
                 static_cast<int>(method.size()), method.data(), static_cast<int>(pattern.size()),
                 pattern.data());
  }
  return Response::Error(500, "internal_error", "internal server error");
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, RouteDoc doc) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  std::vector<Segment> segments;
  std::set<std::string, std::less<>> names;
  for (std::string_view part : SplitPath(pattern)) {
    Segment segment;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      segment.param = true;
      segment.text = std::string(part.substr(1, part.size() - 2));
      if (segment.text.empty() || segment.text.find_first_of("{}") != std::string::npos ||
          !names.insert(segment.text).second) {
        throw std::invalid_argument("bad parameter in route pattern: " + pattern);
      }
    } else {
      if (part.find_first_of("{}") != std::string_view::npos) {
        throw std::invalid_argument("braces must enclose a whole segment: " + pattern);
      }
      segment.text = std::string(part);
    }
    segments.push_back(std::move(segment));
  }
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].method != method || segments_[i].size() != segments.size()) continue;
    bool same = std::equal(segments.begin(), segments.end(), segments_[i].begin(),
                           [](const Segment& a, const Segment& b) {
                             return a.param == b.param && (a.param || a.text == b.text);
                           });
    if (same) throw std::invalid_argument("duplicate route: " + method + " " + pattern);
  }
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(handler), std::move(doc)});
  segments_.push_back(std::move(segments));
}

Response Router::Dispatch(Request& request) const {
  if (!IsSafePath(request.path)) {
    return Response::Error(400, "bad_request", "the request path is not allowed");
  }
  std::vector<std::string_view> parts = SplitPath(request.path);

  auto matches = [&](size_t index) {
    const auto& segments = segments_[index];
    if (segments.size() != parts.size()) return false;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (segments[i].param) {
        if (parts[i].empty()) return false;
      } else if (segments[i].text != parts[i]) {
        return false;
      }
    }
    return true;
  };
  // True when route a should be preferred over route b (both match the path).
  auto better = [&](size_t a, size_t b) {
    for (size_t i = 0; i < parts.size(); ++i) {
      bool a_param = segments_[a].at(i).param;
      bool b_param = segments_[b].at(i).param;
      if (a_param != b_param) return !a_param;
    }
    return false;
  };

  std::set<std::string> allowed;
  size_t best = routes_.size();
  size_t best_get = routes_.size();
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (!matches(i)) continue;
    const std::string& method = routes_[i].method;
    allowed.insert(method);
    if (method == request.method) {
      if (best == routes_.size() || better(i, best)) best = i;
    } else if (method == "GET" && request.method == "HEAD") {
      if (best_get == routes_.size() || better(i, best_get)) best_get = i;
    }
  }
  bool head_from_get = false;
  if (best == routes_.size() && best_get != routes_.size()) {
    best = best_get;
    head_from_get = true;
  }
  if (best == routes_.size()) {
    if (allowed.empty()) {
      if (!fallback_) return Response::Error(404, "not_found", "no such resource");
      request.route.clear();
      request.path_params.clear();
      return CallHandler(fallback_, request, "fallback", request.method);
    }
    if (allowed.count("GET") != 0) allowed.insert("HEAD");
    std::string allow;
    for (const std::string& method : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += method;
    }
    Response response = Response::Error(405, "method_not_allowed",
                                        "method " + request.method + " is not allowed here");
    response.headers.Set("allow", std::move(allow));
    return response;
  }

  const Route& route = routes_[best];
  request.route = route.pattern;
  request.path_params.clear();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (segments_[best][i].param) {
      request.path_params.emplace(segments_[best][i].text, std::string(parts[i]));
    }
  }

  Response response = CallHandler(route.handler, request, route.pattern, route.method);
  if (head_from_get) {
    // The length a GET would have returned, as RFC 9110 section 9.3.2 expects of HEAD.
    if (!response.headers.Get("content-length")) {
      response.headers.Set("content-length", std::to_string(response.body.size()));
    }
    response.body.clear();
  }
  return response;
}

}  // namespace yagura::http
