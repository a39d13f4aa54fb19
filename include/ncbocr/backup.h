// Backup and restore: the whole spool and the configuration in one file, so
// a dead disk or a botched upgrade costs minutes, not claims.
//
// An archive is a gzip-compressed tar (written and read in-process with
// libarchive: no shell, no quoting, and entry names and modes are checked as
// they are read) holding
//   spool/...        every claim directory, index, journal and stage record
//                    (not tmp/ drafts, not locks/)
//   archive/...      the local archive (archive.dir), when configured
//   audit/NAME       the audit CSV (archive.audit_csv), when configured
//   config/NAME      the configuration file, with inline secrets (ncb.api_key,
//                    alerts.smtp_password) emptied unless secrets are included
//   secrets/KEY      credential, token and key files the configuration names
//                    (only with include_secrets)
//   MANIFEST.json    last: the sha256 and size of every file above, what was
//                    left out, and where each piece came from.
// The spool is consistent because the backup holds every stage lock and the
// lock that approve/reject/retry take (review.h) while it reads: no claim can
// move while it is copied. Archives are created 0600 in a 0700 directory, as
// they hold personal data; older ones than backup.keep_days are pruned.
//
// Restore verifies the whole archive first, then fills an empty spool (or,
// with force, moves the current contents aside to SPOOL.pre-restore-TIME),
// building it in tmp/ and renaming it into place so a crash leaves either
// the old spool or the restored one, plus a draft the next stage sweeps.
#ifndef NCBOCR_BACKUP_H_
#define NCBOCR_BACKUP_H_

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ncbocr/config.h"
#include "ncbocr/spool.h"
#include "ncbocr/status.h"

namespace ncbocr {

struct BackupOptions {
  std::string to_dir;                // empty: BackupDir(config)
  bool include_secrets = false;
  std::chrono::seconds lock_wait{60};  // for running stages to finish
  bool progress = false;             // "backup spool/ 120 of 5000" on the terminal (progress.h)
};

struct BackupResult {
  fs::path archive;
  size_t files = 0;                      // files in the archive, manifest excluded
  std::vector<std::string> secrets_left_out;  // config keys whose secret was not saved
  std::vector<std::string> secrets_included;  // config keys whose secret was saved
  std::vector<fs::path> pruned;          // older archives removed
  size_t audit_files = 0;                // of files: from archive.dir and the audit CSV
};

// The directory backups go to: backup.dir, else <spool>/../backups.
fs::path BackupDir(const Config& config);

// Writes a new archive. kTransient if a stage keeps its lock longer than
// lock_wait; kUsage if the target directory is inside the spool.
Result<BackupResult> CreateBackup(const Spool& spool, const Config& config, const BackupOptions& options,
                                  TimePoint now);

// Removes ncbocr-backup-*.tar.gz in dir last modified more than keep_days
// before now, except `keep`. Returns what was removed.
std::vector<fs::path> PruneBackups(const fs::path& dir, int keep_days, TimePoint now, const fs::path& keep);

// Checks every entry of the archive against its manifest. Returns the
// manifest; kPermanent listing the problems (a changed, missing or extra
// file, an unsafe name, a damaged archive); kIo if the file cannot be opened.
Result<nlohmann::json> VerifyBackup(const fs::path& archive);

struct RestoreOptions {
  bool force = false;        // replace a non-empty spool (its contents are kept aside)
  std::string config_to;     // write config/ and secrets/ here (0600); empty: not at all
  std::string audit_to;      // write archive/ and audit/ here, never over a file; empty: not at all
  std::chrono::seconds lock_wait{60};
};

struct RestoreResult {
  size_t files = 0;          // spool files restored
  fs::path moved_aside;      // where a replaced spool's contents went ("" if none)
  std::vector<fs::path> config_written;
  size_t audit_files = 0;    // files written under audit_to
};

// Restores archive into spool. kUsage if the spool holds anything and force
// is not set; kPermanent if the archive fails verification.
Result<RestoreResult> RestoreBackup(const fs::path& archive, const Spool& spool, const RestoreOptions& options,
                                    TimePoint now);

}  // namespace ncbocr

#endif  // NCBOCR_BACKUP_H_
