#include "ncbocr/spool.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "ncbocr/util.h"

namespace ncbocr {

namespace {

constexpr const char* kManifest = "claim.json";
// Exists while a journal append that followed a move has failed and no
// ReconcileJournal has caught up since (see spool.h).
constexpr const char* kJournalGap = "unjournaled";

std::string ErrnoText(const std::string& what, const fs::path& p) {
  return what + " " + p.string() + ": " + std::strerror(errno);
}

// Claim ids come from the command line too: refuse anything that could
// name a path outside the spool.
bool SafeId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool SafeFileName(const std::string& name) {
  return SafeId(name) && name != kManifest;
}

// Sets an open-file-description lock (fcntl F_OFD_SETLK, or F_OFD_SETLKW to
// wait) of `type` on [start, start+len) of fd (len 0: to the end). Like flock
// it belongs to the open description (two opens in one process exclude each
// other too) and goes when it is closed or the process dies; unlike flock,
// NFS v4 servers enforce it between clients. 0, or -1 with errno.
int SetOfdLock(int fd, short type, off_t start, off_t len, bool wait) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  int rc;
  do {
    rc = ::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
  } while (rc != 0 && wait && errno == EINTR);
  return rc;
}

// The per-claim lock (see spool.h): an exclusive open-file-description lock
// on one byte of locks/claims.lock, waited for. Each lock opens the file
// anew, so two threads of one process exclude each other as two processes
// do. Released when destroyed (or when the process dies).
class ClaimLock {
 public:
  ClaimLock(const fs::path& root, const std::string& id) {
    fd_ = ::open((root / "locks" / "claims.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ >= 0 && SetOfdLock(fd_, F_WRLCK, static_cast<off_t>(Spool::ClaimLockOffset(id)), 1, true) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~ClaimLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  ClaimLock(const ClaimLock&) = delete;
  ClaimLock& operator=(const ClaimLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Result<Claim> ReadManifest(const fs::path& dir) {
  auto bytes = ReadFile(dir / kManifest);
  if (!bytes.ok()) return bytes.status();
  try {
    auto j = nlohmann::json::parse(*bytes);
    return Claim::FromJson(j);
  } catch (const nlohmann::json::exception& e) {
    return Status::Permanent("corrupt manifest " + (dir / kManifest).string() + ": " + e.what());
  }
}

}  // namespace

StageLock& StageLock::operator=(StageLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

StageLock::~StageLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<Spool> Spool::Open(const fs::path& root) {
  if (root.empty()) return Status::Config("no spool directory configured");
  std::vector<fs::path> dirs = {root, root / "tmp", root / "index" / "sha256",
                                root / "index" / "source", root / "journal", root / "locks",
                                root / "stages"};
  for (ClaimState s : AllClaimStates()) dirs.push_back(root / ClaimStateName(s));
  for (const auto& d : dirs) {
    Status s = MakeDirs(d, 0700);
    if (!s.ok()) return s.WithContext("cannot open spool");
  }
  if (::access(root.c_str(), W_OK) != 0) {
    return Status::Io(ErrnoText("spool is not writable:", root));
  }
  return Spool(fs::absolute(root));
}

fs::path Spool::StateDir(ClaimState s) const { return root_ / ClaimStateName(s); }

Result<ClaimDraft> Spool::NewDraft(const std::string& id) const {
  if (!SafeId(id)) return Status::Internal("unsafe claim id '" + id + "'");
  ClaimDraft d;
  d.claim.id = id;
  d.claim.created_at = IsoUtc(std::chrono::system_clock::now());
  d.dir = root_ / "tmp" / (id + "." + RandomHex(4));
  if (::mkdir(d.dir.c_str(), 0700) != 0) return Status::Io(ErrnoText("cannot create", d.dir));
  return d;
}

Status Spool::WriteDraftFile(const ClaimDraft& d, const std::string& name,
                             const std::string& bytes, unsigned mode) const {
  if (!SafeFileName(name)) return Status::Internal("unsafe file name '" + name + "'");
  return AtomicWriteFile(d.dir / name, bytes, mode);
}

Status Spool::RenameNoReplace(const fs::path& from, const fs::path& to) const {
  int rc = -1;
  if (!plain_rename_->load()) {
    rc = ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
    // NFS and other shared file systems do not know the flag: from now on
    // plain rename(2), which cannot replace a non-empty claim directory.
    if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) plain_rename_->store(true);
  }
  if (plain_rename_->load()) rc = ::rename(from.c_str(), to.c_str());
  if (rc == 0) return Status::Ok();
  if (errno == ENOENT) return Status::Transient("claim moved concurrently: " + from.string());
  if (errno == EEXIST || errno == ENOTEMPTY) return Status::Internal("claim already exists at " + to.string());
  return Status::Io(ErrnoText("cannot move claim to", to));
}

Status Spool::RenameClaimDir(const fs::path& from, const fs::path& to) const {
  Status moved = RenameNoReplace(from, to);
  if (!moved.ok()) return moved;
  Status s = FsyncDir(to.parent_path());
  if (!s.ok()) return s;
  return FsyncDir(from.parent_path());
}

Status Spool::Commit(ClaimDraft& d, ClaimState state, const std::string& actor,
                     const std::string& reason) const {
  std::string now = IsoUtc(std::chrono::system_clock::now());
  d.claim.state = state;
  d.claim.reason = reason;
  d.claim.history.push_back({now, "", ClaimStateName(state), actor, reason});
  Status s = AtomicWriteFile(d.dir / kManifest, d.claim.ToJson().dump(2) + "\n", 0600);
  if (!s.ok()) return s;
  // Held until the journal line is in, as a move holds it: ReconcileJournal
  // then never takes a commit in flight for one it must record.
  ClaimLock lock(root_, d.claim.id);
  if (!lock.held()) return Status::Io("cannot take the lock of claim " + d.claim.id + " (locks/claims.lock)");
  s = RenameClaimDir(d.dir, StateDir(state) / d.claim.id);
  if (!s.ok()) return s;
  // From here on the claim is committed, whatever the journal says.
  d.dir = StateDir(state) / d.claim.id;
  JournalMove({{"at", now}, {"claim", d.claim.id}, {"from", ""},
               {"to", ClaimStateName(state)}, {"actor", actor}, {"reason", reason}});
  return Status::Ok();
}

void Spool::DiscardDraft(const ClaimDraft& d) const {
  if (d.dir.parent_path() != root_ / "tmp") return;
  std::error_code ec;
  fs::remove_all(d.dir, ec);  // else SweepTmp removes it within the hour
}

std::vector<std::string> Spool::List(ClaimState s) const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(StateDir(s), ec)) {
    std::string name = e.path().filename().string();
    if (SafeId(name) && e.is_directory(ec)) ids.push_back(name);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<Claim> Spool::LoadIn(ClaimState s, const std::string& id) const {
  if (!SafeId(id)) return Status::Permanent("invalid claim id '" + id + "'");
  fs::path dir = StateDir(s) / id;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::Permanent("no claim " + id + " in " + ClaimStateName(s));
  }
  auto c = ReadManifest(dir);
  if (!c.ok()) return c.status();
  c->state = s;  // the directory, not the manifest, says where a claim is
  return c;
}

Result<Claim> Spool::Load(const std::string& id) const {
  if (!SafeId(id)) return Status::Permanent("invalid claim id '" + id + "'");
  std::error_code ec;
  for (ClaimState s : AllClaimStates()) {
    if (fs::is_directory(StateDir(s) / id, ec)) return LoadIn(s, id);
  }
  return Status::Permanent("no such claim: " + id);
}

bool Spool::Exists(const std::string& id) const {
  if (!SafeId(id)) return false;
  std::error_code ec;
  for (ClaimState s : AllClaimStates()) {
    if (fs::is_directory(StateDir(s) / id, ec)) return true;
  }
  return false;
}

fs::path Spool::ClaimDir(const Claim& c) const { return StateDir(c.state) / c.id; }

std::vector<Spool::QueueStat> Spool::Stats() const {
  std::vector<QueueStat> out;
  for (ClaimState s : AllClaimStates()) {
    QueueStat q;
    q.state = s;
    for (const auto& id : List(s)) {
      ++q.count;
      auto c = ReadManifest(StateDir(s) / id);
      if (!c.ok()) continue;
      std::string entered = c->history.empty() ? c->created_at : c->history.back().at;
      if (auto t = ParseIso(entered)) {
        if (!q.oldest || *t < *q.oldest) q.oldest = *t;
      }
    }
    out.push_back(q);
  }
  return out;
}

Status Spool::WriteClaimFile(const Claim& c, const std::string& name, const std::string& bytes,
                             unsigned mode) const {
  if (!SafeFileName(name)) return Status::Internal("unsafe file name '" + name + "'");
  fs::path dir = ClaimDir(c);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Transient("claim moved concurrently: " + c.id);
  return AtomicWriteFile(dir / name, bytes, mode);
}

Result<ClaimValues> Spool::LoadClaimValues(const Claim& c) const {
  auto bytes = ReadClaimFile(c, "extract.json");
  if (!bytes.ok()) return Status::Permanent("claim " + c.id + " has no extraction result");
  nlohmann::json j = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Permanent("claim " + c.id + ": unreadable extract.json");
  return ClaimValuesOf(j, c);
}

Result<std::string> Spool::ReadClaimFile(const Claim& c, const std::string& name) const {
  if (!SafeFileName(name) && name != kManifest) return Status::Internal("unsafe file name '" + name + "'");
  return ReadFile(ClaimDir(c) / name);
}

bool Spool::HasClaimFile(const Claim& c, const std::string& name) const {
  std::error_code ec;
  return fs::exists(ClaimDir(c) / name, ec);
}

Status Spool::SaveManifest(const Claim& c) const {
  fs::path dir = ClaimDir(c);
  ClaimLock lock(root_, c.id);
  if (!lock.held()) return Status::Io("cannot take the lock of claim " + c.id + " (locks/claims.lock)");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Transient("claim moved concurrently: " + c.id);
  return AtomicWriteFile(dir / kManifest, c.ToJson().dump(2) + "\n", 0600);
}

Status Spool::Move(Claim& c, ClaimState to, const std::string& actor,
                   const std::string& reason) const {
  fs::path from = ClaimDir(c);
  ClaimLock lock(root_, c.id);
  if (!lock.held()) return Status::Io("cannot take the lock of claim " + c.id + " (locks/claims.lock)");
  std::error_code ec;
  if (!fs::is_directory(from, ec)) return Status::Transient("claim moved concurrently: " + c.id);

  Claim next = c;
  std::string now = IsoUtc(std::chrono::system_clock::now());
  next.history.push_back({now, ClaimStateName(c.state), ClaimStateName(to), actor, reason});
  next.state = to;
  next.reason = reason;
  next.open_attempt.reset();  // a move ends the attempt under way
  if (to != ClaimState::kDeferred) {
    next.next_attempt_at.clear();
    next.resume_state.reset();
    // Leaving deferred for the stage it waited for keeps the attempt count;
    // any other move starts a new stage with a clean slate.
    if (c.state != ClaimState::kDeferred) {
      next.attempts = 0;
      next.interrupted = 0;
    }
  }
  Status s = AtomicWriteFile(from / kManifest, next.ToJson().dump(2) + "\n", 0600);
  if (!s.ok()) return s;
  if (to != c.state) {
    s = RenameClaimDir(from, StateDir(to) / c.id);
    if (!s.ok()) return s;
  }
  // From here on the move has happened, whatever the journal says.
  c = next;
  JournalMove({{"at", now}, {"claim", c.id},
               {"from", c.history.back().from}, {"to", ClaimStateName(to)},
               {"actor", actor}, {"reason", reason}, {"attempts", c.attempts}});
  return Status::Ok();
}

Status Spool::Defer(Claim& c, ClaimState resume, std::chrono::seconds delay,
                    const std::string& actor, const std::string& reason) const {
  Claim before = c;
  c.attempts += 1;
  c.resume_state = resume;
  c.next_attempt_at = IsoUtc(std::chrono::system_clock::now() + delay);
  Status s = Move(c, ClaimState::kDeferred, actor, reason);
  if (!s.ok()) c = before;
  return s;
}

std::vector<std::string> Spool::DueDeferred(ClaimState resume, TimePoint now) const {
  std::vector<std::string> due;
  for (const auto& id : List(ClaimState::kDeferred)) {
    auto c = LoadIn(ClaimState::kDeferred, id);
    if (!c.ok() || !c->resume_state || *c->resume_state != resume) continue;
    auto t = ParseIso(c->next_attempt_at);
    if (!t || *t <= now) due.push_back(id);
  }
  return due;
}

Result<std::optional<std::string>> Spool::ClaimSha(const std::string& sha256,
                                                   const std::string& id) const {
  if (!SafeId(sha256)) return Status::Internal("bad digest");
  fs::path dir = root_ / "index" / "sha256";
  fs::path path = dir / sha256;
  fs::path tmp = root_ / "tmp" / ("sha." + RandomHex(8));
  Status s = AtomicWriteFile(tmp, id + "\n", 0600);
  if (!s.ok()) return s;
  // link(2) fails with EEXIST if another claim holds the digest: that makes
  // "first one wins" atomic across processes.
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc == 0) {
    s = FsyncDir(dir);
    if (!s.ok()) return s;
    return std::optional<std::string>();
  }
  if (err != EEXIST) {
    errno = err;
    return Status::Io(ErrnoText("cannot index", path));
  }
  auto holder = LookupSha(sha256);
  if (!holder) return Status::Io("unreadable index entry " + path.string());
  return holder;
}

std::optional<std::string> Spool::LookupSha(const std::string& sha256) const {
  if (!SafeId(sha256)) return std::nullopt;
  auto bytes = ReadFile(root_ / "index" / "sha256" / sha256);
  if (!bytes.ok()) return std::nullopt;
  std::string id = Trim(*bytes);
  if (id.empty()) return std::nullopt;
  return id;
}

Status Spool::IndexSource(const std::string& source_key, const std::string& id) const {
  return AtomicWriteFile(root_ / "index" / "source" / Sha256Hex(source_key), id + "\n", 0600);
}

std::optional<std::string> Spool::LookupSource(const std::string& source_key) const {
  auto bytes = ReadFile(root_ / "index" / "source" / Sha256Hex(source_key));
  if (!bytes.ok()) return std::nullopt;
  std::string id = Trim(*bytes);
  if (id.empty()) return std::nullopt;
  return id;
}

uint64_t Spool::ClaimLockOffset(const std::string& id) {
  // FNV-1a, 64 bits: fixed by its definition, so every host and every
  // version of ncbocr on a shared spool picks the same byte for a claim.
  uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : id) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h & ((uint64_t{1} << 40) - 1);
}

namespace {

// Tries SetOfdLock on [start, start+len) of the file at p, without
// waiting. Returns the held descriptor, -1 if another holds a conflicting
// lock, or an error.
Result<int> TryLockRange(const fs::path& p, short type, off_t start, off_t len) {
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Io(ErrnoText("cannot open lock", p));
  if (SetOfdLock(fd, type, start, len, false) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EAGAIN || err == EACCES) return -1;
    errno = err;
    return Status::Io(ErrnoText("cannot lock", p));
  }
  return fd;
}

// True if some open description, in any process or (NFS v4) on any host,
// holds a lock on the file that conflicts with a write lock.
bool LockedByAnyone(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  bool held = ::fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

}  // namespace

Result<StageLock> Spool::TryLockStage(const std::string& stage, bool shared) const {
  if (!SafeId(stage)) return Status::Internal("bad stage name");
  auto fd = TryLockRange(root_ / "locks" / (stage + ".lock"), shared ? F_RDLCK : F_WRLCK, 0, 0);
  if (!fd.ok()) return fd.status();
  return *fd < 0 ? StageLock() : StageLock(*fd);
}

Result<StageLock> Spool::TryLockClaimWork(const std::string& stage, const std::string& id) const {
  if (!SafeId(stage) || !SafeId(id)) return Status::Internal("bad stage name or claim id");
  auto fd = TryLockRange(root_ / "locks" / (stage + ".work"), F_WRLCK,
                         static_cast<off_t>(ClaimLockOffset(id)), 1);
  if (!fd.ok()) return fd.status();
  return *fd < 0 ? StageLock() : StageLock(*fd);
}

int Spool::SweepTmp(std::chrono::seconds max_age) const {
  int removed = 0;
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (const auto& e : fs::directory_iterator(root_ / "tmp", ec)) {
    auto mtime = fs::last_write_time(e.path(), ec);
    if (ec) continue;
    if (now - mtime < max_age) continue;
    if (fs::remove_all(e.path(), ec) > 0 && !ec) ++removed;
  }
  return removed;
}

Status Spool::AppendJournal(const nlohmann::json& entry) const {
  fs::path p = root_ / "journal" / "journal.log";
  std::string line = entry.dump() + "\n";
  int fd = ::open(p.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Io(ErrnoText("cannot open journal", p));
  // One write(2) per line: O_APPEND keeps concurrent writers' lines whole.
  ssize_t n = ::write(fd, line.data(), line.size());
  int err = errno;
  bool synced = ::fdatasync(fd) == 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) {
    errno = err;
    return Status::Io(ErrnoText("cannot append to journal", p));
  }
  if (!synced) return Status::Io(ErrnoText("cannot sync journal", p));
  return Status::Ok();
}

Result<std::vector<nlohmann::json>> Spool::ReadJournal() const {
  std::vector<nlohmann::json> out;
  fs::path p = root_ / "journal" / "journal.log";
  std::error_code ec;
  if (!fs::exists(p, ec)) return out;
  auto bytes = ReadFile(p);
  if (!bytes.ok()) return bytes.status();
  size_t start = 0;
  while (start < bytes->size()) {
    size_t end = bytes->find('\n', start);
    if (end == std::string::npos) break;  // a torn last line from a crash: ignored
    std::string line = bytes->substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      continue;  // unreadable line: skipped, the spool directories stay authoritative
    }
  }
  return out;
}

void Spool::JournalMove(const nlohmann::json& entry) const {
  if (!AppendJournal(entry).ok()) NoteJournalGap();
}

void Spool::NoteJournalGap() const {
  // Best effort: an empty file needs no data block, so it is usually
  // created even on a full disk.
  int fd = ::open((root_ / "journal" / kJournalGap).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
}

bool Spool::JournalGapSuspected() const {
  std::error_code ec;
  return fs::exists(root_ / "journal" / kJournalGap, ec);
}

namespace {

// Reads the complete journal lines from byte `from` on into `last` (claim ->
// where its journal ends) and returns the offset after the last of them.
size_t ReadJournalTail(const fs::path& p, size_t from, std::map<std::string, std::string>& last) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return from;
  in.seekg(static_cast<std::streamoff>(from));
  std::string line;
  size_t at = from;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written: read next time
    at += line.size() + 1;
    nlohmann::json e = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (e.is_object() && e.value("claim", "") != "" && e.contains("to") && e["to"].is_string()) {
      last[e["claim"].get<std::string>()] = e["to"].get<std::string>();
    }
  }
  return at;
}

}  // namespace

