#include "fetch/http_fetcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/ssl/context.hpp>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "fetch/test_http_server.h"

namespace iocd {
namespace {

namespace asio = boost::asio;
using testing::GzipForTest;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// gzip.compress(b"hello\n", mtime=0) from Python 3, independent of our own zlib use.
const std::string kHelloGz = Bytes({31,  139, 8,   0, 0, 0,  0,  0,  2,  3, 203, 72, 205,
                                    201, 201, 231, 2, 0, 32, 48, 58, 54, 6, 0,   0,  0});
// zlib.compress(b"zlib data") from Python 3 (zlib wrapper, not gzip).
const std::string kZlibData =
    Bytes({120, 156, 171, 202, 201, 76, 82, 72, 73, 44, 73, 4, 0, 17, 122, 3, 108});

// ---------------------------------------------------------------------------------------
// ParseHttpUrl / RedactUrlCredentials

struct UrlCase {
  const char* url;
  const char* scheme;
  const char* host;
  uint16_t port;
  const char* target;
  const char* authorization;
  const char* host_header;
};

TEST(ParseHttpUrlTest, ValidUrls) {
  const UrlCase cases[] = {
      {"http://example.com", "http", "example.com", 80, "/", "", "example.com"},
      {"https://example.com", "https", "example.com", 443, "/", "", "example.com"},
      {"HTTPS://Feeds.Example.COM:8443/a/b.txt?x=1&y=2#frag", "https", "feeds.example.com", 8443,
       "/a/b.txt?x=1&y=2", "", "feeds.example.com:8443"},
      {"http://example.com?q=1", "http", "example.com", 80, "/?q=1", "", "example.com"},
      {"http://example.com:/x", "http", "example.com", 80, "/x", "", "example.com"},
      {"http://example.com:80/x", "http", "example.com", 80, "/x", "", "example.com"},
      {"https://example.com:80/x", "https", "example.com", 80, "/x", "", "example.com:80"},
      {"http://10.1.2.3:8080/feed.gz", "http", "10.1.2.3", 8080, "/feed.gz", "", "10.1.2.3:8080"},
      {"http://[::1]:8080/x", "http", "::1", 8080, "/x", "", "[::1]:8080"},
      {"https://[2001:DB8::1]/", "https", "2001:db8::1", 443, "/", "", "[2001:db8::1]"},
      {"http://user:pa%40ss@host.example/f", "http", "host.example", 80, "/f",
       "Basic dXNlcjpwYUBzcw==", "host.example"},
      {"http://user@host/", "http", "host", 80, "/", "Basic dXNlcjo=", "host"},
      {"http://a:b:c@host/", "http", "host", 80, "/", "Basic YTpiOmM=", "host"},
      {"http://my_host-1.example/", "http", "my_host-1.example", 80, "/", "", "my_host-1.example"},
  };
  for (const UrlCase& c : cases) {
    SCOPED_TRACE(c.url);
    auto parsed = ParseHttpUrl(c.url);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->scheme, c.scheme);
    EXPECT_EQ(parsed->host, c.host);
    EXPECT_EQ(parsed->port, c.port);
    EXPECT_EQ(parsed->target, c.target);
    EXPECT_EQ(parsed->authorization, c.authorization);
    EXPECT_EQ(parsed->HostHeader(), c.host_header);
    EXPECT_EQ(parsed->tls(), std::string(c.scheme) == "https");
  }
}

TEST(ParseHttpUrlTest, RedactedNeverHasCredentials) {
  auto parsed = ParseHttpUrl("https://feeduser:s3cr3t-pw@feeds.example:8443/list?key=1");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Redacted(), "https://feeds.example:8443/list?key=1");
}

