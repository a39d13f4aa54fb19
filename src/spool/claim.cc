#include "ncbocr/claim.h"

#include <chrono>
#include <ctime>

#include "ncbocr/util.h"

namespace ncbocr {

namespace {

struct StateName {
  ClaimState state;
  const char* name;
};

constexpr StateName kStates[] = {
    {ClaimState::kFetched, "fetched"},     {ClaimState::kOcred, "ocred"},
    {ClaimState::kReady, "ready"},         {ClaimState::kSubmitted, "submitted"},
    {ClaimState::kDone, "done"},           {ClaimState::kReview, "review"},
    {ClaimState::kDeferred, "deferred"},   {ClaimState::kFailed, "failed"},
    {ClaimState::kRejected, "rejected"},   {ClaimState::kDuplicate, "duplicate"},
};

int Int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

}  // namespace

const std::vector<ClaimState>& AllClaimStates() {
  static const std::vector<ClaimState> all = [] {
    std::vector<ClaimState> v;
    for (const auto& s : kStates) v.push_back(s.state);
    return v;
  }();
  return all;
}

const char* ClaimStateName(ClaimState s) {
  for (const auto& e : kStates) {
    if (e.state == s) return e.name;
  }
  return "unknown";
}

std::optional<ClaimState> ParseClaimState(const std::string& name) {
  for (const auto& e : kStates) {
    if (name == e.name) return e.state;
  }
  return std::nullopt;
}

nlohmann::json Claim::ToJson() const {
  nlohmann::json j;
  j["id"] = id;
  j["state"] = ClaimStateName(state);
  j["created_at"] = created_at;
  j["source"] = {{"kind", source.kind},           {"email_id", source.email_id},
                 {"message_id", source.message_id}, {"source_key", source.source_key},
                 {"part_index", source.part_index}, {"part_count", source.part_count},
                 {"received_at", source.received_at}};
  if (attachment) {
    j["attachment"] = {{"filename", attachment->filename},
                       {"content_type", attachment->content_type},
                       {"sha256", attachment->sha256},
                       {"size", attachment->size},
                       {"stored_name", attachment->stored_name}};
  } else {
    j["attachment"] = nullptr;
  }
  j["skipped"] = skipped;
  j["pages"] = pages ? nlohmann::json::array({pages->first, pages->last}) : nlohmann::json();
  j["attachment_receipts"] = attachment_receipts;
  j["split_from"] = split_from;
  j["attempts"] = attempts;
  if (interrupted) j["interrupted"] = interrupted;
  if (open_attempt) {
    j["open_attempt"] = {{"stage", open_attempt->stage},
                         {"run", open_attempt->run},
                         {"started_at", open_attempt->started_at}};
  }
  j["next_attempt_at"] = next_attempt_at;
  j["resume_state"] = resume_state ? nlohmann::json(ClaimStateName(*resume_state)) : nlohmann::json();
  j["reason"] = reason;
  j["review_reasons"] = review_reasons;
  j["confidence"] = confidence ? nlohmann::json(*confidence) : nlohmann::json();
  j["ncb_reference"] = ncb_reference;
  j["submitted_at"] = submitted_at;
  j["duplicate_of"] = duplicate_of;
  j["archived_path"] = archived_path;
  nlohmann::json h = nlohmann::json::array();
  for (const auto& e : history) {
    h.push_back({{"at", e.at}, {"from", e.from}, {"to", e.to}, {"actor", e.actor}, {"reason", e.reason}});
  }
  j["history"] = h;
  j["notes"] = notes;
  return j;
}

Result<Claim> Claim::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Permanent("claim manifest is not a JSON object");
  Claim c;
  c.id = JsonString(j, "id");
  if (c.id.empty()) return Status::Permanent("claim manifest has no id");
  if (auto s = ParseClaimState(JsonString(j, "state"))) c.state = *s;
  c.created_at = JsonString(j, "created_at");
  if (j.contains("source") && j["source"].is_object()) {
    const auto& s = j["source"];
    c.source.kind = JsonString(s, "kind");
    c.source.email_id = JsonString(s, "email_id");
    c.source.message_id = JsonString(s, "message_id");
    c.source.source_key = JsonString(s, "source_key");
    c.source.part_index = Int(s, "part_index");
    c.source.part_count = Int(s, "part_count");
    c.source.received_at = JsonString(s, "received_at");
  }
  if (j.contains("attachment") && j["attachment"].is_object()) {
    const auto& a = j["attachment"];
    Attachment att;
    att.filename = JsonString(a, "filename");
    att.content_type = JsonString(a, "content_type");
    att.sha256 = JsonString(a, "sha256");
    att.size = a.contains("size") && a["size"].is_number() ? a["size"].get<long long>() : 0;
    att.stored_name = JsonString(a, "stored_name");
    c.attachment = att;
  }
  if (j.contains("skipped") && j["skipped"].is_array()) {
    for (const auto& s : j["skipped"]) {
      if (s.is_string()) c.skipped.push_back(s.get<std::string>());
    }
  }
  if (j.contains("pages") && j["pages"].is_array() && j["pages"].size() == 2 &&
      j["pages"][0].is_number_integer() && j["pages"][1].is_number_integer()) {
    PageRange r{j["pages"][0].get<int>(), j["pages"][1].get<int>()};
    if (r.first >= 1 && r.last >= r.first) c.pages = r;
  }
  c.attachment_receipts = Int(j, "attachment_receipts");
  c.split_from = JsonString(j, "split_from");
  c.attempts = Int(j, "attempts");
  c.interrupted = Int(j, "interrupted");
  if (j.contains("open_attempt") && j["open_attempt"].is_object()) {
    const auto& a = j["open_attempt"];
    c.open_attempt =
        OpenAttempt{JsonString(a, "stage"), JsonString(a, "run"), JsonString(a, "started_at")};
  }
  c.next_attempt_at = JsonString(j, "next_attempt_at");
  if (auto r = ParseClaimState(JsonString(j, "resume_state"))) c.resume_state = *r;
  c.reason = JsonString(j, "reason");
  if (j.contains("review_reasons") && j["review_reasons"].is_array()) {
    for (const auto& s : j["review_reasons"]) {
      if (s.is_string()) c.review_reasons.push_back(s.get<std::string>());
    }
  }
  if (j.contains("confidence") && j["confidence"].is_number()) c.confidence = j["confidence"].get<double>();
  c.ncb_reference = JsonString(j, "ncb_reference");
  c.submitted_at = JsonString(j, "submitted_at");
  c.duplicate_of = JsonString(j, "duplicate_of");
  c.archived_path = JsonString(j, "archived_path");
  if (j.contains("history") && j["history"].is_array()) {
    for (const auto& e : j["history"]) {
      if (!e.is_object()) continue;
      c.history.push_back({JsonString(e, "at"), JsonString(e, "from"), JsonString(e, "to"), JsonString(e, "actor"), JsonString(e, "reason")});
    }
  }
  if (j.contains("notes") && j["notes"].is_object()) c.notes = j["notes"];
  return c;
}

