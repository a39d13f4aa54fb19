// ncbocr run: one pass of every stage in order (the main job).
#include "commands.h"
#include "ncbocr/archive.h"
#include "ncbocr/extract.h"
#include "ncbocr/fetch.h"
#include "ncbocr/ocr.h"
#include "ncbocr/stderr_capture.h"
#include "ncbocr/submit.h"

namespace ncbocr::cli {

namespace {

int RunAll(const GlobalOptions& opts) {
  auto env = OpenEnv(opts);
  if (!env.ok()) return Fail(env.status());
  using StageFn = StageReport (*)(StageContext&);
  const std::pair<const char*, StageFn> stages[] = {
      {"fetch", RunFetchStage},   {"ocr", RunOcrStage},         {"extract", RunExtractStage},
      {"submit", RunSubmitStage}, {"archive", RunArchiveStage},
  };
  int first_failure = kExitOk;
  for (const auto& [name, fn] : stages) {
    StageContext ctx{env->config, env->spool, MakeLogger(env->config.log, name), env->clock, name};
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

}  // namespace

void RegisterRun(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("run", "one pass of all stages: fetch, ocr, extract, submit, archive");
  cmd->callback([&st] { st.action = [&st] { return RunAll(st.opts); }; });
}

}  // namespace ncbocr::cli
