// ncbocr archive: file submitted claims' originals and audit rows.
#include "commands.h"
#include "ncbocr/archive_stage.h"

namespace ncbocr::cli {

void RegisterArchive(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("archive", "archive submitted claims (original file and audit log row)");
  cmd->callback([&st] {
    st.action = [&st] { return RunStageCommand(st.opts, "archive", RunArchiveStage); };
  });
}

}  // namespace ncbocr::cli
