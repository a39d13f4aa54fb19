// Filing claim originals in Google Drive (see google_archive.h).
#include <algorithm>
#include <ctime>

#include "ncbocr/google_archive.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using json = nlohmann::json;

constexpr char kFolderType[] = "application/vnd.google-apps.folder";
// Listing in a shared drive needs all three; without them Drive searches only
// the caller's own "My Drive" and finds nothing.
constexpr char kAllDrives[] = "supportsAllDrives=true&includeItemsFromAllDrives=true&corpora=allDrives";

// A literal inside a Drive query: backslash and quote escaped.
std::string QueryLiteral(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

std::string SafeName(const std::string& s) {
  std::string out;
  for (char ch : s) {
    unsigned char u = static_cast<unsigned char>(ch);
    out.push_back(std::isalnum(u) || ch == '-' || ch == '_' || ch == '.' ? ch : '_');
  }
  return out.empty() ? "_" : out.substr(0, 120);
}

Result<json> Parse(const HttpResponse& r, const std::string& what) {
  try {
    return json::parse(r.body);
  } catch (const json::exception&) {
    return Status::Transient(what + ": Drive answered with invalid JSON");
  }
}

Status DriveError(const HttpResponse& r, const std::string& what) {
  Status s = GoogleError(r, what);
  if (r.status == 403 && s.message().find("storage quota") != std::string::npos) {
    return Status::Config(what + ": Drive refused the file because a service account has no storage "
                          "quota; archive.drive_folder_id must be a folder in a shared drive "
                          "the account is a member of");
  }
  return s;
}

// j[key] when it is a string, else "": a field of another type in an answer
// must not throw out of the reader, as json::value would.
DriveFile FileFrom(const json& j) {
  DriveFile f;
  f.id = JsonString(j, "id");
  f.link = JsonString(j, "webViewLink");
  if (f.link.empty() && !f.id.empty()) f.link = "https://drive.google.com/file/d/" + f.id + "/view";
  return f;
}

}  // namespace

DriveArchive::DriveArchive(const ArchiveConfig& config, const Spool& spool, HttpClient& http,
                           TokenSource& tokens, HttpOptions options, Logger log)
    : config_(config), spool_(spool), http_(http), tokens_(tokens), options_(std::move(options)),
      log_(std::move(log)) {}

std::string DriveArchive::Api(const std::string& path) const {
  std::string base = config_.drive_api_base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path;
}

Result<HttpResponse> DriveArchive::Call(const HttpRequest& req, bool retry) {
  HttpOptions o = options_;
  if (!retry) o.max_attempts = 1;
  return GoogleSend(http_, tokens_, req, o, log_);
}

Result<std::optional<std::string>> DriveArchive::OldestFolder(const std::string& parent,
                                                              const std::string& name) {
  std::string q = "name = " + QueryLiteral(name) + " and " + QueryLiteral(parent) +
                  " in parents and mimeType = " + QueryLiteral(kFolderType) + " and trashed = false";
  HttpRequest req;
  req.url = Api("/drive/v3/files?") + kAllDrives + "&q=" + UrlEncode(q) +
            "&orderBy=createdTime&pageSize=100&fields=" + UrlEncode("files(id,createdTime)");
  auto resp = Call(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return DriveError(*resp, "Drive files.list (folder " + name + ")");
  auto j = Parse(*resp, "Drive files.list");
  if (!j.ok()) return j.status();
  std::vector<std::pair<std::string, std::string>> found;  // createdTime, id
  if (auto files = j->find("files"); files != j->end() && files->is_array()) {
    for (const auto& f : *files) {
      if (!JsonString(f, "id").empty()) found.emplace_back(JsonString(f, "createdTime"), JsonString(f, "id"));
    }
  }
  if (found.empty()) return std::optional<std::string>();
  // The oldest, ties by id: every process that raced to create it agrees.
  return std::optional<std::string>(std::min_element(found.begin(), found.end())->second);
}

Result<std::string> DriveArchive::ChildFolder(const std::string& parent, const std::string& name) {
  Status last;
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    // Look before every create: a create whose answer was lost still made
    // the folder, and a blind retry would make a second one.
    auto found = OldestFolder(parent, name);
    if (!found.ok()) return found.status();
    if (*found) return **found;
    HttpRequest req;
    req.method = "POST";
    req.url = Api("/drive/v3/files?supportsAllDrives=true&fields=id");
    req.headers = {{"Content-Type", "application/json; charset=UTF-8"}};
    req.body = json{{"name", name}, {"mimeType", kFolderType}, {"parents", {parent}}}.dump();
    auto resp = Call(req, /*retry=*/false);
    if (!resp.ok()) return resp.status();
    if (resp->status == 200) {
      // Another process may have created it at the same moment: list again
      // and take the oldest, which is what that process does too.
      found = OldestFolder(parent, name);
      if (!found.ok()) return found.status();
      if (*found) {
        log_->info("Drive: created folder {}", name);
        return **found;
      }
      last = Status::Transient("Drive folder " + name + " was created but cannot be listed yet");
    } else {
      last = DriveError(*resp, "Drive files.create (folder " + name + ")");
      if (!IsRetryable(*resp)) return last;
    }
    PauseBeforeRetry(attempt, *resp, options_);
  }
  return last;
}

