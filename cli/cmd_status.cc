// ncbocr status: queue sizes and ages, last run of each stage.
#include <cstdio>

#include "commands.h"
#include "ncbocr/report.h"

namespace ncbocr::cli {

void RegisterStatus(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("status", "claims per queue and the last run of each stage");
  static bool json = false;
  cmd->add_flag("--json", json, "machine-readable output");
  cmd->callback([&st] {
    st.action = [&st] {
      auto env = OpenEnv(st.opts);
      if (!env.ok()) return Fail(env.status());
      auto j = StatusJson(env->spool, env->clock.Now());
      std::fputs(json ? (j.dump(2) + "\n").c_str() : StatusText(j).c_str(), stdout);
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace ncbocr::cli