TEST(ParseHttpUrlTest, InvalidUrls) {
  struct BadCase {
    std::string url;
    const char* message_part;
  };
  const BadCase cases[] = {
      {"", "empty"},
      {"example.com/feed", "no scheme"},
      {"ftp://example.com/feed", "unsupported scheme 'ftp'"},
      {"file:///etc/passwd", "unsupported scheme 'file'"},
      {"http:///path", "empty host"},
      {"http://:8080/", "empty host"},
      {"http://host:0/", "port"},
      {"http://host:65536/", "port"},
      {"http://host:99999999999/", "port"},
      {"http://host:12a/", "port"},
      {"http://ho st/", "space or control character at offset 9"},
      {std::string("http://host/a\r\nX-Injected: 1"), "control character at offset 13"},
      {std::string("http://host/\0", 13), "control character at offset 12"},
      {"http://[::1/", "unterminated IPv6"},
      {"http://[zz::1]/", "not a valid IPv6"},
      {"http://[::1]x/", "after the IPv6"},
      {"http://h\xc3\xa9llo/", "invalid character in host at offset 1"},
      {"http://host%2F/", "invalid character in host at offset 4"},
      {"http://user:pa%4@host/", "malformed percent escape"},
      {"http://user:pa%zz@host/", "malformed percent escape"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.url);
    auto parsed = ParseHttpUrl(c.url);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.message_part));
  }
}

TEST(ParseHttpUrlTest, ErrorsNeverQuoteCredentials) {
  // Each URL is broken somewhere; none of the messages may contain any part of the password.
  const char* urls[] = {
      "http://user:s3cr3t-pw@host:99999/", "http://user:s3cr3t-pw%zz@host/",
      "http://user:s3cr3t/pw@host/",  // unescaped '/': the "host" is "user", the "port" junk
      "gopher://user:s3cr3t-pw@host/",     "http://user:s3cr3t-pw@[::1/",
      "http://user:s3cr3t-pw@bad%host/",
  };
  for (const char* url : urls) {
    SCOPED_TRACE(url);
    auto parsed = ParseHttpUrl(url);
    ASSERT_FALSE(parsed.ok());
    EXPECT_THAT(parsed.status().message(), Not(HasSubstr("s3cr3t")));
    EXPECT_THAT(parsed.status().message(), Not(HasSubstr("user")));
  }
}

TEST(RedactUrlCredentialsTest, Table) {
  const std::pair<const char*, const char*> cases[] = {
      {"http://host/path", "http://host/path"},
      {"http://u:p@host/path", "http://***@host/path"},
      {"https://u:p/q@host:1/x?a=b@c", "https://***@host:1/x?a=b@c"},
      {"u:p@host/x", "***@host/x"},
      {"http://host/x?mail=a@b", "http://host/x?mail=a@b"},
      {"", ""},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(RedactUrlCredentials(in), want) << in;
}

// ---------------------------------------------------------------------------------------
// Gunzip

TEST(GunzipTest, Table) {
  struct Case {
    const char* name;
    std::string input;
    uint64_t max_bytes;
    std::optional<std::string> want;  // nullopt: error
    const char* error_part;
  };
  const std::string two_members = GzipForTest("hello\n") + GzipForTest("world\n");
  const std::string big(100000, 'a');
  const Case cases[] = {
      {"python gzip", kHelloGz, 100, "hello\n", ""},
      {"zlib wrapper", kZlibData, 100, "zlib data", ""},
      {"concatenated members", two_members, 100, "hello\nworld\n", ""},
      {"trailing NUL padding", kHelloGz + std::string(512, '\0'), 100, "hello\n", ""},
      {"empty member output", GzipForTest(""), 100, "", ""},
      {"output exactly max", kHelloGz, 6, "hello\n", ""},
      {"output one over max", kHelloGz, 5, std::nullopt, "exceeds 5 bytes"},
      {"large output over max", GzipForTest(big), 99999, std::nullopt, "exceeds 99999 bytes"},
      {"large output", GzipForTest(big), 100000, big, ""},
      {"empty input", "", 100, std::nullopt, "bad gzip: empty input"},
      {"not gzip", "hello world", 100, std::nullopt, "bad gzip"},
      {"truncated", kHelloGz.substr(0, 15), 100, std::nullopt, "truncated"},
      {"header only", kHelloGz.substr(0, 10), 100, std::nullopt, "truncated"},
      {"bad crc", kHelloGz.substr(0, 18) + Bytes({0, 0, 0, 0, 6, 0, 0, 0}), 100, std::nullopt,
       "bad gzip: incorrect data check in member 1"},
      {"trailing garbage", kHelloGz + "garbage", 100, std::nullopt, "member 2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto out = Gunzip(c.input, c.max_bytes);
    if (c.want.has_value()) {
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ(*out, *c.want);
    } else {
      ASSERT_FALSE(out.ok());
      EXPECT_EQ(out.status().code(), StatusCode::kIoError);
      EXPECT_THAT(out.status().message(), HasSubstr(c.error_part));
    }
  }
}

// ---------------------------------------------------------------------------------------
// HttpFetch over plain HTTP

FetchRequest RequestFor(std::string url) {
  FetchRequest request;
  request.url = std::move(url);
  request.timeout = std::chrono::seconds(30);  // generous: only the timeout test relies on it
  return request;
}

TEST(HttpFetchTest, PlainBodyAndRequestHeaders) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse res;
    if (req.target != "/feed.txt?x=1") {
      res.status = 404;
      return res;
    }
    res.headers = {{"Content-Type", "text/plain"}};
    res.body = "1.2.3.4\nevil.example\n";
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/feed.txt?x=1#frag")));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->kind, FetchResult::Kind::kBody);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "1.2.3.4\nevil.example\n");
  EXPECT_EQ(result->etag, "");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].Header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(requests[0].Header("user-agent"), "iocd/0.1");
  EXPECT_EQ(requests[0].Header("accept-encoding"), "gzip");
  EXPECT_EQ(requests[0].headers.count("if-none-match"), 0u);
  EXPECT_EQ(requests[0].headers.count("if-modified-since"), 0u);
  EXPECT_EQ(requests[0].headers.count("authorization"), 0u);
}

