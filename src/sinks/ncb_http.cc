// The NCB claims API over HTTPS (../shared/ncb-api.md).
#include "ncbocr/ncb_http.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "ncbocr/util.h"

namespace ncbocr {

namespace {

constexpr size_t kMaxMessage = 500;  // NCB's messages go into the manifest; keep them bounded

std::string Clip(std::string s) {
  if (s.size() > kMaxMessage) s = s.substr(0, kMaxMessage) + "...";
  return s;
}

// A field of an NCB error body as text: strings as they are, numbers and
// objects as JSON (the contract does not fix their type); "" when absent.
std::string FieldText(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// "Invalid member ID (field member_id: not found)" from message + details.
std::string DescribeError(const nlohmann::json& j) {
  std::string msg = FieldText(j, "message");
  auto d = j.find("details");
  if (d == j.end() || d->is_null()) return msg;
  std::string detail;
  if (d->is_object()) {
    std::string field = FieldText(*d, "field");
    std::string reason = FieldText(*d, "reason");
    detail = field.empty() ? reason : "field " + field + (reason.empty() ? "" : ": " + reason);
  } else {
    detail = d->is_string() ? d->get<std::string>() : d->dump();
  }
  if (detail.empty()) return msg;
  return msg.empty() ? detail : msg + " (" + detail + ")";
}

}  // namespace

Result<std::string> LoadNcbApiKey(const NcbConfig& config) {
  if (!config.api_key_file.empty()) {
    auto key = ReadSecretFile(config.api_key_file, "ncb.api_key_file (NCB API key)");
    if (!key.ok()) return key.status();
    std::string k = Trim(*key);
    if (k.empty()) return Status::Config("NCB API key file " + config.api_key_file + " is empty");
    return k;
  }
  std::string k = Trim(config.api_key);
  if (k.empty()) {
    return Status::Config("no NCB API key: set ncb.api_key_file to a 0600 file holding it (or NCB_API_KEY)");
  }
  return k;
}

NcbResponse ParseNcbResponse(const HttpResponse& r) {
  NcbResponse out;
  out.http_status = r.status;
  out.request_id = r.request_id;
  if (r.status == 0) {
    // Named, so an operator reading the log knows where to look.
    const char* what = nullptr;  // other failures say enough themselves
    switch (r.transport) {
      case TransportError::kConnect: what = "connection refused or host unreachable"; break;
      case TransportError::kTimeout: what = "timed out"; break;
      case TransportError::kTls: what = "TLS failure"; break;
      case TransportError::kReset: what = "connection dropped"; break;
      default: break;
    }
    if (what == nullptr) out.message = r.error.empty() ? "no answer" : r.error;
    else out.message = r.error.empty() ? what : std::string(what) + ": " + r.error;
    return out;
  }
  out.retry_after = r.RetryAfter();
  try {
    auto j = nlohmann::json::parse(r.body);
    if (j.is_object()) {
      out.reference = FieldText(j, "claim_reference");
      out.error_code = FieldText(j, "error_code");
      out.message = Clip(DescribeError(j));
      auto ra = j.find("retry_after");
      if (ra != j.end() && ra->is_number()) {
        // As a double, clamped: get<int>() of 1e300 would be undefined behaviour.
        double v = std::min(ra->get<double>(), 999999999.0);
        if (v > out.retry_after) out.retry_after = static_cast<int>(v);
      }
    }
  } catch (const nlohmann::json::exception&) {
    // Not NCB's JSON (a proxy or load balancer answered): the status says enough.
  }
  if (out.message.empty() && r.status >= 400) out.message = "HTTP " + std::to_string(r.status);
  return out;
}

NcbHttpClient::NcbHttpClient(std::string base_url, std::string api_key, std::unique_ptr<HttpClient> http,
                             Logger log)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)), http_(std::move(http)),
      log_(log ? std::move(log) : NullLogger()) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

NcbResponse NcbHttpClient::Submit(const std::string& body, const std::string& idempotency_key) {
  HttpRequest req;
  req.method = "POST";
  req.url = base_url_ + "/claims/submit";
  req.headers = {{"Authorization", "Bearer " + api_key_},
                 {"Content-Type", "application/json"},
                 {"Accept", "application/json"},
                 {"Idempotency-Key", idempotency_key}};
  req.body = body;
  auto r = http_->Send(req);
  if (r.ok() && r->status == 0 && r->transport == TransportError::kReset) {
    // The answer was lost, perhaps after NCB committed: ask again at once.
    // The same Idempotency-Key makes this a replay, never a second claim.
    log_->info("NCB connection dropped (request {}); retrying once with the same Idempotency-Key",
               r->request_id);
    r = http_->Send(req);
  }
  if (!r.ok()) {
    NcbResponse out;
    out.message = r.status().message();
    return out;
  }
  return ParseNcbResponse(*r);
}

Status NcbHttpClient::Health() {
  HttpRequest req;
  req.url = base_url_ + "/health";
  req.headers = {{"Authorization", "Bearer " + api_key_}, {"Accept", "application/json"}};
  auto r = http_->Send(req);
  if (!r.ok()) return r.status();
  if (r->status == 0) {
    std::string what = "NCB at " + RedactUrl(base_url_) + " did not answer: " + r->error;
    return r->transport == TransportError::kTls ? Status::Config(what) : Status::Unavailable(what);
  }
  if (r->status == 401 || r->status == 403) {
    return Status::Credentials("NCB refused the API key (HTTP " + std::to_string(r->status) + ")");
  }
  if (r->status != 200) {
    return Status::Unavailable("NCB health check answered HTTP " + std::to_string(r->status));
  }
  try {
    auto j = nlohmann::json::parse(r->body);
    if (j.value("status", "") == "ok") return Status::Ok();
  } catch (const nlohmann::json::exception&) {
  }
  return Status::Unavailable("NCB health check answered 200 without {\"status\":\"ok\"}");
}

Result<std::unique_ptr<NcbClient>> MakeNcbHttpClient(const NcbConfig& config, Logger log) {
  Status allowed = CheckUrlAllowed(config.base_url);
  if (!allowed.ok()) return allowed.WithContext("ncb.base_url");
  auto key = LoadNcbApiKey(config);
  if (!key.ok()) return key.status();
  HttpOptions o;
  o.ca_file = config.ca_file;
  o.connect_timeout_s = config.connect_timeout;
  o.timeout_s = config.timeout;
  o.max_attempts = 1;  // retries go through the spool (see ncb_http.h)
  return std::unique_ptr<NcbClient>(
      std::make_unique<NcbHttpClient>(config.base_url, *key, MakeCurlClient(o, log), log));
}

}  // namespace ncbocr
