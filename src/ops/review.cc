#include "ncbocr/review.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>
#include <thread>

#include "ncbocr/ncb.h"
#include "ncbocr/parse.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

using Json = nlohmann::json;

enum class FieldKind { kText, kDate, kPositiveAmount, kAmount };

const std::map<std::string, FieldKind>& FieldKinds() {
  static const std::map<std::string, FieldKind> kinds = {
      {"service_date", FieldKind::kDate},        {"total_amount", FieldKind::kPositiveAmount},
      {"sst_amount", FieldKind::kAmount},        {"gst_amount", FieldKind::kAmount},
      {"receipt_number", FieldKind::kText},      {"policy_number", FieldKind::kText},
      {"member_id", FieldKind::kText},           {"member_name", FieldKind::kText},
      {"provider_name", FieldKind::kText},       {"provider_address", FieldKind::kText},
      {"currency", FieldKind::kText},
  };
  return kinds;
}

bool Waiting(ClaimState s) { return s == ClaimState::kReview || s == ClaimState::kFailed; }

Json ParseOr(const Result<std::string>& bytes, Json fallback) {
  if (!bytes.ok()) return fallback;
  try {
    return Json::parse(*bytes);
  } catch (const Json::exception&) {
    return fallback;
  }
}


std::string Cut(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<std::string> NormalizeDate(const std::string& v, TimePoint now) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-' || !AllDigits(v.substr(0, 4)) ||
      !AllDigits(v.substr(5, 2)) || !AllDigits(v.substr(8, 2))) {
    return Status::Permanent("'" + v + "' is not a date in the form YYYY-MM-DD");
  }
  Date d{std::stoi(v.substr(0, 4)), std::stoi(v.substr(5, 2)), std::stoi(v.substr(8, 2))};
  if (!IsValidDate(d.year, d.month, d.day)) return Status::Permanent(v + " is not a calendar date");
  if (d > LocalDateOf(now)) return Status::Permanent(v + " is in the future");
  return d.Iso();
}

// Strict on purpose: a clerk's typo must be refused, not "repaired" the way
// OCR output is (no O-for-0, no guessing where the decimal point was).
Result<std::string> NormalizeAmount(const std::string& raw, bool positive) {
  std::string v = ToUpper(Trim(raw));
  for (const char* cur : {"MYR", "RM"}) {
    std::string c = cur;
    if (v.rfind(c, 0) == 0) v = Trim(v.substr(c.size()));
    if (v.size() > c.size() && v.compare(v.size() - c.size(), c.size(), c) == 0) {
      v = Trim(v.substr(0, v.size() - c.size()));
    }
  }
  std::string whole = v, frac;
  if (size_t dot = v.find('.'); dot != std::string::npos) {
    whole = v.substr(0, dot);
    frac = v.substr(dot + 1);
    if (!AllDigits(frac) || frac.size() > 2) {
      return Status::Permanent("'" + raw + "' is not an amount with at most two decimals");
    }
  }
  if (whole.find(',') != std::string::npos) {  // thousands separators, in the right places only
    std::string digits;
    size_t first = whole.find(',');
    if (first == 0 || first > 3) return Status::Permanent("'" + raw + "' is not an amount");
    for (size_t i = first; i < whole.size(); i += 4) {
      if (whole[i] != ',' || i + 4 > whole.size() || !AllDigits(whole.substr(i + 1, 3))) {
        return Status::Permanent("'" + raw + "' is not an amount");
      }
    }
    whole.erase(std::remove(whole.begin(), whole.end(), ','), whole.end());
  }
  if (!AllDigits(whole) || whole.size() > 9) return Status::Permanent("'" + raw + "' is not an amount");
  while (frac.size() < 2) frac.push_back('0');
  Cents cents = std::stoll(whole) * 100 + std::stoll(frac);
  if (positive && cents <= 0) return Status::Permanent("'" + raw + "' must be more than zero");
  return FormatCents(cents);
}

Result<std::string> NormalizeText(const std::string& raw) {
  std::string v = Trim(raw);
  if (v.size() > 200) return Status::Permanent("value is longer than 200 characters");
  for (unsigned char ch : v) {
    if (ch < 0x20 || ch == 0x7f) return Status::Permanent("value contains a control character or line break");
  }
  return v;
}