TEST(HttpFetchTest, ChunkedBody) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.body = std::string(50000, 'x');
    res.chunked = true;
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/")));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body, std::string(50000, 'x'));
}

TEST(HttpFetchTest, EtagAndLastModifiedRoundTrip) {
  const std::string etag = "\"v1-abc\"";
  const std::string last_modified = "Tue, 02 Jan 2024 03:04:05 GMT";
  TestHttpServer server([&](const TestRequest& req) {
    TestResponse res;
    if (req.Header("if-none-match") == etag) {
      EXPECT_EQ(req.Header("if-modified-since"), last_modified);
      res.status = 304;
      res.headers = {{"ETag", etag}};
      return res;
    }
    res.headers = {{"ETag", etag}, {"Last-Modified", last_modified}};
    res.body = "feed v1\n";
    return res;
  });
  FetchRequest request = RequestFor(server.Url("/feed"));
  auto first = HttpFetch(request);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->kind, FetchResult::Kind::kBody);
  EXPECT_EQ(first->body, "feed v1\n");
  EXPECT_EQ(first->etag, etag);
  EXPECT_EQ(first->last_modified, last_modified);

  request.etag = first->etag;
  request.last_modified = first->last_modified;
  auto second = HttpFetch(request);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->kind, FetchResult::Kind::kNotModified);
  EXPECT_EQ(second->status, 304);
  EXPECT_EQ(second->body, "");
  EXPECT_EQ(second->etag, etag);
  // The 304 carried no Last-Modified: the request's value is handed back.
  EXPECT_EQ(second->last_modified, last_modified);

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].headers.count("if-none-match"), 0u);
  EXPECT_EQ(requests[1].Header("if-none-match"), etag);
  EXPECT_EQ(requests[1].Header("if-modified-since"), last_modified);
}

TEST(HttpFetchTest, NotModifiedWithLargeContentLengthIsNotTooLarge) {
  // A 304 may announce the size of the full resource; it has no body, so no limit applies.
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.status = 304;
    res.announced_length = 5000;
    return res;
  });
  FetchRequest request = RequestFor(server.Url("/feed"));
  request.etag = "\"v1\"";
  request.max_body_bytes = 1000;
  auto result = HttpFetch(request);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->kind, FetchResult::Kind::kNotModified);
  EXPECT_EQ(result->etag, "\"v1\"");
}

