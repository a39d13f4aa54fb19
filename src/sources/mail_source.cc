// The local mail sources of fetch.h: a Maildir and a folder of .eml files.
//
// Both list messages by file, read them with a size cap, and on "move"
// rename the file out of the inbox. Moving never overwrites: a processed
// message is evidence of what a member sent.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "ncbocr/mail_source.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

std::string Mib(long long n) {
  return std::to_string((n + 1024 * 1024 - 1) / (1024 * 1024)) + " MiB";
}

std::optional<TimePoint> MTime(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return std::chrono::system_clock::from_time_t(st.st_mtime);
}

// Reads a message file, refusing one over max_bytes before reading it.
Result<std::string> ReadCapped(const fs::path& path, const std::string& email_id,
                               long long max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return Status::Io("cannot stat message " + email_id + ": " + ec.message());
  if (static_cast<long long>(size) > max_bytes) {
    return Status::Permanent("message is " + Mib(static_cast<long long>(size)) +
                             ", over fetch.max_message_bytes (" + Mib(max_bytes) + ")");
  }
  return ReadFile(path);
}

// rename(2), or copy-then-remove across file systems. Refuses to overwrite.
Status MoveFile(const fs::path& from, const fs::path& to) {
  if (fs::exists(to)) return Status::Io("will not overwrite " + to.string());
  if (::rename(from.c_str(), to.c_str()) == 0) {
    Status s = FsyncDir(to.parent_path());
    if (!s.ok()) return s;
    return FsyncDir(from.parent_path());
  }
  if (errno != EXDEV) {
    return Status::Io("cannot move " + from.string() + " to " + to.string() + ": " +
                      std::strerror(errno));
  }
  auto bytes = ReadFile(from);
  if (!bytes.ok()) return bytes.status();
  Status s = AtomicWriteFile(to, *bytes, 0600);
  if (!s.ok()) return s;
  std::error_code ec;
  fs::remove(from, ec);
  if (ec) return Status::Io("copied but cannot remove " + from.string() + ": " + ec.message());
  return FsyncDir(from.parent_path());
}

// A free name in dir: name itself, else name with a random infix.
fs::path FreeName(const fs::path& dir, const std::string& stem, const std::string& suffix) {
  fs::path p = dir / (stem + suffix);
  while (fs::exists(p)) p = dir / (stem + "." + RandomHex(3) + suffix);
  return p;
}

}  // namespace

// ---------------------------------------------------------------- Maildir

Result<std::vector<MailRef>> MaildirSource::List() {
  std::vector<MailRef> refs;
  for (const char* sub : {"new", "cur"}) {
    fs::path dir = fs::path(config_.path) / sub;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      std::error_code fec;
      if (!it->is_regular_file(fec)) continue;
      size_t colon = name.find(':');
      std::string flags = colon == std::string::npos ? "" : name.substr(colon);
      if (flags.rfind(":2,", 0) == 0 && flags.find('T', 3) != std::string::npos)
        continue;  // flagged for deletion by a mail client
      MailRef ref;
      ref.email_id = name.substr(0, colon);
      auto size = it->file_size(fec);
      ref.size = fec ? -1 : static_cast<long long>(size);
      ref.received = MTime(it->path());
      paths_[ref.email_id] = it->path();
      refs.push_back(std::move(ref));
    }
    if (ec) return Status::Io("cannot list " + dir.string() + ": " + ec.message());
  }
  std::sort(refs.begin(), refs.end(), [](const MailRef& a, const MailRef& b) {
    if (a.received != b.received) return a.received < b.received;
    return a.email_id < b.email_id;
  });
  return refs;
}

std::optional<fs::path> MaildirSource::Find(const std::string& email_id) const {
  auto it = paths_.find(email_id);
  if (it != paths_.end() && fs::exists(it->second)) return it->second;
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    for (fs::directory_iterator d(fs::path(config_.path) / sub, ec), end; !ec && d != end;
         d.increment(ec)) {
      std::string name = d->path().filename().string();
      if (name == email_id || name.rfind(email_id + ":", 0) == 0) return d->path();
    }
  }
  return std::nullopt;
}

Result<std::string> MaildirSource::Read(const MailRef& ref, long long max_bytes) {
  auto path = Find(ref.email_id);
  if (!path) return Status::Io("message " + ref.email_id + " is no longer in the Maildir");
  return ReadCapped(*path, ref.email_id, max_bytes);
}

