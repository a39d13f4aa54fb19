#include "ncbocr/alerts.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "ncbocr/report.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

using nlohmann::json;

std::string SubjectPrefix() { return "[ncbocr@" + HostName() + "] "; }

std::string Footer(const Spool& spool) {
  return "\n--\nncbocr on " + HostName() + ", spool " + spool.root().string() +
         "\nSee `ncbocr status` and `ncbocr claims --state review` on that host.\n";
}

std::vector<json> Journal(const Spool& spool) {
  auto j = spool.ReadJournal();
  return j.ok() ? std::move(j).value() : std::vector<json>();
}

// --- system conditions ---

bool NcbDownReason(const std::string& reason) {
  return reason.find("NCB unreachable") != std::string::npos ||
         reason.find("NCB answered HTTP 5") != std::string::npos;
}

AlertCondition NcbUnavailable(const Config& config, const Spool& spool, const std::vector<json>& journal,
                              TimePoint now) {
  // The outage began with the first NCB failure after the last accepted claim.
  // (A flag and a time, not an optional: GCC 12 takes the optional's time
  // for uninitialised where it is read.)
  bool down = false;
  TimePoint since{};
  std::string last_error;
  for (const auto& e : journal) {
    if (!e.is_object() || e.value("actor", "") != "submit") continue;
    std::string to = e.value("to", "");
    if (to == "submitted") {
      down = false;
    } else if ((to == "deferred" || to == "failed") && NcbDownReason(e.value("reason", ""))) {
      if (auto at = ParseIso(e.value("at", "")); at && !down) down = true, since = *at;
      last_error = e.value("reason", "");
    }
  }
  size_t queued = spool.List(ClaimState::kReady).size();
  for (const auto& id : spool.List(ClaimState::kDeferred)) {
    auto c = spool.LoadIn(ClaimState::kDeferred, id);
    if (c.ok() && c->resume_state == ClaimState::kReady) ++queued;
  }
  AlertCondition c{"ncb_unavailable", false, "NCB unavailable", ""};
  if (down && now - since >= std::chrono::seconds(config.ncb.alert_after)) {
    c.active = true;
    c.detail = "NCB has not accepted a claim since " + IsoLocal(since) + ".\nLast error: " + last_error +
               "\n" + std::to_string(queued) +
               " claims are queued for submission; they are retried automatically.";
  }
  return c;
}

std::string CredentialsTitle(const Config& config, const std::string& stage) {
  if (stage == "submit") return "NCB refused the API key";
  if (stage == "fetch" && config.fetch.source == "gmail") return "Gmail token invalid or refused";
  if (stage == "fetch") return "mail source refused the credentials";
  return stage + " stage: credentials refused";
}

void StageConditions(const Config& config, const Spool& spool, TimePoint now,
                     std::vector<AlertCondition>& out) {
  for (const auto& stage : RecordedStages(spool)) {
    auto run = spool.ReadStageRun(stage);
    bool have = run && run->is_object();
    int code = have ? run->value("exit_code", 0) : 0;
    int failures = have ? run->value("consecutive_failures", 0) : 0;
    std::string result = have ? run->value("result", "") : "";

    AlertCondition cred{"credentials:" + stage, code == kExitNoPerm, CredentialsTitle(config, stage), ""};
    if (cred.active) cred.detail = "The last " + stage + " run stopped: " + result;
    out.push_back(cred);

    AlertCondition failing{"stage_failing:" + stage, false, stage + " stage failing", ""};
    if (code != kExitNoPerm && failures >= config.health.max_consecutive_failures) {
      failing.active = true;
      failing.detail = "The last " + std::to_string(failures) + " runs of " + stage +
                       " failed.\nLast result: " + result;
    }
    out.push_back(failing);

    auto interval = config.health.stage_interval.find(stage);
    if (interval == config.health.stage_interval.end()) continue;
    AlertCondition stale{"stage_not_running:" + stage, false, stage + " stage not running", ""};
    auto started = have ? ParseIso(run->value("started_at", "")) : std::nullopt;
    if (started && now - *started > std::chrono::seconds(interval->second)) {
      stale.active = true;
      stale.detail = "No " + stage + " run has started since " + IsoLocal(*started) +
                     " (expected within " + std::to_string(interval->second) +
                     " s): is cron running, or is a run stuck holding the lock?";
    }
    out.push_back(stale);
  }
}

AlertCondition DiskLow(const Config& config, const Spool& spool) {
  AlertCondition c{"disk_low", false, "disk space low", ""};
  struct statvfs st{};
  if (::statvfs(spool.root().c_str(), &st) != 0 || st.f_blocks == 0) return c;
  double free_pct = 100.0 * static_cast<double>(st.f_bavail) / static_cast<double>(st.f_blocks);
  if (free_pct < config.health.min_free_percent) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.1f%% free on the spool's file system (%.1f GiB); the threshold is %.1f%%.",
                  free_pct, static_cast<double>(st.f_bavail) * st.f_frsize / (1u << 30),
                  config.health.min_free_percent);
    c.active = true;
    c.detail = buf;
  }
  return c;
}

// --- alert state ---

