// The subcommand front ends. Each cli/cmd_NAME.cc defines one Register
// function that adds its subcommand to the app and sets app state's action;
// the logic lives in the library. To add a subcommand: write
// cli/cmd_NAME.cc, declare its Register function here, call it in main.cc,
// write man/ncbocr-NAME.1, and document it in the README.
#ifndef NCBOCR_CLI_COMMANDS_H_
#define NCBOCR_CLI_COMMANDS_H_

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "ncbocr/config.h"
#include "ncbocr/log.h"
#include "ncbocr/spool.h"
#include "ncbocr/stage.h"
#include "ncbocr/status.h"

namespace ncbocr::cli {

struct GlobalOptions {
  std::string config_path;
  std::string spool;
  int verbose = 0;
  bool quiet = false;
};

struct AppState {
  GlobalOptions opts;
  std::function<int()> action;  // set by the chosen subcommand
};

// Loads the configuration with the global flags applied.
Result<Config> LoadConfigFor(const GlobalOptions& opts);
// The one warning line of ocr.engine auto without the paddle models, if any,
// for a command that reads receipts.
void WarnEngineNote(const Config& config);
// Prints "ncbocr: MESSAGE" to stderr and returns the status's exit code.
int Fail(const Status& s);
// Maps a stage report to an exit code (0 when ok or skipped because locked).
int ExitFor(const StageReport& r);

// Everything a spool subcommand needs, loaded once.
struct Env {
  Config config;
  Spool spool;
  Clock clock;
};
// Commands that change the spool (every stage, review, retry, backup,
// restore, alert) open it for writing: refused, with the owner named, when
// this process is not the spool's owner. A clerk running a command as root
// on the service user's spool would otherwise leave files (0600, owned by
// root) that the service can no longer read. Read-only commands (status,
// claims, metrics) pass Access::kRead.
enum class Access { kRead, kWrite };
Result<Env> OpenEnv(const GlobalOptions& opts, Access access = Access::kWrite);
// kCredentials (exit 77) naming the owner when this process does not own
// the spool's root directory: always for root, and for another user who
// cannot write it (one who can, through the group, is let through).
Status CheckSpoolOwner(const Spool& spool);

// Runs one spool stage: loads config and spool, makes the stage's logger and
// context, calls fn, and maps the report to an exit code.
int RunStageCommand(const GlobalOptions& opts, const std::string& stage,
                    const std::function<StageReport(StageContext&)>& fn);

void RegisterFetch(CLI::App& app, AppState& st);
void RegisterOcr(CLI::App& app, AppState& st);
void RegisterExtract(CLI::App& app, AppState& st);
void RegisterSubmit(CLI::App& app, AppState& st);
void RegisterArchive(CLI::App& app, AppState& st);
void RegisterRun(CLI::App& app, AppState& st);
void RegisterStatus(CLI::App& app, AppState& st);
void RegisterClaims(CLI::App& app, AppState& st);
void RegisterEval(CLI::App& app, AppState& st);
void RegisterAuth(CLI::App& app, AppState& st);
void RegisterExceptions(CLI::App& app, AppState& st);
void RegisterRetry(CLI::App& app, AppState& st);
void RegisterBackup(CLI::App& app, AppState& st);
void RegisterRestore(CLI::App& app, AppState& st);
void RegisterMetrics(CLI::App& app, AppState& st);
void RegisterAlert(CLI::App& app, AppState& st);
void RegisterValidateCredentials(CLI::App& app, AppState& st);

}  // namespace ncbocr::cli

#endif  // NCBOCR_CLI_COMMANDS_H_
