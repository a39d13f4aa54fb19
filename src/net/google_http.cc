// Requests to Google APIs (see google_auth.h): the authorised send, what a
// Google error means, the encodings the APIs need, and the consent flow.
#include <curl/curl.h>
#include <openssl/evp.h>

#include <thread>

#include "ncbocr/google_auth.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using json = nlohmann::json;

}  // namespace

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) out += (out.empty() ? "" : "&") + UrlEncode(k) + "=" + UrlEncode(v);
  return out;
}

// Base64url (RFC 4648 section 5, no padding) by OpenSSL's base64 with the
// two URL-safe letters swapped in.
std::string Base64UrlEncode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

// Accepts padded or unpadded text, line breaks (Gmail folds nothing, but
// some tools do) and the standard alphabet too.
Result<std::string> Base64UrlDecode(const std::string& text) {
  std::string std64;
  std64.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '=' || c == '\r' || c == '\n') continue;
    std64.push_back(c == '-' ? '+' : c == '_' ? '/' : c);
  }
  if (std64.size() % 4 == 1) return Status::Permanent("invalid base64url data");
  const size_t pad = (4 - std64.size() % 4) % 4;
  std64.append(pad, '=');
  std::string out(std64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(std64.data()), static_cast<int>(std64.size()));
  if (n < 0) return Status::Permanent("invalid base64url data");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

namespace {

// Counts the attempts SendWithRetry makes, so GoogleSend can tell a token
// refused at once from one refused after a wait.
class CountingClient : public HttpClient {
 public:
  explicit CountingClient(HttpClient& inner) : inner_(inner) {}
  Result<HttpResponse> Send(const HttpRequest& req) override {
    ++sends;
    return inner_.Send(req);
  }
  int sends = 0;

 private:
  HttpClient& inner_;
};

}  // namespace

Result<HttpResponse> GoogleSend(HttpClient& http, TokenSource& tokens, const HttpRequest& req,
                                const HttpOptions& options, Logger log) {
  Status allowed = CheckUrlAllowed(req.url);
  if (!allowed.ok()) return allowed;
  for (int round = 1;; ++round) {
    auto token = tokens.Token();
    if (!token.ok()) return token.status();
    HttpRequest authed = req;
    authed.headers.emplace_back("Authorization", "Bearer " + *token);
    CountingClient counted(http);
    auto resp = SendWithRetry(counted, authed, options, log);
    if (!resp.ok() || resp->status != 401) return resp;
    // A renewed token refused on its first use: the credentials are wrong.
    // Refused only after 5xx retries and their backoff: it may have been
    // revoked while we waited (the crash harness's expired tokens found
    // this), so it is renewed again, a bounded number of times.
    bool refused_at_once = round > 1 && counted.sends == 1;
    if (refused_at_once || round >= kGoogleMaxTokenRounds) return resp;
    log->debug("Google answered 401 (request {}); fetching a new access token", resp->request_id);
    tokens.Invalidate();
  }
}

bool IsRetryable(const HttpResponse& r) { return r.status == 408 || IsRetryableStatus(r.status); }

void PauseBeforeRetry(int attempt, const HttpResponse& last, const HttpOptions& options) {
  auto delay = RetryDelay(attempt, options, last.RetryAfter());
  if (options.sleep) {
    options.sleep(delay);
  } else {
    std::this_thread::sleep_for(delay);
  }
}

Status GoogleError(const HttpResponse& r, const std::string& what) {
  if (r.status == 0) return Status::Transient(what + ": no response (" + r.error + ")");
  std::string detail = "HTTP " + std::to_string(r.status);
  try {
    json j = json::parse(r.body);
    if (auto e = j.find("error"); e != j.end() && e->is_object()) {
      std::string status = e->value("status", "");
      std::string message = e->value("message", "");
      if (!status.empty()) detail += " " + status;
      if (!message.empty()) detail += ": " + message.substr(0, 200);
    }
  } catch (const json::exception&) {
  }
  std::string msg = what + ": " + detail;
  if (r.status == 401 || r.status == 403) {
    // 403 is also Google's answer to a quota exceeded; that one passes.
    if (r.status == 403 && (detail.find("RATE_LIMIT") != std::string::npos ||
                            detail.find("ateLimitExceeded") != std::string::npos)) {
      return Status::Transient(msg);
    }
    return Status::Credentials(msg);
  }
  if (r.status == 408 || r.status == 429 || r.status >= 500) return Status::Transient(msg);
  return Status::Permanent(msg);
}

// ------------------------------------------------------------ consent flow

std::string PkceChallenge(const std::string& verifier) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(verifier.data(), verifier.size(), md, &len, EVP_sha256(), nullptr);
  return Base64UrlEncode(std::string(reinterpret_cast<char*>(md), len));
}

std::string ConsentUrl(const OAuthClient& client, const std::vector<std::string>& scopes,
                       const std::string& redirect_uri, const std::string& state,
                       const std::string& code_challenge) {
  std::string scope;
  for (const auto& s : scopes) scope += (scope.empty() ? "" : " ") + s;
  std::string sep = client.auth_uri.find('?') == std::string::npos ? "?" : "&";
  return client.auth_uri + sep +
         FormEncode({{"client_id", client.client_id},
                     {"redirect_uri", redirect_uri},
                     {"response_type", "code"},
                     {"scope", scope},
                     {"access_type", "offline"},  // without it no refresh token comes back
                     {"prompt", "consent"},       // nor on a second consent
                     {"state", state},
                     {"code_challenge", code_challenge},
                     {"code_challenge_method", "S256"}});
}

Result<AuthorizedUser> ExchangeAuthCode(HttpClient& http, const HttpOptions& options,
                                        const OAuthClient& client, const std::string& code,
                                        const std::string& redirect_uri,
                                        const std::string& code_verifier,
                                        const std::vector<std::string>& scopes, TimePoint now) {
  Status allowed = CheckUrlAllowed(client.token_uri);
  if (!allowed.ok()) return allowed.WithContext("OAuth client token_uri");
  HttpRequest req;
  req.method = "POST";
  req.url = client.token_uri;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = FormEncode({{"grant_type", "authorization_code"},
                         {"code", code},
                         {"client_id", client.client_id},
                         {"client_secret", client.client_secret},
                         {"redirect_uri", redirect_uri},
                         {"code_verifier", code_verifier}});
  auto resp = http.Send(req);  // a code is single-use: never resend it
  if (!resp.ok()) return resp.status();
  json j;
  try {
    j = json::parse(resp->body);
  } catch (const json::exception&) {
    j = json::object();
  }
  // Fields of the answer that are strings; anything else in their place
  // (json::value would throw) counts as absent.
  auto str = [&j](const char* key) {
    auto it = j.find(key);  // end() when j is not an object
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (resp->status != 200) {
    if (resp->status == 0) return Status::Unavailable("token endpoint unreachable: " + resp->error);
    std::string why = str("error") + " " + str("error_description");
    return Status::Credentials("Google refused the code (HTTP " + std::to_string(resp->status) +
                               "): " + Trim(why));
  }
  AuthorizedUser u;
  u.token = str("access_token");
  u.refresh_token = str("refresh_token");
  u.token_uri = client.token_uri;
  u.client_id = client.client_id;
  u.client_secret = client.client_secret;
  u.scopes = scopes;
  u.expiry = now + std::chrono::seconds(TokenLifetime(j));
  if (u.refresh_token.empty()) {
    return Status::Config("Google gave no refresh token; remove ncbocr's access at "
                          "https://myaccount.google.com/permissions and authorise again");
  }
  return u;
}

}  // namespace ncbocr
