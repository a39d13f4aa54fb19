#include "ncbocr/ncb.h"

#include <cmath>
#include <cstdio>
#include <set>

#include "ncbocr/ncb_http.h"
#include "ncbocr/segment.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

const std::set<std::string>& MoneyFields() {
  static const std::set<std::string> f = {"total_amount", "sst_amount", "gst_amount"};
  return f;
}

// Places value at a dotted path inside obj, creating objects on the way.
void SetPath(nlohmann::json& obj, const std::string& dotted, nlohmann::json value) {
  nlohmann::json* cur = &obj;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      (*cur)[part] = std::move(value);
      return;
    }
    cur = &(*cur)[part];
    if (!cur->is_object()) *cur = nlohmann::json::object();
    start = dot + 1;
  }
}

std::optional<double> ParseMoney(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

Result<std::string> BuildNcbBody(const ClaimValues& v, const NcbConfig& config,
                                 const ExtractConfig& extract, TimePoint now) {
  nlohmann::json body = nlohmann::json::object();
  // Money values are written as placeholders and replaced after dump(), since
  // nlohmann::json cannot be told to print 150.00 rather than 150.0.
  std::vector<std::pair<std::string, std::string>> money;
  auto lookup = [&](const std::string& alternatives) -> std::pair<std::string, std::string> {
    size_t start = 0;
    while (true) {
      size_t bar = alternatives.find('|', start);
      std::string f = alternatives.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
      if (f == "submission_date") return {f, IsoLocal(now)};
      auto it = v.fields.find(f);
      if (it != v.fields.end() && !Trim(it->second).empty()) return {f, Trim(it->second)};
      if (bar == std::string::npos) return {f, ""};
      start = bar + 1;
    }
  };
  // Every missing field at once: a clerk approving a claim fixes them in
  // one go, not one per attempt.
  std::vector<std::string> missing;
  for (const auto& [ncb_name, alternatives] : config.field_map) {
    auto [field, value] = lookup(alternatives);
    bool required = ncb_name == "Event date" || ncb_name == "Claim Amount" ||
                    ncb_name == "Policy Number" ||
                    (ncb_name == "Invoice Number" && !extract.allow_empty_invoice_number);
    if (value.empty() && required) {
      missing.push_back("'" + ncb_name + "' (" + alternatives + ")");
      continue;
    }
    if (field == "confidence") {
      SetPath(body, ncb_name, std::round(v.confidence * 1000) / 1000);
    } else if (MoneyFields().count(field)) {
      if (value.empty()) {
        SetPath(body, ncb_name, nullptr);
        continue;
      }
      auto amount = ParseMoney(value);
      if (!amount || (field == "total_amount" && *amount <= 0)) {
        return Status::Permanent("NCB field '" + ncb_name + "' needs a positive amount, got '" + value + "'");
      }
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.2f", *amount);
      std::string token = "@@money" + std::to_string(money.size()) + "@@";
      money.emplace_back("\"" + token + "\"", buf);
      SetPath(body, ncb_name, token);
    } else {
      SetPath(body, ncb_name, value);
    }
  }
  if (missing.size() == 1) return Status::Permanent("required NCB field " + missing[0] + " has no value");
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Status::Permanent("required NCB fields have no value: " + list);
  }
  std::string out = body.dump(2);
  for (const auto& [token, number] : money) {
    size_t pos = out.find(token);
    if (pos != std::string::npos) out.replace(pos, token.size(), number);
  }
  return out + "\n";
}

std::string IdempotencyKey(const Claim& c) {
  // The receipt's content, not the claim id: if the spool were ever rebuilt
  // from the mailbox, the same receipt would still carry the same key.
  if (c.attachment && !c.attachment->sha256.empty()) {
    if (c.attachment_receipts > 1 && c.pages) {
      return "ncbocr-" + Sha256Hex(ReceiptKey(c.attachment->sha256, *c.pages)).substr(0, 40);
    }
    return "ncbocr-" + c.attachment->sha256.substr(0, 40);
  }
  return "ncbocr-claim-" + c.id;
}

NcbResponse FileOutboxClient::Submit(const std::string& body, const std::string& key) {
  NcbResponse r;
  r.request_id = RandomHex(8);
  r.reference = "LOCAL-" + Sha256Hex(key).substr(0, 12);
  fs::path path = fs::path(dir_) / (key + ".json");
  std::error_code ec;
  if (fs::exists(path, ec)) {
    r.http_status = 200;  // a replay of an accepted key
    return r;
  }
  Status s = MakeDirs(dir_, 0700);
  if (s.ok()) s = AtomicWriteFile(path, body, 0600);
  if (!s.ok()) {
    r.http_status = 0;
    r.message = s.message();
    return r;
  }
  r.http_status = 201;
  return r;
}

Status FileOutboxClient::Health() {
  Status s = MakeDirs(dir_, 0700);
  if (!s.ok()) return Status::Unavailable("local NCB outbox " + dir_ + " is not usable: " + s.message());
  return Status::Ok();
}

Result<std::unique_ptr<NcbClient>> MakeNcbClient(const NcbConfig& config, Logger log) {
  const std::string& u = config.base_url;
  if (u.empty()) return Status::Config("no NCB configured: set NCB_API_BASE_URL (or ncb.base_url)");
  if (u.rfind("file://", 0) == 0) {
    return std::unique_ptr<NcbClient>(std::make_unique<FileOutboxClient>(u.substr(7)));
  }
  return MakeNcbHttpClient(config, log);
}

}  // namespace ncbocr