Result<std::string> DriveArchive::DayFolder(const Claim& c) {
  std::string day = ClaimDay(c);  // YYYY/MM/DD
  std::vector<std::string> parts = {"claims", day.substr(0, 4), day.substr(5, 2), day.substr(8, 2)};
  fs::path cache_dir = spool_.root() / "index" / "drive" / SafeName(config_.drive_folder_id);
  std::string parent = config_.drive_folder_id;
  std::string key;
  for (const auto& part : parts) {
    key += (key.empty() ? "" : "_") + part;
    fs::path cached = cache_dir / key;
    if (auto id = ReadFile(cached); id.ok() && !Trim(*id).empty()) {
      parent = Trim(*id);
      continue;
    }
    auto id = ChildFolder(parent, part);
    if (!id.ok()) return id.status();
    parent = *id;
    Status s = MakeDirs(cache_dir, 0700);
    if (s.ok()) s = AtomicWriteFile(cached, parent + "\n", 0600);
    if (!s.ok()) log_->warn("Drive folder id not cached: {}", s.ToString());
  }
  return parent;
}

Result<std::optional<DriveFile>> DriveArchive::FindByClaim(const std::string& claim_id) {
  std::string q = "appProperties has { key='ncbocr_claim_id' and value=" + QueryLiteral(claim_id) +
                  " } and trashed = false";
  HttpRequest req;
  req.url = Api("/drive/v3/files?") + kAllDrives + "&q=" + UrlEncode(q) +
            "&fields=" + UrlEncode("files(id,webViewLink)");
  auto resp = Call(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return DriveError(*resp, "Drive files.list (claim " + claim_id + ")");
  auto j = Parse(*resp, "Drive files.list");
  if (!j.ok()) return j.status();
  if (auto files = j->find("files"); files != j->end() && files->is_array()) {
    for (const auto& f : *files) {
      // An entry without an id cannot be the uploaded file: taking it would
      // archive the claim with no link.
      DriveFile file = FileFrom(f);
      if (!file.id.empty()) return std::optional<DriveFile>(std::move(file));
    }
  }
  return std::optional<DriveFile>();
}

Result<DriveFile> DriveArchive::Multipart(const std::string& meta, const std::string& type,
                                          const std::string& bytes) {
  std::string boundary = "ncbocr-" + RandomHex(16);
  HttpRequest req;
  req.method = "POST";
  req.url = Api("/upload/drive/v3/files?uploadType=multipart&supportsAllDrives=true&fields=id,webViewLink");
  req.headers = {{"Content-Type", "multipart/related; boundary=" + boundary}};
  req.body = "--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + meta +
             "\r\n--" + boundary + "\r\nContent-Type: " + type + "\r\n\r\n" + bytes + "\r\n--" +
             boundary + "--\r\n";
  auto resp = Call(req, /*retry=*/false);  // Upload looks before it tries again
  if (!resp.ok()) return resp.status();
  if (resp->status != 200 && resp->status != 201) return DriveError(*resp, "Drive upload");
  auto j = Parse(*resp, "Drive upload");
  if (!j.ok()) return j.status();
  return FileFrom(*j);
}

Result<DriveFile> DriveArchive::Resumable(const std::string& meta, const std::string& type,
                                          const std::string& bytes) {
  // Opening a session creates nothing, so it may be retried freely.
  HttpRequest open;
  open.method = "POST";
  open.url = Api("/upload/drive/v3/files?uploadType=resumable&supportsAllDrives=true&fields=id,webViewLink");
  open.headers = {{"Content-Type", "application/json; charset=UTF-8"},
                  {"X-Upload-Content-Type", type},
                  {"X-Upload-Content-Length", std::to_string(bytes.size())}};
  open.body = meta;
  auto resp = Call(open);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) return DriveError(*resp, "Drive resumable upload");
  auto loc = resp->headers.find("location");
  if (loc == resp->headers.end() || loc->second.empty()) {
    return Status::Transient("Drive resumable upload: no session URL in the answer");
  }
  std::string session = loc->second;
  size_t offset = 0;
  const std::string total = std::to_string(bytes.size());
  while (true) {
    size_t n = std::min(chunk_size, bytes.size() - offset);
    HttpRequest put;
    put.method = "PUT";
    put.url = session;
    put.headers = {{"Content-Type", type},
                   {"Content-Range", "bytes " + std::to_string(offset) + "-" +
                                         std::to_string(offset + n - 1) + "/" + total}};
    put.body = bytes.substr(offset, n);
    // A chunk says where it belongs, so resending one is safe.
    auto r = Call(put);
    if (!r.ok()) return r.status();
    if (r->status == 200 || r->status == 201) {
      auto j = Parse(*r, "Drive upload");
      if (!j.ok()) return j.status();
      return FileFrom(*j);
    }
    if (r->status != 308) return DriveError(*r, "Drive resumable upload");
    // 308: Drive has bytes 0..N ("Range: bytes=0-N"); go on from N+1.
    auto range = r->headers.find("range");
    size_t next = 0;
    if (range != r->headers.end()) {
      size_t dash = range->second.rfind('-');
      if (dash != std::string::npos) next = std::stoull(range->second.substr(dash + 1)) + 1;
    }
    if (next <= offset || next > bytes.size()) {
      return Status::Transient("Drive resumable upload made no progress");
    }
    offset = next;
  }
}

