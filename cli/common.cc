#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "ncbocr/ocr_paddle.h"
#include "ncbocr/metrics.h"
#include "ncbocr/progress.h"
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
  Result<Config> config = LoadConfig(path, o);
  // ocr.engine auto is settled once, here; its warning waits for a command
  // that reads receipts (ocr_stage.cc, ApplyOcrFlags).
  if (config.ok()) config->ocr.engine_note = ResolveAutoEngine(config->ocr);
  return config;
}

void WarnEngineNote(const Config& config) {
  if (!config.ocr.engine_note.empty()) std::fprintf(stderr, "ncbocr: warning: %s\n", config.ocr.engine_note.c_str());
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ncbocr: %s\n", s.message().c_str());
  return s.exit_code();
}

int ExitFor(const StageReport& r) {
  if (r.skipped_locked) return kExitOk;
  return r.status.exit_code();
}

namespace {

std::string UserName(uid_t uid) {
  struct passwd* pw = ::getpwuid(uid);
  return pw != nullptr ? std::string(pw->pw_name) : "uid " + std::to_string(uid);
}

}  // namespace

Status CheckSpoolOwner(const Spool& spool) {
  struct stat st {};
  if (::stat(spool.root().c_str(), &st) != 0) return Status::Ok();  // Open reported what it could
  const uid_t me = ::geteuid();
  if (st.st_uid == me) return Status::Ok();
  // Another unprivileged user with write access through the group (a shared
  // volume mounted with a group, as Kubernetes' fsGroup does) writes files
  // the owner's group can read; root, who passes every permission check,
  // would leave files (0600) nobody else can read.
  if (me != 0 && ::access(spool.root().c_str(), W_OK | X_OK) == 0) return Status::Ok();
  const std::string owner = UserName(st.st_uid);
  return Status::Credentials("spool " + spool.root().string() + " belongs to " + owner + ", not to " +
                             UserName(me) + ": files written now would be " + UserName(me) +
                             "'s and unreadable to the service; run the command as the owner (sudo -u " +
                             owner + " ncbocr ...)");
}

Result<Env> OpenEnv(const GlobalOptions& opts, Access access) {
  auto config = LoadConfigFor(opts);
  if (!config.ok()) return config.status();
  auto spool = Spool::Open(config->spool);
  if (!spool.ok()) return spool.status();
  if (access == Access::kWrite) {
    Status s = CheckSpoolOwner(*spool);
    if (!s.ok()) return s;
  }
  return Env{std::move(*config), std::move(*spool), Clock()};
}

}  // namespace ncbocr::cli

namespace ncbocr::cli {

int RunStageCommand(const GlobalOptions& opts, const std::string& stage,
                    const std::function<StageReport(StageContext&)>& fn) {
  auto env = OpenEnv(opts);
  if (!env.ok()) return Fail(env.status());
  StageContext ctx{env->config, env->spool, MakeLogger(env->config.log, stage), env->clock, stage};
  ctx.after_run = WriteMetricsAfterRun;
  ctx.progress = Progress::Interactive(opts.quiet);
  StageReport report;
  {
    StderrToLog library_messages(ctx.log, LogLeavesStderr(env->config.log));
    report = fn(ctx);
  }
  return ExitFor(report);
}

}  // namespace ncbocr::cli
