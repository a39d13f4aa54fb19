// Google auth: token file format, refresh and write-back, service account JWT.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>

#include <deque>
#include <functional>

#include "ncbocr/config.h"
#include "ncbocr/google_auth.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using json = nlohmann::json;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("ncbocr-gauth-" + RandomHex(6));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

class FixedClock : public Clock {
 public:
  TimePoint now = std::chrono::system_clock::from_time_t(1734489720);  // 2024-12-18T02:42:00Z
  TimePoint Now() const override { return now; }
};

// Answers from a script and remembers every request.
class FakeHttp : public HttpClient {
 public:
  std::vector<HttpRequest> requests;
  std::function<HttpResponse(const HttpRequest&)> answer;
  Result<HttpResponse> Send(const HttpRequest& req) override {
    requests.push_back(req);
    return answer(req);
  }
};

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

std::map<std::string, std::string> Form(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t amp = body.find('&', pos);
    std::string kv = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = kv.find('=');
    std::string v = kv.substr(eq + 1), dec;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '%') {
        dec.push_back(static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else {
        dec.push_back(v[i]);
      }
    }
    out[kv.substr(0, eq)] = dec;
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

std::string Header(const HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) if (k == name) return v;
  return "";
}

unsigned Mode(const fs::path& p) {
  struct stat st{};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

const char kTokenFile[] = R"({
  "token": "ya29.old",
  "refresh_token": "1//refresh",
  "token_uri": "http://127.0.0.1:9/token",
  "client_id": "cid.apps.googleusercontent.com",
  "client_secret": "csecret",
  "scopes": ["https://www.googleapis.com/auth/gmail.modify"],
  "universe_domain": "googleapis.com",
  "account": "",
  "expiry": "2024-12-18T02:00:00.123456Z"
})";

HttpOptions Fast() {
  HttpOptions o;
  o.max_attempts = 1;
  o.backoff_base = std::chrono::milliseconds(1);
  return o;
}

// A fresh 2048-bit RSA key as (private PEM, public EVP_PKEY).
std::pair<std::string, EVP_PKEY*> NewRsaKey() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  REQUIRE(key != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return {pem, key};
}

bool VerifyRs256(EVP_PKEY* key, const std::string& input, const std::string& sig) {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

}  // namespace

TEST_CASE("google auth: token file in Google's format parses and round-trips") {
  auto u = ParseAuthorizedUser(kTokenFile);
  REQUIRE(u.ok());
  CHECK(u->token == "ya29.old");
  CHECK(u->refresh_token == "1//refresh");
  CHECK(u->token_uri == "http://127.0.0.1:9/token");
  CHECK(u->scopes == std::vector<std::string>{kGmailScope});
  REQUIRE(u->expiry);
  CHECK(IsoUtc(*u->expiry) == "2024-12-18T02:00:00Z");
  json back = json::parse(AuthorizedUserJson(*u));
  CHECK(back["universe_domain"] == "googleapis.com");  // fields we do not use survive
  CHECK(back["refresh_token"] == "1//refresh");
  CHECK(back["expiry"] == "2024-12-18T02:00:00Z");

  auto no_refresh = ParseAuthorizedUser(R"({"token": "x"})");
  CHECK(no_refresh.status().kind() == ErrorKind::kConfig);
  CHECK(ParseAuthorizedUser("not json").status().kind() == ErrorKind::kConfig);
  CHECK(ParseAuthorizedUser(R"({"refresh_token": "r", "expiry": "soon"})").status().kind() ==
        ErrorKind::kConfig);
}

TEST_CASE("google auth: OAuth client file needs the installed section") {
  auto c = ParseOAuthClient(R"({"installed": {"client_id": "a", "client_secret": "b",
      "auth_uri": "http://127.0.0.1:1/o/oauth2/auth", "token_uri": "http://127.0.0.1:1/token"}})");
  REQUIRE(c.ok());
  CHECK(c->client_id == "a");
  CHECK(c->token_uri == "http://127.0.0.1:1/token");
  CHECK(ParseOAuthClient(R"({"client_id": "a"})").status().kind() == ErrorKind::kConfig);
}

