// ncbocr submit: send ready claims to NCB (see man/ncbocr-submit.1).
#include "commands.h"
#include "ncbocr/submit_stage.h"

namespace ncbocr::cli {

void RegisterSubmit(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("submit", "send ready claims to NCB, exactly once each");
  cmd->callback([&st] {
    st.action = [&st] { return RunStageCommand(st.opts, "submit", RunSubmitStage); };
  });
}

}  // namespace ncbocr::cli
