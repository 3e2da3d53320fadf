#include "http/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace yagura::http {
namespace {

Request Make(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.target = request.path;
  return request;
}

// A handler that answers with its name, the matched route and the path parameters.
Handler Named(std::string name) {
  return [name](Request& request) {
    std::string body = name + " " + request.route;
    for (const auto& [key, value] : request.path_params) body += " " + key + "=" + value;
    return Response::Text(200, body, "text/plain");
  };
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router.Add("GET", "/api/v1/incidents", Named("list"));
    router.Add("POST", "/api/v1/incidents", Named("create"));
    router.Add("GET", "/api/v1/incidents/{id}", Named("get"));
    router.Add("DELETE", "/api/v1/incidents/{id}", Named("delete"));
    router.Add("GET", "/api/v1/incidents/{id}/comments/{comment}", Named("comment"));
    router.Add("GET", "/", Named("root"));
  }

  Response Call(std::string method, std::string path) {
    Request request = Make(std::move(method), std::move(path));
    return router.Dispatch(request);
  }

  Router router;
};

TEST_F(RouterTest, MatchesLiteralsAndParameters) {
  EXPECT_EQ(Call("GET", "/api/v1/incidents").body, "list /api/v1/incidents");
  EXPECT_EQ(Call("POST", "/api/v1/incidents").body, "create /api/v1/incidents");
  EXPECT_EQ(Call("GET", "/api/v1/incidents/INC-7").body, "get /api/v1/incidents/{id} id=INC-7");
  EXPECT_EQ(Call("GET", "/api/v1/incidents/7/comments/9").body,
            "comment /api/v1/incidents/{id}/comments/{comment} comment=9 id=7");
  EXPECT_EQ(Call("GET", "/").body, "root /");
  EXPECT_EQ(router.routes().size(), 6u);
}

TEST_F(RouterTest, UnknownPathsAre404) {
  for (const char* path : {"/api/v1/incident", "/api/v1/incidents/7/comments", "/api/v1/incidents/",
                           "/api/v1/incidents//comments/1", "/nope"}) {
    Response response = Call("GET", path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_NE(response.body.find(R"("code":"not_found")"), std::string::npos);
  }
}

TEST_F(RouterTest, OtherMethodsAre405WithAllow) {
  Response response = Call("PUT", "/api/v1/incidents/7");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.Get("allow"), "DELETE, GET, HEAD");
  EXPECT_NE(response.body.find(R"("code":"method_not_allowed")"), std::string::npos);
  EXPECT_EQ(Call("DELETE", "/api/v1/incidents").headers.Get("Allow"), "GET, HEAD, POST");
}

TEST_F(RouterTest, HeadIsServedByGetWithoutBody) {
  Response response = Call("HEAD", "/api/v1/incidents");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
  EXPECT_EQ(response.headers.Get("content-length"),
            std::to_string(std::string("list /api/v1/incidents").size()));
}

TEST(Router, LiteralSegmentsWinOverParametersWhateverTheOrder) {
  for (bool literal_first : {true, false}) {
    Router router;
    if (literal_first) router.Add("GET", "/items/stats", Named("stats"));
    router.Add("GET", "/items/{id}", Named("item"));
    router.Add("GET", "/items/{id}/tags/{tag}", Named("tag"));
    router.Add("GET", "/items/{id}/tags/pinned", Named("pinned"));
    router.Add("GET", "/items/stats/tags/{tag}", Named("stats-tag"));
    if (!literal_first) router.Add("GET", "/items/stats", Named("stats"));
    auto call = [&](std::string path) {
      Request request = Make("GET", std::move(path));
      return router.Dispatch(request).body;
    };
    EXPECT_EQ(call("/items/stats"), "stats /items/stats");
    EXPECT_EQ(call("/items/7"), "item /items/{id} id=7");
    EXPECT_EQ(call("/items/7/tags/pinned"), "pinned /items/{id}/tags/pinned id=7");
    EXPECT_EQ(call("/items/7/tags/red"), "tag /items/{id}/tags/{tag} id=7 tag=red");
    // The first differing segment decides: a literal "stats" beats {id}.
    EXPECT_EQ(call("/items/stats/tags/pinned"), "stats-tag /items/stats/tags/{tag} tag=pinned");
  }
}

