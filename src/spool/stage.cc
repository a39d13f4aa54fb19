#include "ncbocr/stage.h"

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "ncbocr/progress.h"
#include "ncbocr/util.h"

namespace ncbocr {

namespace {

// Moves one claim as the handler decided. Returns false if the claim could not
// be moved (it stays where it was and is redone next run).
bool Apply(StageContext& ctx, Claim& c, ClaimState input, int max_attempts, const Disposition& d) {
  Status s;
  if (d.next == c.state) return true;
  if (d.next == ClaimState::kDeferred) {
    if (c.attempts + 1 >= max_attempts) {
      s = ctx.spool.Move(c, ClaimState::kFailed, ctx.stage,
                         "gave up after " + std::to_string(c.attempts + 1) + " attempts: " + d.reason);
    } else {
      s = ctx.spool.Defer(c, input, d.retry_after, ctx.stage, d.reason);
    }
  } else {
    s = ctx.spool.Move(c, d.next, ctx.stage, d.reason);
  }
  if (!s.ok()) {
    ctx.log->error("claim {}: cannot move to {}: {}", c.id, ClaimStateName(d.next), s.ToString());
    return false;
  }
  // The reason stays in the manifest and the journal, not the log: it may
  // quote the receipt or the email (extraction's review reasons do), and
  // logs hold claim ids only.
  ctx.log->debug("claim {}: -> {} ({})", c.id, ClaimStateName(c.state), d.outcome);
  return true;
}

// Closes the attempt on a claim the handler left where it was: reread, so
// whatever the handler changed in memory is dropped as before.
void CloseUntouched(StageContext& ctx, ClaimState input, const std::string& id) {
  auto c = ctx.spool.LoadIn(input, id);
  if (!c.ok()) return;
  Status s = EndAttempt(ctx, *c);
  if (!s.ok()) ctx.log->warn("claim {}: cannot close the attempt: {}", id, s.ToString());
}

}  // namespace

std::string NewStageRunId() { return RandomHex(6); }

bool HasInterruptedAttempt(const StageContext& ctx, const Claim& c) {
  return c.open_attempt && c.open_attempt->run != ctx.run;
}

Result<bool> BeginAttempt(const StageContext& ctx, Claim& c, int max_attempts) {
  if (c.open_attempt && c.open_attempt->run == ctx.run) return true;
  Claim next = c;
  if (HasInterruptedAttempt(ctx, c)) {
    next.attempts += 1;
    next.interrupted += 1;
    if (next.attempts >= max_attempts) {
      c = next;
      return false;
    }
  }
  next.open_attempt = OpenAttempt{ctx.stage, ctx.run, IsoUtc(ctx.clock.Now())};
  Status s = ctx.spool.SaveManifest(next);
  if (!s.ok()) return s;
  c = next;
  return true;
}

Status EndAttempt(const StageContext& ctx, Claim& c) {
  if (!c.open_attempt || c.open_attempt->run != ctx.run) return Status::Ok();
  Claim next = c;
  next.open_attempt.reset();
  Status s = ctx.spool.SaveManifest(next);
  if (s.ok()) c = next;
  return s;
}

std::string GaveUpReason(const std::string& stage, const Claim& c) {
  std::string why = "killed / timed out during " + stage;
  if (c.interrupted < c.attempts) why = std::to_string(c.interrupted) + " of them " + why;
  return "gave up after " + std::to_string(c.attempts) + " attempts (" + why + ")";
}

bool IsGaveUpInterrupted(const std::string& reason) {
  return reason.rfind("gave up after ", 0) == 0 &&
         reason.find("killed / timed out during ") != std::string::npos;
}

StageReport ForEachClaim(StageContext& ctx, ClaimState input, int max_attempts,
                         const ClaimHandler& handler) {
  StageReport report;
  // Deferred claims whose time has come rejoin the input queue first.
  for (const auto& id : ctx.spool.DueDeferred(input, ctx.clock.Now())) {
    auto c = ctx.spool.LoadIn(ClaimState::kDeferred, id);
    if (!c.ok()) continue;
    Status s = ctx.spool.Move(*c, input, ctx.stage, "attempt " + std::to_string(c->attempts + 1));
    // Runs sharing the queue race for the same due claims: one moves each.
    if (!s.ok() && !(ctx.shared_queue && s.kind() == ErrorKind::kTransient)) {
      ctx.log->warn("claim {}: cannot resume: {}", id, s.ToString());
    }
  }

  const std::vector<std::string> ids = ctx.spool.List(input);
  Progress bar(ctx.stage, ids.size(), ctx.progress);
  for (const auto& id : ids) {
    bar.Tick();
    // With runs sharing the queue, a claim is this run's only while it holds
    // the claim's work lock; one another run holds, or has already moved on,
    // is that run's business.
    StageLock work;
    if (ctx.shared_queue) {
      if (auto it = ctx.work.find(id); it != ctx.work.end()) {
        work = std::move(it->second);
        ctx.work.erase(it);
      } else {
        auto w = ctx.spool.TryLockClaimWork(ctx.stage, id);
        if (!w.ok()) {
          ctx.log->error("claim {}: {}", id, w.status().ToString());
          report.outcomes["move-failed"]++;
          continue;
        }
        if (!w->held()) continue;
        work = std::move(*w);
      }
      std::error_code ec;
      if (!fs::is_directory(ctx.spool.StateDir(input) / id, ec)) continue;
    }
    auto loaded = ctx.spool.LoadIn(input, id);
    if (!loaded.ok()) {
      // Gone (another process took it) or an unreadable manifest: the latter
      // is logged every run until someone looks, and never blocks the others.
      if (loaded.status().kind() != ErrorKind::kPermanent || ctx.spool.Exists(id)) {
        ctx.log->error("claim {}: {}", id, loaded.status().ToString());
        report.outcomes["manifest-unreadable"]++;  // not "unreadable": a handler's word for a bad file
      }
      continue;
    }
    Claim& c = *loaded;
    const bool interrupted = HasInterruptedAttempt(ctx, c);
    Result<bool> begun = BeginAttempt(ctx, c, max_attempts);
    if (interrupted) {
      ctx.log->warn(
          "claim {}: a {} run died on it ({} of {} attempts never finished: killed, timed out "
          "or out of memory)",
          c.id, ctx.stage, c.interrupted, c.attempts);
    }
    Disposition d;
    if (!begun.ok()) {
      // Not a word of work without the attempt on record; next run tries again.
      ctx.log->error("claim {}: cannot record the attempt: {}", c.id, begun.status().ToString());
      report.outcomes["move-failed"]++;
      continue;
    } else if (!*begun) {
      d = Disposition::Park(ClaimState::kFailed, GaveUpReason(ctx.stage, c), "gave_up");
    } else {
      try {
        d = handler(c);
      } catch (const std::exception& e) {
        d = Disposition::Park(ClaimState::kFailed, std::string("internal error: ") + e.what(),
                              "failed");
      }
    }
    if (!d.stop.ok()) {
      report.status = d.stop;
      ctx.log->error("claim {}: stopping {}: {}", c.id, ctx.stage, d.stop.ToString());
      CloseUntouched(ctx, input, c.id);
      break;
    }
    ++report.claims;
    if (d.next == c.state) CloseUntouched(ctx, input, c.id);
    if (Apply(ctx, c, input, max_attempts, d)) {
      report.outcomes[d.outcome.empty() ? "ok" : d.outcome]++;
    } else {
      report.outcomes["move-failed"]++;
    }
  }
  // A claim the stage could not read (a manifest another user's command
  // left unreadable, a damaged one) or could not move is not a silent skip:
  // the other claims went on, but the run fails (exit 74), so status,
  // status --check, the metrics and the alerts all see it.
  const int stuck = report.outcomes["manifest-unreadable"] + report.outcomes["move-failed"];
  if (stuck == 0) {
    report.outcomes.erase("manifest-unreadable");
    report.outcomes.erase("move-failed");
  } else if (report.status.ok()) {
    report.status = Status::Io(std::to_string(stuck) + (stuck == 1 ? " claim" : " claims") +
                               " could not be read or moved (see the log above)");
  }
  return report;
}

namespace {

// Renews a stage run's lease every kStageRenewSeconds on a thread of its
// own (a single OCR page can take longer than the lease).
class LeaseRenewer {
 public:
  LeaseRenewer(const Spool& spool, RunLease& lease) : spool_(spool), lease_(lease) {
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(kStageRenewSeconds), [this] { return stop_; })) {
        (void)spool_.RenewStageRun(lease_);  // a failed renewal shows as a stale lease
      }
    });
  }
  ~LeaseRenewer() { Stop(); }
  LeaseRenewer(const LeaseRenewer&) = delete;
  LeaseRenewer& operator=(const LeaseRenewer&) = delete;
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  const Spool& spool_;
  RunLease& lease_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

