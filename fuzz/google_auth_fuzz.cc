// Fuzz target: Google credentials and token answers (google_auth.cc,
// google_http.cc): the authorized-user token file, the OAuth client file and
// the service account key file as ncbocr reads them, and the token
// endpoint's answers to a refresh and to a code exchange.
// Input: the operation on the first line, then a file's text ("auth.user",
// "auth.client", "auth.key", "base64url") or "=== <status>" answers
// ("auth.refresh", "auth.code").
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fuzz_support.h"
#include "ncbocr/google_auth.h"

namespace {

using namespace ncbocr;

// A token file whose access token has expired, so Token() asks the token
// endpoint (the scripted answers) for a new one. Written once per run.
const std::string& ExpiredTokenFile() {
  // On the heap and never freed: the exit handler below runs after static
  // destructors registered later would have freed a plain static.
  static const std::string& path = *new std::string([] {
    const char* tmp = std::getenv("TMPDIR");
    auto p = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
             ("ncbocr-fuzz-token-" + std::to_string(::getpid()) + ".json");
    std::ofstream(p) << R"({"token": "old", "refresh_token": "r", "client_id": "c",
      "client_secret": "s", "token_uri": "https://oauth.test/token",
      "expiry": "2000-01-01T00:00:00Z"})";
    ::chmod(p.c_str(), 0600);
    return p.string();
  }());
  static const bool cleanup = std::atexit([] { std::filesystem::remove(path); }) == 0;
  (void)cleanup;
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [op, rest] = fuzz::FirstLine(fuzz::AsView(data, size));
  std::string text(rest);
  if (op == "auth.user") {
    if (auto u = ParseAuthorizedUser(text); u.ok()) (void)ParseAuthorizedUser(AuthorizedUserJson(*u));
  } else if (op == "auth.client") {
    (void)ParseOAuthClient(text);
  } else if (op == "auth.key") {
    (void)ParseServiceAccountKey(text);
  } else if (op == "auth.refresh") {
    fuzz::ScriptedHttp http(fuzz::ParseAnswers(rest));
    Clock clock;
    auto source = OpenUserTokenSource(ExpiredTokenFile(), "", http, fuzz::NoWaitOptions(), clock,
                                      NullLogger());
    if (source.ok()) (void)(*source)->Token();
  } else if (op == "auth.code") {
    fuzz::ScriptedHttp http(fuzz::ParseAnswers(rest));
    OAuthClient client;
    client.client_id = "c";
    client.client_secret = "s";
    (void)ExchangeAuthCode(http, fuzz::NoWaitOptions(), client, "code", "http://127.0.0.1:1/",
                           "verifier", {kGmailScope}, TimePoint{});
  } else {
    if (auto bytes = Base64UrlDecode(text); bytes.ok()) (void)Base64UrlEncode(*bytes);
  }
  return 0;
}
