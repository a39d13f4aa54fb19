// ncbocr retry: send failed or deferred claims back to their stage now
// (see man/ncbocr-retry.1; the logic is in src/spool/retry.cc).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ncbocr/retry.h"
#include "ncbocr/review.h"

namespace ncbocr::cli {

namespace {

struct RetryOptions {
  std::vector<std::string> ids;
  std::string state;
  bool json = false;
};

int Retry(const GlobalOptions& g, const RetryOptions& o) {
  if (o.ids.empty() == o.state.empty()) {
    return Fail(Status::Usage("give claim ids or --state failed|deferred (one of the two)"));
  }
  auto env = OpenEnv(g);
  if (!env.ok()) return Fail(env.status());
  std::vector<std::string> ids = o.ids;
  if (!o.state.empty()) {
    auto all = RetryableIds(env->spool, o.state);
    if (!all.ok()) return Fail(all.status());
    ids = *all;
  }
  auto lock = LockForManualChange(env->spool, std::chrono::seconds(30));
  if (!lock.ok()) return Fail(lock.status());
  int code = kExitOk;
  nlohmann::json moved = nlohmann::json::array(), refused = nlohmann::json::array();
  for (const auto& r : RetryClaims(env->spool, ids, CurrentUserName())) {
    if (!r.status.ok()) {
      std::fprintf(stderr, "ncbocr: %s: %s\n", r.id.c_str(), r.status.message().c_str());
      if (code == kExitOk) code = r.status.exit_code();
      refused.push_back({{"id", r.id}, {"reason", r.status.message()}});
    } else if (o.json) {
      moved.push_back({{"id", r.id}, {"from", ClaimStateName(r.from)}, {"to", ClaimStateName(r.to)}});
    } else if (!g.quiet) {
      std::printf("%s: %s -> %s\n", r.id.c_str(), ClaimStateName(r.from), ClaimStateName(r.to));
    }
  }
  if (o.json) {
    std::printf("%s\n", nlohmann::json({{"moved", moved}, {"refused", refused}}).dump(2).c_str());
  } else if (ids.empty() && !g.quiet) {
    std::printf("no %s claims\n", o.state.c_str());
  }
  return code;
}

}  // namespace

void RegisterRetry(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("retry", "put failed or deferred claims back to their stage now");
  auto o = std::make_shared<RetryOptions>();
  cmd->add_option("ids", o->ids, "claim ids");
  cmd->add_option("--state", o->state, "every claim in this state")->check(CLI::IsMember({"failed", "deferred"}));
  cmd->add_flag("--json", o->json, "machine-readable result: the claims moved and those refused");
  cmd->callback([&st, o] { st.action = [&st, o] { return Retry(st.opts, *o); }; });
}

}  // namespace ncbocr::cli