Result<Claim> LoadWaiting(const Spool& spool, const std::string& id) {
  auto c = spool.Load(id);
  if (!c.ok()) return c.status();
  if (!Waiting(c->state)) {
    return Status::Permanent("claim " + id + " is in " + ClaimStateName(c->state) +
                             ", not waiting for review (review or failed)");
  }
  return c;
}

Status CheckReviewer(const std::string& name) {
  if (!ValidReviewerName(name)) {
    return Status::Usage("reviewer name '" + name + "' may hold only letters, digits, '.', '_', '-' and '@'");
  }
  return Status::Ok();
}

void AddReviewNote(Claim& c, Json entry) {
  if (!c.notes.contains("reviews") || !c.notes["reviews"].is_array()) c.notes["reviews"] = Json::array();
  c.notes["reviews"].push_back(std::move(entry));
}

}  // namespace

const std::vector<std::string>& ReviewableFields() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, kind] : FieldKinds()) v.push_back(name);
    return v;
  }();
  return names;
}

Result<std::string> NormalizeCorrection(const std::string& field, const std::string& value, TimePoint now) {
  auto it = FieldKinds().find(field);
  if (it == FieldKinds().end()) {
    std::string known;
    for (const auto& n : ReviewableFields()) known += (known.empty() ? "" : ", ") + n;
    return Status::Permanent("unknown field '" + field + "' (known: " + known + ")");
  }
  Result<std::string> r = Status::Internal("unset");
  switch (it->second) {
    case FieldKind::kDate: r = NormalizeDate(Trim(value), now); break;
    case FieldKind::kPositiveAmount: r = NormalizeAmount(value, true); break;
    case FieldKind::kAmount: r = NormalizeAmount(value, false); break;
    case FieldKind::kText: r = NormalizeText(value); break;
  }
  if (!r.ok()) return r.status().WithContext(field);
  return r;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseSetArgs(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string> seen;
  for (const auto& a : args) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || Trim(a.substr(0, eq)).empty()) {
      return Status::Usage("--set needs FIELD=VALUE, got '" + a + "'");
    }
    std::string field = Trim(a.substr(0, eq));
    if (!seen.insert(field).second) return Status::Usage("field " + field + " is set twice");
    out.emplace_back(field, a.substr(eq + 1));
  }
  return out;
}

Json ListExceptions(const Spool& spool, TimePoint now) {
  std::vector<Json> rows;
  for (ClaimState s : {ClaimState::kReview, ClaimState::kFailed}) {
    for (const auto& id : spool.List(s)) {
      auto c = spool.LoadIn(s, id);
      if (!c.ok()) continue;
      Json r;
      r["id"] = c->id;
      r["state"] = ClaimStateName(s);
      std::string since = c->history.empty() ? c->created_at : c->history.back().at;
      r["waiting_since"] = since;
      auto t = ParseIso(since);
      r["age_s"] = t ? Json(std::chrono::duration_cast<std::chrono::seconds>(now - *t).count()) : Json();
      r["sender"] = JsonString(ParseOr(spool.ReadClaimFile(*c, "email.json"), Json::object()), "from_address");
      r["filename"] = c->attachment ? c->attachment->filename : "";
      r["file"] = AttachmentLabel(*c, 20);
      r["pages"] = c->pages ? Json::array({c->pages->first, c->pages->last}) : Json();
      r["confidence"] = c->confidence ? Json(*c->confidence) : Json();
      r["reasons"] = c->review_reasons;
      r["reason"] = c->reason;
      rows.push_back(std::move(r));
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Json& a, const Json& b) {
    return std::make_pair(JsonString(a, "waiting_since"), JsonString(a, "id")) <
           std::make_pair(JsonString(b, "waiting_since"), JsonString(b, "id"));
  });
  return Json(rows);
}

