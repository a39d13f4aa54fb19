// ncbocr restore: fill an empty spool from a backup archive (see
// man/ncbocr-restore.1; logic in src/ops/restore.cc).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ncbocr/backup.h"

namespace ncbocr::cli {

namespace {

struct RestoreCliOptions {
  std::string file;
  bool force = false;
  std::string config_to;
  std::string audit_to;
};

int Restore(const GlobalOptions& g, const RestoreCliOptions& o) {
  auto env = OpenEnv(g);
  if (!env.ok()) return Fail(env.status());
  RestoreOptions r;
  r.force = o.force;
  r.config_to = o.config_to;
  r.audit_to = o.audit_to;
  auto res = RestoreBackup(o.file, env->spool, r, env->clock.Now());
  if (!res.ok()) return Fail(res.status());
  if (!g.quiet) {
    if (!res->moved_aside.empty()) std::printf("previous spool contents moved to %s\n", res->moved_aside.c_str());
    std::printf("restored %zu files into %s\n", res->files, env->spool.root().c_str());
    for (const auto& p : res->config_written) std::printf("wrote %s\n", p.c_str());
    if (!o.audit_to.empty()) std::printf("wrote %zu audit-trail files under %s\n", res->audit_files, o.audit_to.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterRestore(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("restore", "restore the spool from a backup archive");
  auto o = std::make_shared<RestoreCliOptions>();
  cmd->add_option("file", o->file, "archive made by 'ncbocr backup'")->required();
  cmd->add_flag("--force", o->force, "replace a spool that is not empty (its contents are moved aside)");
  cmd->add_option("--config-to", o->config_to, "also write the archived configuration and secrets here");
  cmd->add_option("--audit-to", o->audit_to,
                  "also write the archived local archive (archive/...) and audit CSV here, never over a file");
  cmd->callback([&st, o] { st.action = [&st, o] { return Restore(st.opts, *o); }; });
}

}  // namespace ncbocr::cli