Result<int> Spool::ReconcileJournal() const {
  // Cleared first: an append that fails from here on sets it again.
  std::error_code ec;
  fs::remove(root_ / "journal" / kJournalGap, ec);
  const fs::path journal = root_ / "journal" / "journal.log";
  if (fs::exists(journal, ec) && (!fs::is_regular_file(journal, ec) || !std::ifstream(journal))) {
    NoteJournalGap();
    return Status::Io("cannot read the journal " + journal.string());
  }
  std::map<std::string, std::string> last;  // claim -> where its journal ends
  size_t read_to = ReadJournalTail(journal, 0, last);
  int appended = 0;
  for (ClaimState s : AllClaimStates()) {
    const std::string here = ClaimStateName(s);
    for (const auto& id : List(s)) {
      auto it = last.find(id);
      if (it != last.end() && it->second == here) continue;
      fs::path dir = StateDir(s) / id;
      // A move or commit in flight holds this lock until it has journaled;
      // what was journaled while this waited is read before deciding.
      ClaimLock lock(root_, id);
      if (!lock.held() || !fs::is_directory(dir, ec)) continue;
      read_to = ReadJournalTail(journal, read_to, last);
      it = last.find(id);
      if (it != last.end() && it->second == here) continue;
      auto c = ReadManifest(dir);
      if (!c.ok()) continue;
      // The move that brought the claim here; a later entry, if any, is a
      // move whose rename never happened.
      auto h = std::find_if(c->history.rbegin(), c->history.rend(),
                            [&](const HistoryEntry& e) { return e.to == here; });
      if (h == c->history.rend()) continue;
      Status a = AppendJournal({{"at", h->at}, {"claim", id}, {"from", h->from}, {"to", here},
                                {"actor", h->actor}, {"reason", h->reason}, {"recovered", true}});
      if (!a.ok()) {
        NoteJournalGap();
        return a;
      }
      ++appended;
    }
  }
  return appended;
}

