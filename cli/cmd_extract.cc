// ncbocr extract: claim fields from receipts (see man/ncbocr-extract.1).
//
// Without a file: the spool stage (ocred -> ready or review). With a file
// (an image, a PDF, or OCR JSON from `ncbocr ocr --json`, "-" for stdin) it
// prints the extraction; --email adds the member fields from an .eml file.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "commands.h"
#include "ncbocr/extract.h"
#include "ncbocr/extract_stage.h"
#include "ncbocr/mime.h"
#include "ncbocr/ocr_paddle.h"
#include "ncbocr/segment.h"
#include "ncbocr/util.h"

namespace ncbocr::cli {

namespace {

struct ExtractCliOptions {
  std::string file;
  std::string email;
  bool json = false;
};

Result<OcrDocument> ReadOcrJson(const std::string& text, const std::string& name) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    Result<OcrDocument> d = OcrDocument::FromJson(j);
    if (!d.ok()) return d.status().WithContext(name);
    return d;
  } catch (const nlohmann::json::exception& e) {
    return Status::Permanent(name + ": not OCR JSON: " + e.what());
  }
}

// A file given on the command line, read whole: a regular file or "-" (stdin),
// at most max_bytes (named by `limit`). A device (/dev/zero), a FIFO or a
// directory is refused before anything is read.
Result<std::string> ReadInputFile(const std::string& file, long long max_bytes,
                                  const std::string& limit) {
  auto over = [&](const std::string& name) {
    return Status::Permanent(name + ": larger than " + limit + " (" + std::to_string(max_bytes) +
                             " bytes)");
  };
  if (file == "-") {
    std::string bytes;
    char buf[65536];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
      bytes.append(buf, static_cast<size_t>(std::cin.gcount()));
      if (static_cast<long long>(bytes.size()) > max_bytes) return over("stdin");
    }
    if (std::cin.bad()) return Status::Io("stdin: cannot read");
    return bytes;
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return Status::Io(file + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return Status::Permanent(file + ": is a directory, not a file");
  if (!S_ISREG(st.st_mode)) {
    return Status::Permanent(file + ": not a regular file (give a file, or - for stdin)");
  }
  if (st.st_size > max_bytes) return over(file);
  return ReadFile(file);
}

Result<OcrDocument> LoadInput(const std::string& file, const Config& config) {
  // A receipt is at most fetch.max_attachment_bytes; its OCR JSON is smaller.
  Result<std::string> head =
      ReadInputFile(file, config.fetch.max_attachment_bytes, "fetch.max_attachment_bytes");
  if (!head.ok()) return head.status();
  const std::string name = file == "-" ? "stdin" : file;
  size_t p = head->find_first_not_of(" \t\r\n");
  if (p != std::string::npos && (*head)[p] == '{') return ReadOcrJson(*head, name);
  WarnEngineNote(config);
  Result<std::unique_ptr<OcrEngine>> engine = ConfiguredEngineFactory(config)();
  if (!engine.ok()) return engine.status();
  if (file != "-") return OcrFile(**engine, file, config.ocr, DefaultPreprocessOptions());
  // An image or PDF piped in (`cat receipt.jpg | ncbocr extract -`): the
  // document readers take a path, so the bytes go to a private temporary
  // file (0600, removed as soon as it is read).
  std::string tmpl = (fs::temp_directory_path() / "ncbocr-stdin-XXXXXX").string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return Status::Io("stdin: cannot make a temporary file: " + std::string(std::strerror(errno)));
  bool written = ::fchmod(fd, 0600) == 0;
  for (size_t off = 0; written && off < head->size();) {
    ssize_t n = ::write(fd, head->data() + off, head->size() - off);
    if (n <= 0) written = false;
    else off += static_cast<size_t>(n);
  }
  ::close(fd);
  Result<OcrDocument> doc = written ? OcrFile(**engine, tmpl, config.ocr, DefaultPreprocessOptions())
                                    : Result<OcrDocument>(Status::Io("stdin: cannot write a temporary file"));
  std::error_code ec;
  fs::remove(tmpl, ec);
  if (!doc.ok() && doc.status().kind() == ErrorKind::kPermanent) {
    // Bad bytes: say "stdin", not the temporary file's name.
    std::string why = doc.status().message();
    for (size_t at = why.find(tmpl); at != std::string::npos; at = why.find(tmpl)) why.replace(at, tmpl.size(), "stdin");
    return Status::Permanent(why);
  }
  return doc;
}

std::string Text(const Extraction& x) {
  std::string s;
  static const char* const kOrder[] = {"member_id", "member_name", "policy_number", "provider_name",
                                       "provider_address", "service_date", "receipt_number",
                                       "total_amount", "currency", "sst_amount", "gst_amount"};
  char buf[64];
  for (const char* k : kOrder) {
    auto it = x.fields.find(k);
    if (it == x.fields.end()) continue;
    std::snprintf(buf, sizeof buf, "%-17s %4.2f  ", k, it->second.confidence);
    s += buf + (it->second.present() ? it->second.value : std::string("-")) + "\n";
  }
  for (const auto& i : x.items) s += "  item: " + i.description + "  " + i.amount + "\n";
  std::snprintf(buf, sizeof buf, "confidence %.2f: ", x.confidence);
  s += buf + x.decision + "\n";
  for (const auto& r : x.reasons) s += "  reason: " + r + "\n";
  for (const auto& n : x.notes) s += "  note: " + n + "\n";
  return s;
}

int ExtractFileCommand(const GlobalOptions& g, const ExtractCliOptions& o) {
  Result<Config> config = LoadConfigFor(g);
  if (!config.ok()) return Fail(config.status());
  Result<OcrDocument> doc = LoadInput(o.file, *config);
  if (!doc.ok()) return Fail(doc.status());
  std::optional<EmailInfo> email;
  if (!o.email.empty()) {
    Result<std::string> raw =
        ReadInputFile(o.email, config->fetch.max_message_bytes, "fetch.max_message_bytes");
    if (!raw.ok()) return Fail(raw.status());
    Result<ParsedEmail> pe = ParseEmail(*raw);
    if (!pe.ok()) return Fail(pe.status().WithContext(o.email));
    email = pe->info;
  }
  ExtractOptions xo;
  xo.today = Today();
  xo.claim_id = o.file;
  // As the spool stage does: one extraction per receipt, each from its own
  // pages; a doubt of the segmentation sends it to review.
  std::vector<ReceiptSegment> segs = SegmentDocument(*doc, xo.today);
  nlohmann::json all = nlohmann::json::array();
  for (size_t k = 0; k < segs.size(); ++k) {
    Extraction x = ExtractClaim(PagesOf(*doc, segs[k].pages), email, config->extract, xo);
    if (!segs[k].doubt.empty()) {
      x.decision = "review";
      x.reasons.insert(x.reasons.begin(), segs[k].doubt);
    }
    nlohmann::json j = x.ToJson();
    j["pages"] = {segs[k].pages.first, segs[k].pages.last};
    all.push_back(j);
    if (o.json) continue;
    if (segs.size() > 1) {
      std::cout << (k ? "\n" : "") << "receipt " << k + 1 << " of " << segs.size() << " ("
                << segs[k].pages.Describe() << ")\n";
    }
    std::cout << Text(x);
  }
  if (o.json) {
    std::cout << (all.size() == 1 ? all[0] : nlohmann::json{{"receipts", all}}).dump(2) << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterExtract(CLI::App& app, AppState& st) {
  auto* cmd = app.add_subcommand("extract", "claim fields and routing: the spool stage, or one file");
  static ExtractCliOptions o;
  cmd->add_option("file", o.file, "image, PDF, or OCR JSON from `ncbocr ocr --json` (- for stdin)");
  cmd->add_option("--email", o.email, "the claim email (.eml) for member fields");
  cmd->add_flag("--json", o.json, "JSON output: fields with value, confidence and source; decision");
  cmd->callback([&st] {
    st.action = [&st] {
      if (o.file.empty()) {
        if (!o.email.empty()) return Fail(Status::Usage("--email needs a FILE"));
        return RunStageCommand(st.opts, "extract", [](StageContext& ctx) { return RunExtractStage(ctx); });
      }
      return ExtractFileCommand(st.opts, o);
    };
  });
}

}  // namespace ncbocr::cli
