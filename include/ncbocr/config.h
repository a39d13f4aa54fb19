// Config: every setting of ncbocr, parsed once and then immutable.
//
// Sources, later ones winning: built-in defaults, the YAML file
// (config/ncbocr.example.yaml documents every key), environment variables
// (the deployment guide's names, e.g. NCB_API_BASE_URL), command-line flags.
// LoadConfig validates everything: an unknown key, a wrong type or an
// impossible value is a kConfig error naming the key and the file.
#ifndef NCBOCR_CONFIG_H_
#define NCBOCR_CONFIG_H_

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ncbocr/status.h"

namespace ncbocr {

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
  std::string file;            // empty: stderr
  bool syslog = false;
};

struct FetchConfig {
  std::string source = "maildir";  // maildir | eml | gmail | imap
  std::string path;                // Maildir root or folder of .eml files
  std::string on_processed = "keep";  // keep | move
  std::string processed_path;      // where "move" puts processed messages
  long long max_attachment_bytes = 20LL * 1024 * 1024;
  long long max_message_bytes = 50LL * 1024 * 1024;
  long long min_image_bytes = 2048;   // smaller images are logos/signatures
  int min_image_pixels = 120;         // smaller width or height: not a receipt
};

struct GmailConfig {
  std::string credentials_path;
  std::string token_path;
  int poll_interval = 30;  // seconds
  std::string query = "has:attachment -label:ncbocr-processed";
  std::string processed_label = "ncbocr-processed";
  std::string api_base_url = "https://gmail.googleapis.com";
  std::string user = "me";
};

struct ImapConfig {
  std::string url;            // imaps://host:993/INBOX
  std::string username;
  std::string password_file;
  std::string search = "UNKEYWORD ncbocr-processed";
  std::string processed_keyword = "ncbocr-processed";
  std::string move_to;        // folder; empty: keyword only
  std::string ca_file;        // CA for a private-CA server (replaces the system CAs)
};

struct OcrConfig {
  std::vector<std::string> languages = {"eng", "msa"};
  std::string use_gpu = "auto";  // auto | true | false
  int batch_size = 8;
  int workers = 0;               // 0: number of cores
  int psm = -1;                  // -1: the measured default (see ocr.cc)
  bool reread_lines = true;      // read money and date lines twice (ocr_reread.cc)
  // A page that reads badly is checked with Tesseract's OSD. A quarter turn
  // it proposes is always tried (the page read again turned); a half turn
  // (upside down) only at this OSD confidence or more. On the dev receipts
  // all 17 proposals were half turns: the 3 that read better had 2.05-2.64,
  // the 7 under 1.5 all read worse and each cost a full second reading. A
  // clean page turned sideways gets as little as 0.43, hence no threshold
  // for quarter turns.
  double upside_down_min_confidence = 1.5;
  int pdf_dpi = 300;
  long long max_pixels = 60'000'000;  // per page, refuse larger
  int max_pages = 50;
  // Budgets over several pages (see document.h and ocr_stage.cc): a claim's
  // pages together (a PDF page counted at pdf_dpi, text layer or not), the
  // receipts of one email taken up together, and the memory one worker may
  // need for a page (decoded, preprocessed and recognised: see
  // PageMemoryEstimateMb). Whatever would exceed one is refused with the
  // reason, before a pixel of it is decoded.
  long long max_claim_pixels = 500'000'000;
  long long max_email_pixels = 1'000'000'000;
  int worker_memory_mb = 1024;
  // Time limits in seconds (0: none). A page's recognition is cancelled at
  // page_timeout (Tesseract's own deadline, for the first reading and the
  // second ones alike); a claim is stopped between pages at claim_timeout.
  // Either parks the claim in failed with the reason. Decoding or rendering
  // one page cannot be interrupted: a page that took longer is refused when
  // it is done, and a run that hangs is for the whole-run limit of the cron
  // file and systemd units (and max_attempts) to end.
  int page_timeout = 60;
  int claim_timeout = 300;
  // Attempts at a claim that failed for a passing reason or never finished
  // (the run was killed, hung or ran out of memory) before it is parked.
  int max_attempts = 3;
  std::string tessdata_dir;      // empty: Tesseract's default
  // The recogniser: "tesseract", "paddle" (ocr_paddle.h) or
  // "tesseract+paddle" (both; extraction fuses their readings field by
  // field, FuseReceipts in extract.h), and where the paddle engine's models
  // are (empty: DefaultPaddleModelsDir()).
  // "auto" (the default): both where the paddle models are installed, else
  // Tesseract with one warning line (ResolveAutoEngine, ocr_paddle.h; the
  // command line settles it as the configuration loads, keeping the
  // warning in engine_note for the commands that read receipts to show;
  // MakeOcrEngine settles it too).
  std::string engine = "auto";
  std::string engine_note;
  std::string models_dir;
  // With two engines, what the second reads of a file: "always" (all of
  // it), "unsettled" (all of it where the first reading leaves the total or
  // the date missing or below extract.high_confidence_threshold, nothing
  // elsewhere) or "unsettled+header" (as unsettled, and elsewhere the
  // header's lines, for the name and address: SecondReadingFor, extract.h).
  std::string second_reading = "unsettled+header";
};