fs::path StatePath(const Spool& spool) { return spool.root() / "alerts" / "state.json"; }

json LoadState(const Spool& spool) {
  json st = json::object();
  auto bytes = ReadFile(StatePath(spool));
  if (bytes.ok()) {
    try {
      st = json::parse(*bytes);
    } catch (const json::exception&) {
      st = json::object();  // a damaged state re-alerts what is active: better than silence
    }
  }
  if (!st.is_object()) st = json::object();
  if (!st.contains("conditions") || !st["conditions"].is_object()) st["conditions"] = json::object();
  if (!st.contains("notified_claims") || !st["notified_claims"].is_array()) st["notified_claims"] = json::array();
  return st;
}

Status SaveState(const Spool& spool, const json& st) {
  Status s = MakeDirs(StatePath(spool).parent_path(), 0700);
  if (!s.ok()) return s;
  return AtomicWriteFile(StatePath(spool), st.dump(2) + "\n", 0600);
}

Status Deliver(const Config& config, MailSender& sender, const MailMessage& m, TimePoint now) {
  return sender.Send(config.alerts.from, config.alerts.recipients, BuildMessage(config.alerts, m, now));
}

// Claims waiting for a person, with what ops needs to act: id, state and
// the reason. Nothing from the email, not even the sender's address: alert
// mail leaves the server like a log line does, and the team looks the rest
// up with `ncbocr exceptions show ID`.
std::string ClaimLine(const Claim& c) {
  return "- " + c.id + " (" + ClaimStateName(c.state) + ")\n  reason: " +
         (c.reason.empty() ? "(none given)" : c.reason) + "\n";
}

Status AlertNewClaims(const Config& config, const Spool& spool, MailSender& sender, TimePoint now,
                      json& st, AlertCheckReport& report) {
  std::set<std::string> notified;
  for (const auto& id : st["notified_claims"]) {
    if (id.is_string()) notified.insert(id.get<std::string>());
  }
  std::vector<Claim> fresh;
  std::set<std::string> waiting;
  for (ClaimState s : {ClaimState::kReview, ClaimState::kFailed}) {
    for (const auto& id : spool.List(s)) {
      waiting.insert(id);
      if (notified.count(id)) continue;
      auto c = spool.LoadIn(s, id);
      if (c.ok()) fresh.push_back(*c);
    }
  }
  // Claims that left review are forgotten, so one that comes back is news again.
  json keep = json::array();
  for (const auto& id : notified) {
    if (waiting.count(id)) keep.push_back(id);
  }
  st["notified_claims"] = keep;
  if (fresh.empty()) return Status::Ok();
  MailMessage m;
  m.subject = SubjectPrefix() + std::to_string(fresh.size()) + (fresh.size() == 1 ? " claim needs" : " claims need") +
              " a person";
  m.body = std::to_string(fresh.size()) + " claim(s) newly waiting for review or parked as failed:\n\n";
  for (const auto& c : fresh) m.body += ClaimLine(c);
  m.body += "\nDetails: ncbocr exceptions show ID\n";
  m.body += Footer(spool);
  m.extra_headers = {{"X-Ncbocr-Alert", "exceptions"}};
  Status s = Deliver(config, sender, m, now);
  if (!s.ok()) return s;
  for (const auto& c : fresh) {
    st["notified_claims"].push_back(c.id);
    report.new_claims.push_back(c.id);
  }
  report.sent++;
  return SaveState(spool, st);
}

Status AlertConditionChange(const Config& config, const Spool& spool, MailSender& sender, TimePoint now,
                            const AlertCondition& c, json& st, AlertCheckReport& report) {
  auto it = st["conditions"].find(c.key);
  bool was = it != st["conditions"].end() && it->is_object() && it->value("active", false);
  if (was == c.active) return Status::Ok();
  json& rec = st["conditions"][c.key];
  MailMessage m;
  m.extra_headers = {{"X-Ncbocr-Alert", c.key}};
  if (c.active) {
    m.subject = SubjectPrefix() + "ALERT: " + c.title;
    m.body = c.title + "\n\n" + c.detail + "\n\nNoticed at " + IsoLocal(now) +
             ". This alert is sent once; a RESOLVED message follows when it clears.\n" + Footer(spool);
  } else {
    std::string title = rec.value("title", c.title);
    m.subject = SubjectPrefix() + "RESOLVED: " + title;
    m.body = title + ": cleared at " + IsoLocal(now) + " (alerted at " + rec.value("since", "?") + ").\n" +
             Footer(spool);
  }
  Status s = Deliver(config, sender, m, now);
  if (!s.ok()) return s;
  report.sent++;
  if (c.active) {
    rec = {{"active", true}, {"since", IsoLocal(now)}, {"title", c.title}};
    report.raised.push_back(c.key);
  } else {
    st["conditions"].erase(c.key);
    report.cleared.push_back(c.key);
  }
  return SaveState(spool, st);
}

}  // namespace

std::vector<AlertCondition> EvaluateConditions(const Config& config, const Spool& spool, TimePoint now) {
  std::vector<AlertCondition> out;
  out.push_back(NcbUnavailable(config, spool, Journal(spool), now));
  StageConditions(config, spool, now, out);
  out.push_back(DiskLow(config, spool));
  return out;
}

