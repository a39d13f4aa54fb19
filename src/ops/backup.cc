#include "ncbocr/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <yaml-cpp/yaml.h>

#include "ops/backup_internal.h"
#include "ncbocr/progress.h"
#include "ncbocr/util.h"
#include "ncbocr/version.h"

namespace ncbocr {

using namespace backup_internal;  // NOLINT: the unit's own internals

namespace {

using Json = nlohmann::json;

// Config keys that name a file holding a credential, token or key.
std::vector<std::pair<std::string, std::string>> SecretFiles(const Config& c) {
  return {{"gmail.credentials_path", c.gmail.credentials_path},
          {"gmail.token_path", c.gmail.token_path},
          {"imap.password_file", c.imap.password_file},
          {"ncb.api_key_file", c.ncb.api_key_file},
          {"archive.drive_credentials_path", c.archive.drive_credentials_path},
          {"archive.sheets_credentials_path", c.archive.sheets_credentials_path},
          {"alerts.smtp_password_file", c.alerts.smtp_password_file}};
}

bool Inside(const fs::path& dir, const fs::path& root) {
  std::error_code ec;
  fs::path d = fs::weakly_canonical(dir, ec).lexically_normal();
  fs::path r = fs::weakly_canonical(root, ec).lexically_normal();
  auto rel = d.lexically_relative(r);
  return !rel.empty() && *rel.begin() != "..";
}

// A URL with a password in its userinfo ("https://user:pw@host/"), without
// the password ("https://user@host/"); nullopt for any other text.
std::optional<std::string> UrlWithoutPassword(const std::string& v) {
  size_t scheme = v.find("://");
  if (scheme == std::string::npos || scheme == 0) return std::nullopt;
  for (size_t i = 0; i < scheme; ++i) {
    if (!std::isalnum(static_cast<unsigned char>(v[i])) && v[i] != '+' && v[i] != '-' && v[i] != '.')
      return std::nullopt;
  }
  size_t start = scheme + 3;
  size_t end = v.find_first_of("/?#", start);
  std::string authority = v.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string::npos) return std::nullopt;
  size_t colon = authority.find(':');
  if (colon == std::string::npos || colon > at) return std::nullopt;
  return v.substr(0, start + colon) + v.substr(start + at);
}

// Empties URL passwords anywhere in the tree (ncb.base_url, a proxy...),
// naming each key in `redacted`.
void RedactUrlPasswords(YAML::Node node, const std::string& path, std::vector<std::string>& redacted) {
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
      RedactUrlPasswords(it->second, path.empty() ? key : path + "." + key, redacted);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      RedactUrlPasswords(node[i], path + "[" + std::to_string(i) + "]", redacted);
    }
  } else if (node.IsScalar()) {
    if (auto clean = UrlWithoutPassword(node.Scalar())) {
      node = *clean;
      redacted.push_back(path + " (password in the URL)");
    }
  }
}

// The config file as it goes into the archive: verbatim, or re-emitted with
// inline secrets emptied (yaml-cpp drops comments then; the manifest says so).
Result<std::string> ConfigBytes(const std::string& path, bool include_secrets, std::vector<std::string>& redacted) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  if (include_secrets) return bytes;
  try {
    YAML::Node root = YAML::Load(*bytes);
    for (const auto& [section, key] : {std::pair{"ncb", "api_key"}, std::pair{"alerts", "smtp_password"}}) {
      if (!root.IsMap() || !root[section] || !root[section].IsMap() || !root[section][key]) continue;
      YAML::Node v = root[section][key];
      if (v.IsScalar() && !v.Scalar().empty()) {
        root[section][key] = "";
        redacted.push_back(std::string(section) + "." + key);
      }
    }
    RedactUrlPasswords(root, "", redacted);
    if (redacted.empty()) return bytes;
    YAML::Emitter out;
    out << root;
    return "# ncbocr backup: inline secrets removed (" + std::to_string(redacted.size()) +
           "); comments were not kept\n" + std::string(out.c_str()) + "\n";
  } catch (const YAML::Exception& e) {
    return Status::Config("cannot read configuration " + path + ": " + e.what());
  }
}

long long MtimeOf(const struct stat& st) { return static_cast<long long>(st.st_mtime); }

