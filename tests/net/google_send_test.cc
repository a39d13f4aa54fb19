// GoogleSend's token rounds: a renewed token refused at once is final, one
// refused only after 5xx retries (and their backoff) is renewed again, a
// bounded number of times. The crash harness found the second case: tokens
// expired while a request waited out a 500 made fetch exit 77 ("credentials
// refused") although the credentials were fine.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "ncbocr/google_auth.h"

namespace ncbocr {
namespace {

class ScriptedHttp : public HttpClient {
 public:
  std::vector<std::string> auth;  // Authorization header of every request
  std::function<int(const std::string& auth, int n)> status;  // n: 0-based request number
  Result<HttpResponse> Send(const HttpRequest& req) override {
    std::string a;
    for (const auto& [k, v] : req.headers) if (k == "Authorization") a = v;
    auth.push_back(a);
    HttpResponse r;
    r.status = status(a, static_cast<int>(auth.size()) - 1);
    r.body = "{}";
    return r;
  }
};

// Hands out tok1, tok2, ...: a new one after each Invalidate.
class NumberedTokens : public TokenSource {
 public:
  int issued = 0;
  Result<std::string> Token() override {
    if (!valid_) {
      ++issued;
      valid_ = true;
    }
    return "tok" + std::to_string(issued);
  }
  void Invalidate() override { valid_ = false; }

 private:
  bool valid_ = false;
};

HttpOptions Quick() {
  HttpOptions o;
  o.max_attempts = 3;
  o.backoff_base = std::chrono::milliseconds(1);
  o.backoff_cap = std::chrono::milliseconds(2);
  o.sleep = [](std::chrono::milliseconds) {};
  return o;
}

Result<HttpResponse> Send(ScriptedHttp& http, NumberedTokens& tokens) {
  HttpRequest req;
  req.url = "http://127.0.0.1:9/gmail/v1/users/me/messages";
  return GoogleSend(http, tokens, req, Quick(), NullLogger());
}

}  // namespace

TEST_CASE("google send: a renewed token refused on first use is final") {
  ScriptedHttp http;
  http.status = [](const std::string&, int) { return 401; };
  NumberedTokens tokens;
  auto r = Send(http, tokens);
  REQUIRE(r.ok());
  CHECK(r->status == 401);
  CHECK(http.auth == std::vector<std::string>{"Bearer tok1", "Bearer tok2"});
}

TEST_CASE("google send: a token revoked while a 5xx was retried is renewed again") {
  ScriptedHttp http;
  // tok1 expired; tok2 meets a 500, and is revoked before the retry; tok3 works.
  http.status = [](const std::string& auth, int n) {
    if (auth == "Bearer tok2") return n == 1 ? 500 : 401;
    return auth == "Bearer tok3" ? 200 : 401;
  };
  NumberedTokens tokens;
  auto r = Send(http, tokens);
  REQUIRE(r.ok());
  CHECK(r->status == 200);
  CHECK(http.auth == std::vector<std::string>{"Bearer tok1", "Bearer tok2", "Bearer tok2", "Bearer tok3"});
}

TEST_CASE("google send: token renewals per request are bounded") {
  ScriptedHttp http;
  // Every token meets a 503 first and a 401 after: never loops for ever.
  http.status = [](const std::string&, int n) { return n % 2 == 0 ? 503 : 401; };
  NumberedTokens tokens;
  auto r = Send(http, tokens);
  REQUIRE(r.ok());
  CHECK(r->status == 401);
  CHECK(tokens.issued == kGoogleMaxTokenRounds);
}

}  // namespace ncbocr
