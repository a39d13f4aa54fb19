// ncbocr exceptions: the clerk's queue -- list, show, approve, reject
// (see man/ncbocr-exceptions.1; the logic is in src/ops/review.cc).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ncbocr/review.h"

namespace ncbocr::cli {

namespace {

struct ExceptionsOptions {
  bool json = false;
  std::string id;
  std::vector<std::string> sets;
  std::string note;
  std::string reviewer;
  std::string reason;
};

constexpr std::chrono::seconds kLockWait{30};

int List(const GlobalOptions& g, const ExceptionsOptions& o) {
  auto env = OpenEnv(g, Access::kRead);
  if (!env.ok()) return Fail(env.status());
  auto j = ListExceptions(env->spool, env->clock.Now());
  std::fputs(o.json ? (j.dump(2) + "\n").c_str() : ExceptionsText(j).c_str(), stdout);
  return kExitOk;
}

int Show(const GlobalOptions& g, const ExceptionsOptions& o) {
  auto env = OpenEnv(g, Access::kRead);
  if (!env.ok()) return Fail(env.status());
  auto j = ShowException(env->spool, o.id);
  if (!j.ok()) return Fail(j.status());
  std::fputs(o.json ? (j->dump(2) + "\n").c_str() : ExceptionText(*j).c_str(), stdout);
  return kExitOk;
}

int Decide(const GlobalOptions& g, const ExceptionsOptions& o, bool approve) {
  ReviewDecision d;
  d.id = o.id;
  d.reviewer = o.reviewer.empty() ? CurrentUserName() : o.reviewer;
  d.note = o.note;
  d.reason = o.reason;
  if (approve) {
    auto sets = ParseSetArgs(o.sets);
    if (!sets.ok()) return Fail(sets.status());
    d.corrections = *sets;
  }
  auto env = OpenEnv(g);
  if (!env.ok()) return Fail(env.status());
  auto lock = LockForManualChange(env->spool, kLockWait);
  if (!lock.ok()) return Fail(lock.status());
  Status s = approve ? ApproveClaim(env->spool, env->config, d, env->clock.Now())
                     : RejectClaim(env->spool, d, env->clock.Now());
  if (!s.ok()) return Fail(s);
  if (o.json) {
    auto after = env->spool.Load(d.id);
    nlohmann::json out = {{"id", d.id},
                          {"decision", approve ? "approved" : "rejected"},
                          {"reviewer", d.reviewer},
                          {"state", after.ok() ? ClaimStateName(after->state) : "unknown"},
                          {"corrected", nlohmann::json::array()}};
    for (const auto& [field, value] : d.corrections) out["corrected"].push_back(field);
    if (!approve) out["reason"] = d.reason;
    std::printf("%s\n", out.dump(2).c_str());
  } else if (!g.quiet) {
    std::printf("%s: %s by %s%s\n", d.id.c_str(), approve ? "approved" : "rejected", d.reviewer.c_str(),
                approve ? "; the next submit run sends it" : "");
  }
  return kExitOk;
}

}  // namespace

void RegisterExceptions(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("exceptions", "claims waiting for a clerk: list, show, approve, reject");
  cmd->require_subcommand(1);
  auto o = std::make_shared<ExceptionsOptions>();

  auto* list = cmd->add_subcommand("list", "claims in review and failed, oldest waiting first");
  list->add_flag("--json", o->json, "machine-readable output");
  auto* show = cmd->add_subcommand("show", "every field, the reasons and the OCR text of one claim");
  show->add_option("id", o->id, "claim id")->required();
  show->add_flag("--json", o->json, "machine-readable output");
  auto* approve = cmd->add_subcommand("approve", "correct fields if needed and send the claim to submit");
  approve->add_option("id", o->id, "claim id")->required();
  approve->add_option("--set", o->sets, "FIELD=VALUE correction (repeatable)")->allow_extra_args(false);
  approve->add_option("--note", o->note, "note kept in the claim record");
  approve->add_option("--reviewer", o->reviewer, "who decided (default: your login name)");
  approve->add_flag("--json", o->json, "machine-readable result: id, decision, new state, fields corrected");
  auto* reject = cmd->add_subcommand("reject", "reject the claim for good");
  reject->add_option("id", o->id, "claim id")->required();
  reject->add_option("--reason", o->reason, "why (kept in the history and the journal)")->required();
  reject->add_option("--reviewer", o->reviewer, "who decided (default: your login name)");
  reject->add_flag("--json", o->json, "machine-readable result: id, decision, new state, reason");

  list->callback([&st, o] { st.action = [&st, o] { return List(st.opts, *o); }; });
  show->callback([&st, o] { st.action = [&st, o] { return Show(st.opts, *o); }; });
  approve->callback([&st, o] { st.action = [&st, o] { return Decide(st.opts, *o, true); }; });
  reject->callback([&st, o] { st.action = [&st, o] { return Decide(st.opts, *o, false); }; });
}

}  // namespace ncbocr::cli
