#include "ncbocr/health.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cstdio>
#include <map>

#include "ncbocr/submit_stage.h"
#include "ncbocr/report.h"
#include "ncbocr/stage.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

using Json = nlohmann::json;

// The queue each stage works on; fetch has none (its work is in the mailbox).
std::optional<ClaimState> InputOf(const std::string& stage) {
  if (stage == "ocr") return ClaimState::kFetched;
  if (stage == "extract") return ClaimState::kOcred;
  if (stage == "submit") return ClaimState::kReady;
  if (stage == "archive") return ClaimState::kSubmitted;
  return std::nullopt;
}

std::string Span(long long secs) {
  char buf[32];
  if (secs < 120) {
    std::snprintf(buf, sizeof buf, "%llds", secs);
  } else if (secs < 7200) {
    std::snprintf(buf, sizeof buf, "%lldm", secs / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fh", secs / 3600.0);
  }
  return buf;
}

long long SecondsBetween(TimePoint from, TimePoint to) {
  return std::chrono::duration_cast<std::chrono::seconds>(to - from).count();
}

std::string FirstIds(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 3; ++i) out += (i ? ", " : "") + ids[i];
  if (ids.size() > 3) out += ", ...";
  return out;
}

// When the current run of submit deferrals began: the first move to deferred
// since the claim last entered ready other than by resuming from deferred.
std::optional<TimePoint> DeferredSince(const Claim& c) {
  std::optional<TimePoint> since;
  for (const auto& h : c.history) {
    if (h.to == "ready" && h.from != "deferred") since.reset();
    if (h.to == "deferred" && !since) since = ParseIso(h.at);
  }
  return since;
}

bool NcbFailure(const std::string& reason) {
  return reason.rfind("NCB unreachable", 0) == 0 || reason.rfind("NCB answered HTTP 5", 0) == 0;
}

struct Deferred {
  std::map<ClaimState, size_t> by_resume;
  std::vector<std::string> retrying;      // attempts >= max_claim_attempts
  std::vector<std::string> ncb_down;      // deferred by NCB failures for too long
};

Deferred ScanDeferred(const Spool& spool, const Config& config, TimePoint now) {
  Deferred d;
  for (const auto& id : spool.List(ClaimState::kDeferred)) {
    auto c = spool.LoadIn(ClaimState::kDeferred, id);
    if (!c.ok()) continue;
    if (c->resume_state) d.by_resume[*c->resume_state]++;
    if (c->attempts >= config.health.max_claim_attempts) d.retrying.push_back(id);
    if (c->resume_state == ClaimState::kReady && NcbFailure(c->reason)) {
      auto since = DeferredSince(*c);
      if (since && SecondsBetween(*since, now) >= config.ncb.alert_after) d.ncb_down.push_back(id);
    }
  }
  return d;
}

// Claims a stage's run died on: those waiting in a stage's queue for another
// try, and those parked for good after max_attempts such deaths.
void CheckPoison(const Spool& spool, std::vector<HealthProblem>& out) {
  std::vector<std::string> parked;
  for (const auto& id : spool.List(ClaimState::kFailed)) {
    auto c = spool.LoadIn(ClaimState::kFailed, id);
    if (c.ok() && IsGaveUpInterrupted(c->reason)) parked.push_back(id);
  }
  if (!parked.empty()) {
    out.push_back({"poison", std::to_string(parked.size()) +
                                 " claims parked in failed after their stage died on " +
                                 "them (killed / timed out): " + FirstIds(parked) +
                                 "; see 'ncbocr claims show ID'"});
  }
  for (const auto& stage : PipelineStages()) {
    auto in = InputOf(stage);
    if (!in) continue;
    for (const auto& id : spool.List(*in)) {
      auto c = spool.LoadIn(*in, id);
      if (!c.ok() || c->interrupted == 0) continue;
      out.push_back(
          {"poison", stage + " died on claim " + id + " " + std::to_string(c->interrupted) +
                         (c->interrupted == 1 ? " time" : " times") +
                         " (killed, timed out or out of memory); it will be tried again"});
    }
  }
}

// When the spool was made: its root's birth time where the file system
// keeps one (statx), else the oldest modification time of its queue
// directories (one that never held a claim still has the time it was made).
std::optional<TimePoint> SpoolCreatedAt(const Spool& spool) {
  struct statx sx {};
  if (::statx(AT_FDCWD, spool.root().c_str(), 0, STATX_BTIME, &sx) == 0 && (sx.stx_mask & STATX_BTIME)) {
    return std::chrono::system_clock::from_time_t(static_cast<time_t>(sx.stx_btime.tv_sec));
  }
  std::optional<TimePoint> oldest;
  for (ClaimState s : AllClaimStates()) {
    struct stat st {};
    if (::stat((spool.root() / ClaimStateName(s)).c_str(), &st) != 0) continue;
    TimePoint t = std::chrono::system_clock::from_time_t(st.st_mtime);
    if (!oldest || t < *oldest) oldest = t;
  }
  return oldest;
}

