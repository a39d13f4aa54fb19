// ncbocr auth: authorise ncbocr with a service (see man/ncbocr-auth.1).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ncbocr/google_auth.h"

namespace ncbocr::cli {

void RegisterAuth(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("auth", "authorise ncbocr with a service (auth gmail)");
  cmd->require_subcommand(1);
  auto* gmail = cmd->add_subcommand("gmail", "let ncbocr read the claims mailbox: writes gmail.token_path");
  auto opts = std::make_shared<ConsentOptions>();
  auto timeout = std::make_shared<int>(600);
  gmail->add_option("--port", opts->port, "loopback port for the browser's redirect (default: any free one)")
      ->check(CLI::Range(0, 65535));
  gmail->add_option("--timeout", *timeout, "seconds to wait for the authorisation (default 600)")
      ->check(CLI::PositiveNumber);
  gmail->callback([&st, opts, timeout] {
    st.action = [&st, opts, timeout]() -> int {
      auto config = LoadConfigFor(st.opts);
      if (!config.ok()) return Fail(config.status());
      opts->timeout = std::chrono::seconds(*timeout);
      Status s = AuthoriseGmail(*config, stdin, stdout, *opts, MakeLogger(config->log, "auth"));
      if (!s.ok()) return Fail(s);
      return static_cast<int>(kExitOk);
    };
  });
}

}  // namespace ncbocr::cli