TEST(HttpFetchTest, GzipContentEncoding) {
  const std::string text = "evil.example\n" + std::string(10000, 'z') + "\n";
  TestHttpServer server([&](const TestRequest& req) {
    TestResponse res;
    EXPECT_EQ(req.Header("accept-encoding"), "gzip");
    res.headers = {{"Content-Type", "text/plain"}, {"Content-Encoding", "gzip"}};
    res.body = GzipForTest(text);
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/feed.txt")));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body, text);
}

TEST(HttpFetchTest, GzipFileServedAsApplicationGzip) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.headers = {{"Content-Type", "application/gzip"}};
    res.body = kHelloGz;
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/feed.txt.gz")));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body, "hello\n");
}

TEST(HttpFetchTest, GzipFileInsideGzipContentEncoding) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.headers = {{"Content-Encoding", "gzip"}};
    res.body = GzipForTest(kHelloGz);
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/feed.txt.gz")));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body, "hello\n");
}

TEST(HttpFetchTest, BadGzipIsAnError) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.headers = {{"Content-Encoding", "gzip"}};
    res.body = "this is not gzip";
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/feed")));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIoError);
  EXPECT_THAT(result.status().message(), HasSubstr("bad gzip"));
  EXPECT_THAT(result.status().message(), HasSubstr(server.Url("/feed")));
}

TEST(HttpFetchTest, UnsupportedContentEncodingIsAnError) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.headers = {{"Content-Encoding", "br"}};
    res.body = "xx";
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/feed")));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("unsupported Content-Encoding 'br'"));
}

TEST(HttpFetchTest, FollowsRedirects) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse res;
    if (req.target == "/old") {
      res.status = 302;
      res.headers = {{"Location", "/dir/new?v=2"}};
    } else if (req.target == "/dir/new?v=2") {
      res.status = 301;
      res.headers = {{"Location", "final.txt"}};  // relative to /dir/
    } else if (req.target == "/dir/final.txt") {
      res.body = "moved content\n";
    } else {
      res.status = 404;
    }
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/old")));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body, "moved content\n");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/old");
  EXPECT_EQ(requests[1].target, "/dir/new?v=2");
  EXPECT_EQ(requests[2].target, "/dir/final.txt");
}

TEST(HttpFetchTest, RedirectLoopIsAnError) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.status = 302;
    res.headers = {{"Location", "/loop"}};
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/loop")));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIoError);
  EXPECT_THAT(result.status().message(), HasSubstr("too many redirects (more than 5)"));
  // The first request plus 5 followed redirects.
  EXPECT_EQ(server.requests().size(), 6u);
}

TEST(HttpFetchTest, RedirectWithoutLocationIsAnError) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.status = 302;
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/x")));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("302 without a Location"));
}

TEST(HttpFetchTest, RedirectToOtherSchemeIsAnError) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.status = 302;
    res.headers = {{"Location", "ftp://files.example/feed"}};
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/x")));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("redirect: bad Location"));
  EXPECT_THAT(result.status().message(), HasSubstr("unsupported scheme 'ftp'"));
}

TEST(HttpFetchTest, NotFoundIsAnErrorNamingTheStatus) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.status = 404;
    res.body = "no such feed";
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/missing.txt")));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIoError);
  EXPECT_EQ(result.status().message(),
            "fetch " + server.Url("/missing.txt") + ": HTTP status 404 Not Found");
}

TEST(HttpFetchTest, ServerErrorIsUnavailable) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.status = 503;
    return res;
  });
  auto result = HttpFetch(RequestFor(server.Url("/")));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("HTTP status 503 Service Unavailable"));
}

TEST(HttpFetchTest, BodyOverMaxIsAnError) {
  struct Case {
    const char* name;
    TestResponse response;
  };
  TestResponse by_length;
  by_length.body = std::string(1001, 'a');
  TestResponse chunked;
  chunked.body = std::string(1001, 'a');
  chunked.chunked = true;
  TestResponse announced;  // Content-Length says 1 GiB; only a few bytes follow
  announced.body = "abc";
  announced.announced_length = 1ull << 30;
  const Case cases[] = {
      {"content-length", by_length}, {"chunked", chunked}, {"announced only", announced}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestHttpServer server([&](const TestRequest&) { return c.response; });
    FetchRequest request = RequestFor(server.Url("/big"));
    request.max_body_bytes = 1000;
    auto result = HttpFetch(request);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kIoError);
    EXPECT_THAT(result.status().message(), HasSubstr("body too large: more than 1000 bytes"));
  }
}

