// Tests of http.h: URL policy, Retry-After, backoff, and the libcurl client
// against the NCB double on loopback.
#include "ncbocr/http.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "ncb_double.h"

namespace ncbocr {
namespace {

using std::chrono::milliseconds;

const char* kValidBody = R"({"Event date": "2024-12-15", "Submission Date": "2024-12-18T10:42:00+08:00",
  "Claim Amount": 150.00, "Invoice Number": "RCP-1", "Policy Number": "POL-1"})";

TEST_CASE("http: only https, or plain http to loopback, is allowed") {
  CHECK(IsLoopbackUrl("http://localhost:8080/x"));
  CHECK(IsLoopbackUrl("http://127.0.0.1/"));
  CHECK(IsLoopbackUrl("http://127.200.3.4:9/"));
  CHECK(IsLoopbackUrl("http://[::1]:8080/api"));
  CHECK(IsLoopbackUrl("HTTP://LOCALHOST/"));
  CHECK_FALSE(IsLoopbackUrl("http://127.evil.example/"));   // a name, not an address
  CHECK_FALSE(IsLoopbackUrl("http://127.0.0.1@evil.example/"));  // user info, then the real host
  CHECK_FALSE(IsLoopbackUrl("http://10.0.0.1/"));
  CHECK_FALSE(IsLoopbackUrl("http://[::2]/"));
  CHECK_FALSE(IsLoopbackUrl("ftp://127.0.0.1/"));
  // Judged by curl's own parser: what curl would connect to is what counts.
  CHECK_FALSE(IsLoopbackUrl("http://127.0.0.1:80@evil.example/"));
  CHECK(IsLoopbackUrl("http://localhost#@evil.example/"));  // a fragment: curl goes to localhost

  CHECK(CheckUrlAllowed("https://ncb.internal.example/api/v1").ok());
  CHECK(CheckUrlAllowed("http://127.0.0.1:5000/api/v1").ok());
  Status plain = CheckUrlAllowed("http://ncb.internal.example/api/v1");
  CHECK(plain.kind() == ErrorKind::kConfig);
  CHECK(plain.message().find("https://") != std::string::npos);
  CHECK(CheckUrlAllowed("ftp://ncb.internal.example/").kind() == ErrorKind::kConfig);
  CHECK(CheckUrlAllowed("not a url").kind() == ErrorKind::kConfig);
}

TEST_CASE("http: the client refuses plain http to a remote host before any network use") {
  auto client = MakeCurlClient(HttpOptions{}, NullLogger());
  HttpRequest req;
  req.url = "http://ncb.example.invalid/api/v1/health";
  auto r = client->Send(req);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == ErrorKind::kConfig);
  auto retried = SendWithRetry(*client, req, HttpOptions{}, NullLogger());
  CHECK(retried.status().kind() == ErrorKind::kConfig);
}

TEST_CASE("http: URLs in logs lose user info, query values and fragments") {
  CHECK(RedactUrl("https://user:pw@h.example:8443/a/b?key=SECRET&alt=json#frag") ==
        "https://h.example:8443/a/b?key=***&alt=***");
  CHECK(RedactUrl("https://h.example/a") == "https://h.example/a");
  CHECK(RedactUrl("https://h.example/a?flag") == "https://h.example/a?flag");
  CHECK(RedactUrl("garbage") == "(not a URL)");
}

TEST_CASE("http: Retry-After in seconds or as an HTTP-date") {
  // Sun, 06 Nov 1994 08:49:37 GMT
  auto now = std::chrono::system_clock::from_time_t(784111777);
  CHECK(ParseRetryAfter("120", now) == 120);
  CHECK(ParseRetryAfter(" 7 ", now) == 7);
  CHECK(ParseRetryAfter("0", now) == 0);
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:51:37 GMT", now) == 120);
  CHECK(ParseRetryAfter("Sunday, 06-Nov-94 08:51:37 GMT", now) == 120);
  CHECK(ParseRetryAfter("Sun Nov  6 08:51:37 1994", now) == 120);
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now) == 0);  // already past
  CHECK_FALSE(ParseRetryAfter("soon", now).has_value());
  CHECK_FALSE(ParseRetryAfter("-5", now).has_value());
  CHECK_FALSE(ParseRetryAfter("", now).has_value());

  HttpResponse r;
  CHECK(r.RetryAfter() == 0);
  r.headers["retry-after"] = "30";
  CHECK(r.RetryAfter() == 30);
}

TEST_CASE("http: backoff doubles, is capped, jittered, and honours Retry-After") {
  HttpOptions o;
  o.backoff_base = milliseconds(100);
  o.backoff_cap = milliseconds(1000);
  std::set<long long> seen;
  for (int i = 0; i < 50; ++i) {
    auto d1 = RetryDelay(1, o, 0);
    CHECK(d1 >= milliseconds(50));
    CHECK(d1 <= milliseconds(100));
    auto d3 = RetryDelay(3, o, 0);
    CHECK(d3 >= milliseconds(200));
    CHECK(d3 <= milliseconds(400));
    auto d20 = RetryDelay(20, o, 0);
    CHECK(d20 >= milliseconds(500));
    CHECK(d20 <= milliseconds(1000));
    seen.insert(d3.count());
  }
  CHECK(seen.size() > 1);  // jitter: not one fixed value
  CHECK(RetryDelay(1, o, 2) >= milliseconds(2000));
  CHECK(IsRetryableStatus(0));
  CHECK(IsRetryableStatus(429));
  CHECK(IsRetryableStatus(503));
  CHECK_FALSE(IsRetryableStatus(400));
  CHECK_FALSE(IsRetryableStatus(401));
  CHECK_FALSE(IsRetryableStatus(201));
}

