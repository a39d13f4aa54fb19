// ncbocr fetch: one pass of the fetch stage (see man/ncbocr-fetch.1).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ncbocr/metrics.h"
#include "ncbocr/fetch_stage.h"

namespace ncbocr::cli {

namespace {
struct FetchOptions {
  std::string source;
  std::string path;
};
}  // namespace

void RegisterFetch(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("fetch", "read claim emails into the spool (one pass)");
  auto opts = std::make_shared<FetchOptions>();
  cmd->add_option("--source", opts->source, "mail source (overrides fetch.source)")
      ->check(CLI::IsMember({"maildir", "eml", "gmail", "imap"}));
  cmd->add_option("--path", opts->path, "Maildir or .eml folder (overrides fetch.path)");
  cmd->callback([&st, opts] {
    st.action = [&st, opts]() -> int {
      auto env = OpenEnv(st.opts);
      if (!env.ok()) return Fail(env.status());
      if (!opts->source.empty()) env->config.fetch.source = opts->source;
      if (!opts->path.empty()) env->config.fetch.path = opts->path;
      StageContext ctx{env->config, env->spool, MakeLogger(env->config.log, "fetch"), env->clock,
                       "fetch"};
      ctx.after_run = WriteMetricsAfterRun;
      StageReport r = RunFetchStage(ctx);
      if (!r.status.ok() && r.claims == 0) return Fail(r.status);
      if (!st.opts.quiet && !r.skipped_locked) {
        auto count = [&](const char* k) {
          auto it = r.outcomes.find(k);
          return it == r.outcomes.end() ? 0 : it->second;
        };
        std::printf("fetch: %d new claims (%d fetched, %d duplicate, %d review, %d failed)\n",
                    r.claims, count("fetched"), count("duplicate"), count("review"),
                    count("failed"));
      }
      return ExitFor(r);
    };
  });
}

}  // namespace ncbocr::cli
