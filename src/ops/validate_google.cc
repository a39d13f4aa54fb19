// validate-credentials checkers for the Google services: Gmail (installed-app
// OAuth), Drive and Sheets (a service account). Each goes file -> parse ->
// token -> one cheap read-only call, and stops at the first step that fails,
// since every later step would fail for the same reason.
#include <algorithm>

#include "ncbocr/google_auth.h"
#include "ncbocr/http.h"
#include "ncbocr/util.h"
#include "ncbocr/validate.h"

namespace ncbocr {
namespace {

using json = nlohmann::json;

bool AllOk(const std::vector<CheckResult>& rs) {
  return std::all_of(rs.begin(), rs.end(), [](const CheckResult& r) { return r.ok; });
}

std::string Base(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The fix for a live call that failed, by what kind of failure it was.
std::string LiveFix(const Status& s, const std::string& refused_fix, const std::string& config_fix) {
  switch (s.kind()) {
    case ErrorKind::kCredentials: return refused_fix;
    case ErrorKind::kConfig:
    case ErrorKind::kPermanent: return config_fix;
    default: return "check that Google is reachable from this host (firewall, https_proxy/no_proxy) and try again";
  }
}

// A failed API answer as a check result: 404 means the id in the config
// names nothing this account can see, which is a configuration problem.
Status ApiStatus(const HttpResponse& r, const std::string& what) {
  Status s = GoogleError(r, what);
  if (r.status == 404) return Status::Config(s.message());
  if (s.kind() == ErrorKind::kTransient) return Status::Unavailable(s.message());
  return s;
}

// --- service accounts (Drive, Sheets) ---

struct ServiceSpec {
  std::string service;      // "drive", "sheets"
  std::string key_path;     // the key file
  std::string key_setting;  // "archive.drive_credentials_path"
  std::string scope;
};

// Key file safe and parsed, then a token through the JWT grant. Appends the
// results; returns the token source when all of it worked.
std::unique_ptr<TokenSource> ServiceAccountChecks(const ServiceSpec& spec, const Config& config,
                                                  const CheckOptions& options, HttpClient& http,
                                                  const Clock& clock, std::vector<CheckResult>& out) {
  const std::string& svc = spec.service;
  if (spec.key_path.empty()) {
    out.push_back(CheckFail(svc, "key file", Status::Config(spec.key_setting + " is not set"),
                            "download a JSON key of the service account and set " + spec.key_setting +
                                " to it (chmod 600)"));
    return nullptr;
  }
  out.push_back(CheckSecret(svc, "key file", spec.key_path, spec.key_setting));
  if (!out.back().ok) return nullptr;
  auto text = ReadSecretFile(spec.key_path, spec.key_setting);
  auto key = text.ok() ? ParseServiceAccountKey(*text) : Result<ServiceAccountKey>(text.status());
  Result<std::string> jwt = key.ok() ? MakeJwtAssertion(*key, {spec.scope}, "", clock.Now())
                                     : Result<std::string>(key.status());
  if (!jwt.ok()) {
    out.push_back(CheckFail(svc, "key parses", Status::Config(jwt.status().message()),
                            "download a new JSON key for the service account (IAM > Service accounts > "
                            "Keys) into " + spec.key_path));
    return nullptr;
  }
  out.push_back(CheckPass(svc, "key parses", "service account " + key->client_email));
  Status url = CheckUrlAllowed(key->token_uri);
  if (!url.ok()) {
    out.push_back(CheckFail(svc, "token", url.WithContext("token_uri in " + spec.key_path),
                            "the key file's token_uri must be https://oauth2.googleapis.com/token"));
    return nullptr;
  }
  if (!options.live) return nullptr;
  auto tokens = OpenServiceAccountTokenSource(spec.key_path, {spec.scope}, config.archive.service_account_subject,
                                              http, HttpOptions{}, clock, options.log);
  Result<std::string> token = tokens.ok() ? (*tokens)->Token() : Result<std::string>(tokens.status());
  if (!token.ok()) {
    std::string fix = "the key may be deleted or disabled: make a new key for " + key->client_email;
    if (!config.archive.service_account_subject.empty()) {
      fix += ", and check the domain-wide delegation of archive.service_account_subject for scope " + spec.scope;
    }
    Status s = token.status().kind() == ErrorKind::kTransient ? Status::Unavailable(token.status().message())
                                                              : token.status();
    out.push_back(CheckFail(svc, "token", s, LiveFix(s, fix, fix)));
    return nullptr;
  }
  out.push_back(CheckPass(svc, "token", "an access token was issued for " + spec.scope));
  return std::move(*tokens);
}

Result<HttpResponse> Get(HttpClient& http, TokenSource& tokens, const std::string& url,
                         const CheckOptions& options) {
  HttpRequest req;
  req.url = url;
  req.headers = {{"Accept", "application/json"}};
  HttpOptions o;
  o.max_attempts = 2;  // an admin is waiting; one retry of a blip is enough
  return GoogleSend(http, tokens, req, o, options.log);
}

}  // namespace

// ------------------------------------------------------------ Gmail

std::vector<CheckResult> CheckGmail(const Config& config, const CheckOptions& options) {
  std::vector<CheckResult> out;
  if (config.fetch.source != "gmail") return out;
  const GmailConfig& g = config.gmail;
  const std::string reauth = "run `ncbocr auth gmail` to make a new token file";
  Status url = CheckUrlAllowed(g.api_base_url);
  if (!url.ok()) {
    out.push_back(CheckFail("gmail", "api url", url.WithContext("gmail.api_base_url"),
                            "leave gmail.api_base_url at https://gmail.googleapis.com"));
    return out;
  }
  std::optional<OAuthClient> client;
  if (!g.credentials_path.empty()) {
    out.push_back(CheckSecret("gmail", "client file", g.credentials_path, "gmail.credentials_path"));
    if (out.back().ok) {
      auto text = ReadSecretFile(g.credentials_path, "gmail.credentials_path");
      auto parsed = text.ok() ? ParseOAuthClient(*text) : Result<OAuthClient>(text.status());
      if (parsed.ok()) {
        client = *parsed;
        out.push_back(CheckPass("gmail", "client parses", "OAuth client of type installed"));
      } else {
        out.push_back(CheckFail("gmail", "client parses", parsed.status(),
                                "download the OAuth client (type Desktop app) from the Google Cloud "
                                "console into " + g.credentials_path));
      }
    }
  }
  if (g.token_path.empty()) {
    out.push_back(CheckFail("gmail", "token file", Status::Config("gmail.token_path is not set"),
                            "set gmail.token_path (GMAIL_TOKEN_PATH), then " + reauth));
    return out;
  }
  out.push_back(CheckSecret("gmail", "token file", g.token_path, "gmail.token_path"));
  if (!out.back().ok) {
    if (out.back().kind != ErrorKind::kCredentials) out.back().fix = reauth + " at " + g.token_path;
    return out;
  }
  auto text = ReadSecretFile(g.token_path, "gmail.token_path");
  auto user = text.ok() ? ParseAuthorizedUser(*text) : Result<AuthorizedUser>(text.status());
  if (!user.ok()) {
    out.push_back(CheckFail("gmail", "token parses", user.status(), reauth));
    return out;
  }
  if ((user->client_id.empty() || user->client_secret.empty()) && !client) {
    out.push_back(CheckFail("gmail", "token parses",
                            Status::Config("the token file has no client_id/client_secret and no client "
                                           "file is configured"),
                            "set gmail.credentials_path (GMAIL_CREDENTIALS_PATH) to the OAuth client file"));
    return out;
  }
  out.push_back(CheckPass("gmail", "token parses", "authorized-user token with a refresh token"));
  if (!AllOk(out) || !options.live) return out;

  Clock clock;
  auto http = MakeCurlClient(HttpOptions{}, options.log);
  auto tokens = OpenUserTokenSource(g.token_path, g.credentials_path, *http, HttpOptions{}, clock, options.log);
  if (!tokens.ok()) {
    out.push_back(CheckFail("gmail", "token refresh", tokens.status(), reauth));
    return out;
  }
  (*tokens)->Invalidate();  // refresh even a fresh token: a revoked grant shows only then
  auto token = (*tokens)->Token();
  if (!token.ok()) {
    Status s = token.status().kind() == ErrorKind::kTransient ? Status::Unavailable(token.status().message())
                                                              : token.status();
    out.push_back(CheckFail("gmail", "token refresh", s,
                            LiveFix(s, "the refresh token was revoked or expired: " + reauth,
                                    "check the client file and " + reauth)));
    return out;
  }
  out.push_back(CheckPass("gmail", "token refresh", "Google issued an access token (saved, mode 0600)"));
  std::string profile = Base(g.api_base_url) + "/gmail/v1/users/" + UrlEncode(g.user) + "/profile";
  auto resp = Get(*http, **tokens, profile, options);
  if (!resp.ok() || resp->status != 200) {
    Status s = resp.ok() ? ApiStatus(*resp, "Gmail users.getProfile") : resp.status();
    out.push_back(CheckFail("gmail", "profile", s,
                            LiveFix(s, "the account did not grant the gmail.modify scope: " + reauth,
                                    "check gmail.user (\"me\" for the authorising account)")));
    return out;
  }
  long long total = -1;
  try {
    total = json::parse(resp->body).value("messagesTotal", -1LL);
  } catch (const json::exception&) {
  }
  out.push_back(CheckPass("gmail", "profile",
                          "mailbox readable" + (total >= 0 ? " (" + std::to_string(total) + " messages)" : "")));
  return out;
}

// ------------------------------------------------------------ Drive

std::vector<CheckResult> CheckDrive(const Config& config, const CheckOptions& options) {
  std::vector<CheckResult> out;
  const ArchiveConfig& a = config.archive;
  if (a.drive_folder_id.empty() && a.drive_credentials_path.empty()) return out;
  if (a.drive_folder_id.empty()) {
    out.push_back(CheckFail("drive", "folder id", Status::Config("archive.drive_folder_id is not set"),
                            "set DRIVE_FOLDER_ID to the id of a folder in a shared drive (the last part "
                            "of its URL)"));
    return out;
  }
  Status url = CheckUrlAllowed(a.drive_api_base_url);
  if (!url.ok()) {
    out.push_back(CheckFail("drive", "api url", url.WithContext("archive.drive_api_base_url"),
                            "leave archive.drive_api_base_url at https://www.googleapis.com"));
    return out;
  }
  Clock clock;
  auto http = MakeCurlClient(HttpOptions{}, options.log);
  auto tokens = ServiceAccountChecks({"drive", a.drive_credentials_path, "archive.drive_credentials_path",
                                      kDriveScope},
                                     config, options, *http, clock, out);
  if (!tokens) return out;
  std::string get = Base(a.drive_api_base_url) + "/drive/v3/files/" + UrlEncode(a.drive_folder_id) +
                    "?supportsAllDrives=true&fields=" + UrlEncode("id,mimeType,driveId");
  auto resp = Get(*http, *tokens, get, options);
  const std::string share = "share the folder (or its shared drive) with the service account as Content manager";
  if (!resp.ok() || resp->status != 200) {
    Status s = resp.ok() ? ApiStatus(*resp, "Drive files.get on archive.drive_folder_id") : resp.status();
    out.push_back(CheckFail("drive", "folder", s,
                            LiveFix(s, share, "check DRIVE_FOLDER_ID, and " + share)));
    return out;
  }
  json f;
  try {
    f = json::parse(resp->body);
  } catch (const json::exception&) {
    f = json::object();
  }
  if (f.value("mimeType", "") != "application/vnd.google-apps.folder") {
    out.push_back(CheckFail("drive", "folder", Status::Config("archive.drive_folder_id is not a folder"),
                            "set DRIVE_FOLDER_ID to a folder's id, not a file's"));
  } else if (f.value("driveId", "").empty()) {
    out.push_back(CheckFail("drive", "folder",
                            Status::Config("the folder is in a My Drive; a service account has no storage "
                                           "quota of its own, so every upload would be refused"),
                            "use a folder in a shared drive the service account is a member of"));
  } else {
    out.push_back(CheckPass("drive", "folder", "folder found in a shared drive"));
  }
  return out;
}

// ------------------------------------------------------------ Sheets

std::vector<CheckResult> CheckSheets(const Config& config, const CheckOptions& options) {
  std::vector<CheckResult> out;
  const ArchiveConfig& a = config.archive;
  if (a.sheets_spreadsheet_id.empty() && a.sheets_credentials_path.empty()) return out;
  if (a.sheets_spreadsheet_id.empty()) {
    out.push_back(CheckFail("sheets", "spreadsheet id", Status::Config("archive.sheets_spreadsheet_id is not set"),
                            "set SHEETS_SPREADSHEET_ID to the id in the spreadsheet's URL"));
    return out;
  }
  Status url = CheckUrlAllowed(a.sheets_api_base_url);
  if (!url.ok()) {
    out.push_back(CheckFail("sheets", "api url", url.WithContext("archive.sheets_api_base_url"),
                            "leave archive.sheets_api_base_url at https://sheets.googleapis.com"));
    return out;
  }
  Clock clock;
  auto http = MakeCurlClient(HttpOptions{}, options.log);
  auto tokens = ServiceAccountChecks({"sheets", a.sheets_credentials_path, "archive.sheets_credentials_path",
                                      kSheetsScope},
                                     config, options, *http, clock, out);
  if (!tokens) return out;
  std::string get = Base(a.sheets_api_base_url) + "/v4/spreadsheets/" + UrlEncode(a.sheets_spreadsheet_id) +
                    "?fields=spreadsheetId";
  auto resp = Get(*http, *tokens, get, options);
  const std::string share = "share the spreadsheet with the service account as Editor";
  if (!resp.ok() || resp->status != 200) {
    Status s = resp.ok() ? ApiStatus(*resp, "Sheets spreadsheets.get on archive.sheets_spreadsheet_id")
                         : resp.status();
    out.push_back(CheckFail("sheets", "spreadsheet", s,
                            LiveFix(s, share, "check SHEETS_SPREADSHEET_ID, and " + share)));
    return out;
  }
  out.push_back(CheckPass("sheets", "spreadsheet", "spreadsheet readable"));
  return out;
}

}  // namespace ncbocr