TEST(Router, AParameterRouteServesAMethodTheLiteralRouteLacks) {
  Router router;
  router.Add("POST", "/items/new", Named("new"));
  router.Add("GET", "/items/{id}", Named("item"));
  Request get = Make("GET", "/items/new");
  EXPECT_EQ(router.Dispatch(get).body, "item /items/{id} id=new");
  Request post = Make("POST", "/items/new");
  EXPECT_EQ(router.Dispatch(post).body, "new /items/new");
  Request put = Make("PUT", "/items/new");
  Response response = router.Dispatch(put);
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.headers.Get("allow"), "GET, HEAD, POST");
}

TEST(Router, ExplicitHeadRouteWins) {
  Router router;
  router.Add("GET", "/x", Named("get"));
  router.Add("HEAD", "/x", Named("head"));
  Request request = Make("HEAD", "/x");
  EXPECT_EQ(router.Dispatch(request).body, "head /x");
}

TEST(Router, HandlerExceptionsBecome500WithoutDetails) {
  Router router;
  router.Add("GET", "/boom",
             [](Request&) -> Response { throw std::runtime_error("secret database detail"); });
  router.Add("GET", "/odd", [](Request&) -> Response { throw 42; });
  for (const char* path : {"/boom", "/odd"}) {
    Request request = Make("GET", path);
    Response response = router.Dispatch(request);
    EXPECT_EQ(response.status, 500);
    EXPECT_NE(response.body.find(R"("code":"internal_error")"), std::string::npos);
    EXPECT_EQ(response.body.find("secret"), std::string::npos);
  }
}

TEST(Router, HostilePathsAre400BeforeAnyHandler) {
  Router router;
  bool called = false;
  router.Add("GET", "/files/{name}", [&](Request&) {
    called = true;
    return Response::Text(200, "file", "text/plain");
  });
  router.Add("GET", "/{a}/{b}/{c}", [&](Request&) {
    called = true;
    return Response::Text(200, "any", "text/plain");
  });
  for (std::string path :
       {std::string("/files/.."), std::string("/files/../etc"), std::string("/files/./x"),
        std::string("/files/a\\..\\b"), std::string("/files/a\0b", 9), std::string("/files/a\r\nb"),
        std::string("files/x"), std::string("")}) {
    Request request = Make("GET", path);
    Response response = router.Dispatch(request);
    EXPECT_EQ(response.status, 400) << path;
    EXPECT_NE(response.body.find(R"("code":"bad_request")"), std::string::npos);
  }
  EXPECT_FALSE(called);
}

TEST(Router, RejectsMalformedAndDuplicatePatterns) {
  Router router;
  router.Add("GET", "/a/{id}", Named("a"));
  EXPECT_THROW(router.Add("GET", "/a/{other}", Named("b")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "no-slash", Named("b")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a/{}", Named("b")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a/x{id}", Named("b")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a/{id}/{id}", Named("b")), std::invalid_argument);
  router.Add("POST", "/a/{id}", Named("post"));  // same pattern, other method: fine
  EXPECT_EQ(router.routes().size(), 2u);
}

TEST(Router, KeepsRouteDocs) {
  Router router;
  RouteDoc doc;
  doc.summary = "List incidents";
  doc.tag = "incidents";
  doc.query = {"status"};
  router.Add("GET", "/api/v1/incidents", Named("list"), doc);
  EXPECT_EQ(router.routes().at(0).doc.summary, "List incidents");
  EXPECT_EQ(router.routes().at(0).doc.query.at(0), "status");
}

}  // namespace
}  // namespace yagura::http