std::string ExceptionsText(const Json& list) {
  std::ostringstream out;
  char line[1024];
  std::snprintf(line, sizeof line, "%-30s %-7s %6s  %-28s %-20s %5s  %s\n", "ID", "STATE", "AGE",
                "SENDER", "FILE", "CONF", "REASONS");
  out << line;
  for (const auto& r : list) {
    char conf[8] = "-";
    if (r["confidence"].is_number()) std::snprintf(conf, sizeof conf, "%.2f", r["confidence"].get<double>());
    std::string why;
    for (const auto& x : r["reasons"]) why += (why.empty() ? "" : "; ") + x.get<std::string>();
    if (why.empty()) why = JsonString(r, "reason");
    std::string age = r["age_s"].is_number() ? ShortAge(r["age_s"].get<double>()) : "-";
    const std::string file = JsonString(r, "file").empty() ? JsonString(r, "filename") : JsonString(r, "file");
    std::snprintf(line, sizeof line, "%-30s %-7s %6s  %-28s %-20s %5s  %s\n", JsonString(r, "id").c_str(),
                  JsonString(r, "state").c_str(), age.c_str(), Cut(JsonString(r, "sender"), 28).c_str(),
                  Cut(file, 20).c_str(), conf, Cut(why, 160).c_str());
    out << line;
  }
  if (list.empty()) out << "(no claims waiting for review)\n";
  return out.str();
}

Result<Json> ShowException(const Spool& spool, const std::string& id) {
  auto c = spool.Load(id);
  if (!c.ok()) return c.status();
  Json email = ParseOr(spool.ReadClaimFile(*c, "email.json"), Json::object());
  Json extract = ParseOr(spool.ReadClaimFile(*c, "extract.json"), Json::object());
  Json ocr = ParseOr(spool.ReadClaimFile(*c, "ocr.json"), Json::object());
  Json j;
  j["id"] = c->id;
  j["state"] = ClaimStateName(c->state);
  j["sender"] = JsonString(email, "from_address");
  j["subject"] = JsonString(email, "subject");
  j["filename"] = AttachmentLabel(*c);
  j["pages"] = c->pages ? Json::array({c->pages->first, c->pages->last}) : Json();
  j["original"] = c->attachment ? (spool.ClaimDir(*c) / c->attachment->stored_name).string() : "";
  j["confidence"] = c->confidence ? Json(*c->confidence) : Json();
  j["reason"] = c->reason;
  j["reasons"] = extract.contains("reasons") ? extract["reasons"] : Json(c->review_reasons);
  j["fields"] = extract.contains("fields") ? extract["fields"] : Json::object();
  j["corrections"] = extract.contains("corrections") ? extract["corrections"] : Json::array();
  j["ocr_text"] = Json::array();
  if (ocr.contains("pages") && ocr["pages"].is_array()) {
    for (const auto& p : ocr["pages"]) j["ocr_text"].push_back(p.is_object() ? JsonString(p, "text") : "");
  }
  return j;
}

std::string ExceptionText(const Json& j) {
  std::ostringstream out;
  out << "claim      " << JsonString(j, "id") << " (" << JsonString(j, "state") << ")\n"
      << "sender     " << JsonString(j, "sender") << "\n"
      << "subject    " << JsonString(j, "subject") << "\n"
      << "file       " << JsonString(j, "filename") << "\n"
      << "original   " << JsonString(j, "original") << "\n";
  if (j["confidence"].is_number()) out << "confidence " << j["confidence"].get<double>() << "\n";
  if (!JsonString(j, "reason").empty()) out << "reason     " << JsonString(j, "reason") << "\n";
  for (const auto& r : j["reasons"]) out << "review     " << (r.is_string() ? r.get<std::string>() : r.dump()) << "\n";
  out << "\nfields\n";
  char line[1024];
  for (const auto& [name, f] : j["fields"].items()) {
    if (!f.is_object()) continue;
    const Json& v = f.contains("value") ? f["value"] : Json();
    std::string value = v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump();
    char conf[16] = "-";
    if (f.contains("confidence") && f["confidence"].is_number()) {
      std::snprintf(conf, sizeof conf, "%.2f", f["confidence"].get<double>());
    }
    std::snprintf(line, sizeof line, "  %-18s %-40s %5s  %s\n", name.c_str(), Cut(value, 40).c_str(), conf,
                  JsonString(f, "source").c_str());
    out << line;
  }
  for (const auto& c : j["corrections"]) out << "corrected  " << c.dump() << "\n";
  int page = 1;
  for (const auto& t : j["ocr_text"]) {
    out << "\n--- OCR text, page " << page++ << " ---\n" << t.get<std::string>() << "\n";
  }
  return out.str();
}

