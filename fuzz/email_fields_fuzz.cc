// Fuzz target: member fields from the claim email (extract_email.cc): member
// id, name and policy number, and the amount, date and provider a member
// states. Input: subject, sender and body separated by NUL bytes.
#include "fuzz_support.h"
#include "ncbocr/extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ncbocr;
  std::vector<std::string> f = fuzz::Split(fuzz::AsView(data, size), '\0', 3);
  f.resize(3);
  EmailInfo e;
  e.subject = f[0];
  e.from = f[1];
  e.from_address = f[1];
  e.text = f[2];
  EmailFields got = ExtractEmail(e, Date{2026, 11, 29});
  if (got.total) (void)FormatCents(*got.total);
  if (got.service_date) (void)got.service_date->Iso();

  // And the email.json a claim carries, as extract reads it back.
  try {
    auto j = nlohmann::json::parse(fuzz::AsView(data, size));
    if (auto info = EmailInfo::FromJson(j); info.ok()) (void)ExtractEmail(*info, Date{2026, 11, 29});
  } catch (const nlohmann::json::exception&) {
  }
  return 0;
}
