#include "ncbocr/report.h"

#include <cstdio>
#include <set>
#include <sstream>

#include "ncbocr/util.h"

namespace ncbocr {

namespace {

std::string Cut(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 1) + "~";
}

}  // namespace

const std::vector<std::string>& PipelineStages() {
  static const std::vector<std::string> stages = {"fetch", "ocr", "extract", "submit", "archive"};
  return stages;
}

std::vector<std::string> RecordedStages(const Spool& spool) {
  std::set<std::string> names(PipelineStages().begin(), PipelineStages().end());
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(spool.root() / "stages", ec)) {
    if (e.path().extension() == ".json") names.insert(e.path().stem().string());
  }
  return {names.begin(), names.end()};
}

nlohmann::json StatusJson(const Spool& spool, TimePoint now) {
  nlohmann::json j;
  j["spool"] = spool.root().string();
  j["queues"] = nlohmann::json::object();
  j["oldest_age_s"] = nlohmann::json::object();
  for (const auto& q : spool.Stats()) {
    const char* name = ClaimStateName(q.state);
    j["queues"][name] = q.count;
    if (q.oldest) {
      j["oldest_age_s"][name] = std::chrono::duration_cast<std::chrono::seconds>(now - *q.oldest).count();
    } else {
      j["oldest_age_s"][name] = nullptr;
    }
  }
  // What waits for a clerk: receipts that could not go on, and emails with
  // nothing to claim (no receipt attached: a clerk answers the member).
  int receipts = 0, nothing = 0;
  for (ClaimState s : {ClaimState::kReview, ClaimState::kFailed}) {
    for (const auto& id : spool.List(s)) {
      auto c = spool.LoadIn(s, id);
      if (!c.ok()) continue;
      (c->attachment ? receipts : nothing)++;
    }
  }
  j["for_clerk"] = {{"receipts", receipts}, {"nothing_to_claim", nothing}};
  j["stages"] = nlohmann::json::object();
  j["runs"] = nlohmann::json::object();
  for (const auto& s : PipelineStages()) {
    auto run = spool.ReadStageRun(s);
    j["stages"][s] = run ? *run : nlohmann::json();
    j["runs"][s] = StageRunJson(spool, s, now);
  }
  return j;
}

nlohmann::json StageRunJson(const Spool& spool, const std::string& stage, TimePoint now) {
  nlohmann::json out = nlohmann::json::array();
  for (nlohmann::json r : spool.ReadStageLeases(stage)) {
    bool alive = r.value("alive", false);
    r.erase("alive");
    r["lock_held"] = alive;
    int lease_s = r.value("lease_s", kStageLeaseSeconds);
    auto renewed = ParseIso(r.value("renewed_at", ""));
    if (renewed) {
      r["renewed_age_s"] = std::chrono::duration_cast<std::chrono::seconds>(now - *renewed).count();
    }
    if (!alive) {
      r["state"] = "died";
    } else if (!renewed) {
      r["state"] = "locked";
    } else {
      r["state"] = r["renewed_age_s"].get<long long>() > lease_s ? "stale" : "running";
    }
    out.push_back(std::move(r));
  }
  if (out.empty() && spool.StageLockHeld(stage)) {
    out.push_back({{"lock_held", true}, {"state", "locked"}});
  }
  return out;
}

