// Google credentials (see google_auth.h): the token and key file formats, the
// service account JWT, and the two token sources.
#include "ncbocr/google_auth.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <mutex>

#include "ncbocr/config.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using json = nlohmann::json;

// Refresh this long before the stated expiry: a token that expires while a
// request is in flight costs a 401 and a second round trip.
constexpr auto kUserTokenMargin = std::chrono::seconds(60);
constexpr auto kServiceTokenMargin = std::chrono::seconds(300);

Result<json> ParseObject(const std::string& text, const std::string& what) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) return Status::Config(what + " is not a JSON object");
    return j;
  } catch (const json::exception&) {
    return Status::Config(what + " is not valid JSON");
  }
}

// What a token endpoint said, for messages: its error code and description
// (these never contain the token or the member's data).
std::string TokenError(const HttpResponse& r) {
  if (r.status == 0) return "no response (" + r.error + ")";
  std::string code, desc;
  try {
    json j = json::parse(r.body);
    code = JsonString(j, "error");
    desc = JsonString(j, "error_description");
  } catch (const json::exception&) {
  }
  std::string out = "HTTP " + std::to_string(r.status);
  if (!code.empty()) out += " " + code;
  if (!desc.empty()) out += ": " + desc.substr(0, 200);
  return out;
}

// Posts a form to a token endpoint and returns (access_token, expires_in).
// A 5xx or no answer is kTransient; anything else refused is kCredentials.
Result<std::pair<std::string, long long>> PostTokenRequest(
    HttpClient& http, const HttpOptions& options, Logger log, const std::string& token_uri,
    const std::vector<std::pair<std::string, std::string>>& form, const std::string& what) {
  Status allowed = CheckUrlAllowed(token_uri);
  if (!allowed.ok()) return allowed.WithContext(what + " token_uri");
  HttpRequest req;
  req.method = "POST";
  req.url = token_uri;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = FormEncode(form);
  auto resp = SendWithRetry(http, req, options, log);
  if (!resp.ok()) return resp.status();
  const HttpResponse& r = *resp;
  if (r.status == 0 || r.status == 429 || r.status >= 500) {
    return Status::Transient(what + ": token endpoint unavailable: " + TokenError(r));
  }
  if (r.status != 200) return Status::Credentials(what + ": token request refused: " + TokenError(r));
  try {
    json j = json::parse(r.body);
    std::string token = JsonString(j, "access_token");
    if (token.empty()) return Status::Transient(what + ": token endpoint answered without access_token");
    long long expires_in = TokenLifetime(j);
    return std::make_pair(token, expires_in);
  } catch (const json::exception&) {
    return Status::Transient(what + ": token endpoint answered with invalid JSON");
  }
}

// ------------------------------------------------------------ user (Gmail)

class UserTokenSource : public TokenSource {
 public:
  UserTokenSource(std::string path, AuthorizedUser user, HttpClient& http, HttpOptions options,
                  const Clock& clock, Logger log)
      : path_(std::move(path)), user_(std::move(user)), http_(http), options_(std::move(options)),
        clock_(clock), log_(std::move(log)) {}

  Result<std::string> Token() override {
    std::lock_guard<std::mutex> lock(mu_);
    bool fresh = !user_.token.empty() && user_.expiry &&
                 *user_.expiry - kUserTokenMargin > clock_.Now();
    if (fresh) return user_.token;
    Status s = Refresh();
    if (!s.ok()) return s;
    return user_.token;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    user_.expiry.reset();
  }

 private:
  Status Refresh() {
    auto got = PostTokenRequest(http_, options_, log_, user_.token_uri,
                                {{"grant_type", "refresh_token"},
                                 {"refresh_token", user_.refresh_token},
                                 {"client_id", user_.client_id},
                                 {"client_secret", user_.client_secret}},
                                "Gmail");
    if (!got.ok()) {
      // invalid_grant: the refresh token was revoked, or expired unused; only
      // a person can fix that. Other refusals (invalid_client) keep Google's words.
      if (got.status().kind() == ErrorKind::kCredentials &&
          got.status().message().find("invalid_grant") != std::string::npos) {
        log_->error("{}", got.status().message());
        return Status::Credentials(
            "Gmail token revoked or expired: re-authorise with `ncbocr auth gmail`");
      }
      return got.status();
    }
    user_.token = got->first;
    user_.expiry = clock_.Now() + std::chrono::seconds(got->second);
    // Written back so the next run (and Google's own tools) start from it.
    Status w = AtomicWriteFile(path_, AuthorizedUserJson(user_), 0600);
    if (!w.ok()) log_->warn("Gmail access token refreshed but not saved: {}", w.ToString());
    log_->debug("Gmail access token refreshed, valid {}s", got->second);
    return Status::Ok();
  }

  std::mutex mu_;
  std::string path_;
  AuthorizedUser user_;
  HttpClient& http_;
  HttpOptions options_;
  const Clock& clock_;
  Logger log_;
};

