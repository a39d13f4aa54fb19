// Google auth: access tokens for the Gmail, Drive and Sheets APIs, and the
// one way to send an authorised request to them.
//
// Two kinds of credentials, both in the file formats Google's own libraries
// read and write, so a token made with Google's tools works here and back:
//   - Gmail reads a mailbox as a person: installed-app OAuth. The client file
//     ({"installed": {client_id, client_secret, auth_uri, token_uri, ...}})
//     identifies ncbocr; the authorized-user token file (token, refresh_token,
//     token_uri, client_id, client_secret, scopes, expiry) is made once by
//     `ncbocr auth gmail` and refreshed here when expired or refused (401);
//     the new access token is written back atomically, mode 0600. A refresh
//     token Google no longer accepts (invalid_grant) is kCredentials: a person
//     must re-authorise, and until then every message stays queued.
//   - Drive and Sheets act as a service account: a JSON key file
//     (client_email, private_key, token_uri). An RS256-signed JWT (OpenSSL
//     EVP) is exchanged for an access token (the jwt-bearer grant), kept in
//     memory until shortly before it expires. An optional subject makes the
//     account act for a Workspace user (domain-wide delegation).
// Every secret file passes CheckSecretFile (0600, regular) before it is read.
// Token endpoints come from the files (token_uri), so tests point them at a
// loopback double; they must pass CheckUrlAllowed like every other URL.
// Nothing here logs a token, a secret or a response body.
#ifndef NCBOCR_GOOGLE_AUTH_H_
#define NCBOCR_GOOGLE_AUTH_H_

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/clock.h"
#include "ncbocr/config.h"
#include "ncbocr/http.h"
#include "ncbocr/log.h"
#include "ncbocr/status.h"

namespace ncbocr {

// Scopes ncbocr asks for.
inline constexpr char kGmailScope[] = "https://www.googleapis.com/auth/gmail.modify";
inline constexpr char kDriveScope[] = "https://www.googleapis.com/auth/drive";
inline constexpr char kSheetsScope[] = "https://www.googleapis.com/auth/spreadsheets";

// --- file formats ---

// The authorized-user token file. `extra` keeps fields this version does not
// use (universe_domain, account, ...) so a write-back loses nothing.
struct AuthorizedUser {
  std::string token;           // access token, may be empty
  std::string refresh_token;
  std::string token_uri = "https://oauth2.googleapis.com/token";
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> scopes;
  std::optional<TimePoint> expiry;  // of `token`; none: unknown (treated as expired)
  nlohmann::json extra = nlohmann::json::object();
};
// kConfig naming what is wrong (not JSON, no refresh_token, ...).
Result<AuthorizedUser> ParseAuthorizedUser(const std::string& json_text);
// The file's JSON text; expiry as Google writes it ("2024-12-18T02:42:00Z").
std::string AuthorizedUserJson(const AuthorizedUser& user);

// The OAuth client file ({"installed": {...}} or {"web": {...}}).
struct OAuthClient {
  std::string client_id;
  std::string client_secret;
  std::string auth_uri = "https://accounts.google.com/o/oauth2/auth";
  std::string token_uri = "https://oauth2.googleapis.com/token";
};
Result<OAuthClient> ParseOAuthClient(const std::string& json_text);

// A service account key file.
struct ServiceAccountKey {
  std::string client_email;
  std::string private_key;     // PEM
  std::string private_key_id;  // goes into the JWT header as kid
  std::string token_uri = "https://oauth2.googleapis.com/token";
};
Result<ServiceAccountKey> ParseServiceAccountKey(const std::string& json_text);

// The signed JWT (header.claims.signature, base64url) a service account
// trades for an access token: iss = client_email, aud = token_uri, scope =
// scopes joined by spaces, iat = now, exp = now + 1 hour, sub = subject if
// not empty. kCredentials if the private key cannot be read or used.
Result<std::string> MakeJwtAssertion(const ServiceAccountKey& key,
                                     const std::vector<std::string>& scopes,
                                     const std::string& subject, TimePoint now);

// --- token sources ---

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A usable access token, fetched or refreshed when needed.
  virtual Result<std::string> Token() = 0;
  // The API refused the token (401): the next Token() fetches a new one.
  virtual void Invalidate() = 0;
};