Status MaildirSource::MarkProcessed(const MailRef& ref) {
  if (config_.on_processed != "move") return Status::Ok();
  auto path = Find(ref.email_id);
  if (!path) return Status::Ok();  // moved already (an earlier run got this far)
  fs::path root = config_.processed_path;
  for (const char* sub : {"tmp", "new", "cur"}) {
    Status s = MakeDirs(root / sub);
    if (!s.ok()) return s;
  }
  // Keep the message's flags and add S (seen), in the sorted order maildir(5) asks for.
  std::string name = path->filename().string();
  size_t colon = name.find(":2,");
  std::string flags = colon == std::string::npos ? "" : name.substr(colon + 3);
  if (flags.find('S') == std::string::npos) flags += 'S';
  std::sort(flags.begin(), flags.end());
  fs::path to = FreeName(root / "cur", ref.email_id, ":2," + flags);
  Status s = MoveFile(*path, to);
  if (s.ok()) paths_.erase(ref.email_id);
  return s;
}

// ---------------------------------------------------------------- .eml folder

Result<std::vector<MailRef>> EmlFolderSource::List() {
  std::vector<MailRef> refs;
  std::error_code ec;
  fs::path dir = config_.path;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (AsciiLower(it->path().extension().string()) != ".eml") continue;
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    MailRef ref;
    ref.email_id = name;
    auto size = it->file_size(fec);
    ref.size = fec ? -1 : static_cast<long long>(size);
    ref.received = MTime(it->path());
    refs.push_back(std::move(ref));
  }
  if (ec) return Status::Io("cannot list " + dir.string() + ": " + ec.message());
  // By name: a folder of files is put together by hand, and names say the order.
  std::sort(refs.begin(), refs.end(),
            [](const MailRef& a, const MailRef& b) { return a.email_id < b.email_id; });
  return refs;
}

Result<std::string> EmlFolderSource::Read(const MailRef& ref, long long max_bytes) {
  fs::path path = fs::path(config_.path) / ref.email_id;
  if (ref.email_id.find('/') != std::string::npos || !fs::exists(path))
    return Status::Io("message " + ref.email_id + " is no longer in the folder");
  return ReadCapped(path, ref.email_id, max_bytes);
}

Status EmlFolderSource::MarkProcessed(const MailRef& ref) {
  if (config_.on_processed != "move") return Status::Ok();
  fs::path from = fs::path(config_.path) / ref.email_id;
  if (!fs::exists(from)) return Status::Ok();
  Status s = MakeDirs(config_.processed_path);
  if (!s.ok()) return s;
  fs::path name = ref.email_id;
  return MoveFile(from, FreeName(config_.processed_path, name.stem().string(),
                                 name.extension().string()));
}

// ---------------------------------------------------------------- factory

Result<std::unique_ptr<MailSource>> MakeMailSource(const FetchConfig& config) {
  const std::string& kind = config.source;
  if (kind == "gmail")  // needs the gmail section and a clock: see gmail.h
    return Status::Internal("the Gmail source is made by MakeGmailSource, not MakeMailSource");
  if (kind == "imap")  // needs the imap section: see imap.h
    return Status::Internal("the IMAP source is made by MakeImapSource, not MakeMailSource");
  if (kind != "maildir" && kind != "eml")
    return Status::Config("fetch.source must be maildir, eml, gmail or imap, not '" + kind + "'");
  if (config.path.empty()) return Status::Config("fetch.path is not set");
  std::error_code ec;
  if (!fs::is_directory(config.path, ec))
    return Status::Config("fetch.path " + config.path + " is not a directory");
  if (kind == "maildir" && !fs::is_directory(fs::path(config.path) / "new", ec) &&
      !fs::is_directory(fs::path(config.path) / "cur", ec))
    return Status::Config("fetch.path " + config.path + " is not a Maildir (no new/ or cur/)");
  if (config.on_processed != "keep" && config.on_processed != "move")
    return Status::Config("fetch.on_processed must be keep or move");
  if (config.on_processed == "move" && config.processed_path.empty())
    return Status::Config("fetch.on_processed is move but fetch.processed_path is not set");
  if (kind == "maildir") return std::unique_ptr<MailSource>(new MaildirSource(config));
  return std::unique_ptr<MailSource>(new EmlFolderSource(config));
}

}  // namespace ncbocr