std::string PageRange::Describe() const {
  if (first == last) return "page " + std::to_string(first);
  return "pages " + std::to_string(first) + "-" + std::to_string(last);
}

std::string AttachmentLabel(const Claim& c) {
  if (!c.attachment) return "";
  if (c.attachment_receipts > 1 && c.pages) return c.attachment->filename + " (" + c.pages->Describe() + ")";
  return c.attachment->filename;
}

std::string AttachmentLabel(const Claim& c, size_t width) {
  std::string label = AttachmentLabel(c);
  if (label.size() <= width || !c.attachment)
    return label.size() <= width ? label : label.substr(0, width - 1) + "~";
  const std::string pages = label.substr(c.attachment->filename.size());
  const size_t room = width > pages.size() + 4 ? width - pages.size() : 4;
  return c.attachment->filename.substr(0, room - 1) + "~" + pages;
}

std::string NewClaimId() {
  auto now = std::chrono::system_clock::now();
  std::time_t tt = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return std::string(buf) + "-" + RandomHex(4);
}

std::string ClaimDay(const Claim& c) {
  return FormatLocal(ParseIso(c.created_at).value_or(std::chrono::system_clock::now()), "%Y/%m/%d");
}

ClaimValues ClaimValuesOf(const nlohmann::json& extract, const Claim& c) {
  ClaimValues v;
  if (extract.is_object() && extract.contains("fields") && extract["fields"].is_object()) {
    for (const auto& [name, f] : extract["fields"].items()) {
      if (!f.is_object() || !f.contains("value")) continue;
      const auto& val = f["value"];
      if (val.is_string()) v.fields[name] = val.get<std::string>();
      if (val.is_number()) v.fields[name] = val.dump();
    }
  }
  if (extract.is_object() && extract.contains("confidence") && extract["confidence"].is_number())
    v.confidence = extract["confidence"];
  v.fields["source_email_id"] = c.source.email_id;
  // NCB has no field for a page range; the file's name is where a clerk at
  // NCB looks for which receipt of a multi-receipt scan this claim is.
  v.fields["source_filename"] = AttachmentLabel(c);
  v.fields["claim_id"] = c.id;
  return v;
}

}  // namespace ncbocr
