// ncbocr claims: list claims, or show one whole claim record.
#include <cstdio>

#include "commands.h"
#include "ncbocr/report.h"

namespace ncbocr::cli {

void RegisterClaims(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("claims", "list claims (all, or one state); 'claims show ID' for one");
  static std::string state;
  static bool json = false;
  static std::string id;
  cmd->add_option("--state", state, "only claims in this state (fetched, ocred, ready, submitted, done, "
                                    "review, deferred, failed, rejected, duplicate)");
  cmd->add_flag("--json", json, "machine-readable output");
  auto* show = cmd->add_subcommand("show", "print one whole claim record");
  show->add_option("id", id, "claim id")->required();
  show->add_flag("--json", json, "the manifest as JSON");
  cmd->callback([&st, show] {
    if (show->parsed()) {
      st.action = [&st] {
        auto env = OpenEnv(st.opts, Access::kRead);
        if (!env.ok()) return Fail(env.status());
        auto c = env->spool.Load(id);
        if (!c.ok()) return Fail(c.status());
        std::string out = json ? c->ToJson().dump(2) + "\n" : ClaimText(*c, env->spool.ClaimDir(*c).string());
        std::fputs(out.c_str(), stdout);
        return static_cast<int>(kExitOk);
      };
      return;
    }
    st.action = [&st] {
      std::vector<ClaimState> states = AllClaimStates();
      if (!state.empty()) {
        auto s = ParseClaimState(state);
        if (!s) return Fail(Status::Usage("unknown state '" + state + "'"));
        states = {*s};
      }
      auto env = OpenEnv(st.opts, Access::kRead);
      if (!env.ok()) return Fail(env.status());
      auto j = ClaimsJson(env->spool, states);
      std::fputs(json ? (j.dump(2) + "\n").c_str() : ClaimsText(j).c_str(), stdout);
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace ncbocr::cli