// ------------------------------------------------------------ service account

class ServiceAccountSource : public TokenSource {
 public:
  ServiceAccountSource(ServiceAccountKey key, std::vector<std::string> scopes, std::string subject,
                       HttpClient& http, HttpOptions options, const Clock& clock, Logger log)
      : key_(std::move(key)), scopes_(std::move(scopes)), subject_(std::move(subject)), http_(http),
        options_(std::move(options)), clock_(clock), log_(std::move(log)) {}

  Result<std::string> Token() override {
    std::lock_guard<std::mutex> lock(mu_);
    TimePoint now = clock_.Now();
    if (!token_.empty() && expiry_ - kServiceTokenMargin > now) return token_;
    auto jwt = MakeJwtAssertion(key_, scopes_, subject_, now);
    if (!jwt.ok()) return jwt.status();
    auto got = PostTokenRequest(http_, options_, log_, key_.token_uri,
                                {{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                 {"assertion", *jwt}},
                                "service account " + key_.client_email);
    if (!got.ok()) return got.status();
    token_ = got->first;
    expiry_ = now + std::chrono::seconds(got->second);
    return token_;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    token_.clear();
  }

 private:
  std::mutex mu_;
  ServiceAccountKey key_;
  std::vector<std::string> scopes_;
  std::string subject_;
  HttpClient& http_;
  HttpOptions options_;
  const Clock& clock_;
  Logger log_;
  std::string token_;
  TimePoint expiry_;
};

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : " ") + s;
  return out;
}

// RS256: RSASSA-PKCS1-v1_5 over SHA-256.
Result<std::string> SignRs256(const std::string& pem, const std::string& data) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Status::Internal("out of memory");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) return Status::Credentials("the service account private_key is not a PEM private key");
  std::string sig;
  Status s;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  size_t len = 0;
  if (EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
    s = Status::Credentials("the service account private_key is not an RSA key");
  } else if (md == nullptr || EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, pkey) != 1 ||
             EVP_DigestSignUpdate(md, data.data(), data.size()) != 1 ||
             EVP_DigestSignFinal(md, nullptr, &len) != 1) {
    s = Status::Credentials("cannot sign with the service account private_key");
  } else {
    sig.resize(len);
    if (EVP_DigestSignFinal(md, reinterpret_cast<unsigned char*>(sig.data()), &len) != 1) {
      s = Status::Credentials("cannot sign with the service account private_key");
    }
    sig.resize(len);
  }
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pkey);
  if (!s.ok()) return s;
  return sig;
}

}  // namespace

// ------------------------------------------------------------ file formats

long long TokenLifetime(const json& answer) {
  auto it = answer.find("expires_in");  // end() when answer is not an object
  if (it == answer.end() || !it->is_number()) return 3600;
  return static_cast<long long>(std::clamp(it->get<double>(), 0.0, 86400.0));
}

Result<AuthorizedUser> ParseAuthorizedUser(const std::string& text) {
  auto j = ParseObject(text, "Gmail token file");
  if (!j.ok()) return j.status();
  AuthorizedUser u;
  u.token = JsonString(*j, "token");
  if (u.token.empty()) u.token = JsonString(*j, "access_token");  // older oauth2client files
  u.refresh_token = JsonString(*j, "refresh_token");
  if (std::string t = JsonString(*j, "token_uri"); !t.empty()) u.token_uri = t;
  u.client_id = JsonString(*j, "client_id");
  u.client_secret = JsonString(*j, "client_secret");
  if (auto it = j->find("scopes"); it != j->end()) {
    if (it->is_array()) {
      for (const auto& s : *it) if (s.is_string()) u.scopes.push_back(s.get<std::string>());
    } else if (it->is_string()) {
      std::string all = it->get<std::string>();  // space-separated, as the token endpoint says it
      for (size_t p = 0; p < all.size();) {
        size_t e = all.find(' ', p);
        if (e == std::string::npos) e = all.size();
        if (e > p) u.scopes.push_back(all.substr(p, e - p));
        p = e + 1;
      }
    }
  }
  if (std::string e = JsonString(*j, "expiry"); !e.empty()) {
    u.expiry = ParseIso(e);
    if (!u.expiry) return Status::Config("Gmail token file: expiry '" + e + "' is not an ISO 8601 time");
  }
  for (const char* k : {"token", "access_token", "refresh_token", "token_uri", "client_id",
                        "client_secret", "scopes", "expiry"}) {
    j->erase(k);
  }
  u.extra = std::move(*j);
  if (u.refresh_token.empty()) {
    return Status::Config("Gmail token file has no refresh_token: re-authorise with `ncbocr auth gmail`");
  }
  return u;
}