void CheckStage(const Spool& spool, const Config& config, TimePoint now, const std::string& stage,
                size_t queued, std::vector<HealthProblem>& out) {
  auto it = config.health.stage_interval.find(stage);
  long long interval = it == config.health.stage_interval.end() ? 600 : it->second;
  auto run = spool.ReadStageRun(stage);
  if (!run) {
    if (queued > 0) {
      out.push_back({"stage", stage + " has never run and " + std::to_string(queued) + " claims wait for it"});
      return;
    }
    // Nothing waits, but a stage that has not run within its interval of
    // the spool's making is not scheduled (a cron line or timer left out).
    auto created = SpoolCreatedAt(spool);
    if (created && SecondsBetween(*created, now) > interval) {
      out.push_back({"stage", stage + " has never run, " + Span(SecondsBetween(*created, now)) +
                                  " after the spool was made (expected within " + Span(interval) +
                                  "); is it scheduled?"});
    }
    return;
  }
  std::string last = run->value("result", "");
  auto success = ParseIso(run->value("last_success_at", ""));
  if (!success) {
    out.push_back({"stage", stage + " has never succeeded; last run: " + last});
  } else if (SecondsBetween(*success, now) > interval) {
    out.push_back({"stage", stage + " last succeeded " + Span(SecondsBetween(*success, now)) +
                                " ago (expected within " + Span(interval) + "); last run: " + last});
  }
  int failures = run->value("consecutive_failures", 0);
  if (failures >= config.health.max_consecutive_failures) {
    out.push_back({"failing", stage + " failed " + std::to_string(failures) + " runs in a row: " + last});
  }
}

// The submit stage's outage record (submit_stage.h) is the first-hand account:
// NCB is down once it has failed every call for longer than ncb.alert_after.
void CheckOutage(const NcbOutage& o, const Config& config, TimePoint now, std::vector<HealthProblem>& out) {
  auto since = ParseIso(o.down_since);
  if (!since || SecondsBetween(*since, now) < config.ncb.alert_after) return;
  out.push_back({"ncb", "NCB unreachable for " + Span(SecondsBetween(*since, now)) + " since " + o.down_since + " (" +
                            std::to_string(o.failures) + " failed calls, last: " + o.last_error + ")"});
}

}  // namespace

Json HealthReport::ToJson() const {
  Json p = Json::array();
  for (const auto& x : problems) p.push_back({{"check", x.check}, {"message", x.message}});
  return {{"healthy", healthy()}, {"problems", p}};
}

std::string HealthReport::ToText() const {
  if (healthy()) return "healthy\n";
  std::string out;
  for (const auto& x : problems) out += x.check + ": " + x.message + "\n";
  return out;
}

std::optional<double> FreeSpacePercent(const fs::path& path) {
  struct statvfs v{};
  if (::statvfs(path.c_str(), &v) != 0 || v.f_blocks == 0) return std::nullopt;
  return 100.0 * static_cast<double>(v.f_bavail) / static_cast<double>(v.f_blocks);
}

HealthReport CheckHealth(const Spool& spool, const Config& config, TimePoint now,
                         std::optional<double> free_percent) {
  HealthReport r;
  const HealthConfig& h = config.health;
  Deferred deferred = ScanDeferred(spool, config, now);
  std::map<ClaimState, size_t> counts;
  for (ClaimState s : AllClaimStates()) counts[s] = spool.List(s).size();

  for (const auto& stage : PipelineStages()) {
    size_t queued = 0;
    if (auto in = InputOf(stage)) queued = counts[*in] + deferred.by_resume[*in];
    CheckStage(spool, config, now, stage, queued, r.problems);
  }
  size_t backlog = counts[ClaimState::kFetched] + counts[ClaimState::kOcred] + counts[ClaimState::kReady] +
                   counts[ClaimState::kSubmitted];
  if (backlog > static_cast<size_t>(h.max_backlog)) {
    r.problems.push_back({"backlog", std::to_string(backlog) + " claims wait in the pipeline (limit " +
                                         std::to_string(h.max_backlog) + ")"});
  }
  size_t waiting = counts[ClaimState::kReview] + counts[ClaimState::kFailed];
  if (waiting > static_cast<size_t>(h.max_review)) {
    r.problems.push_back({"review", std::to_string(waiting) + " claims wait for a clerk (limit " +
                                        std::to_string(h.max_review) + "); see 'ncbocr exceptions list'"});
  }
  if (!deferred.retrying.empty()) {
    r.problems.push_back({"retrying", std::to_string(deferred.retrying.size()) + " deferred claims have tried " +
                                          std::to_string(h.max_claim_attempts) + " times or more: " +
                                          FirstIds(deferred.retrying)});
  }
  CheckPoison(spool, r.problems);
  for (const auto& stage : RecordedStages(spool)) {
    for (const auto& run : StageRunJson(spool, stage, now)) {
      if (run.value("state", "") != "stale") continue;
      r.problems.push_back({"stale", stage + " is locked by " + run.value("host", "an unknown host") + " (pid " +
                                         std::to_string(run.value("pid", 0L)) +
                                         ") whose run has not renewed its lease for " +
                                         Span(run.value("renewed_age_s", 0LL)) +
                                         ": it hangs, or that host died and the file server has not yet "
                                         "freed its lock"});
    }
  }
  if (auto outage = ReadNcbOutage(spool)) {
    CheckOutage(*outage, config, now, r.problems);
  } else if (!deferred.ncb_down.empty()) {  // no record (a file:// outbox, an older spool)
    r.problems.push_back({"ncb", "NCB looks unreachable: " + std::to_string(deferred.ncb_down.size()) +
                                     " claims deferred for over " + Span(config.ncb.alert_after) + ": " +
                                     FirstIds(deferred.ncb_down)});
  }
  std::optional<double> free = free_percent ? free_percent : FreeSpacePercent(spool.root());
  if (!free) {
    r.problems.push_back({"disk", "cannot measure free space of " + spool.root().string()});
  } else if (*free < h.min_free_percent) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.1f%% free on the spool's file system (minimum %.1f%%)", *free,
                  h.min_free_percent);
    r.problems.push_back({"disk", buf});
  }
  return r;
}

}  // namespace ncbocr