// Installed-app OAuth over the token file at token_path. client_path (may be
// empty) supplies client_id/secret when the token file lacks them. Both files
// are checked with CheckSecretFile when opened.
Result<std::unique_ptr<TokenSource>> OpenUserTokenSource(const std::string& token_path,
                                                         const std::string& client_path,
                                                         HttpClient& http,
                                                         const HttpOptions& options,
                                                         const Clock& clock, Logger log);

// A service account from its key file.
Result<std::unique_ptr<TokenSource>> OpenServiceAccountTokenSource(
    const std::string& key_path, std::vector<std::string> scopes, const std::string& subject,
    HttpClient& http, const HttpOptions& options, const Clock& clock, Logger log);

// --- requests ---

// Sends req with "Authorization: Bearer <token>" through SendWithRetry (429,
// 5xx and transport failures are retried with backoff, Retry-After honoured).
// On a 401 the token is invalidated and the request sent once more. A new
// token refused at once is final (credentials); one refused only after
// retries and their backoff may have been revoked meanwhile, so it is
// renewed again (at most kGoogleMaxTokenRounds tokens per request).
// A response of any status is returned; only a token that cannot be had, or
// a URL that is refused, is an error.
constexpr int kGoogleMaxTokenRounds = 3;
Result<HttpResponse> GoogleSend(HttpClient& http, TokenSource& tokens, const HttpRequest& req,
                                const HttpOptions& options, Logger log);

// The lifetime in seconds a token endpoint's JSON answer gives (expires_in):
// 3600 when absent or not a number, else clamped to [0, 86400], so an absurd
// value cannot overflow the clock arithmetic of the expiry.
long long TokenLifetime(const nlohmann::json& answer);

// True for an answer worth another try: no response, 408, 429, 5xx.
bool IsRetryable(const HttpResponse& resp);
// Sleeps before attempt `attempt`+1 of an operation that must not be resent
// blindly (an append, an upload): the caller looks first, then tries again.
// Exponential backoff from options with jitter, at least Retry-After.
void PauseBeforeRetry(int attempt, const HttpResponse& last, const HttpOptions& options);

// What a failed Google API response means for the caller: 401/403 ->
// kCredentials, 429/5xx/no response -> kTransient, 404 -> kPermanent, other
// 4xx -> kPermanent. The message is `what` plus Google's error status and
// message (never the request or response body otherwise).
Status GoogleError(const HttpResponse& resp, const std::string& what);

// "a=1&b=2" with each value percent-encoded.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);
std::string Base64UrlEncode(const std::string& bytes);  // no padding
// Accepts padded or unpadded input; kPermanent on a character outside the alphabet.
Result<std::string> Base64UrlDecode(const std::string& text);

// --- the consent flow (ncbocr auth gmail) ---

// The URL a person opens to let ncbocr read the mailbox: offline access (so a
// refresh token comes back), consent prompt, PKCE S256 challenge.
std::string ConsentUrl(const OAuthClient& client, const std::vector<std::string>& scopes,
                       const std::string& redirect_uri, const std::string& state,
                       const std::string& code_challenge);
// S256 challenge of a PKCE verifier.
std::string PkceChallenge(const std::string& verifier);
// Trades the code for tokens at client.token_uri. kCredentials with Google's
// reason if refused; kConfig if no refresh token comes back.
Result<AuthorizedUser> ExchangeAuthCode(HttpClient& http, const HttpOptions& options,
                                        const OAuthClient& client, const std::string& code,
                                        const std::string& redirect_uri,
                                        const std::string& code_verifier,
                                        const std::vector<std::string>& scopes, TimePoint now);

struct ConsentOptions {
  int port = 0;                                // loopback listener port; 0: any free one
  std::chrono::seconds timeout{600};           // give up waiting for the person after this
};
// `ncbocr auth gmail`: prints the consent URL to out, then waits for the code
// on a loopback listener (the browser's redirect to http://127.0.0.1:PORT/)
// or pasted on `in` (the code, or the whole address the browser ended on,
// for when the browser runs on another machine); checks the state, trades
// the code for tokens and writes gmail.token_path (mode 0600, atomically).
// The client comes from gmail.credentials_path (checked as a secret file).
Status AuthoriseGmail(const Config& config, std::FILE* in, std::FILE* out,
                      const ConsentOptions& options, Logger log);

}  // namespace ncbocr

#endif  // NCBOCR_GOOGLE_AUTH_H_
