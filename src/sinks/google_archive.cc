// Opening the Google archive sinks from the configuration (google_archive.h).
#include "ncbocr/google_archive.h"

namespace ncbocr {

bool GoogleArchiveConfigured(const ArchiveConfig& config) {
  return !config.drive_folder_id.empty() || !config.sheets_spreadsheet_id.empty();
}

Result<std::unique_ptr<GoogleSinks>> GoogleSinks::Open(const Config& config, const Spool& spool,
                                                       const Clock& clock, Logger log) {
  const ArchiveConfig& a = config.archive;
  std::unique_ptr<GoogleSinks> sinks(new GoogleSinks());
  HttpOptions options;
  sinks->http_ = MakeCurlClient(options, log);
  if (!a.drive_folder_id.empty()) {
    if (a.drive_credentials_path.empty()) {
      return Status::Config("archive.drive_folder_id is set but archive.drive_credentials_path "
                            "(the service account key file) is not");
    }
    Status url = CheckUrlAllowed(a.drive_api_base_url);
    if (!url.ok()) return url.WithContext("archive.drive_api_base_url");
    auto tokens = OpenServiceAccountTokenSource(a.drive_credentials_path, {kDriveScope},
                                                a.service_account_subject, *sinks->http_, options,
                                                clock, log);
    if (!tokens.ok()) return tokens.status();
    sinks->drive_tokens_ = std::move(*tokens);
    sinks->drive_ = std::make_unique<DriveArchive>(a, spool, *sinks->http_, *sinks->drive_tokens_,
                                                   options, log);
  }
  if (!a.sheets_spreadsheet_id.empty()) {
    if (a.sheets_credentials_path.empty()) {
      return Status::Config("archive.sheets_spreadsheet_id is set but archive.sheets_credentials_path "
                            "(the service account key file) is not");
    }
    Status url = CheckUrlAllowed(a.sheets_api_base_url);
    if (!url.ok()) return url.WithContext("archive.sheets_api_base_url");
    auto tokens = OpenServiceAccountTokenSource(a.sheets_credentials_path, {kSheetsScope},
                                                a.service_account_subject, *sinks->http_, options,
                                                clock, log);
    if (!tokens.ok()) return tokens.status();
    sinks->sheets_tokens_ = std::move(*tokens);
    sinks->sheets_ = std::make_unique<SheetsAuditLog>(a, *sinks->http_, *sinks->sheets_tokens_,
                                                      options, log);
  }
  return sinks;
}

}  // namespace ncbocr
