// Restore of a backup archive into a spool (see backup.h for the contract).
#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "ops/backup_internal.h"
#include "ncbocr/backup.h"
#include "ncbocr/util.h"

namespace ncbocr {

using namespace backup_internal;  // NOLINT: the unit's own internals

namespace {

using Json = nlohmann::json;

// Top-level spool entries a restore must not touch: our own locks, and tmp/
// where the restore is built.
bool Untouchable(const std::string& top) { return top == "locks" || top == "tmp"; }

// Counts the regular files in the spool outside locks/ and tmp/: a freshly
// opened spool has directories only, so any file means someone's data.
size_t FilesIn(const fs::path& root) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it.depth() == 0 && Untouchable(it->path().filename().string())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) ++n;
  }
  return n;
}

Status MoveAside(const fs::path& root, const fs::path& aside) {
  Status s = MakeDirs(aside, 0700);
  if (!s.ok()) return s;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::string name = e.path().filename().string();
    if (Untouchable(name)) continue;
    if (::rename(e.path().c_str(), (aside / name).c_str()) != 0) {
      return Status::Io("cannot move " + e.path().string() + " aside: " + std::strerror(errno));
    }
  }
  if (ec) return Status::Io("cannot read spool " + root.string() + ": " + ec.message());
  return FsyncDir(root);
}

void SetMtime(const fs::path& p, long long mtime) {
  struct timespec times[2] = {{static_cast<time_t>(mtime), 0}, {static_cast<time_t>(mtime), 0}};
  ::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

// Writes every spool/ entry below stage/, checking each file against the
// manifest again (the archive could have changed since it was verified).
Status Extract(const fs::path& archive, const Json& files, const fs::path& stage, RestoreResult& result,
               std::vector<std::pair<fs::path, long long>>& dir_times) {
  return ReadTar(archive, [&](const TarEntry& e) -> Status {
    if (!SafeEntryName(e.name)) return Status::Permanent("unsafe entry name '" + e.name + "'");
    if (e.name.rfind("spool/", 0) != 0) return Status::Ok();
    fs::path rel = fs::path(e.name.substr(6)).lexically_normal();
    if (rel.empty() || rel == "." || Untouchable(rel.begin()->string())) return Status::Ok();
    fs::path dest = stage / rel;
    if (e.is_dir) {
      Status s = MakeDirs(dest, 0700);
      if (s.ok()) dir_times.emplace_back(dest, e.mtime);
      return s;
    }
    const Json* want = files.contains(e.name) ? &files[e.name] : nullptr;
    if (want == nullptr || want->value("sha256", "") != Sha256Hex(e.bytes)) {
      return Status::Permanent(e.name + " changed since the archive was verified");
    }
    Status s = MakeDirs(dest.parent_path(), 0700);
    if (s.ok()) s = AtomicWriteFile(dest, e.bytes, (e.mode & 0700) | 0600);
    if (!s.ok()) return s;
    SetMtime(dest, e.mtime);
    ++result.files;
    return Status::Ok();
  });
}

// Renames each top-level directory of the built spool over the (empty)
// directory of the same name in the live spool.
Status MoveIntoPlace(const fs::path& stage, const fs::path& root) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(stage, ec)) {
    fs::path target = root / e.path().filename();
    if (fs::exists(target, ec)) {
      fs::remove_all(target, ec);  // only empty directories: FilesIn said so
      if (ec) return Status::Io("cannot clear " + target.string() + ": " + ec.message());
    }
    if (::rename(e.path().c_str(), target.c_str()) != 0) {
      return Status::Io("cannot move restored " + target.string() + " into place: " + std::strerror(errno));
    }
  }
  if (ec) return Status::Io("cannot read " + stage.string() + ": " + ec.message());
  return FsyncDir(root);
}