namespace {

constexpr char kLeaseSuffix[] = ".running";
// A lease is rewritten in place, padded to this size, so a renewal is one
// pwrite(2) of the same length and a reader never finds it cut short.
constexpr size_t kLeaseBytes = 512;

std::string PaddedLease(const nlohmann::json& lease) {
  std::string body = lease.dump();
  if (body.size() < kLeaseBytes - 1) body.append(kLeaseBytes - 1 - body.size(), ' ');
  return body + "\n";
}

// The lease files of stage: <stage>@<run>.running, and the <stage>.running
// of versions before leases were per run.
std::vector<fs::path> LeaseFiles(const fs::path& dir, const std::string& stage) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name == stage + kLeaseSuffix ||
        (name.rfind(stage + "@", 0) == 0 && name.size() > stage.size() + 1 + sizeof kLeaseSuffix - 1 &&
         name.compare(name.size() - (sizeof kLeaseSuffix - 1), std::string::npos, kLeaseSuffix) == 0)) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

RunLease::RunLease(RunLease&& o) noexcept
    : fd_(o.fd_), path_(std::move(o.path_)), body_(std::move(o.body_)), interrupted_(o.interrupted_) {
  o.fd_ = -1;
}

RunLease& RunLease::operator=(RunLease&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    body_ = std::move(o.body_);
    interrupted_ = o.interrupted_;
    o.fd_ = -1;
  }
  return *this;
}