// Adds the files and directories below root as PREFIX/..., sorted so two
// backups of the same tree list the same entries in the same order. For the
// spool (spool_dirs) its tmp/ drafts and locks/ are left out.
Status AddTree(TarWriter& w, const fs::path& root, const std::string& prefix, bool spool_dirs, Json& files,
               size_t& count, bool progress) {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    fs::path rel = it->path().lexically_relative(root);
    std::string top = rel.begin()->string();
    if (spool_dirs && it.depth() == 0 && (top == "tmp" || top == "locks")) {
      it.disable_recursion_pending();
      continue;
    }
    paths.push_back(rel);
  }
  if (ec) return Status::Io("cannot read " + root.string() + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  Progress bar("backup " + prefix, paths.size(), progress);
  for (const auto& rel : paths) {
    bar.Tick();
    fs::path p = root / rel;
    struct stat st{};
    if (::lstat(p.c_str(), &st) != 0) return Status::Io("cannot stat " + p.string() + ": " + std::strerror(errno));
    std::string name = prefix + rel.string();
    Status s;
    if (S_ISDIR(st.st_mode)) {
      s = w.AddDir(name, st.st_mode, MtimeOf(st));
    } else if (S_ISREG(st.st_mode)) {
      auto bytes = ReadFile(p);
      if (!bytes.ok()) return bytes.status();
      files[name] = {{"sha256", Sha256Hex(*bytes)}, {"size", bytes->size()}};
      ++count;
      s = w.AddFile(name, *bytes, st.st_mode, MtimeOf(st));
    }  // anything else (a socket, a stray link) is not spool data: left out
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status AddConfigAndSecrets(TarWriter& w, const Config& config, bool include_secrets, Json& manifest,
                           BackupResult& result, TimePoint now) {
  long long t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  manifest["config_file"] = config.source_file;
  if (!config.source_file.empty()) {
    std::vector<std::string> redacted;
    auto bytes = ConfigBytes(config.source_file, include_secrets, redacted);
    if (!bytes.ok()) return bytes.status();
    std::string name = "config/" + fs::path(config.source_file).filename().string();
    manifest["files"][name] = {{"sha256", Sha256Hex(*bytes)}, {"size", bytes->size()}};
    manifest["config_redacted"] = redacted;
    for (const auto& r : redacted) result.secrets_left_out.push_back(r);
    Status s = w.AddFile(name, *bytes, 0600, t);
    if (!s.ok()) return s;
    ++result.files;
  }
  manifest["secrets"] = Json::array();
  for (const auto& [key, path] : SecretFiles(config)) {
    if (path.empty()) continue;
    if (!include_secrets) {
      result.secrets_left_out.push_back(key);
      continue;
    }
    auto bytes = ReadFile(path);
    if (!bytes.ok()) return bytes.status().WithContext("secret " + key);
    std::string name = "secrets/" + key;
    manifest["files"][name] = {{"sha256", Sha256Hex(*bytes)}, {"size", bytes->size()}};
    manifest["secrets"].push_back({{"key", key}, {"path", path}, {"entry", name}});
    Status s = w.AddFile(name, *bytes, 0600, t);
    if (!s.ok()) return s;
    ++result.files;
    result.secrets_included.push_back(key);
  }
  manifest["secrets_left_out"] = result.secrets_left_out;
  return Status::Ok();
}

// The local archive (archive.dir: the originals and their records) and the
// audit CSV (archive.audit_csv), when configured and present: with the
// spool they are the audit trail. archive/... and audit/NAME in the tar.
Status AddAuditTrail(TarWriter& w, const Config& config, const Spool& spool, Json& manifest, BackupResult& result,
                     TimePoint now, bool progress) {
  std::error_code ec;
  const std::string& dir = config.archive.dir;
  if (!dir.empty() && fs::is_directory(dir, ec) && !Inside(dir, spool.root())) {
    size_t n = 0;
    Status s = AddTree(w, dir, "archive/", false, manifest["files"], n, progress);
    if (!s.ok()) return s;
    manifest["archive_dir"] = dir;
    result.files += n;
    result.audit_files += n;
  }
  const std::string& csv = config.archive.audit_csv;
  if (!csv.empty() && fs::is_regular_file(csv, ec) && (dir.empty() || !Inside(csv, dir))) {
    auto bytes = ReadFile(csv);
    if (!bytes.ok()) return bytes.status();
    std::string name = "audit/" + fs::path(csv).filename().string();
    manifest["files"][name] = {{"sha256", Sha256Hex(*bytes)}, {"size", bytes->size()}};
    manifest["audit_csv"] = csv;
    long long t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    Status s = w.AddFile(name, *bytes, 0600, t);
    if (!s.ok()) return s;
    ++result.files;
    ++result.audit_files;
  }
  return Status::Ok();
}

// A fresh file name in dir: ncbocr-backup-<UTC time>[-N].tar.gz.
fs::path NewArchiveName(const fs::path& dir, TimePoint now) {
  std::string base = "ncbocr-backup-" + CompactUtc(now);
  fs::path p = dir / (base + ".tar.gz");
  std::error_code ec;
  for (int n = 2; fs::exists(p, ec); ++n) p = dir / (base + "-" + std::to_string(n) + ".tar.gz");
  return p;
}

Status WriteArchive(const Spool& spool, const Config& config, const BackupOptions& o, const fs::path& tmp,
                    BackupResult& result, TimePoint now) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Io("cannot create " + tmp.string() + ": " + std::strerror(errno));
  Json manifest = {{"format", kFormat},
                   {"ncbocr_version", NCBOCR_VERSION},
                   {"created_at", IsoUtc(now)},
                   {"spool", spool.root().string()},
                   {"secrets_included", o.include_secrets},
                   {"files", Json::object()}};
  TarWriter w;
  Status s = w.Open(fd);
  size_t spool_files = 0;
  if (s.ok()) s = AddTree(w, spool.root(), "spool/", true, manifest["files"], spool_files, o.progress);
  result.files += spool_files;
  if (s.ok()) s = AddAuditTrail(w, config, spool, manifest, result, now, o.progress);
  if (s.ok()) s = AddConfigAndSecrets(w, config, o.include_secrets, manifest, result, now);
  if (s.ok()) {
    long long t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    s = w.AddFile(kManifestName, manifest.dump(2) + "\n", 0600, t);
  }
  if (s.ok()) s = w.Close();
  if (s.ok() && ::fsync(fd) != 0) s = Status::Io("cannot fsync " + tmp.string() + ": " + std::strerror(errno));
  ::close(fd);
  return s;
}

}  // namespace