StageReport RunStage(StageContext& ctx, const std::function<StageReport()>& body) {
  StageReport report;
  // A stage whose runs share the queue takes its lock shared: they exclude
  // each other claim by claim (ForEachClaim), and backup still excludes all.
  auto lock = ctx.spool.TryLockStage(ctx.stage, ctx.shared_queue);
  if (!lock.ok()) {
    report.status = lock.status();
    ctx.log->error("{}", lock.status().ToString());
    return report;
  }
  if (!lock->held()) {
    if (ctx.shared_queue) {
      ctx.log->info("the {} stage lock is held exclusively (a backup); leaving the work for the next run", ctx.stage);
    } else {
      ctx.log->info("another {} run holds the lock; leaving the work to it", ctx.stage);
    }
    report.skipped_locked = true;
    return report;
  }
  // A run killed between a move and its journal line leaves the journal
  // behind the spool; catch up before moving anything else.
  auto lease = ctx.spool.BeginStageRun(ctx.stage, ctx.run);
  if (!lease.ok()) {
    report.status = lease.status();
    ctx.log->error("{}", lease.status().ToString());
    return report;
  }
  if (lease->interrupted() || ctx.spool.JournalGapSuspected()) {
    auto n = ctx.spool.ReconcileJournal();
    if (!n.ok()) {
      ctx.log->warn("cannot bring the journal up to date: {}", n.status().ToString());
    } else if (*n > 0) {
      ctx.log->warn("journal: recorded {} moves an interrupted run had not", *n);
    }
  }
  // The lease is renewed while the run lives, so status on any host can
  // tell a run from a hung or dead one.
  LeaseRenewer renewer(ctx.spool, *lease);
  int swept = ctx.spool.SweepTmp(std::chrono::hours(1));
  if (swept > 0) ctx.log->warn("swept {} stale drafts from an interrupted run", swept);

  auto started = std::chrono::system_clock::now();
  auto steady0 = std::chrono::steady_clock::now();
  try {
    report = body();
  } catch (const std::exception& e) {
    report.status = Status::Internal(std::string("stage aborted: ") + e.what());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - steady0).count();

  nlohmann::json prev = ctx.spool.ReadStageRun(ctx.stage).value_or(nlohmann::json::object());
  nlohmann::json run;
  run["stage"] = ctx.stage;
  run["host"] = HostName();
  run["pid"] = static_cast<long>(::getpid());
  run["started_at"] = IsoUtc(started);
  run["finished_at"] = IsoUtc(std::chrono::system_clock::now());
  run["duration_s"] = secs;
  run["result"] = report.status.ok() ? "ok" : report.status.ToString();
  run["exit_code"] = report.status.exit_code();
  run["claims"] = report.claims;
  run["outcomes"] = report.outcomes;
  if (report.status.ok()) {
    run["last_success_at"] = run["started_at"];
    run["consecutive_failures"] = 0;
  } else {
    run["last_success_at"] = prev.value("last_success_at", "");
    run["consecutive_failures"] = prev.value("consecutive_failures", 0) + 1;
  }
  renewer.Stop();
  ctx.work.clear();
  ctx.spool.EndStageRun(*lease);
  Status w = ctx.spool.WriteStageRun(ctx.stage, run);
  if (!w.ok()) ctx.log->warn("cannot record the run: {}", w.ToString());
  if (ctx.after_run) ctx.after_run(ctx);

  std::string summary;
  for (const auto& [k, v] : report.outcomes) summary += " " + k + "=" + std::to_string(v);
  if (report.status.ok()) {
    ctx.log->info("done: {} claims in {:.2f}s{}", report.claims, secs, summary);
  } else {
    ctx.log->error("failed after {} claims in {:.2f}s: {}", report.claims, secs,
                   report.status.ToString());
  }
  return report;
}

std::chrono::seconds Backoff(int attempt, std::chrono::seconds base, std::chrono::seconds cap) {
  double secs = DoublingDelay(attempt, static_cast<double>(base.count()), static_cast<double>(cap.count()));
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  secs *= jitter(rng);
  return std::chrono::seconds(static_cast<long long>(secs < 1 ? 1 : secs));
}

}  // namespace ncbocr
