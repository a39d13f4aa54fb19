// ncbocr alert: send a test message, check alert conditions, or send the
// daily summary (see man/ncbocr-alert.1).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ncbocr/alerts.h"

namespace ncbocr::cli {

namespace {

struct AlertOptions {
  bool test = false;
  bool check = false;
  bool summary = false;
};

int RunAlert(const GlobalOptions& g, const AlertOptions& o) {
  if (int(o.test) + int(o.check) + int(o.summary) != 1) {
    return Fail(Status::Usage("alert needs exactly one of --test, --check, --summary"));
  }
  auto env = OpenEnv(g);
  if (!env.ok()) return Fail(env.status());
  const Config& config = env->config;
  // --test works before alerts are enabled, so the settings can be tried first.
  if (!o.test && !config.alerts.enabled) {
    if (!g.quiet) std::fprintf(stderr, "ncbocr: alerts are disabled (alerts.enabled); nothing sent\n");
    return kExitOk;
  }
  auto sender = MakeSmtpSender(config.alerts);
  if (!sender.ok()) return Fail(sender.status());
  auto now = env->clock.Now();
  if (o.test) {
    Status s = SendTestAlert(config, **sender, now);
    if (!s.ok()) return Fail(s);
    if (!g.quiet) std::printf("alert: test message sent\n");
    return kExitOk;
  }
  if (o.summary) {
    Status s = SendDailySummary(config, env->spool, **sender, now);
    if (!s.ok()) return Fail(s);
    if (!g.quiet) std::printf("alert: daily summary sent\n");
    return kExitOk;
  }
  auto r = CheckAlerts(config, env->spool, **sender, now, MakeLogger(config.log, "alert"));
  if (!r.ok()) return Fail(r.status());
  if (!g.quiet && !r->skipped_locked) {
    std::printf("alert: %d sent (%zu raised, %zu cleared, %zu claims newly waiting)\n", r->sent,
                r->raised.size(), r->cleared.size(), r->new_claims.size());
  }
  return kExitOk;
}

}  // namespace

void RegisterAlert(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("alert", "email alerts: --check (cron), --summary (daily), --test");
  auto opts = std::make_shared<AlertOptions>();
  cmd->add_flag("--test", opts->test, "send a test message to alerts.recipients");
  cmd->add_flag("--check", opts->check,
                "send an alert for each condition that started or cleared and for claims newly waiting for review");
  cmd->add_flag("--summary", opts->summary, "send the daily summary (the last 24 hours)");
  cmd->callback([&st, opts] { st.action = [&st, opts] { return RunAlert(st.opts, *opts); }; });
}

}  // namespace ncbocr::cli