Result<AlertCheckReport> CheckAlerts(const Config& config, const Spool& spool, MailSender& sender,
                                     TimePoint now, Logger log) {
  AlertCheckReport report;
  auto lock = spool.TryLockStage("alerts");
  if (!lock.ok()) return lock.status();
  if (!lock->held()) {
    report.skipped_locked = true;
    return report;
  }
  json st = LoadState(spool);
  std::vector<AlertCondition> conditions = EvaluateConditions(config, spool, now);
  // A condition alerted before but no longer evaluated (a stage record
  // removed) counts as cleared.
  std::set<std::string> known;
  for (const auto& c : conditions) known.insert(c.key);
  for (const auto& [key, rec] : st["conditions"].items()) {
    if (!known.count(key)) conditions.push_back({key, false, rec.value("title", key), ""});
  }
  for (const auto& c : conditions) {
    Status s = AlertConditionChange(config, spool, sender, now, c, st, report);
    if (!s.ok()) {
      log->error("alert {}: {}", c.key, s.ToString());
      return s;
    }
  }
  Status s = AlertNewClaims(config, spool, sender, now, st, report);
  if (!s.ok()) {
    log->error("exception alert: {}", s.ToString());
    return s;
  }
  // Also records forgotten claim ids when nothing was sent.
  s = SaveState(spool, st);
  if (!s.ok()) return s;
  // Info, not warn: the email is the notification; cron would mail a warning again.
  for (const auto& k : report.raised) log->info("alert raised: {}", k);
  for (const auto& k : report.cleared) log->info("alert cleared: {}", k);
  if (!report.new_claims.empty()) log->info("exception alert for {} claims", report.new_claims.size());
  return report;
}

MailMessage DailySummary(const Spool& spool, TimePoint now) {
  TimePoint from = now - std::chrono::hours(24);
  std::set<std::string> created, extracted;
  int submitted = 0, exceptions = 0, failed = 0;
  for (const auto& e : Journal(spool)) {
    if (!e.is_object()) continue;
    auto at = ParseIso(e.value("at", ""));
    if (!at || *at < from || *at > now) continue;
    std::string to = e.value("to", ""), id = e.value("claim", "");
    if (e.value("from", "") == "") created.insert(id);
    if (to == "submitted") ++submitted;
    if (to == "review" && e.value("from", "") != "review") ++exceptions;
    if (to == "failed") ++failed;
    if (e.value("actor", "") == "extract") extracted.insert(id);
  }
  std::set<std::string> emails;
  for (const auto& id : created) {
    auto c = spool.Load(id);
    if (c.ok()) emails.insert(c->source.kind + ":" + c->source.email_id);
  }
  double conf_sum = 0;
  int conf_n = 0;
  for (const auto& id : extracted) {
    auto c = spool.Load(id);
    if (c.ok() && c->confidence) {
      conf_sum += *c->confidence;
      ++conf_n;
    }
  }
  char avg[32] = "n/a";
  if (conf_n > 0) std::snprintf(avg, sizeof avg, "%.2f", conf_sum / conf_n);
  std::string day = IsoLocal(now).substr(0, 10);
  MailMessage m;
  m.subject = SubjectPrefix() + "daily summary " + day;
  m.extra_headers = {{"X-Ncbocr-Alert", "summary"}};
  m.body = "ncbocr, the 24 hours to " + IsoLocal(now) + ":\n\n" +
           "emails processed:     " + std::to_string(emails.size()) + "\n" +
           "claims created:       " + std::to_string(created.size()) + "\n" +
           "claims submitted:     " + std::to_string(submitted) + "\n" +
           "exceptions queued:    " + std::to_string(exceptions) + "\n" +
           "claims failed:        " + std::to_string(failed) + "\n" +
           "average confidence:   " + avg + " (" + std::to_string(conf_n) + " claims extracted)\n\n" +
           "waiting now:\n";
  for (ClaimState s : AllClaimStates()) {
    if (s == ClaimState::kDone || s == ClaimState::kRejected || s == ClaimState::kDuplicate) continue;
    char line[64];
    std::snprintf(line, sizeof line, "  %-10s %zu\n", ClaimStateName(s), spool.List(s).size());
    m.body += line;
  }
  m.body += Footer(spool);
  return m;
}

Status SendDailySummary(const Config& config, const Spool& spool, MailSender& sender, TimePoint now) {
  return Deliver(config, sender, DailySummary(spool, now), now);
}

Status SendTestAlert(const Config& config, MailSender& sender, TimePoint now) {
  MailMessage m;
  m.subject = "[ncbocr@" + HostName() + "] test message";
  m.extra_headers = {{"X-Ncbocr-Alert", "test"}};
  m.body = "This is a test message from ncbocr on " + HostName() + ", sent at " + IsoLocal(now) +
           " by `ncbocr alert --test`.\nAlerts reach you at this address.\n";
  return Deliver(config, sender, m, now);
}

}  // namespace ncbocr
