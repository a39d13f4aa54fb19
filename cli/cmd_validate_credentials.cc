// ncbocr validate-credentials: is every configured service's secret present,
// safe and accepted? (see man/ncbocr-validate-credentials.1)
#include <cstdio>

#include "commands.h"
#include "ncbocr/validate.h"

namespace ncbocr::cli {

void RegisterValidateCredentials(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("validate-credentials",
                                 "check every configured service's credentials: file, permissions, a live call");
  static bool json = false;
  static bool offline = false;
  cmd->add_flag("--json", json, "machine-readable output");
  cmd->add_flag("--offline", offline, "check files and settings only, make no network calls");
  cmd->callback([&st] {
    st.action = [&st] {
      auto config = LoadConfigFor(st.opts);
      if (!config.ok()) return Fail(config.status());
      CheckOptions options;
      options.live = !offline;
      options.log = MakeLogger(config->log, "validate");
      auto results = RunChecks(*config, options, BuiltinCheckers());
      std::string out = json ? ChecksJson(results).dump(2) + "\n" : ChecksText(results);
      std::fputs(out.c_str(), stdout);
      return ChecksExitCode(results);
    };
  });
}

}  // namespace ncbocr::cli