TEST_CASE("google auth: base64url round trip without padding") {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob",
                                                        std::string("\xff\xfe\x00\x01", 4)}) {
    std::string enc = Base64UrlEncode(s);
    CHECK(enc.find('=') == std::string::npos);
    CHECK(enc.find('+') == std::string::npos);
    CHECK(enc.find('/') == std::string::npos);
    auto dec = Base64UrlDecode(enc);
    REQUIRE(dec.ok());
    CHECK(*dec == s);
  }
  CHECK(*Base64UrlDecode("_-8=") == std::string("\xff\xef", 2));
  CHECK(!Base64UrlDecode("a*b").ok());
  CHECK(!Base64UrlDecode("abcde").ok());  // a lone sixth of a byte
  CHECK(*Base64UrlDecode("Zm9v\r\nYg") == "foob");
}

TEST_CASE("google auth: form fields escape all but unreserved characters") {
  CHECK(UrlEncode("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(UrlEncode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9");
  CHECK(FormEncode({{"grant_type", "refresh_token"}, {"x", "1+1"}}) == "grant_type=refresh_token&x=1%2B1");
}

TEST_CASE("google auth: service account JWT is RS256 and verifies with the public key") {
  auto [pem, key] = NewRsaKey();
  ServiceAccountKey sa;
  sa.client_email = "ncbocr@proj.iam.gserviceaccount.com";
  sa.private_key = pem;
  sa.private_key_id = "kid123";
  sa.token_uri = "http://127.0.0.1:9/token";
  FixedClock clock;
  auto jwt = MakeJwtAssertion(sa, {kDriveScope, kSheetsScope}, "clerk@example.com", clock.now);
  REQUIRE(jwt.ok());
  size_t d1 = jwt->find('.'), d2 = jwt->rfind('.');
  REQUIRE(d1 != d2);
  json header = json::parse(*Base64UrlDecode(jwt->substr(0, d1)));
  json claims = json::parse(*Base64UrlDecode(jwt->substr(d1 + 1, d2 - d1 - 1)));
  CHECK(header["alg"] == "RS256");
  CHECK(header["typ"] == "JWT");
  CHECK(header["kid"] == "kid123");
  CHECK(claims["iss"] == sa.client_email);
  CHECK(claims["aud"] == sa.token_uri);
  CHECK(claims["scope"] == std::string(kDriveScope) + " " + kSheetsScope);
  CHECK(claims["sub"] == "clerk@example.com");
  CHECK(claims["iat"] == 1734489720);
  CHECK(claims["exp"] == 1734489720 + 3600);
  std::string sig = *Base64UrlDecode(jwt->substr(d2 + 1));
  CHECK(VerifyRs256(key, jwt->substr(0, d2), sig));
  CHECK_FALSE(VerifyRs256(key, jwt->substr(0, d2) + "x", sig));  // the check can fail

  auto no_sub = MakeJwtAssertion(sa, {kDriveScope}, "", clock.now);
  REQUIRE(no_sub.ok());
  size_t e1 = no_sub->find('.'), e2 = no_sub->rfind('.');
  CHECK_FALSE(json::parse(*Base64UrlDecode(no_sub->substr(e1 + 1, e2 - e1 - 1))).contains("sub"));

  sa.private_key = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n";
  CHECK(MakeJwtAssertion(sa, {kDriveScope}, "", clock.now).status().kind() == ErrorKind::kCredentials);
  EVP_PKEY_free(key);
}

TEST_CASE("google auth: service account token is fetched once and cached") {
  auto [pem, key] = NewRsaKey();
  EVP_PKEY_free(key);
  TempDir dir;
  fs::path key_path = dir.path / "sa.json";
  json sa = {{"type", "service_account"}, {"client_email", "sa@x.iam.gserviceaccount.com"},
             {"private_key", pem}, {"token_uri", "http://127.0.0.1:9/token"}};
  REQUIRE(AtomicWriteFile(key_path, sa.dump(), 0600).ok());
  FakeHttp http;
  http.answer = [](const HttpRequest&) { return Json(200, {{"access_token", "ya29.sa"}, {"expires_in", 3600}}); };
  FixedClock clock;
  auto src = OpenServiceAccountTokenSource(key_path, {kDriveScope}, "", http, Fast(), clock, NullLogger());
  REQUIRE(src.ok());
  CHECK(*(*src)->Token() == "ya29.sa");
  CHECK(*(*src)->Token() == "ya29.sa");
  REQUIRE(http.requests.size() == 1);
  auto form = Form(http.requests[0].body);
  CHECK(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer");
  CHECK(std::count(form["assertion"].begin(), form["assertion"].end(), '.') == 2);
  clock.now += std::chrono::minutes(56);  // inside the 5-minute margin: fetch anew
  CHECK((*src)->Token().ok());
  CHECK(http.requests.size() == 2);
  (*src)->Invalidate();
  CHECK((*src)->Token().ok());
  CHECK(http.requests.size() == 3);

  fs::permissions(key_path, fs::perms(0644));
  CHECK(OpenServiceAccountTokenSource(key_path, {kDriveScope}, "", http, Fast(), clock, NullLogger())
            .status().kind() == ErrorKind::kCredentials);
}

TEST_CASE("google auth: an expired user token is refreshed and written back 0600") {
  TempDir dir;
  fs::path token_path = dir.path / "token.json";
  REQUIRE(AtomicWriteFile(token_path, kTokenFile, 0600).ok());
  FakeHttp http;
  http.answer = [](const HttpRequest&) {
    return Json(200, {{"access_token", "ya29.new"}, {"expires_in", 3599}, {"token_type", "Bearer"}});
  };
  FixedClock clock;  // 02:42, the file's token expired at 02:00
  auto src = OpenUserTokenSource(token_path, "", http, Fast(), clock, NullLogger());
  REQUIRE(src.ok());
  auto t = (*src)->Token();
  REQUIRE(t.ok());
  CHECK(*t == "ya29.new");
  REQUIRE(http.requests.size() == 1);
  CHECK(http.requests[0].method == "POST");
  CHECK(http.requests[0].url == "http://127.0.0.1:9/token");
  auto form = Form(http.requests[0].body);
  CHECK(form["grant_type"] == "refresh_token");
  CHECK(form["refresh_token"] == "1//refresh");
  CHECK(form["client_id"] == "cid.apps.googleusercontent.com");
  CHECK(form["client_secret"] == "csecret");

  CHECK(Mode(token_path) == 0600);
  json saved = json::parse(*ReadFile(token_path));
  CHECK(saved["token"] == "ya29.new");
  CHECK(saved["refresh_token"] == "1//refresh");
  CHECK(saved["expiry"] == IsoUtc(clock.now + std::chrono::seconds(3599)));
  CHECK(saved["universe_domain"] == "googleapis.com");
  int leftovers = 0;  // no temporary file stays behind
  for (const auto& e : fs::directory_iterator(dir.path)) leftovers += e.path() != token_path;
  CHECK(leftovers == 0);

  CHECK(*(*src)->Token() == "ya29.new");  // fresh: no second request
  CHECK(http.requests.size() == 1);
}

TEST_CASE("google auth: invalid_grant asks for re-authorisation; unsafe file refused") {
  TempDir dir;
  fs::path token_path = dir.path / "token.json";
  REQUIRE(AtomicWriteFile(token_path, kTokenFile, 0600).ok());
  FakeHttp http;
  http.answer = [](const HttpRequest&) {
    return Json(400, {{"error", "invalid_grant"}, {"error_description", "Token has been expired or revoked."}});
  };
  FixedClock clock;
  auto src = OpenUserTokenSource(token_path, "", http, Fast(), clock, NullLogger());
  REQUIRE(src.ok());
  auto t = (*src)->Token();
  CHECK(t.status().kind() == ErrorKind::kCredentials);
  CHECK(t.status().message().find("ncbocr auth gmail") != std::string::npos);
  CHECK(t.status().exit_code() == 77);
  CHECK(json::parse(*ReadFile(token_path))["token"] == "ya29.old");  // untouched

  http.answer = [](const HttpRequest&) { return Json(503, json::object()); };
  CHECK((*src)->Token().status().kind() == ErrorKind::kTransient);

  fs::permissions(token_path, fs::perms(0640));
  CHECK(OpenUserTokenSource(token_path, "", http, Fast(), clock, NullLogger()).status().kind() ==
        ErrorKind::kCredentials);
}

TEST_CASE("google auth: a 401 from an API fetches a new token and retries once") {
  TempDir dir;
  fs::path token_path = dir.path / "token.json";
  json file = json::parse(kTokenFile);
  file["expiry"] = "2024-12-18T03:30:00Z";  // still valid at 02:42
  REQUIRE(AtomicWriteFile(token_path, file.dump(), 0600).ok());
  FakeHttp http;
  int api_calls = 0;
  http.answer = [&](const HttpRequest& r) {
    if (r.url.find("/token") != std::string::npos) return Json(200, {{"access_token", "ya29.new"}, {"expires_in", 3600}});
    ++api_calls;
    if (Header(r, "Authorization") == "Bearer ya29.new") return Json(200, {{"ok", true}});
    return Json(401, {{"error", {{"code", 401}, {"status", "UNAUTHENTICATED"}, {"message", "bad"}}}});
  };
  FixedClock clock;
  auto src = OpenUserTokenSource(token_path, "", http, Fast(), clock, NullLogger());
  REQUIRE(src.ok());
  HttpRequest req;
  req.url = "http://127.0.0.1:9/gmail/v1/users/me/labels";
  auto resp = GoogleSend(http, **src, req, Fast(), NullLogger());
  REQUIRE(resp.ok());
  CHECK(resp->status == 200);
  CHECK(api_calls == 2);
  CHECK(Header(http.requests[0], "Authorization") == "Bearer ya29.old");

  // Refused again with the new token: the 401 is returned, not looped on.
  http.answer = [&](const HttpRequest& r) {
    if (r.url.find("/token") != std::string::npos) return Json(200, {{"access_token", "ya29.newer"}, {"expires_in", 3600}});
    return Json(401, {{"error", {{"code", 401}, {"status", "UNAUTHENTICATED"}, {"message", "bad"}}}});
  };
  size_t before = http.requests.size();
  resp = GoogleSend(http, **src, req, Fast(), NullLogger());
  REQUIRE(resp.ok());
  CHECK(resp->status == 401);
  CHECK(http.requests.size() - before == 3);  // call, refresh, call
  CHECK(GoogleError(*resp, "Gmail").kind() == ErrorKind::kCredentials);
}

TEST_CASE("google auth: Google errors map to what the caller should do") {
  auto err = [](int code, const std::string& status) {
    return Json(code, {{"error", {{"code", code}, {"status", status}, {"message", "m"}}}});
  };
  CHECK(GoogleError(err(429, "RESOURCE_EXHAUSTED"), "x").kind() == ErrorKind::kTransient);
  CHECK(GoogleError(err(503, "UNAVAILABLE"), "x").kind() == ErrorKind::kTransient);
  CHECK(GoogleError(err(403, "PERMISSION_DENIED"), "x").kind() == ErrorKind::kCredentials);
  CHECK(GoogleError(err(404, "NOT_FOUND"), "x").kind() == ErrorKind::kPermanent);
  CHECK(GoogleError(err(400, "INVALID_ARGUMENT"), "Sheets").message() == "Sheets: HTTP 400 INVALID_ARGUMENT: m");
  HttpResponse none;
  none.error = "connection reset";
  CHECK(GoogleError(none, "x").kind() == ErrorKind::kTransient);
}

TEST_CASE("google auth: consent URL asks for offline access with PKCE") {
  OAuthClient c;
  c.client_id = "cid";
  c.auth_uri = "https://accounts.google.com/o/oauth2/auth";
  std::string url = ConsentUrl(c, {kGmailScope}, "http://127.0.0.1:8080/", "st4te", PkceChallenge("v"));
  CHECK(url.rfind("https://accounts.google.com/o/oauth2/auth?client_id=cid&", 0) == 0);
  CHECK(url.find("redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F") != std::string::npos);
  CHECK(url.find("access_type=offline") != std::string::npos);
  CHECK(url.find("code_challenge_method=S256") != std::string::npos);
  CHECK(url.find("state=st4te") != std::string::npos);
  // Known answer computed independently (Python: urlsafe_b64encode(sha256(v)) without '=').
  CHECK(PkceChallenge("dBjftJeZ4CVP-mB0unH-_ZjE7M4qU9BTEnSZ3y7I9FO") ==
        std::string("_KEtabFPzsYAGDD0x32SxQEwddeJfKouZaxCGccZ3e8"));
  CHECK(PkceChallenge("dBjftJeZ4CVP-mB0unH-_ZjE7M4qU9BTEnSZ3y7I9Fk") ==
        std::string("pBRqfH_GcUaezBcpi9nOHRXPyBG7YjEWxuDGPYh6ALk"));
}

}  // namespace ncbocr