TEST(HttpFetchTest, BodyExactlyMaxIsAccepted) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse res;
    res.body = std::string(1000, 'a');
    return res;
  });
  FetchRequest request = RequestFor(server.Url("/"));
  request.max_body_bytes = 1000;
  auto result = HttpFetch(request);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body.size(), 1000u);
}

TEST(HttpFetchTest, GzipBombIsAnError) {
  // 10 MiB of zeros compresses to about 10 KiB: far under the limit on the wire, far over it
  // once inflated.
  const std::string bomb = GzipForTest(std::string(10 << 20, '\0'));
  ASSERT_LT(bomb.size(), 64u * 1024);
  for (bool content_encoding : {true, false}) {
    SCOPED_TRACE(content_encoding ? "Content-Encoding: gzip" : "application/gzip");
    TestHttpServer server([&](const TestRequest&) {
      TestResponse res;
      if (content_encoding) res.headers = {{"Content-Encoding", "gzip"}};
      res.body = bomb;
      return res;
    });
    FetchRequest request = RequestFor(server.Url("/bomb.gz"));
    request.max_body_bytes = 1 << 20;
    auto result = HttpFetch(request);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kIoError);
    EXPECT_THAT(result.status().message(), HasSubstr("body too large after gunzip"));
    EXPECT_THAT(result.status().message(), HasSubstr("exceeds 1048576 bytes"));
  }
}

// A port that was bound and released: nothing listens there, so connect is refused.
uint16_t ClosedPort() {
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

TEST(HttpFetchTest, ConnectionRefusedIsUnavailable) {
  const uint16_t port = ClosedPort();
  auto result = HttpFetch(RequestFor("http://127.0.0.1:" + std::to_string(port) + "/feed"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(),
              HasSubstr("connect to 127.0.0.1:" + std::to_string(port) + " failed"));
}

TEST(HttpFetchTest, SilentServerHitsTheDeadline) {
  // The listening socket completes the TCP handshake from its backlog (the kernel accepts on
  // our behalf) but nobody ever answers; the fetch must end at its 1 s deadline.
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string port = std::to_string(acceptor.local_endpoint().port());
  FetchRequest request = RequestFor("http://feeduser:s3cr3t-pw@127.0.0.1:" + port + "/slow");
  request.timeout = std::chrono::seconds(1);
  auto result = HttpFetch(request);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(result.status().message(),
            "fetch http://127.0.0.1:" + port +
                "/slow: timeout after 1s (whole-request deadline) while reading the response");
}

TEST(HttpFetchTest, InvalidRequests) {
  FetchRequest bad_url = RequestFor("ftp://example.com/");
  EXPECT_EQ(HttpFetch(bad_url).status().code(), StatusCode::kInvalidArgument);
  FetchRequest bad_etag = RequestFor("http://127.0.0.1:1/");
  bad_etag.etag = "\"x\"\r\nX-Injected: 1";
  auto result = HttpFetch(bad_etag);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("CR, LF or NUL"));
  FetchRequest zero_timeout = RequestFor("http://127.0.0.1:1/");
  zero_timeout.timeout = std::chrono::seconds(0);
  EXPECT_EQ(HttpFetch(zero_timeout).status().code(), StatusCode::kInvalidArgument);
}

constexpr char kUser[] = "feeduser";
constexpr char kPassword[] = "s3cr3t-pw";
constexpr char kBasic[] = "Basic ZmVlZHVzZXI6czNjcjN0LXB3";  // base64("feeduser:s3cr3t-pw")

std::string WithCredentials(const std::string& url) {
  const size_t p = url.find("://") + 3;
  return url.substr(0, p) + kUser + ":" + kPassword + "@" + url.substr(p);
}

void ExpectNoSecret(const Status& status) {
  EXPECT_THAT(status.message(), Not(HasSubstr(kPassword)));
  EXPECT_THAT(status.message(), Not(HasSubstr("ZmVlZHVzZXI6")));
}

TEST(HttpFetchTest, UrlCredentialsBecomeBasicAuth) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse res;
    if (req.Header("authorization") != kBasic) {
      res.status = 401;
      return res;
    }
    res.body = "private feed\n";
    return res;
  });
  auto result = HttpFetch(RequestFor(WithCredentials(server.Url("/private"))));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body, "private feed\n");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].Header("authorization"), kBasic);
}

