#include <cstdio>

#include "commands.h"
#include "ncbocr/stderr_capture.h"

namespace ncbocr::cli {

Result<Config> LoadConfigFor(const GlobalOptions& opts) {
  ConfigOverrides o;
  if (!opts.spool.empty()) o.spool = opts.spool;
  if (opts.verbose >= 2) {
    o.log_level = "trace";
  } else if (opts.verbose == 1) {
    o.log_level = "debug";
  } else if (opts.quiet) {
    o.log_level = "warn";
  }
  std::string path = opts.config_path.empty() ? DefaultConfigPath() : opts.config_path;
  return LoadConfig(path, o);
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ncbocr: %s\n", s.message().c_str());
  return s.exit_code();
}

int ExitFor(const StageReport& r) {
  if (r.skipped_locked) return kExitOk;
  return r.status.exit_code();
}

Result<Env> OpenEnv(const GlobalOptions& opts) {
  auto config = LoadConfigFor(opts);
  if (!config.ok()) return config.status();
  auto spool = Spool::Open(config->spool);
  if (!spool.ok()) return spool.status();
  return Env{std::move(*config), std::move(*spool), Clock()};
}

}  // namespace ncbocr::cli

namespace ncbocr::cli {

int RunStageCommand(const GlobalOptions& opts, const std::string& stage,
                    const std::function<StageReport(StageContext&)>& fn) {
  auto env = OpenEnv(opts);
  if (!env.ok()) return Fail(env.status());
  StageContext ctx{env->config, env->spool, MakeLogger(env->config.log, stage), env->clock, stage};
  StageReport report;
  {
    StderrToLog library_messages(ctx.log, LogLeavesStderr(env->config.log));
    report = fn(ctx);
  }
  return ExitFor(report);
}

}  // namespace ncbocr::cli
