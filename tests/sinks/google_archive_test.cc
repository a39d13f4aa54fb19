// Drive and Sheets sinks against the Google double (tests/doubles/google_double.py)
// over real loopback HTTP: folders, multipart and resumable uploads, lost
// answers, the monthly tab and its one row per claim.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ncbocr/google_archive.h"
#include "ncbocr/util.h"

namespace ncbocr {
namespace {

using json = nlohmann::json;

// The double as a child process; stopped when this goes out of scope.
class GoogleDouble {
 public:
  GoogleDouble() {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::string script = std::string(NCBOCR_SOURCE_DIR) + "/tests/doubles/google_double.py";
      ::execlp("python3", "python3", script.c_str(), "--drive-root", "ROOT", "--spreadsheet", "SHEET",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char ch;
    while (::read(fds[0], &ch, 1) == 1 && ch != '\n') line.push_back(ch);
    ::close(fds[0]);
    REQUIRE_MESSAGE(!line.empty(), "google double did not start (python3 missing?)");
    base = "http://127.0.0.1:" + line;
  }
  ~GoogleDouble() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  json Control(const std::string& what, const json& body = json::object()) {
    auto http = MakeCurlClient(HttpOptions{}, NullLogger());
    HttpRequest req;
    req.method = what == "state" ? "GET" : "POST";
    req.url = base + "/_control/" + what;
    req.headers = {{"Content-Type", "application/json"}};
    if (req.method == "POST") req.body = body.dump();
    auto r = http->Send(req);
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    return json::parse(r->body);
  }
  std::string base;

 private:
  pid_t pid_ = -1;
};

// A token the double accepts: it checks JWTs only structurally without a key.
class DoubleTokens : public TokenSource {
 public:
  DoubleTokens(HttpClient& http, std::string token_uri) : http_(http), uri_(std::move(token_uri)) {}
  Result<std::string> Token() override {
    if (!token_.empty()) return token_;
    ServiceAccountKey key;
    key.client_email = "t@x.iam.gserviceaccount.com";
    key.token_uri = uri_;
    EVP_PKEY* pkey = EVP_RSA_gen(2048);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    key.private_key.assign(data, static_cast<size_t>(n));
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    auto jwt = MakeJwtAssertion(key, {kDriveScope, kSheetsScope}, "", std::chrono::system_clock::now());
    REQUIRE(jwt.ok());
    HttpRequest req;
    req.method = "POST";
    req.url = uri_;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    req.body = FormEncode({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", *jwt}});
    auto r = http_.Send(req);
    REQUIRE(r.ok());
    REQUIRE(r->status == 200);
    token_ = json::parse(r->body)["access_token"];
    return token_;
  }
  void Invalidate() override { token_.clear(); }

 private:
  HttpClient& http_;
  std::string uri_;
  std::string token_;
};

struct Fixture {
  GoogleDouble g;
  fs::path dir = fs::temp_directory_path() / ("ncbocr-garch-" + RandomHex(6));
  std::unique_ptr<HttpClient> http = MakeCurlClient(HttpOptions{}, NullLogger());
  DoubleTokens tokens{*http, g.base + "/token"};
  ArchiveConfig config;
  HttpOptions options;
  Fixture() {
    config.drive_folder_id = "ROOT";
    config.drive_api_base_url = g.base;
    config.sheets_spreadsheet_id = "SHEET";
    config.sheets_api_base_url = g.base;
    options.backoff_base = std::chrono::milliseconds(1);
    options.sleep = [](std::chrono::milliseconds) {};
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::vector<json> Files(const std::string& mime_not = "application/vnd.google-apps.folder") {
    std::vector<json> out;
    json state = g.Control("state");  // kept: a range-for over a temporary's member dangles
    for (const auto& f : state["drive"]["files"]) {
      if (f["mimeType"] != mime_not) out.push_back(f);
    }
    return out;
  }
};

Claim TestClaim(const std::string& id) {
  Claim c;
  c.id = id;
  c.created_at = "2024-12-18T02:42:00Z";
  c.source.email_id = "18c2f0a9e1b2c3d4";
  Attachment a;
  a.filename = "receipt_001.jpg";
  a.content_type = "image/jpeg";
  c.attachment = a;
  return c;
}

}  // namespace

TEST_CASE("google archive: Drive upload is filed by day, idempotent, and survives a lost answer") {
  Fixture f;
  auto spool = Spool::Open(f.dir);
  REQUIRE(spool.ok());
  DriveArchive drive(f.config, *spool, *f.http, f.tokens, f.options, NullLogger());
  Claim c = TestClaim("20241218-024200-aaaaaaaa");
  std::string bytes = "\xFF\xD8\xFF small jpeg";

  // The first upload's answer is lost after Drive stored the file.
  f.g.Control("fault", {{"method", "POST"}, {"path", "/upload/drive/v3/files"}, {"status", 500}, {"after", true}});
  auto up = drive.Upload(c, bytes, std::chrono::system_clock::now());
  REQUIRE_MESSAGE(up.ok(), up.status().ToString());
  auto again = drive.Upload(c, bytes, std::chrono::system_clock::now());
  REQUIRE(again.ok());
  CHECK(again->id == up->id);
  auto files = f.Files();
  REQUIRE(files.size() == 1);
  CHECK(files[0]["name"] == "18c2f0a9e1b2c3d4_receipt_001.jpg");
  CHECK(files[0]["appProperties"]["ncbocr_claim_id"] == c.id);
  CHECK(files[0]["sha256"] == Sha256Hex(bytes));
  CHECK(f.g.Control("state")["violations"].empty());

  // The folder chain claims/YYYY/MM/DD under ROOT, one of each, cached in the spool.
  json all = f.g.Control("state")["drive"]["files"];
  std::map<std::string, json> by_id;
  for (const auto& x : all) by_id[x["id"]] = x;
  std::string path;
  for (json cur = files[0]; !cur["parents"].empty();) {
    cur = by_id[cur["parents"][0]];
    if (cur["id"] != "ROOT") path = "/" + cur["name"].get<std::string>() + path;
  }
  CHECK(path == "/claims/" + ClaimDay(c));
  CHECK(all.size() == 6);  // ROOT + 4 folders + the file
  CHECK(fs::exists(f.dir / "index" / "drive" / "ROOT" / "claims"));
}

TEST_CASE("google archive: a large file goes up through a resumable session in chunks") {
  Fixture f;
  auto spool = Spool::Open(f.dir);
  REQUIRE(spool.ok());
  DriveArchive drive(f.config, *spool, *f.http, f.tokens, f.options, NullLogger());
  drive.resumable_threshold = 1000;
  drive.chunk_size = 256 * 1024;
  std::string bytes;
  for (int i = 0; i < 600 * 1024; ++i) bytes.push_back(static_cast<char>(i * 7));
  f.g.Control("fault", {{"method", "PUT"}, {"path", "/upload/drive/v3/files"}, {"status", 503}});
  Claim c = TestClaim("20241218-024200-bbbbbbbb");
  auto up = drive.Upload(c, bytes, std::chrono::system_clock::now());
  REQUIRE_MESSAGE(up.ok(), up.status().ToString());
  auto files = f.Files();
  REQUIRE(files.size() == 1);
  CHECK(files[0]["size"] == std::to_string(bytes.size()));
  CHECK(files[0]["sha256"] == Sha256Hex(bytes));
  int puts = 0;
  json state = f.g.Control("state");
  for (const auto& r : state["requests"]) puts += r["method"] == "PUT";
  CHECK(puts == 4);  // three chunks, one of them sent twice
}

TEST_CASE("google archive: one Sheets row per claim, in the claim's month, updated in place") {
  Fixture f;
  SheetsAuditLog sheets(f.config, *f.http, f.tokens, f.options, NullLogger());
  std::vector<std::string> row(15, "");
  row[1] = "20241218-024200-aaaaaaaa";
  row[10] = "ready";
  row[14] = "=HYPERLINK(\"x\")";  // stays text: RAW
  // The append's answer is lost after the row was written.
  f.g.Control("fault", {{"method", "POST"}, {"path", ":append$"}, {"status", 503}, {"after", true}});
  REQUIRE(sheets.Record("2024-12", row).ok());
  row[10] = "submitted";
  REQUIRE(sheets.Record("2024-12", row).ok());
  std::vector<std::string> other = row;
  other[1] = "20241218-024200-cccccccc";
  REQUIRE(sheets.Record("2024-12", other).ok());
  json tab = f.g.Control("state")["sheets"]["SHEET"]["2024-12"];
  REQUIRE(tab.size() == 3);
  CHECK(tab[0][1] == "claim_id");
  CHECK(tab[1][1] == row[1]);
  CHECK(tab[1][10] == "submitted");
  CHECK(tab[1][14] == "=HYPERLINK(\"x\")");
  CHECK(tab[2][1] == other[1]);
  CHECK(sheets.FindRow("2024-12", other[1]).value() == 3);
  CHECK(sheets.FindRow("2024-12", "nope").value() == 0);
  CHECK(f.g.Control("state")["violations"].empty());
  Claim c = TestClaim("x");
  CHECK(AuditTab(c).size() == 7);
}

}  // namespace ncbocr