TEST(HttpFetchTest, CredentialsFollowRedirectsOnlyToTheSameHost) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse res;
    if (req.target == "/a") {
      res.status = 302;
      res.headers = {{"Location", "/b"}};
    } else if (req.target == "/b") {
      // Same port, different host name: a different origin for credential purposes.
      res.status = 307;
      res.headers = {{"Location", "http://localhost:" + req.Header("host").substr(10) + "/c"}};
    } else {
      res.body = "c";
    }
    return res;
  });
  auto result = HttpFetch(RequestFor(WithCredentials(server.Url("/a"))));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].Header("authorization"), kBasic);
  EXPECT_EQ(requests[1].Header("authorization"), kBasic);
  EXPECT_EQ(requests[2].Header("host"), "localhost:" + std::to_string(server.port()));
  EXPECT_EQ(requests[2].headers.count("authorization"), 0u);
}

TEST(HttpFetchTest, ErrorMessagesNeverContainCredentials) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse res;
    if (req.target == "/loop") {
      res.status = 302;
      res.headers = {{"Location", std::string("http://") + kUser + ":" + kPassword + "@" +
                                      req.Header("host") + "/loop"}};
    } else if (req.target == "/bad-location") {
      res.status = 302;
      res.headers = {{"Location", std::string("http://") + kUser + ":" + kPassword + "@h:x/"}};
    } else if (req.target == "/gzip") {
      res.headers = {{"Content-Encoding", "gzip"}};
      res.body = "not gzip";
    } else {
      res.status = 404;
    }
    return res;
  });
  const std::vector<std::string> urls = {
      WithCredentials(server.Url("/missing")),
      WithCredentials(server.Url("/loop")),
      WithCredentials(server.Url("/bad-location")),
      WithCredentials(server.Url("/gzip")),
      WithCredentials("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/refused"),
      std::string("http://") + kUser + ":" + kPassword + "@host:99999/",
  };
  for (const std::string& url : urls) {
    SCOPED_TRACE(url);
    auto result = HttpFetch(RequestFor(url));
    ASSERT_FALSE(result.ok());
    ExpectNoSecret(result.status());
    EXPECT_THAT(result.status().message(), Not(HasSubstr(kUser)));
  }
}

// ---------------------------------------------------------------------------------------
// HTTPS

class HttpsFetchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new testing::TestPki(testing::MakeTestPki());
    ca_path_ = new std::string(::testing::TempDir() + "iocd_fetch_test_ca_" +
                               std::to_string(getpid()) + ".pem");
    std::ofstream(*ca_path_) << pki_->ca_cert_pem;
  }
  static void TearDownTestSuite() {
    std::remove(ca_path_->c_str());
    delete ca_path_;
    delete pki_;
  }

  HttpsFetchTest() : server_tls_(asio::ssl::context::tls_server) {
    server_tls_.use_certificate_chain(asio::buffer(pki_->server_cert_pem));
    server_tls_.use_private_key(asio::buffer(pki_->server_key_pem), asio::ssl::context::pem);
  }

  static TestResponse Feed(const TestRequest& req) {
    TestResponse res;
    if (req.target == "/secure.txt") {
      res.headers = {{"ETag", "\"tls1\""}};
      res.body = "secure feed\n";
    } else {
      res.status = 404;
    }
    return res;
  }

  static testing::TestPki* pki_;
  static std::string* ca_path_;
  asio::ssl::context server_tls_;
};

testing::TestPki* HttpsFetchTest::pki_ = nullptr;
std::string* HttpsFetchTest::ca_path_ = nullptr;

