#include "http/message.hpp"

#include <gtest/gtest.h>

namespace yagura::http {
namespace {

TEST(Headers, AreCaseInsensitiveAndStoredLowerCase) {
  Headers headers;
  headers.Set("Content-Type", "text/plain");
  EXPECT_EQ(headers.Get("content-type"), "text/plain");
  EXPECT_EQ(headers.Get("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(headers.all().at(0).first, "content-type");
  EXPECT_FALSE(headers.Get("content-length"));
}

TEST(Headers, SetReplacesAndAddKeeps) {
  Headers headers;
  headers.Add("Set-Cookie", "a=1");
  headers.Add("set-cookie", "b=2");
  EXPECT_EQ(headers.all().size(), 2u);
  EXPECT_EQ(headers.Get("Set-Cookie"), "a=1");
  headers.Set("SET-COOKIE", "c=3");
  ASSERT_EQ(headers.all().size(), 1u);
  EXPECT_EQ(headers.Get("set-cookie"), "c=3");
  headers.Remove("Set-Cookie");
  EXPECT_TRUE(headers.all().empty());
}

TEST(Request, QueryPathParamAndCookie) {
  Request request;
  request.query = {{"a", "1"}, {"b", ""}, {"a", "2"}};
  request.path_params.emplace("id", "42");
  request.headers.Add("Cookie", "theme=dark; session=\"abc\" ;  empty=; x");
  EXPECT_EQ(request.Query("a"), "1");  // the first value
  EXPECT_EQ(request.Query("b"), "");
  EXPECT_FALSE(request.Query("c"));
  EXPECT_EQ(request.PathParam("id"), "42");
  EXPECT_EQ(request.PathParam("missing"), "");
  EXPECT_EQ(request.Cookie("theme"), "dark");
  EXPECT_EQ(request.Cookie("session"), "abc");
  EXPECT_EQ(request.Cookie("empty"), "");
  EXPECT_FALSE(request.Cookie("x"));
  EXPECT_FALSE(request.Cookie("them"));
}

TEST(Response, ErrorBodyIsTheDocumentedJson) {
  Response response = Response::Error(404, "not_found", "no \"such\" thing");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.headers.Get("content-type"), "application/json");
  EXPECT_EQ(response.body,
            R"({"error":{"status":404,"code":"not_found","message":"no \"such\" thing"}})");
  Response with_field = Response::Error(422, "invalid", "too long", "title");
  EXPECT_EQ(with_field.body,
            R"({"error":{"status":422,"code":"invalid","message":"too long","field":"title"}})");
}

TEST(Response, JsonAndText) {
  Response json = Response::Json(201, "{}");
  EXPECT_EQ(json.status, 201);
  EXPECT_EQ(json.body, "{}");
  Response text = Response::Text(200, "hi", "text/plain; charset=utf-8");
  EXPECT_EQ(text.headers.Get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(text.body, "hi");
}

TEST(PercentDecode, DecodesAndRejectsBadEscapes) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc%2f", false).value(), "a b/c/");
  EXPECT_EQ(PercentDecode("a+b", false).value(), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true).value(), "a b");
  EXPECT_EQ(PercentDecode("%e6%ab%93", false).value(), "櫓");
  EXPECT_FALSE(PercentDecode("%", false));
  EXPECT_FALSE(PercentDecode("%4", false));
  EXPECT_FALSE(PercentDecode("%zz", false));
  EXPECT_FALSE(PercentDecode("abc%4g", false));
}

TEST(DecodeTarget, SplitsPathAndQuery) {
  Request request;
  ASSERT_TRUE(DecodeTarget("/api/v1/items/a%20b?q=x+y&empty=&flag&enc=%26%3D&&last=1", request));
  EXPECT_EQ(request.path, "/api/v1/items/a b");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(request.query,
            (Pairs{{"q", "x y"}, {"empty", ""}, {"flag", ""}, {"enc", "&="}, {"last", "1"}}));
  ASSERT_TRUE(DecodeTarget("/", request));
  EXPECT_EQ(request.path, "/");
  EXPECT_TRUE(request.query.empty());
}

TEST(DecodeTarget, RejectsHostileTargets) {
  for (const char* target :
       {"", "*", "http://example.test/", "relative", "/..", "/a/../b", "/a/%2e%2e/b", "/a/%2E%2E",
        "/a%2F..%2Fb", "/./a", "/a%00b", "/a%0d%0aSet-Cookie:x", "/a%5c..%5cb", "/%zz", "/a%2",
        "/ok?x=%zz", "/ok?%=1"}) {
    Request request;
    EXPECT_FALSE(DecodeTarget(target, request)) << target;
  }
}

TEST(IsSafePath, AllowsOrdinaryPaths) {
  EXPECT_TRUE(IsSafePath("/"));
  EXPECT_TRUE(IsSafePath("/api/v1/x..y/.hidden/a b"));
  EXPECT_FALSE(IsSafePath("/a/.."));
  EXPECT_FALSE(IsSafePath(std::string_view("/a\0b", 4)));
}

}  // namespace
}  // namespace yagura::http
