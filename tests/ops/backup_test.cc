// Tests of backup.h: real spools, real archives on disk.
#include "ncbocr/backup.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "ops/backup_internal.h"
#include "ncbocr/report.h"
#include "spool_fixture.h"

namespace ncbocr {
namespace {

using nlohmann::json;
using testing::CompleteExtract;
using testing::SpoolFixture;

TimePoint Now() { return std::chrono::system_clock::now(); }

unsigned ModeOf(const fs::path& p) {
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

void Write(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
}

// A spool with claims in several states, a stage record, index entries, and
// a config file holding an inline secret and naming a key file.
struct BackupFixture : SpoolFixture {
  BackupFixture() {
    Claim a = Add(ClaimState::kReview, CompleteExtract());
    Claim b = Add(ClaimState::kReady, CompleteExtract());
    REQUIRE(spool.Defer(b, ClaimState::kReady, std::chrono::hours(1), "submit", "NCB 503").ok());
    Add(ClaimState::kDone, CompleteExtract());
    REQUIRE(spool.ClaimSha(std::string(64, 'a'), a.id).ok());
    REQUIRE(spool.WriteStageRun("submit", {{"stage", "submit"}, {"last_success_at", "2025-01-01T00:00:00Z"}}).ok());
    key_file = dir.path / "etc" / "ncb.key";
    Write(key_file, "SECRET-KEY-FILE\n");
    config.source_file = (dir.path / "etc" / "ncbocr.yaml").string();
    Write(config.source_file, "# site config\nspool: " + config.spool + "\nncb:\n  api_key: INLINE-SECRET\n"
                              "  api_key_file: " + key_file.string() + "\n");
    config.ncb.api_key = "INLINE-SECRET";
    config.ncb.api_key_file = key_file.string();
    config.backup.dir = (dir.path / "backups").string();
  }
  BackupResult Backup(bool secrets = false) {
    BackupOptions o;
    o.include_secrets = secrets;
    auto r = CreateBackup(spool, config, o, Now());
    REQUIRE(r.ok());
    return *r;
  }
  fs::path key_file;
};

TEST_CASE("backup: the archive is 0600, verifies, and leaves secrets out by default") {
  BackupFixture f;
  BackupResult r = f.Backup();
  CHECK(r.archive.parent_path() == f.dir.path / "backups");
  CHECK(ModeOf(r.archive) == 0600);
  CHECK(ModeOf(r.archive.parent_path()) == 0700);
  CHECK(r.secrets_included.empty());
  CHECK(r.secrets_left_out == std::vector<std::string>{"ncb.api_key", "ncb.api_key_file"});

  auto m = VerifyBackup(r.archive);
  REQUIRE(m.ok());
  CHECK((*m)["files"].contains("spool/journal/journal.log"));
  CHECK((*m)["files"].contains("spool/stages/submit.json"));
  CHECK((*m)["files"].contains("config/ncbocr.yaml"));
  CHECK((*m)["files"].size() == r.files);
  std::string all;
  Status s = backup_internal::ReadTar(r.archive, [&](const backup_internal::TarEntry& e) {
    CHECK(e.name.rfind("spool/tmp", 0) != 0);
    CHECK(e.name.rfind("spool/locks", 0) != 0);
    all += e.bytes;
    return Status::Ok();
  });
  REQUIRE(s.ok());
  CHECK(all.find("INLINE-SECRET") == std::string::npos);
  CHECK(all.find("SECRET-KEY-FILE") == std::string::npos);
  CHECK(all.find("jpegbytes") != std::string::npos);  // the originals are in
}

TEST_CASE("backup: a password in a URL's userinfo is left out of the config copy") {
  // Issue 15: ncb.base_url's password stayed in the backup.
  BackupFixture f;
  Write(f.config.source_file, "spool: " + f.config.spool +
                                  "\nncb:\n  base_url: https://tpa:Pw-In-Url@ncb.example/api\n"
                                  "alerts:\n  webhooks: [\"https://u:Hook-Pw@h.example/x\", "
                                  "\"https://plain.example/a:b@c\"]\n");
  BackupResult r = f.Backup();
  CHECK(r.secrets_left_out ==
        std::vector<std::string>{"ncb.base_url (password in the URL)",
                                 "alerts.webhooks[0] (password in the URL)", "ncb.api_key_file"});
  std::string config;
  Status s = backup_internal::ReadTar(r.archive, [&](const backup_internal::TarEntry& e) {
    if (e.name == "config/ncbocr.yaml") config = e.bytes;
    return Status::Ok();
  });
  REQUIRE(s.ok());
  CHECK(config.find("Pw-In-Url") == std::string::npos);
  CHECK(config.find("Hook-Pw") == std::string::npos);
  CHECK(config.find("https://tpa@ncb.example/api") != std::string::npos);
  CHECK(config.find("https://u@h.example/x") != std::string::npos);
  CHECK(config.find("https://plain.example/a:b@c") != std::string::npos);  // a path, not userinfo
}

TEST_CASE("backup: --include-secrets keeps them") {
  BackupFixture f;
  BackupResult r = f.Backup(true);
  CHECK(r.secrets_included == std::vector<std::string>{"ncb.api_key_file"});
  CHECK(ModeOf(r.archive) == 0600);
  REQUIRE(VerifyBackup(r.archive).ok());

  SpoolFixture target;
  RestoreOptions o;
  o.config_to = (target.dir.path / "etc").string();
  auto res = RestoreBackup(r.archive, target.spool, o, Now());
  REQUIRE(res.ok());
  CHECK(ReadFile(target.dir.path / "etc" / "ncb.api_key_file").value() == "SECRET-KEY-FILE\n");
  CHECK(ReadFile(target.dir.path / "etc" / "ncbocr.yaml").value().find("INLINE-SECRET") != std::string::npos);
  CHECK(ModeOf(target.dir.path / "etc" / "ncb.api_key_file") == 0600);
}

TEST_CASE("backup: restore into an empty spool reproduces the same state") {
  BackupFixture f;
  BackupResult r = f.Backup();
  SpoolFixture target;
  auto res = RestoreBackup(r.archive, target.spool, RestoreOptions(), Now());
  REQUIRE(res.ok());
  CHECK(res->moved_aside.empty());
  const auto& states = AllClaimStates();
  CHECK(ClaimsJson(target.spool, states) == ClaimsJson(f.spool, states));
  CHECK(ClaimsJson(target.spool, states).size() == 3);
  CHECK(ReadFile(target.spool.root() / "journal" / "journal.log").value() ==
        ReadFile(f.spool.root() / "journal" / "journal.log").value());
  CHECK(target.spool.LookupSha(std::string(64, 'a')) == f.spool.LookupSha(std::string(64, 'a')));
  CHECK(target.spool.ReadStageRun("submit") == f.spool.ReadStageRun("submit"));
  Claim deferred = target.spool.LoadIn(ClaimState::kDeferred, f.spool.List(ClaimState::kDeferred)[0]).value();
  CHECK(deferred.resume_state == ClaimState::kReady);
  CHECK(fs::is_empty(target.spool.root() / "tmp"));  // the staging area is gone
}

TEST_CASE("backup: restore refuses a spool in use unless forced, and keeps what it replaces") {
  BackupFixture f;
  BackupResult r = f.Backup();
  SpoolFixture target;
  Claim mine = target.Add(ClaimState::kReview, CompleteExtract());
  auto refused = RestoreBackup(r.archive, target.spool, RestoreOptions(), Now());
  CHECK(refused.status().kind() == ErrorKind::kUsage);
  CHECK(target.spool.Exists(mine.id));

  RestoreOptions force;
  force.force = true;
  auto res = RestoreBackup(r.archive, target.spool, force, Now());
  REQUIRE(res.ok());
  CHECK_FALSE(target.spool.Exists(mine.id));
  CHECK(fs::is_directory(res->moved_aside / "review" / mine.id));
  CHECK(ClaimsJson(target.spool, AllClaimStates()) == ClaimsJson(f.spool, AllClaimStates()));
}

TEST_CASE("backup: verification catches a changed, missing or extra file and a damaged archive") {
  BackupFixture f;
  fs::path dir = f.dir.path / "forged";
  fs::create_directories(dir);
  auto forge = [&](const std::string& name, const json& files, const std::vector<std::pair<std::string, std::string>>& entries) {
    fs::path p = dir / name;
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    backup_internal::TarWriter w;
    REQUIRE(w.Open(fd).ok());
    for (const auto& [n, bytes] : entries) REQUIRE(w.AddFile(n, bytes, 0600, 0).ok());
    json m = {{"format", backup_internal::kFormat}, {"files", files}};
    REQUIRE(w.AddFile(backup_internal::kManifestName, m.dump(), 0600, 0).ok());
    REQUIRE(w.Close().ok());
    ::close(fd);
    return p;
  };
  json good = {{"spool/a", {{"sha256", Sha256Hex("A")}, {"size", 1}}}};
  CHECK(VerifyBackup(forge("ok.tar.gz", good, {{"spool/a", "A"}})).ok());
  auto changed = VerifyBackup(forge("changed.tar.gz", good, {{"spool/a", "B"}}));
  CHECK(changed.status().kind() == ErrorKind::kPermanent);
  CHECK(changed.status().message().find("spool/a does not match") != std::string::npos);
  auto missing = VerifyBackup(forge("missing.tar.gz", good, {}));
  CHECK(missing.status().message().find("spool/a is missing") != std::string::npos);
  auto extra = VerifyBackup(forge("extra.tar.gz", good, {{"spool/a", "A"}, {"spool/b", "B"}}));
  CHECK(extra.status().message().find("spool/b is not in the manifest") != std::string::npos);
  auto unsafe = VerifyBackup(forge("unsafe.tar.gz", good, {{"spool/a", "A"}, {"spool/../../etc/x", "X"}}));
  CHECK(unsafe.status().message().find("unsafe entry name") != std::string::npos);

  BackupResult r = f.Backup();
  std::string bytes = ReadFile(r.archive).value();
  Write(dir / "cut.tar.gz", bytes.substr(0, bytes.size() / 2));
  CHECK(VerifyBackup(dir / "cut.tar.gz").status().kind() == ErrorKind::kPermanent);
  CHECK(VerifyBackup(dir / "nothing.tar.gz").status().kind() == ErrorKind::kIo);
  // A damaged archive is never restored.
  SpoolFixture target;
  CHECK(RestoreBackup(dir / "changed.tar.gz", target.spool, RestoreOptions(), Now()).status().kind() ==
        ErrorKind::kPermanent);
  CHECK(target.spool.List(ClaimState::kReview).empty());
}

TEST_CASE("backup: entry names") {
  using backup_internal::SafeEntryName;
  CHECK(SafeEntryName("spool/review/x/claim.json"));
  CHECK(SafeEntryName("config/ncbocr.yaml"));
  CHECK(SafeEntryName("MANIFEST.json"));
  CHECK_FALSE(SafeEntryName("/etc/passwd"));
  CHECK_FALSE(SafeEntryName("spool/../x"));
  CHECK_FALSE(SafeEntryName("other/x"));
  CHECK_FALSE(SafeEntryName("spool//x"));
}

TEST_CASE("backup: retention prunes only old backups") {
  BackupFixture f;
  fs::path dir = f.dir.path / "backups";
  Write(dir / "ncbocr-backup-20000101T000000Z.tar.gz", "old");
  Write(dir / "ncbocr-backup-20000102T000000Z.tar.gz", "recent");
  Write(dir / "notes-old.txt", "not ours");
  auto forty_days = std::chrono::hours(24 * 40);
  fs::last_write_time(dir / "ncbocr-backup-20000101T000000Z.tar.gz", fs::file_time_type::clock::now() - forty_days);
  fs::last_write_time(dir / "notes-old.txt", fs::file_time_type::clock::now() - forty_days);
  BackupResult r = f.Backup();
  CHECK(r.pruned == std::vector<fs::path>{dir / "ncbocr-backup-20000101T000000Z.tar.gz"});
  CHECK(fs::exists(dir / "ncbocr-backup-20000102T000000Z.tar.gz"));
  CHECK(fs::exists(dir / "notes-old.txt"));
  CHECK(fs::exists(r.archive));
}

TEST_CASE("backup: waits for running stages, and refuses a directory inside the spool") {
  BackupFixture f;
  auto held = f.spool.TryLockStage("ocr");
  REQUIRE(held.ok());
  REQUIRE(held->held());
  BackupOptions o;
  o.lock_wait = std::chrono::seconds(0);
  CHECK(CreateBackup(f.spool, f.config, o, Now()).status().kind() == ErrorKind::kTransient);
  o.to_dir = (f.spool.root() / "backups").string();
  CHECK(CreateBackup(f.spool, f.config, o, Now()).status().kind() == ErrorKind::kUsage);
}

TEST_CASE("backup: the local archive and the audit CSV go in too, verified and restorable apart") {
  BackupFixture f;
  const fs::path archive_dir = f.dir.path / "archive";
  const fs::path csv = f.dir.path / "audit" / "audit.csv";
  Write(archive_dir / "2026" / "12" / "03" / "claim-1.jpg", "JPEG BYTES");
  Write(archive_dir / "2026" / "12" / "03" / "claim-1.json", "{\"claim\": 1}");
  Write(csv, "claim_id,state\nclaim-1,done\n");
  f.config.archive.dir = archive_dir.string();
  f.config.archive.audit_csv = csv.string();
  BackupResult r = f.Backup();
  CHECK(r.audit_files == 3);
  auto manifest = VerifyBackup(r.archive);
  REQUIRE(manifest.ok());
  CHECK((*manifest)["files"].contains("archive/2026/12/03/claim-1.jpg"));
  CHECK((*manifest)["files"].contains("audit/audit.csv"));
  CHECK((*manifest)["archive_dir"] == archive_dir.string());

  SpoolFixture target;
  RestoreOptions o;
  o.audit_to = (target.dir.path / "restored").string();
  auto res = RestoreBackup(r.archive, target.spool, o, Now());
  REQUIRE(res.ok());
  CHECK(res->audit_files == 3);
  CHECK(ReadFile(target.dir.path / "restored" / "archive" / "2026" / "12" / "03" / "claim-1.jpg").value() ==
        "JPEG BYTES");
  CHECK(ReadFile(target.dir.path / "restored" / "audit.csv").value() == "claim_id,state\nclaim-1,done\n");
  // Never over an existing file: a second restore of the audit trail there is refused.
  SpoolFixture again;
  auto twice = RestoreBackup(r.archive, again.spool, o, Now());
  CHECK(twice.status().kind() == ErrorKind::kUsage);
}

}  // namespace
}  // namespace ncbocr