Result<DriveFile> DriveArchive::Upload(const Claim& c, const std::string& bytes, TimePoint now) {
  auto folder = DayFolder(c);
  if (!folder.ok()) return folder.status();
  std::string file_name = c.attachment ? c.attachment->filename : std::string("attachment");
  std::string type = c.attachment && !c.attachment->content_type.empty() ? c.attachment->content_type
                                                                         : "application/octet-stream";
  json meta = {{"name", SafeName(c.source.email_id) + "_" + file_name},
               {"parents", {*folder}},
               {"mimeType", type},
               {"appProperties",
                {{"ncbocr_claim_id", c.id},
                 {"ncbocr_email_id", c.source.email_id},
                 {"ncbocr_processed_at", IsoUtc(now)}}}};
  Status last;
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    // First look: an earlier attempt (this run or a crashed one) may have
    // landed even though its answer never came back.
    auto existing = FindByClaim(c.id);
    if (!existing.ok()) return existing.status();
    if (*existing) return **existing;
    auto up = bytes.size() > resumable_threshold ? Resumable(meta.dump(), type, bytes)
                                                 : Multipart(meta.dump(), type, bytes);
    if (up.ok()) return up;
    last = up.status();
    if (last.kind() != ErrorKind::kTransient) return last;
    log_->warn("claim {}: Drive upload attempt {} failed: {}", c.id, attempt, last.message());
    HttpResponse none;
    PauseBeforeRetry(attempt, none, options_);
  }
  return last;
}

}  // namespace ncbocr