RunLease::~RunLease() {
  if (fd_ >= 0) ::close(fd_);
}

Result<RunLease> Spool::BeginStageRun(const std::string& stage, const std::string& run) const {
  if (!SafeId(stage) || !SafeId(run) || stage.find('@') != std::string::npos) {
    return Status::Internal("bad stage or run name");
  }
  const fs::path dir = root_ / "stages";
  RunLease lease;
  // The leases of runs that died: a live run holds its lease's lock, so one
  // that can be locked is dead. It is removed while locked. (Leases are
  // locked before they get their name, below, so no live run's can be taken
  // for dead.)
  std::vector<fs::path> drafts;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("." + stage + "@", 0) == 0 && e.path().extension() == ".new") drafts.push_back(e.path());
  }
  for (const auto& p : LeaseFiles(dir, stage)) {
    auto fd = TryLockRange(p, F_WRLCK, 0, 0);
    if (!fd.ok() || *fd < 0) continue;
    struct stat st {};
    if (::fstat(*fd, &st) == 0 && st.st_nlink > 0) {
      lease.interrupted_ = true;
      fs::remove(p, ec);
    }
    ::close(*fd);
  }
  // A draft lives for microseconds, between its open and its rename; one an
  // hour old was left by a run that died there.
  for (const auto& p : drafts) {
    auto mtime = fs::last_write_time(p, ec);
    if (ec || fs::file_time_type::clock::now() - mtime < std::chrono::hours(1)) continue;
    fs::remove(p, ec);
  }
  // Made under a private name, locked and written, and only then renamed
  // into place: a lease another run can see is always held by a live run or
  // left by a dead one, never one not yet locked.
  const fs::path p = dir / (stage + "@" + run + kLeaseSuffix);
  const fs::path draft = dir / ("." + stage + "@" + run + ".new");
  int fd = ::open(draft.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Io(ErrnoText("cannot create the run lease", draft));
  std::string now = IsoUtc(std::chrono::system_clock::now());
  nlohmann::json body = {{"host", HostName()}, {"pid", static_cast<long>(::getpid())}, {"run", run},
                         {"started_at", now}, {"renewed_at", now}, {"lease_s", kStageLeaseSeconds}};
  std::string bytes = PaddedLease(body);
  if (SetOfdLock(fd, F_WRLCK, 0, 0, false) != 0 ||
      ::pwrite(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()) ||
      ::rename(draft.c_str(), p.c_str()) != 0) {
    int err = errno;
    ::close(fd);
    fs::remove(draft, ec);
    errno = err;
    return Status::Io(ErrnoText("cannot write the run lease", p));
  }
  lease.fd_ = fd;
  lease.path_ = p;
  lease.body_ = body.dump();
  return lease;
}