std::string AuthorizedUserJson(const AuthorizedUser& u) {
  json j = u.extra.is_object() ? u.extra : json::object();
  j["token"] = u.token;
  j["refresh_token"] = u.refresh_token;
  j["token_uri"] = u.token_uri;
  j["client_id"] = u.client_id;
  j["client_secret"] = u.client_secret;
  j["scopes"] = u.scopes;
  if (u.expiry) j["expiry"] = IsoUtc(*u.expiry);
  return j.dump(2) + "\n";
}

Result<OAuthClient> ParseOAuthClient(const std::string& text) {
  auto j = ParseObject(text, "Gmail OAuth client file");
  if (!j.ok()) return j.status();
  const json* inner = nullptr;
  for (const char* k : {"installed", "web"}) {
    if (auto it = j->find(k); it != j->end() && it->is_object()) inner = &*it;
  }
  if (inner == nullptr) {
    return Status::Config("Gmail OAuth client file has no \"installed\" section: download the "
                          "client of type Desktop app from the Google Cloud console");
  }
  OAuthClient c;
  c.client_id = JsonString(*inner, "client_id");
  c.client_secret = JsonString(*inner, "client_secret");
  if (std::string v = JsonString(*inner, "auth_uri"); !v.empty()) c.auth_uri = v;
  if (std::string v = JsonString(*inner, "token_uri"); !v.empty()) c.token_uri = v;
  if (c.client_id.empty()) return Status::Config("Gmail OAuth client file has no client_id");
  return c;
}

Result<ServiceAccountKey> ParseServiceAccountKey(const std::string& text) {
  auto j = ParseObject(text, "service account key file");
  if (!j.ok()) return j.status();
  if (std::string t = JsonString(*j, "type"); !t.empty() && t != "service_account") {
    return Status::Config("key file is of type '" + t + "', not service_account");
  }
  ServiceAccountKey k;
  k.client_email = JsonString(*j, "client_email");
  k.private_key = JsonString(*j, "private_key");
  k.private_key_id = JsonString(*j, "private_key_id");
  if (std::string t = JsonString(*j, "token_uri"); !t.empty()) k.token_uri = t;
  if (k.client_email.empty() || k.private_key.empty()) {
    return Status::Config("service account key file lacks client_email or private_key");
  }
  return k;
}

Result<std::string> MakeJwtAssertion(const ServiceAccountKey& key,
                                     const std::vector<std::string>& scopes,
                                     const std::string& subject, TimePoint now) {
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) header["kid"] = key.private_key_id;
  long long iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  json claims = {{"iss", key.client_email}, {"scope", JoinScopes(scopes)},
                 {"aud", key.token_uri},    {"iat", iat},
                 {"exp", iat + 3600}};
  if (!subject.empty()) claims["sub"] = subject;
  std::string signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
  auto sig = SignRs256(key.private_key, signing_input);
  if (!sig.ok()) return sig.status();
  return signing_input + "." + Base64UrlEncode(*sig);
}

// ------------------------------------------------------------ opening

Result<std::unique_ptr<TokenSource>> OpenUserTokenSource(const std::string& token_path,
                                                         const std::string& client_path,
                                                         HttpClient& http,
                                                         const HttpOptions& options,
                                                         const Clock& clock, Logger log) {
  if (token_path.empty()) {
    return Status::Config("gmail.token_path is not set: run `ncbocr auth gmail` to make the token file");
  }
  auto text = ReadSecretFile(token_path, "Gmail token");
  if (!text.ok()) return text.status();
  auto user = ParseAuthorizedUser(*text);
  if (!user.ok()) return user.status().WithContext(token_path);
  if (user->client_id.empty() || user->client_secret.empty()) {
    if (client_path.empty()) {
      return Status::Config("Gmail token file " + token_path +
                            " has no client_id/client_secret and gmail.credentials_path is not set");
    }
    auto ctext = ReadSecretFile(client_path, "Gmail OAuth client");
    if (!ctext.ok()) return ctext.status();
    auto client = ParseOAuthClient(*ctext);
    if (!client.ok()) return client.status().WithContext(client_path);
    if (user->client_id.empty()) user->client_id = client->client_id;
    if (user->client_secret.empty()) user->client_secret = client->client_secret;
  }
  return std::unique_ptr<TokenSource>(
      new UserTokenSource(token_path, std::move(*user), http, options, clock, std::move(log)));
}

Result<std::unique_ptr<TokenSource>> OpenServiceAccountTokenSource(
    const std::string& key_path, std::vector<std::string> scopes, const std::string& subject,
    HttpClient& http, const HttpOptions& options, const Clock& clock, Logger log) {
  auto text = ReadSecretFile(key_path, "service account key");
  if (!text.ok()) return text.status();
  auto key = ParseServiceAccountKey(*text);
  if (!key.ok()) return key.status().WithContext(key_path);
  return std::unique_ptr<TokenSource>(new ServiceAccountSource(
      std::move(*key), std::move(scopes), subject, http, options, clock, std::move(log)));
}

}  // namespace ncbocr