struct ExtractConfig {
  double high_confidence_threshold = 0.90;
  double review_sample_rate = 0.0;   // share of confident claims sent to review
  bool allow_empty_invoice_number = false;
  int max_service_age_days = 365;    // older service dates go to review
  // Shapes of the TPA's member ids and policy numbers: ECMAScript regular
  // expressions, each matched against a whole id-like token of the email
  // (letters, digits, '-' and '/', at most 64 characters), ignoring case.
  // A token of neither shape is never taken, even after a label; a token of
  // a shape is taken without a label from the Subject and from short bodies.
  std::vector<std::string> member_id_patterns = {"M[0-9]{4,8}", "MBR-?[0-9]{5,8}", "[A-Z][0-9]{7}"};
  std::vector<std::string> policy_number_patterns = {"POL-?[0-9]{2,8}(-[0-9]{2,8}){0,2}", "P[0-9]{6,10}"};
};

struct NcbConfig {
  std::string base_url;       // file:///dir for a local outbox, or https://...
  std::string api_key;        // prefer api_key_file
  std::string api_key_file;
  std::string ca_file;
  int connect_timeout = 10;   // seconds
  int timeout = 60;
  int max_attempts = 8;       // then the claim is parked in failed
  int alert_after = 900;      // seconds NCB may be down before a system alert
  // NCB field name -> claim field (see ncb-api.md); a schema change is a config edit.
  std::vector<std::pair<std::string, std::string>> field_map = {
      {"Event date", "service_date"},
      {"Submission Date", "submission_date"},
      {"Claim Amount", "total_amount"},
      {"Invoice Number", "receipt_number"},
      {"Policy Number", "policy_number|member_id"},
      {"source_email_id", "source_email_id"},
      {"source_filename", "source_filename"},
      {"extraction_confidence", "confidence"},
  };
};

struct ArchiveConfig {
  std::string dir;                 // local archive root (claims/YYYY/MM/DD below it)
  std::string audit_csv;           // local audit log (CSV)
  std::string drive_credentials_path;
  std::string drive_folder_id;
  std::string drive_api_base_url = "https://www.googleapis.com";
  std::string sheets_credentials_path;
  std::string sheets_spreadsheet_id;
  std::string sheets_api_base_url = "https://sheets.googleapis.com";
  // A Workspace user the service account acts for (domain-wide delegation);
  // empty: the service account itself.
  std::string service_account_subject;
};

struct AlertConfig {
  bool enabled = false;
  std::string smtp_host;
  int smtp_port = 587;
  std::string smtp_username;
  std::string smtp_password;
  std::string smtp_password_file;
  std::vector<std::string> recipients;
  std::string from = "ncbocr@localhost";
};

struct MetricsConfig {
  bool enabled = false;
  std::string textfile_dir = "/var/lib/prometheus/node-exporter";
  // A Prometheus Pushgateway (pods have no textfile directory): each stage
  // run pushes its own series there. Empty: no push.
  std::string pushgateway_url;
  // The instance label of the pushed group. Empty: the host name. On
  // Kubernetes set one name for all pods, or every pod (named per run)
  // would leave a group of its own behind on the gateway.
  std::string instance;
};

struct BackupConfig {
  std::string dir;      // default: <spool>/../backups
  int keep_days = 30;
};

// What `ncbocr status --check` calls unhealthy (see health.h).
struct HealthConfig {
  // Seconds within which each stage must have succeeded; the defaults are
  // the cron intervals of the deployment guide with slack for one missed run.
  std::map<std::string, int> stage_interval = {
      {"fetch", 600}, {"ocr", 600}, {"extract", 600}, {"submit", 600}, {"archive", 1800}};
  int max_backlog = 200;             // claims waiting in fetched/ocred/ready/submitted
  int max_review = 50;               // claims waiting for a clerk (review + failed)
  int max_consecutive_failures = 3;  // failed runs of one stage in a row
  int max_claim_attempts = 3;        // deferred claims with this many attempts
  double min_free_percent = 10;      // free space on the spool's file system
};

struct Config {
  std::string source_file;  // the YAML file it came from, "" if none
  std::string spool = "/var/spool/ncbocr";
  LogConfig log;
  FetchConfig fetch;
  GmailConfig gmail;
  ImapConfig imap;
  OcrConfig ocr;
  ExtractConfig extract;
  NcbConfig ncb;
  ArchiveConfig archive;
  AlertConfig alerts;
  MetricsConfig metrics;
  BackupConfig backup;
  HealthConfig health;
};

// Command-line overrides (applied last).
struct ConfigOverrides {
  std::optional<std::string> spool;
  std::optional<std::string> log_level;
};

// Loads defaults <- file (if path non-empty; must exist) <- env <- overrides.
// env is a lookup function so tests need not touch the process environment.
using EnvLookup = std::optional<std::string> (*)(const char* name);
std::optional<std::string> ProcessEnv(const char* name);
Result<Config> LoadConfig(const std::string& path, const ConfigOverrides& overrides,
                          EnvLookup env = &ProcessEnv);

// The config file used when --config is not given: $NCBOCR_CONFIG, else
// /etc/ncbocr/ncbocr.yaml if it exists, else none.
std::string DefaultConfigPath(EnvLookup env = &ProcessEnv);

// Refuses a secret file that is missing, not a regular file, or readable or
// writable by group or others (as ssh does), naming the file and the fix.
Status CheckSecretFile(const std::string& path, const std::string& what);

// Reads a secret file (after CheckSecretFile), trimming a final newline.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& what);

}  // namespace ncbocr

#endif  // NCBOCR_CONFIG_H_
