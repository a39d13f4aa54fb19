// Internals shared by backup.cc and restore.cc: the tar.gz reader and writer
// (a thin, exception-free wrapper over libarchive), the locks that freeze the
// spool, and the rules for entry names.
#ifndef NCBOCR_BACKUP_INTERNAL_H_
#define NCBOCR_BACKUP_INTERNAL_H_

#include <functional>
#include <string>
#include <vector>

#include "ncbocr/spool.h"
#include "ncbocr/status.h"

struct archive;

namespace ncbocr::backup_internal {

constexpr const char* kManifestName = "MANIFEST.json";
constexpr const char* kFormat = "ncbocr-backup 1";

// Writes a gzip-compressed tar to an open file descriptor it does not own.
class TarWriter {
 public:
  TarWriter() = default;
  ~TarWriter();
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  Status Open(int fd);
  Status AddFile(const std::string& name, const std::string& bytes, unsigned mode, long long mtime);
  Status AddDir(const std::string& name, unsigned mode, long long mtime);
  // Flushes the compressor and the tar trailer. Must be called for a valid file.
  Status Close();

 private:
  struct archive* a_ = nullptr;
};

struct TarEntry {
  std::string name;
  bool is_dir = false;
  unsigned mode = 0;
  long long mtime = 0;
  std::string bytes;  // regular files only
};

// Calls fn for every entry, in archive order; stops at fn's first error.
// kPermanent if the archive is damaged or holds anything but files and
// directories; kIo if it cannot be opened.
Status ReadTar(const fs::path& path, const std::function<Status(const TarEntry&)>& fn);

// A name is safe if it is relative, has no "." or ".." component and lies
// under spool/, config/ or secrets/ (or is the manifest).
bool SafeEntryName(const std::string& name);

// Every stage lock plus the manual-change lock, waiting up to `wait` in all.
Result<std::vector<StageLock>> LockWholeSpool(const Spool& spool, std::chrono::seconds wait);

// "20241218T024200Z"
std::string CompactUtc(TimePoint t);

}  // namespace ncbocr::backup_internal

#endif  // NCBOCR_BACKUP_INTERNAL_H_
