// Fuzz target: what ncbocr reads from Google's APIs -- Gmail messages.list,
// messages.get (raw) and labels, Drive files.list / create / uploads, Sheets
// spreadsheets.get and values.get -- and Google's error bodies. A scripted
// HTTP client (fuzz_support.h) answers every call with the input's answers.
// Input: the operation on the first line, then "=== <status>" answers.
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "fuzz_support.h"
#include "ncbocr/gmail_source.h"
#include "ncbocr/google_archive.h"

namespace {

using namespace ncbocr;

class FixedToken : public TokenSource {
 public:
  Result<std::string> Token() override { return std::string("fuzz-token"); }
  void Invalidate() override {}
};

// One spool for the whole run, in the temp dir; the Drive folder cache in it
// is emptied after each input so every input starts from the same state.
const Spool& FuzzSpool() {
  static const Spool* spool = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto root = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                ("ncbocr-fuzz-spool-" + std::to_string(::getpid()));
    auto s = Spool::Open(root);
    if (!s.ok()) std::abort();
    return new Spool(std::move(*s));  // never freed: the exit handler uses it
  }();
  static const bool cleanup = std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(spool->root(), ec);
  }) == 0;
  (void)cleanup;
  return *spool;
}

void RunGmail(std::string_view op, std::deque<HttpResponse> answers) {
  GmailConfig config;
  config.api_base_url = "https://gmail.test";
  GmailSource gmail(config, std::make_unique<fuzz::ScriptedHttp>(std::move(answers)),
                    std::make_unique<FixedToken>(), fuzz::NoWaitOptions(), NullLogger());
  MailRef ref;
  ref.email_id = "18c0ffee";
  if (op == "gmail.list") {
    (void)gmail.List();
  } else if (op == "gmail.read") {
    (void)gmail.Read(ref, 1 << 20);
  } else if (op == "gmail.label") {
    (void)gmail.ProcessedLabelId();
  } else {
    (void)gmail.MarkProcessed(ref);
  }
}

void RunDriveSheets(std::string_view op, std::deque<HttpResponse> answers) {
  ArchiveConfig config;
  config.drive_folder_id = "root-folder";
  config.drive_api_base_url = "https://drive.test";
  config.sheets_spreadsheet_id = "sheet";
  config.sheets_api_base_url = "https://sheets.test";
  fuzz::ScriptedHttp http(std::move(answers));
  FixedToken tokens;
  Claim c;
  c.id = "20261129-000000-00000000";
  c.created_at = "2026-11-29T00:00:00Z";
  c.source.email_id = "18c0ffee";
  if (op.starts_with("drive.")) {
    const Spool& spool = FuzzSpool();
    DriveArchive drive(config, spool, http, tokens, fuzz::NoWaitOptions(), NullLogger());
    drive.resumable_threshold = 8;  // "upload" below takes the resumable path
    drive.chunk_size = 256 * 1024;
    if (op == "drive.find") {
      (void)drive.FindByClaim(c.id);
    } else if (op == "drive.folder") {
      (void)drive.DayFolder(c);
    } else {
      (void)drive.Upload(c, op == "drive.upload" ? "0123456789abcdef" : "tiny", TimePoint{});
    }
    std::error_code ec;
    std::filesystem::remove_all(spool.root() / "index" / "drive", ec);
  } else {
    SheetsAuditLog sheets(config, http, tokens, fuzz::NoWaitOptions(), NullLogger());
    if (op == "sheets.find") {
      (void)sheets.FindRow("2026-11", c.id);
    } else if (op == "sheets.tab") {
      (void)sheets.EnsureTab("2026-11");
    } else {
      std::vector<std::string> row(AuditColumns().size(), "x");
      row[1] = c.id;
      (void)sheets.Record("2026-11", row);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [op, rest] = fuzz::FirstLine(fuzz::AsView(data, size));
  std::deque<HttpResponse> answers = fuzz::ParseAnswers(rest);
  if (op.starts_with("gmail.")) {
    RunGmail(op, std::move(answers));
  } else if (op.starts_with("drive.") || op.starts_with("sheets.")) {
    RunDriveSheets(op, std::move(answers));
  } else {
    for (const HttpResponse& r : answers) {
      (void)GoogleError(r, "fuzz");
      (void)IsRetryable(r);
    }
  }
  return 0;
}
