// ncbocr status: queue sizes and ages, last run of each stage.
#include <cstdio>

#include "commands.h"
#include "ncbocr/health.h"
#include "ncbocr/report.h"

namespace ncbocr::cli {

void RegisterStatus(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("status", "claims per queue and the last run of each stage");
  static bool json = false;
  cmd->add_flag("--json", json, "machine-readable output");
  static bool check = false;
  cmd->add_flag("--check", check, "health check for monitors: one line per problem, exit 69 if any");
  cmd->callback([&st] {
    st.action = [&st] {
      auto env = OpenEnv(st.opts, Access::kRead);
      if (!env.ok()) return Fail(env.status());
      if (check) {  // 69 (EX_UNAVAILABLE): the pipeline is not doing its job
        HealthReport h = CheckHealth(env->spool, env->config, env->clock.Now());
        std::fputs(json ? (h.ToJson().dump(2) + "\n").c_str() : h.ToText().c_str(), stdout);
        return static_cast<int>(h.healthy() ? kExitOk : kExitUnavailable);
      }
      auto j = StatusJson(env->spool, env->clock.Now());
      std::fputs(json ? (j.dump(2) + "\n").c_str() : StatusText(j).c_str(), stdout);
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace ncbocr::cli
