// ncbocr backup: the spool and the configuration in one 0600 tar.gz, or
// --verify an archive (see man/ncbocr-backup.1; logic in src/ops/backup.cc).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ncbocr/backup.h"
#include "ncbocr/progress.h"
#include "ncbocr/util.h"

namespace ncbocr::cli {

namespace {

struct BackupCliOptions {
  std::string to;
  bool include_secrets = false;
  std::string verify;
  bool json = false;
};

int Verify(const std::string& file, bool quiet, bool json) {
  auto m = VerifyBackup(file);
  if (!m.ok()) return Fail(m.status());
  if (json) {
    nlohmann::json out = {{"archive", file}, {"ok", true}, {"files", (*m)["files"].size()},
                          {"created_at", m->value("created_at", "")}};
    std::printf("%s\n", out.dump(2).c_str());
  } else if (!quiet) {
    std::printf("%s: ok, %zu files match the manifest (made %s)\n", file.c_str(), (*m)["files"].size(),
                m->value("created_at", "").c_str());
  }
  return kExitOk;
}

int Backup(const GlobalOptions& g, const BackupCliOptions& o) {
  if (!o.verify.empty()) return Verify(o.verify, g.quiet, o.json);
  auto env = OpenEnv(g);
  if (!env.ok()) return Fail(env.status());
  BackupOptions b;
  b.to_dir = o.to;
  b.include_secrets = o.include_secrets;
  b.progress = Progress::Interactive(g.quiet);
  auto r = CreateBackup(env->spool, env->config, b, env->clock.Now());
  if (!r.ok()) return Fail(r.status());
  if (o.include_secrets) {
    std::fprintf(stderr, "ncbocr: warning: %s holds the configuration's secrets (%zu key files and any inline "
                 "ones); keep it as safe as the keys themselves\n", r->archive.c_str(), r->secrets_included.size());
  }
  if (o.json) {
    // What a script needs to keep or ship the archive: where, how big, its
    // digest (as sha256sum prints it), and what was left out or pruned.
    auto bytes = ReadFile(r->archive);
    nlohmann::json out = {{"archive", r->archive.string()},
                          {"files", r->files},
                          {"audit_files", r->audit_files},
                          {"size", bytes.ok() ? nlohmann::json(bytes->size()) : nlohmann::json()},
                          {"sha256", bytes.ok() ? nlohmann::json(Sha256Hex(*bytes)) : nlohmann::json()},
                          {"secrets_included", r->secrets_included},
                          {"secrets_left_out", r->secrets_left_out},
                          {"pruned", nlohmann::json::array()}};
    for (const auto& p : r->pruned) out["pruned"].push_back(p.string());
    std::printf("%s\n", out.dump(2).c_str());
  } else if (!g.quiet) {
    std::printf("%s: %zu files\n", r->archive.c_str(), r->files);
    if (!r->secrets_left_out.empty()) {
      std::string keys;
      for (const auto& k : r->secrets_left_out) keys += (keys.empty() ? "" : ", ") + k;
      std::printf("secrets left out: %s (--include-secrets to keep them)\n", keys.c_str());
    }
    for (const auto& p : r->pruned) std::printf("pruned %s\n", p.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterBackup(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("backup", "archive the spool and the configuration (or --verify one)");
  auto o = std::make_shared<BackupCliOptions>();
  cmd->add_option("--to", o->to, "directory for the archive (default: backup.dir)");
  cmd->add_flag("--include-secrets", o->include_secrets, "also archive credential, token and key files");
  cmd->add_option("--verify", o->verify, "check an archive against its manifest instead");
  cmd->add_flag("--json", o->json, "machine-readable result (archive, size, sha256, files)");
  cmd->callback([&st, o] { st.action = [&st, o] { return Backup(st.opts, *o); }; });
}

}  // namespace ncbocr::cli