std::string StatusText(const nlohmann::json& j) {
  std::ostringstream out;
  char line[256];
  out << "spool " << j.value("spool", "") << "\n\n";
  std::snprintf(line, sizeof line, "%-10s %7s  %s\n", "QUEUE", "CLAIMS", "OLDEST");
  out << line;
  for (const auto& [state, count] : j["queues"].items()) {
    const auto& age = j["oldest_age_s"][state];
    std::snprintf(line, sizeof line, "%-10s %7d  %s\n", state.c_str(), count.get<int>(),
                  age.is_number() ? ShortAge(age.get<double>()).c_str() : "-");
    out << line;
  }
  if (j.contains("for_clerk")) {
    std::snprintf(line, sizeof line,
                  "\nfor a clerk (review, failed): %d receipts, %d emails with nothing to claim\n",
                  j["for_clerk"].value("receipts", 0), j["for_clerk"].value("nothing_to_claim", 0));
    out << line;
  }
  out << "\n";
  std::snprintf(line, sizeof line, "%-8s %-21s %-14s %9s  %s\n", "STAGE", "LAST RUN", "HOST", "DURATION",
                "RESULT");
  out << line;
  for (const auto& s : PipelineStages()) {
    const auto& r = j["stages"][s];
    if (r.is_null()) {
      std::snprintf(line, sizeof line, "%-8s %-21s %-14s %9s  %s\n", s.c_str(), "never", "-", "-", "-");
    } else {
      char dur[32];
      std::snprintf(dur, sizeof dur, "%.2fs", r.value("duration_s", 0.0));
      std::string result = r.value("result", "");
      // What became of the claims ("4 claims: 4 deferred"), so a run that
      // only deferred does not read as plain "ok".
      std::string what = std::to_string(r.value("claims", 0)) + " claims";
      if (r.contains("outcomes") && r["outcomes"].is_object() && !r["outcomes"].empty()) {
        std::string parts;
        for (const auto& [k, v] : r["outcomes"].items()) {
          if (v.is_number_integer()) parts += (parts.empty() ? "" : ", ") + std::to_string(v.get<int>()) + " " + k;
        }
        if (!parts.empty()) what += ": " + parts;
      }
      std::snprintf(line, sizeof line, "%-8s %-21s %-14s %9s  %s (%s)\n", s.c_str(),
                    r.value("started_at", "").c_str(), Cut(r.value("host", "-"), 14).c_str(), dur,
                    result.c_str(), what.c_str());
    }
    out << line;
  }
  // Runs under way, hung or dead, on whichever host.
  bool header = false;
  for (const auto& s : PipelineStages()) {
    if (!j.contains("runs") || !j["runs"].contains(s) || !j["runs"][s].is_array()) continue;
    for (const auto& r : j["runs"][s]) {
      if (!header) out << "\n";
      header = true;
      std::string state = r.value("state", "");
      std::string who = r.value("host", "");
      who = who.empty() ? "an unknown host" : who + " (pid " + std::to_string(r.value("pid", 0L)) + ")";
      std::string renewed = r.contains("renewed_age_s")
                                ? "renewed " + ShortAge(r["renewed_age_s"].get<double>()) + " ago"
                                : "no lease";
      std::string text;
      if (state == "running") {
        text = "running on " + who + " since " + r.value("started_at", "") + ", " + renewed;
      } else if (state == "stale") {
        text = "STALE: locked by " + who + ", lease " + renewed + " (lease " +
               std::to_string(r.value("lease_s", kStageLeaseSeconds)) +
               " s): hung, or its host died and the file server still holds its lock (NFS v4: until its "
               "lease ends, 90 s by default)";
      } else if (state == "locked") {
        text = "locked, no run lease (a run starting, or a backup holding the stage locks)";
      } else {
        text = "a run on " + who + " started " + r.value("started_at", "") +
               " died without finishing; the next run recovers its claims";
      }
      out << s << ": " << text << "\n";
    }
  }
  return out.str();
}