Status ApproveClaim(const Spool& spool, const Config& config, const ReviewDecision& d, TimePoint now) {
  Status s = CheckReviewer(d.reviewer);
  if (!s.ok()) return s;
  auto loaded = LoadWaiting(spool, d.id);
  if (!loaded.ok()) return loaded.status();
  Claim c = *loaded;

  std::vector<std::pair<std::string, std::string>> fixed;
  for (const auto& [field, value] : d.corrections) {
    auto v = NormalizeCorrection(field, value, now);
    if (!v.ok()) return v.status().WithContext("claim " + c.id);
    fixed.emplace_back(field, *v);
  }
  // A failed claim may never have been extracted: the clerk then types every
  // field from the original, and the required-field check below holds them to it.
  Json x = Json{{"fields", Json::object()}, {"confidence", 0.0}, {"decision", "review"}, {"reasons", Json::array()}};
  if (spool.HasClaimFile(c, "extract.json")) {
    auto bytes = spool.ReadClaimFile(c, "extract.json");
    if (!bytes.ok()) return bytes.status();
    try {
      x = Json::parse(*bytes);
    } catch (const Json::exception& e) {
      return Status::Permanent("claim " + c.id + ": unreadable extract.json: " + e.what());
    }
    if (!x.is_object() || !x.contains("fields") || !x["fields"].is_object()) {
      return Status::Permanent("claim " + c.id + ": extract.json has no fields object");
    }
  }
  std::string at = IsoUtc(now);
  Json changes = Json::array();
  std::string names;
  if (!x.contains("corrections") || !x["corrections"].is_array()) x["corrections"] = Json::array();
  for (const auto& [field, value] : fixed) {
    Json old = x["fields"].contains(field) && x["fields"][field].is_object() ? x["fields"][field].value("value", Json())
                                                                            : Json();
    x["fields"][field] = {{"value", value}, {"confidence", 1.0}, {"source", "reviewer"}};
    changes.push_back({{"field", field}, {"old", old}, {"new", value}});
    x["corrections"].push_back({{"at", at}, {"by", d.reviewer}, {"field", field}, {"old", old}, {"new", value}});
    names += (names.empty() ? "" : ", ") + field;
  }
  auto body = BuildNcbBody(ClaimValuesOf(x, c), config.ncb, config.extract, now);
  if (!body.ok()) return Status::Permanent("cannot approve claim " + c.id + ": " + body.status().message());
  x["review"] = {{"decision", "approved"}, {"by", d.reviewer}, {"at", at}};

  if (!fixed.empty() || !spool.HasClaimFile(c, "extract.json")) {
    s = spool.WriteClaimFile(c, "extract.json", x.dump(2) + "\n");
    if (!s.ok()) return s;
  }
  AddReviewNote(c, {{"at", at}, {"by", d.reviewer}, {"decision", "approved"}, {"changes", changes}, {"note", d.note}});
  std::string reason = "approved";
  if (!names.empty()) reason += "; corrected " + names;
  if (!d.note.empty()) reason += "; note in notes.reviews";
  return spool.Move(c, ClaimState::kReady, "user:" + d.reviewer, reason);
}

Status RejectClaim(const Spool& spool, const ReviewDecision& d, TimePoint now) {
  Status s = CheckReviewer(d.reviewer);
  if (!s.ok()) return s;
  if (Trim(d.reason).empty()) return Status::Usage("a rejection needs --reason");
  auto loaded = LoadWaiting(spool, d.id);
  if (!loaded.ok()) return loaded.status();
  Claim c = *loaded;
  AddReviewNote(c, {{"at", IsoUtc(now)}, {"by", d.reviewer}, {"decision", "rejected"}, {"reason", Trim(d.reason)}});
  return spool.Move(c, ClaimState::kRejected, "user:" + d.reviewer, "rejected: " + Trim(d.reason));
}

std::string CurrentUserName() {
  char buf[256];
  if (::getlogin_r(buf, sizeof buf) == 0 && ValidReviewerName(buf)) return buf;
  struct passwd pw{};
  struct passwd* found = nullptr;
  char pwbuf[4096];
  if (::getpwuid_r(::geteuid(), &pw, pwbuf, sizeof pwbuf, &found) == 0 && found && ValidReviewerName(pw.pw_name)) {
    return pw.pw_name;
  }
  return "uid" + std::to_string(::geteuid());
}

bool ValidReviewerName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-' || ch == '@';
  });
}

Result<StageLock> LockForManualChange(const Spool& spool, std::chrono::seconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto lock = spool.TryLockStage("review");
    if (!lock.ok() || lock->held()) return lock;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Transient("another approve, retry, backup or restore holds the spool; try again shortly");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace ncbocr
