// ncbocr metrics: write (or print) the Prometheus metrics (see man/ncbocr-metrics.1).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ncbocr/metrics.h"

namespace ncbocr::cli {

namespace {
struct MetricsOptions {
  bool print = false;
};
}  // namespace

void RegisterMetrics(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("metrics", "write the Prometheus metrics file now (--print: to stdout)");
  auto opts = std::make_shared<MetricsOptions>();
  cmd->add_flag("--print", opts->print, "print the metrics to stdout instead of writing the file");
  cmd->callback([&st, opts] {
    st.action = [&st, opts]() -> int {
      auto env = OpenEnv(st.opts, Access::kRead);
      if (!env.ok()) return Fail(env.status());
      if (opts->print) {
        std::fputs(RenderMetrics(env->spool, env->clock.Now(), false).c_str(), stdout);
        return kExitOk;
      }
      // Cron runs this after every stage; with metrics off it has nothing to do.
      if (!env->config.metrics.enabled) {
        if (!st.opts.quiet) std::fprintf(stderr, "ncbocr: metrics are disabled (metrics.enabled); nothing written\n");
        return kExitOk;
      }
      Status s = WriteMetricsFile(env->config.metrics, env->spool, env->clock.Now());
      if (!s.ok()) return Fail(s);
      if (!st.opts.quiet) std::printf("metrics: wrote %s\n", MetricsFilePath(env->config.metrics).c_str());
      return kExitOk;
    };
  });
}

}  // namespace ncbocr::cli
