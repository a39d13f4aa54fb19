// ncbocr run: one pass of every stage in order (the main job); with --watch,
// a pass every gmail.poll_interval seconds until SIGTERM or SIGINT.
#include <csignal>

#include <atomic>
#include <chrono>
#include <thread>

#include "commands.h"
#include "ncbocr/metrics.h"
#include "ncbocr/archive_stage.h"
#include "ncbocr/extract.h"
#include "ncbocr/extract_stage.h"
#include "ncbocr/fetch_stage.h"
#include "ncbocr/ocr_stage.h"
#include "ncbocr/progress.h"
#include "ncbocr/stderr_capture.h"
#include "ncbocr/submit_stage.h"

namespace ncbocr::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop = true; }

int OnePass(Env* env, bool progress) {
  using StageFn = StageReport (*)(StageContext&);
  const std::pair<const char*, StageFn> stages[] = {
      {"fetch", RunFetchStage},   {"ocr", RunOcrStage},         {"extract", RunExtractStage},
      {"submit", RunSubmitStage}, {"archive", RunArchiveStage},
  };
  int first_failure = kExitOk;
  for (const auto& [name, fn] : stages) {
    StageContext ctx{env->config, env->spool, MakeLogger(env->config.log, name), env->clock, name};
    ctx.after_run = WriteMetricsAfterRun;
    ctx.progress = progress;
    // A failing stage does not stop the pass: later stages still move the
    // claims that are already queued for them.
    StageReport report;
    {
      StderrToLog library_messages(ctx.log, LogLeavesStderr(env->config.log));
      report = fn(ctx);
    }
    int code = ExitFor(report);
    if (code != kExitOk && first_failure == kExitOk) first_failure = code;
  }
  return first_failure;
}

int RunAll(const GlobalOptions& opts, bool watch) {
  auto env = OpenEnv(opts);
  if (!env.ok()) return Fail(env.status());
  if (!watch) return OnePass(&*env, Progress::Interactive(opts.quiet));
  // For hosts without cron and for a container's one long-running process:
  // a stop signal ends the loop after the pass in progress (every stage is
  // safe to cut anyway: the spool is crash-safe), or at once while waiting.
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  auto log = MakeLogger(env->config.log, "run");
  const auto interval = std::chrono::seconds(env->config.gmail.poll_interval);
  log->info("watching: a pass every {} s (gmail.poll_interval) until stopped", interval.count());
  int passes = 0;
  while (!g_stop) {
    OnePass(&*env, false);  // a failing pass is in the log, the status and the metrics
    ++passes;
    const auto until = std::chrono::steady_clock::now() + interval;
    while (!g_stop && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  log->info("stopped after {} passes", passes);
  return kExitOk;  // a stop is the normal end of a watch
}

}  // namespace

void RegisterRun(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("run", "one pass of all stages: fetch, ocr, extract, submit, archive");
  static bool watch = false;
  cmd->add_flag("--watch", watch,
                "keep running: a pass every gmail.poll_interval seconds (GMAIL_POLL_INTERVAL) until SIGTERM");
  cmd->callback([&st] { st.action = [&st] { return RunAll(st.opts, watch); }; });
}

}  // namespace ncbocr::cli