TEST_CASE("http: SendWithRetry against the double: 503s, 429 with Retry-After, fresh request ids") {
  auto& ncb = testing::SharedNcbDouble();
  REQUIRE(ncb.ok());
  std::vector<milliseconds> slept;
  HttpOptions o;
  o.backoff_base = milliseconds(10);
  o.backoff_cap = milliseconds(5000);
  o.max_attempts = 5;
  o.sleep = [&](milliseconds d) { slept.push_back(d); };
  auto client = MakeCurlClient(o, NullLogger());
  HttpRequest req;
  req.url = ncb.base_url() + "/health";
  req.headers = {{"Authorization", "Bearer secret-key"}, {"X-Request-ID", "caller-set, must be replaced"}};

  SUBCASE("two 503s, then ok") {
    ncb.Control({{"fail_next", 2}, {"status", 503}});
    auto r = SendWithRetry(*client, req, o, NullLogger());
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->headers.at("content-type") == "application/json");
    CHECK(slept.size() == 2);
    auto requests = ncb.Dump()["requests"];
    REQUIRE(requests.size() == 3);
    std::set<std::string> ids;
    for (const auto& q : requests) ids.insert(q["request_id"].get<std::string>());
    CHECK(ids.size() == 3);
    CHECK(ids.count("caller-set, must be replaced") == 0);
    CHECK(ids.count(r->request_id) == 1);
  }
  SUBCASE("429 with Retry-After waits at least that long") {
    ncb.Control({{"rate_limit_next", 1}, {"retry_after", 2}});
    auto r = SendWithRetry(*client, req, o, NullLogger());
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    REQUIRE(slept.size() == 1);
    CHECK(slept[0] >= milliseconds(2000));
  }
  SUBCASE("a Retry-After beyond the cap is returned, not slept through") {
    ncb.Control({{"rate_limit_next", 1}, {"retry_after", 3600}});
    auto r = SendWithRetry(*client, req, o, NullLogger());
    REQUIRE(r.ok());
    CHECK(r->status == 429);
    CHECK(r->RetryAfter() == 3600);
    CHECK(slept.empty());
  }
  SUBCASE("attempts run out: the last failure is returned") {
    ncb.Control({{"fail_next", 10}, {"status", 502}});
    auto r = SendWithRetry(*client, req, o, NullLogger());
    REQUIRE(r.ok());
    CHECK(r->status == 502);
    CHECK(slept.size() == 4);
    CHECK(ncb.Dump()["requests"].size() == 5);
  }
  SUBCASE("4xx is not retried") {
    req.headers = {{"Authorization", "Bearer wrong"}};
    auto r = SendWithRetry(*client, req, o, NullLogger());
    REQUIRE(r.ok());
    CHECK(r->status == 401);
    CHECK(slept.empty());
  }
}

TEST_CASE("http: a dropped connection and a refused connection are told apart") {
  auto& ncb = testing::SharedNcbDouble();
  REQUIRE(ncb.ok());
  auto client = MakeCurlClient(HttpOptions{}, NullLogger());
  HttpRequest req;
  req.method = "POST";
  req.url = ncb.base_url() + "/claims/submit";
  req.headers = {{"Authorization", "Bearer secret-key"}, {"Content-Type", "application/json"},
                 {"Idempotency-Key", "k1"}};
  req.body = kValidBody;
  ncb.Control({{"lose_response_next", 1}});
  auto lost = client->Send(req);
  REQUIRE(lost.ok());
  CHECK(lost->status == 0);
  CHECK(lost->transport == TransportError::kReset);
  CHECK_FALSE(lost->error.empty());
  CHECK(ncb.Dump()["claims"].size() == 1);  // committed although unanswered

  // A bound socket that does not listen refuses connections for as long as it is held.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  req.url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x";
  auto refused = client->Send(req);
  ::close(fd);
  REQUIRE(refused.ok());
  CHECK(refused->status == 0);
  CHECK(refused->transport == TransportError::kConnect);
}

TEST_CASE("http: TLS is verified; a private CA is trusted only through ca_file") {
  auto& tls = testing::SharedTlsNcbDouble();
  REQUIRE(tls.ok());
  auto& ncb = tls.ncb;
  HttpRequest req;
  req.url = ncb.base_url() + "/health";
  req.headers = {{"Authorization", "Bearer secret-key"}};

  auto untrusted = MakeCurlClient(HttpOptions{}, NullLogger())->Send(req);
  REQUIRE(untrusted.ok());
  CHECK(untrusted->status == 0);
  CHECK(untrusted->transport == TransportError::kTls);

  HttpOptions wrong;
  wrong.ca_file = tls.other_ca_file;
  auto wrong_ca = MakeCurlClient(wrong, NullLogger())->Send(req);
  REQUIRE(wrong_ca.ok());
  CHECK(wrong_ca->transport == TransportError::kTls);

  HttpOptions right;
  right.ca_file = tls.ca_file;
  auto trusted = MakeCurlClient(right, NullLogger())->Send(req);
  REQUIRE(trusted.ok());
  CHECK(trusted->status == 200);

  HttpOptions missing;
  missing.ca_file = tls.ca_file + ".missing";
  auto no_file = MakeCurlClient(missing, NullLogger())->Send(req);
  CHECK(no_file.status().kind() == ErrorKind::kConfig);
}

}  // namespace
}  // namespace ncbocr