Status Spool::RenewStageRun(RunLease& lease) const {
  if (!lease.held()) return Status::Internal("no run lease held");
  nlohmann::json body = nlohmann::json::parse(lease.body_, nullptr, false);
  if (!body.is_object()) return Status::Internal("bad run lease");
  body["renewed_at"] = IsoUtc(std::chrono::system_clock::now());
  std::string bytes = PaddedLease(body);
  if (::pwrite(lease.fd_, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    return Status::Io(ErrnoText("cannot renew the run lease", lease.path_));
  }
  lease.body_ = body.dump();
  return Status::Ok();
}

void Spool::EndStageRun(RunLease& lease) const {
  if (!lease.held()) return;
  std::error_code ec;
  fs::remove(lease.path_, ec);
  ::close(lease.fd_);
  lease.fd_ = -1;
}

std::vector<nlohmann::json> Spool::ReadStageLeases(const std::string& stage) const {
  std::vector<nlohmann::json> out;
  if (!SafeId(stage)) return out;
  for (const auto& p : LeaseFiles(root_ / "stages", stage)) {
    auto bytes = ReadFile(p);
    if (!bytes.ok()) continue;  // removed meanwhile: the run ended
    nlohmann::json j = nlohmann::json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) j = nlohmann::json::object();
    // An older version's marker is not locked by its run: it is alive only
    // while its stage lock is held.
    bool legacy = p.filename() == stage + kLeaseSuffix;
    j["alive"] = legacy ? StageLockHeld(stage) : LockedByAnyone(p);
    out.push_back(std::move(j));
  }
  return out;
}

bool Spool::StageLockHeld(const std::string& stage) const {
  if (!SafeId(stage)) return false;
  return LockedByAnyone(root_ / "locks" / (stage + ".lock"));
}

Status Spool::WriteStageRun(const std::string& stage, const nlohmann::json& run) const {
  if (!SafeId(stage)) return Status::Internal("bad stage name");
  return AtomicWriteFile(root_ / "stages" / (stage + ".json"), run.dump(2) + "\n", 0600);
}

std::optional<nlohmann::json> Spool::ReadStageRun(const std::string& stage) const {
  if (!SafeId(stage)) return std::nullopt;
  auto bytes = ReadFile(root_ / "stages" / (stage + ".json"));
  if (!bytes.ok()) return std::nullopt;
  try {
    return nlohmann::json::parse(*bytes);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace ncbocr
