// The tar.gz reader and writer behind backup and restore (libarchive).
#include <archive.h>
#include <archive_entry.h>

#include <ctime>
#include <thread>

#include "ncbocr/util.h"
#include "ops/backup_internal.h"
#include "ncbocr/report.h"

namespace ncbocr::backup_internal {

namespace {

std::string ArchiveError(struct archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return what + ": " + (msg ? msg : "unknown libarchive error");
}

// Owns an archive_entry for the length of one header write.
struct Entry {
  Entry() : e(archive_entry_new()) {}
  ~Entry() { archive_entry_free(e); }
  struct archive_entry* e;
};

}  // namespace

TarWriter::~TarWriter() {
  if (a_ != nullptr) archive_write_free(a_);
}

Status TarWriter::Open(int fd) {
  a_ = archive_write_new();
  if (a_ == nullptr) return Status::Internal("libarchive: out of memory");
  if (archive_write_add_filter_gzip(a_) != ARCHIVE_OK || archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK ||
      archive_write_open_fd(a_, fd) != ARCHIVE_OK) {
    return Status::Io(ArchiveError(a_, "cannot start the archive"));
  }
  return Status::Ok();
}

Status TarWriter::AddFile(const std::string& name, const std::string& bytes, unsigned mode, long long mtime) {
  Entry en;
  archive_entry_set_pathname(en.e, name.c_str());
  archive_entry_set_filetype(en.e, AE_IFREG);
  archive_entry_set_perm(en.e, mode & 0700);
  archive_entry_set_size(en.e, static_cast<la_int64_t>(bytes.size()));
  archive_entry_set_mtime(en.e, static_cast<time_t>(mtime), 0);
  if (archive_write_header(a_, en.e) != ARCHIVE_OK) return Status::Io(ArchiveError(a_, "cannot add " + name));
  if (!bytes.empty() && archive_write_data(a_, bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size())) {
    return Status::Io(ArchiveError(a_, "cannot write " + name));
  }
  return Status::Ok();
}

Status TarWriter::AddDir(const std::string& name, unsigned mode, long long mtime) {
  Entry en;
  archive_entry_set_pathname(en.e, name.c_str());
  archive_entry_set_filetype(en.e, AE_IFDIR);
  archive_entry_set_perm(en.e, mode & 0700);
  archive_entry_set_mtime(en.e, static_cast<time_t>(mtime), 0);
  if (archive_write_header(a_, en.e) != ARCHIVE_OK) return Status::Io(ArchiveError(a_, "cannot add " + name));
  return Status::Ok();
}

Status TarWriter::Close() {
  if (archive_write_close(a_) != ARCHIVE_OK) return Status::Io(ArchiveError(a_, "cannot finish the archive"));
  return Status::Ok();
}

Status ReadTar(const fs::path& path, const std::function<Status(const TarEntry&)>& fn) {
  struct archive* a = archive_read_new();
  if (a == nullptr) return Status::Internal("libarchive: out of memory");
  struct Closer {
    struct archive* a;
    ~Closer() { archive_read_free(a); }
  } closer{a};
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Status::Io("cannot open " + path.string() + ": no such file");
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return Status::Permanent(ArchiveError(a, path.string() + " is not a readable tar.gz archive"));
  }
  struct archive_entry* e = nullptr;
  while (true) {
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK) return Status::Permanent(ArchiveError(a, path.string() + " is damaged"));
    TarEntry t;
    const char* name = archive_entry_pathname(e);
    t.name = name ? name : "";
    auto type = archive_entry_filetype(e);
    if (type != AE_IFREG && type != AE_IFDIR) {
      return Status::Permanent("entry " + t.name + " of " + path.string() + " is neither a file nor a directory");
    }
    t.is_dir = type == AE_IFDIR;
    t.mode = archive_entry_perm(e);
    t.mtime = archive_entry_mtime(e);
    if (!t.is_dir) {
      char buf[1 << 16];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0) t.bytes.append(buf, static_cast<size_t>(n));
      if (n < 0) return Status::Permanent(ArchiveError(a, path.string() + " is damaged at " + t.name));
    }
    Status s = fn(t);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

bool SafeEntryName(const std::string& name) {
  if (name == kManifestName) return true;
  if (name.empty() || name[0] == '/') return false;
  std::string top = name.substr(0, name.find('/'));
  if (top != "spool" && top != "config" && top != "secrets" && top != "archive" && top != "audit") return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string part = name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "." || part == "..") return false;
    if (part.empty() && slash != std::string::npos && slash + 1 != name.size()) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

Result<std::vector<StageLock>> LockWholeSpool(const Spool& spool, std::chrono::seconds wait) {
  std::vector<std::string> names = PipelineStages();
  names.push_back("review");
  auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<StageLock> held;
  for (const auto& n : names) {
    while (true) {
      auto lock = spool.TryLockStage(n);
      if (!lock.ok()) return lock.status();
      if (lock->held()) {
        held.push_back(std::move(*lock));
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return Status::Transient("the " + n + " lock is still held (a run is in progress); try again later");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  return held;
}

std::string CompactUtc(TimePoint t) { return FormatUtc(t, "%Y%m%dT%H%M%SZ"); }

}  // namespace ncbocr::backup_internal