nlohmann::json ClaimsJson(const Spool& spool, const std::vector<ClaimState>& states) {
  std::vector<std::pair<std::string, nlohmann::json>> rows;
  for (ClaimState s : states) {
    for (const auto& id : spool.List(s)) {
      auto c = spool.LoadIn(s, id);
      if (!c.ok()) continue;
      nlohmann::json r;
      r["id"] = c->id;
      r["state"] = ClaimStateName(c->state);
      r["created_at"] = c->created_at;
      r["email_id"] = c->source.email_id;
      r["filename"] = c->attachment ? c->attachment->filename : "";
      r["file"] = AttachmentLabel(*c, 22);
      r["pages"] = c->pages ? nlohmann::json::array({c->pages->first, c->pages->last}) : nlohmann::json();
      r["attachment_receipts"] = c->attachment_receipts;
      r["split_from"] = c->split_from;
      r["sha256"] = c->attachment ? c->attachment->sha256 : "";
      r["confidence"] = c->confidence ? nlohmann::json(*c->confidence) : nlohmann::json();
      r["ncb_reference"] = c->ncb_reference;
      r["reason"] = c->reason;
      r["duplicate_of"] = c->duplicate_of;
      rows.emplace_back(c->id, r);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  nlohmann::json out = nlohmann::json::array();
  for (auto& [id, r] : rows) out.push_back(std::move(r));
  return out;
}

std::string ClaimsText(const nlohmann::json& claims) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-30s %-9s %-18s %-22s %-12s %5s %-18s %s\n", "ID", "STATE",
                "EMAIL", "FILE", "SHA256", "CONF", "NCB REF", "REASON");
  out << line;
  for (const auto& r : claims) {
    char conf[8] = "-";
    if (r["confidence"].is_number()) std::snprintf(conf, sizeof conf, "%.2f", r["confidence"].get<double>());
    std::string reason = r.value("reason", "");
    if (!r.value("duplicate_of", "").empty()) reason = "duplicate of " + r.value("duplicate_of", "");
    std::snprintf(line, sizeof line, "%-30s %-9s %-18s %-22s %-12s %5s %-18s %s\n",
                  r.value("id", "").c_str(), r.value("state", "").c_str(),
                  Cut(r.value("email_id", ""), 18).c_str(),
                  Cut(r.value("file", r.value("filename", "")), 22).c_str(),
                  r.value("sha256", "").substr(0, 12).c_str(), conf,
                  Cut(r.value("ncb_reference", ""), 18).c_str(), Cut(reason, 100).c_str());
    out << line;
  }
  return out.str();
}

std::string ClaimText(const Claim& c, const std::string& dir) {
  std::ostringstream out;
  out << "claim        " << c.id << "\n"
      << "state        " << ClaimStateName(c.state) << "\n"
      << "directory    " << dir << "\n"
      << "created      " << c.created_at << "\n"
      << "source       " << c.source.kind << " email " << c.source.email_id << " part "
      << c.source.part_index + 1 << " of " << c.source.part_count << "\n";
  if (c.attachment) {
    out << "file         " << c.attachment->filename << " (" << c.attachment->content_type << ", "
        << c.attachment->size << " bytes)\n"
        << "sha256       " << c.attachment->sha256 << "\n";
    if (c.pages && c.attachment_receipts > 1) {
      out << "receipt      " << c.pages->Describe() << " (the attachment holds " << c.attachment_receipts
          << " receipts)\n";
    } else if (c.pages) {
      out << "receipt      " << c.pages->Describe() << " (the whole attachment)\n";
    }
    if (!c.split_from.empty()) out << "split from   " << c.split_from << "\n";
  } else {
    out << "file         (none)\n";
  }
  for (const auto& s : c.skipped) out << "skipped      " << s << "\n";
  if (c.confidence) out << "confidence   " << *c.confidence << "\n";
  for (const auto& r : c.review_reasons) out << "review       " << r << "\n";
  if (!c.reason.empty()) out << "reason       " << c.reason << "\n";
  if (c.attempts) out << "attempts     " << c.attempts << "\n";
  if (!c.next_attempt_at.empty()) out << "next attempt " << c.next_attempt_at << "\n";
  if (!c.ncb_reference.empty()) out << "NCB ref      " << c.ncb_reference << " (" << c.submitted_at << ")\n";
  if (!c.duplicate_of.empty()) out << "duplicate of " << c.duplicate_of << "\n";
  if (!c.archived_path.empty()) out << "archived     " << c.archived_path << "\n";
  out << "history\n";
  for (const auto& h : c.history) {
    out << "  " << h.at << "  " << (h.from.empty() ? "-" : h.from) << " -> " << h.to << "  by " << h.actor;
    if (!h.reason.empty()) out << ": " << h.reason;
    out << "\n";
  }
  return out.str();
}

}  // namespace ncbocr
