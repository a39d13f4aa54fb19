// A temporary spool with claims built the way fetch builds them (draft,
// files, commit), for the tests of the units that act on a whole spool:
// review, retry, health, backup.
#ifndef NCBOCR_TESTS_SPOOL_FIXTURE_H_
#define NCBOCR_TESTS_SPOOL_FIXTURE_H_

#include <stdlib.h>

#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "ncbocr/config.h"
#include "ncbocr/spool.h"
#include "ncbocr/util.h"

namespace ncbocr::testing {

struct TempSpoolDir {
  TempSpoolDir() {
    char tmpl[] = "/tmp/ncbocr-spool-test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempSpoolDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// extract.json as the extract stage writes it, with every field NCB needs.
inline nlohmann::json CompleteExtract() {
  auto f = [](const char* v, double c) { return nlohmann::json{{"value", v}, {"confidence", c}, {"source", "ocr"}}; };
  return {{"fields",
           {{"service_date", f("2024-12-15", 0.9)},
            {"total_amount", f("150.00", 0.5)},
            {"receipt_number", f("RCP-1", 0.9)},
            {"policy_number", f("POL-2024-00123", 0.95)},
            {"member_id", {{"value", nullptr}, {"confidence", 0}, {"source", "email"}}}}},
          {"confidence", 0.61},
          {"decision", "review"},
          {"reasons", {"total does not match the items"}}};
}

struct SpoolFixture {
  SpoolFixture() : spool(Spool::Open(dir.path / "spool").value()) { config.spool = (dir.path / "spool").string(); }

  // A claim committed into `state` with an original, email.json, ocr.json and
  // (unless extract is null) extract.json. id defaults to a fresh one.
  Claim Add(ClaimState state, const nlohmann::json& extract, std::string id = "",
            const std::string& sender = "member@example.com") {
    if (id.empty()) id = NewClaimId();
    ClaimDraft d = spool.NewDraft(id).value();
    d.claim.source.kind = "eml";
    d.claim.source.email_id = "mail-" + id;
    d.claim.source.part_count = 1;
    d.claim.attachment = Attachment{"receipt.jpg", "image/jpeg", Sha256Hex(id), 9, "original.jpg"};
    d.claim.confidence = 0.61;
    d.claim.review_reasons = {"total does not match the items"};
    REQUIRE(spool.WriteDraftFile(d, "original.jpg", "jpegbytes").ok());
    REQUIRE(spool.WriteDraftFile(d, "email.json",
                                 nlohmann::json{{"from_address", sender}, {"subject", "my claim"}}.dump())
                .ok());
    REQUIRE(spool.WriteDraftFile(d, "ocr.json",
                                 nlohmann::json{{"pages", {{{"index", 0}, {"text", "KLINIK\nTOTAL RM 150.00"}}}}}.dump())
                .ok());
    if (!extract.is_null()) REQUIRE(spool.WriteDraftFile(d, "extract.json", extract.dump(2)).ok());
    REQUIRE(spool.Commit(d, state, "test", state == ClaimState::kReview ? "low confidence" : "").ok());
    return spool.LoadIn(state, id).value();
  }

  std::string File(const Claim& c, const std::string& name) { return spool.ReadClaimFile(c, name).value(); }

  TempSpoolDir dir;
  Spool spool;
  Config config;
};

}  // namespace ncbocr::testing

#endif  // NCBOCR_TESTS_SPOOL_FIXTURE_H_