// config/ and secrets/ entries into dir, never over an existing file.
Status WriteConfig(const fs::path& archive, const fs::path& dir, RestoreResult& result) {
  Status s = MakeDirs(dir, 0700);
  if (!s.ok()) return s;
  return ReadTar(archive, [&](const TarEntry& e) -> Status {
    if (e.is_dir || (e.name.rfind("config/", 0) != 0 && e.name.rfind("secrets/", 0) != 0)) return Status::Ok();
    fs::path dest = dir / fs::path(e.name).filename();
    std::error_code ec;
    if (fs::exists(dest, ec)) return Status::Usage(dest.string() + " exists; choose an empty --config-to directory");
    Status w = AtomicWriteFile(dest, e.bytes, 0600);
    if (w.ok()) result.config_written.push_back(dest);
    return w;
  });
}

// archive/ and audit/ entries below dir (archive/... keeps its tree, the
// audit CSV goes to dir/NAME), never over an existing file, each checked
// against the manifest again.
Status WriteAuditTrail(const fs::path& archive, const Json& files, const fs::path& dir, RestoreResult& result) {
  Status s = MakeDirs(dir, 0700);
  if (!s.ok()) return s;
  return ReadTar(archive, [&](const TarEntry& e) -> Status {
    if (!SafeEntryName(e.name)) return Status::Permanent("unsafe entry name '" + e.name + "'");
    fs::path dest;
    if (e.name.rfind("archive/", 0) == 0) {
      dest = dir / fs::path(e.name).lexically_normal();
    } else if (e.name.rfind("audit/", 0) == 0 && !e.is_dir) {
      dest = dir / fs::path(e.name).filename();
    } else {
      return Status::Ok();
    }
    if (e.is_dir) return MakeDirs(dest, 0700);
    const Json* want = files.contains(e.name) ? &files[e.name] : nullptr;
    if (want == nullptr || want->value("sha256", "") != Sha256Hex(e.bytes)) {
      return Status::Permanent(e.name + " changed since the archive was verified");
    }
    std::error_code ec;
    if (fs::exists(dest, ec)) return Status::Usage(dest.string() + " exists; choose an empty --audit-to directory");
    Status m = MakeDirs(dest.parent_path(), 0700);
    if (m.ok()) m = AtomicWriteFile(dest, e.bytes, 0600);
    if (!m.ok()) return m;
    SetMtime(dest, e.mtime);
    ++result.audit_files;
    return Status::Ok();
  });
}

}  // namespace

Result<RestoreResult> RestoreBackup(const fs::path& archive, const Spool& spool, const RestoreOptions& o,
                                    TimePoint now) {
  auto manifest = VerifyBackup(archive);
  if (!manifest.ok()) return manifest.status();
  auto locks = LockWholeSpool(spool, o.lock_wait);
  if (!locks.ok()) return locks.status();

  RestoreResult result;
  const fs::path& root = spool.root();
  if (size_t n = FilesIn(root); n > 0) {
    if (!o.force) {
      return Status::Usage("spool " + root.string() + " is not empty (" + std::to_string(n) +
                           " files); restore fills an empty spool only, or use --force to move the "
                           "current contents aside first");
    }
    result.moved_aside = root.parent_path() / (root.filename().string() + ".pre-restore-" + CompactUtc(now));
    Status s = MoveAside(root, result.moved_aside);
    if (!s.ok()) return s;
  }
  fs::path stage = root / "tmp" / ("restore." + RandomHex(6));
  Status s = MakeDirs(stage, 0700);
  std::vector<std::pair<fs::path, long long>> dir_times;
  if (s.ok()) s = Extract(archive, (*manifest)["files"], stage, result, dir_times);
  // Directory times last: writing a file into a directory changes its mtime.
  for (auto it = dir_times.rbegin(); s.ok() && it != dir_times.rend(); ++it) SetMtime(it->first, it->second);
  if (s.ok()) s = MoveIntoPlace(stage, root);
  std::error_code ec;
  fs::remove_all(stage, ec);
  if (!s.ok()) return s;
  auto reopened = Spool::Open(root);  // recreates any state directory the archive lacked
  if (!reopened.ok()) return reopened.status();
  if (!o.config_to.empty()) {
    s = WriteConfig(archive, o.config_to, result);
    if (!s.ok()) return s;
  }
  if (!o.audit_to.empty()) {
    s = WriteAuditTrail(archive, (*manifest)["files"], o.audit_to, result);
    if (!s.ok()) return s;
  }
  return result;
}

}  // namespace ncbocr