TEST_F(HttpsFetchTest, TrustedViaCaFile) {
  TestHttpServer server(&HttpsFetchTest::Feed, &server_tls_);
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    FetchRequest request = RequestFor(server.Url("/secure.txt", host));
    request.ca_file = *ca_path_;
    auto result = HttpFetch(request);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->body, "secure feed\n");
    EXPECT_EQ(result->etag, "\"tls1\"");
  }
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("host"), "localhost:" + std::to_string(server.port()));
}

TEST_F(HttpsFetchTest, UntrustedWithoutCaFile) {
  TestHttpServer server(&HttpsFetchTest::Feed, &server_tls_);
  auto result = HttpFetch(RequestFor(WithCredentials(server.Url("/secure.txt", "localhost"))));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIoError);
  EXPECT_THAT(result.status().message(), HasSubstr("TLS certificate verification failed"));
  ExpectNoSecret(result.status());
  EXPECT_TRUE(server.requests().empty());  // nothing was sent over the untrusted channel
}

TEST_F(HttpsFetchTest, VerifyTlsFalseAcceptsUntrusted) {
  TestHttpServer server(&HttpsFetchTest::Feed, &server_tls_);
  FetchRequest request = RequestFor(server.Url("/secure.txt", "localhost"));
  request.verify_tls = false;
  auto result = HttpFetch(request);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body, "secure feed\n");
}

TEST_F(HttpsFetchTest, HostNameMismatchIsAnError) {
  // A chain the client trusts, for a name that is not the one it asked for.
  const testing::TestPki other = testing::MakeTestPki("DNS:feeds.example");
  const std::string other_ca =
      ::testing::TempDir() + "iocd_fetch_test_other_ca_" + std::to_string(getpid()) + ".pem";
  std::ofstream(other_ca) << other.ca_cert_pem;
  asio::ssl::context tls(asio::ssl::context::tls_server);
  tls.use_certificate_chain(asio::buffer(other.server_cert_pem));
  tls.use_private_key(asio::buffer(other.server_key_pem), asio::ssl::context::pem);
  TestHttpServer server(&HttpsFetchTest::Feed, &tls);
  FetchRequest request = RequestFor(server.Url("/secure.txt", "localhost"));
  request.ca_file = other_ca;
  auto result = HttpFetch(request);
  std::remove(other_ca.c_str());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIoError);
  EXPECT_THAT(result.status().message(),
              HasSubstr("TLS certificate verification failed: certificate does not match host "
                        "'localhost'"));
}

TEST_F(HttpsFetchTest, MissingCaFileIsAnError) {
  FetchRequest request = RequestFor("https://localhost:1/x");
  request.ca_file = ::testing::TempDir() + "iocd_no_such_ca.pem";
  auto result = HttpFetch(request);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("cannot load ca_file"));
}

TEST_F(HttpsFetchTest, HttpToHttpsRedirectIsFollowed) {
  TestHttpServer https_server(&HttpsFetchTest::Feed, &server_tls_);
  TestHttpServer http_server([&](const TestRequest&) {
    TestResponse res;
    res.status = 301;
    res.headers = {{"Location", https_server.Url("/secure.txt", "localhost")}};
    return res;
  });
  FetchRequest request = RequestFor(http_server.Url("/feed"));
  request.ca_file = *ca_path_;
  auto result = HttpFetch(request);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->body, "secure feed\n");
}

TEST_F(HttpsFetchTest, HttpsToHttpRedirectIsRefused) {
  TestHttpServer http_server([](const TestRequest&) {
    TestResponse res;
    res.body = "downgraded\n";
    return res;
  });
  TestHttpServer https_server(
      [&](const TestRequest&) {
        TestResponse res;
        res.status = 302;
        res.headers = {{"Location", http_server.Url("/feed")}};
        return res;
      },
      &server_tls_);
  FetchRequest request = RequestFor(https_server.Url("/feed", "localhost"));
  request.ca_file = *ca_path_;
  auto result = HttpFetch(request);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIoError);
  EXPECT_THAT(result.status().message(), HasSubstr("redirect from https to http refused"));
  EXPECT_TRUE(http_server.requests().empty());
}

}  // namespace
}  // namespace iocd