fs::path BackupDir(const Config& config) {
  if (!config.backup.dir.empty()) return config.backup.dir;
  return (fs::absolute(config.spool).lexically_normal().parent_path() / "backups");
}

Result<BackupResult> CreateBackup(const Spool& spool, const Config& config, const BackupOptions& o, TimePoint now) {
  fs::path dir = o.to_dir.empty() ? BackupDir(config) : fs::path(o.to_dir);
  if (Inside(dir, spool.root())) {
    return Status::Usage("backup directory " + dir.string() + " must not lie inside the spool");
  }
  Status s = MakeDirs(dir, 0700);
  if (!s.ok()) return s;
  auto locks = LockWholeSpool(spool, o.lock_wait);
  if (!locks.ok()) return locks.status();

  BackupResult result;
  fs::path final_path = NewArchiveName(dir, now);
  fs::path tmp = dir / ("." + final_path.filename().string() + ".partial");
  s = WriteArchive(spool, config, o, tmp, result, now);
  if (s.ok() && ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    s = Status::Io("cannot rename " + tmp.string() + ": " + std::strerror(errno));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  s = FsyncDir(dir);
  if (!s.ok()) return s;
  result.archive = final_path;
  result.pruned = PruneBackups(dir, config.backup.keep_days, now, final_path);
  return result;
}

std::vector<fs::path> PruneBackups(const fs::path& dir, int keep_days, TimePoint now, const fs::path& keep) {
  std::vector<fs::path> removed;
  auto cutoff = now - std::chrono::hours(24) * keep_days;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    bool ours = name.rfind("ncbocr-backup-", 0) == 0 && name.size() > 7 &&
                name.compare(name.size() - 7, 7, ".tar.gz") == 0;
    if (!ours || e.path() == keep) continue;
    struct stat st{};
    if (::lstat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (std::chrono::system_clock::from_time_t(st.st_mtime) >= cutoff) continue;
    if (::unlink(e.path().c_str()) == 0) removed.push_back(e.path());
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

Result<Json> VerifyBackup(const fs::path& archive) {
  std::map<std::string, std::pair<std::string, size_t>> seen;  // name -> sha256, size
  std::vector<std::string> problems;
  std::optional<Json> manifest;
  Status s = ReadTar(archive, [&](const TarEntry& e) {
    if (!SafeEntryName(e.name)) {
      problems.push_back("unsafe entry name '" + e.name + "'");
    } else if (e.name == kManifestName) {
      try {
        manifest = Json::parse(e.bytes);
      } catch (const Json::exception&) {
        problems.push_back("the manifest is not JSON");
      }
    } else if (!e.is_dir) {
      if (seen.count(e.name)) problems.push_back(e.name + " appears twice");
      seen[e.name] = {Sha256Hex(e.bytes), e.bytes.size()};
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!manifest || !manifest->is_object() || manifest->value("format", "") != kFormat ||
      !(*manifest)["files"].is_object()) {
    problems.push_back("no valid " + std::string(kManifestName) + " (not an ncbocr backup?)");
  } else {
    const Json& files = (*manifest)["files"];
    for (const auto& [name, want] : files.items()) {
      auto it = seen.find(name);
      if (!want.is_object()) {
        problems.push_back("the manifest entry of " + name + " is not an object");
      } else if (it == seen.end()) {
        problems.push_back(name + " is missing");
      } else if (it->second.first != want.value("sha256", "") || it->second.second != want.value("size", size_t{0})) {
        problems.push_back(name + " does not match its checksum");
      }
    }
    for (const auto& [name, got] : seen) {
      if (!files.contains(name)) problems.push_back(name + " is not in the manifest");
    }
  }
  if (!problems.empty()) {
    std::string all;
    for (size_t i = 0; i < problems.size() && i < 20; ++i) all += (i ? "; " : "") + problems[i];
    if (problems.size() > 20) all += "; and " + std::to_string(problems.size() - 20) + " more";
    return Status::Permanent(archive.string() + " failed verification: " + all);
  }
  return *manifest;
}

}  // namespace ncbocr
