// ncbocr: turns claim emails into NCB claims. See man/ncbocr.1.
#include <cstdio>
#include <exception>

#include "commands.h"
#include "ncbocr/version.h"

int main(int argc, char** argv) {
  using namespace ncbocr;
  cli::AppState st;
  CLI::App app{"ncbocr: claim emails in, NCB claims out (fetch, ocr, extract, submit, archive)",
               "ncbocr"};
  app.set_version_flag("--version", "ncbocr " NCBOCR_VERSION);
  app.add_option("--config", st.opts.config_path, "configuration file (YAML)");
  app.add_option("--spool", st.opts.spool, "spool directory (overrides the configuration)");
  app.add_flag("-v,--verbose", st.opts.verbose, "more log output (-vv: trace)");
  app.add_flag("-q,--quiet", st.opts.quiet, "only warnings and errors");
  app.require_subcommand(1);
  app.fallthrough();

  cli::RegisterFetch(app, st);
  cli::RegisterOcr(app, st);
  cli::RegisterExtract(app, st);
  cli::RegisterSubmit(app, st);
  cli::RegisterArchive(app, st);
  cli::RegisterRun(app, st);
  cli::RegisterStatus(app, st);
  cli::RegisterClaims(app, st);
  cli::RegisterEval(app, st);
  cli::RegisterAuth(app, st);
  cli::RegisterExceptions(app, st);
  cli::RegisterRetry(app, st);
  cli::RegisterBackup(app, st);
  cli::RegisterRestore(app, st);
  cli::RegisterMetrics(app, st);
  cli::RegisterAlert(app, st);
  cli::RegisterValidateCredentials(app, st);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (!st.action) {
    std::fprintf(stderr, "ncbocr: no subcommand given (see ncbocr --help)\n");
    return kExitUsage;
  }
  try {
    return st.action();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ncbocr: internal error: %s\n", e.what());
    return kExitSoftware;
  }
}
