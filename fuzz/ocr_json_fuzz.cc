// Fuzz target: the OCR JSON that `ncbocr extract x.json` and the extract
// stage read (ocr.json of a claim), through the whole of extraction:
// OcrDocument::FromJson, line building, every receipt rule, the merge with
// the email and the routing decision.
#include "fuzz_support.h"
#include "ncbocr/extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ncbocr;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(fuzz::AsView(data, size));
  } catch (const nlohmann::json::exception&) {
    return 0;  // not JSON: the caller reports that before extraction starts
  }
  Result<OcrDocument> doc = OcrDocument::FromJson(j);
  if (!doc.ok()) return 0;
  (void)doc->Text();
  (void)doc->ToJson().dump();

  Config config;  // the defaults: thresholds as shipped
  ExtractOptions options;
  options.today = Date{2026, 11, 29};
  options.claim_id = "20261129-000000-00000000";
  std::optional<EmailInfo> email;
  if (auto e = j.find("email"); e != j.end()) {
    if (auto info = EmailInfo::FromJson(*e); info.ok()) email = *info;
  }
  Extraction x = ExtractClaim(*doc, email, config.extract, options);
  (void)x.ToJson().dump();
  return 0;
}
