// eval --receipt-numbers: the hand-read file and the found/right/wrong counts.
#include <doctest/doctest.h>

#include <fstream>

#include "ncbocr/eval.h"
#include "test_util.h"

using namespace ncbocr;

TEST_CASE("eval: receipt numbers are read from the hand-labelled file") {
  testing::TempDir t;
  auto write = [&](const std::string& text) {
    std::string p = (t.path() / "n.json").string();
    std::ofstream(p) << text;
    return p;
  };
  auto ok = ReadReceiptNumbers(write(R"({"numbers": {"001": "CS-1234", "002": null}})"));
  REQUIRE(ok.ok());
  CHECK(ok->at("001") == std::optional<std::string>("CS-1234"));
  CHECK_FALSE(ok->at("002").has_value());
  for (const char* bad : {"[]", R"({"numbers": {"001": 5}})", R"({"numbers": {}})", "not json"}) {
    auto r = ReadReceiptNumbers(write(bad));
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().kind() == ErrorKind::kUsage);
    CHECK(r.status().message().find("n.json") != std::string::npos);
  }
  CHECK_FALSE(ReadReceiptNumbers(t.path() / "missing.json").ok());
  // The project's own file: 40 tuning receipts, none of the hold-out.
  auto mine =
      ReadReceiptNumbers(std::string(NCBOCR_SOURCE_DIR) + "/tests/data/eval/receipt_numbers.json");
  REQUIRE(mine.ok());
  CHECK(mine->size() == 40);
  auto hold = ReadHoldoutList(std::string(NCBOCR_SOURCE_DIR) + "/tests/data/eval/holdout.txt");
  REQUIRE(hold.ok());
  for (const auto& [stem, v] : *mine) CHECK(hold->count(stem) == 0);
}

TEST_CASE("eval: found, right, wrong and found where none is printed") {
  CHECK(SameNumber("CS-SA-0082716", "cs sa 0082716"));
  CHECK_FALSE(SameNumber("BAT0220", "BATO220"));
  CHECK_FALSE(SameNumber("", ""));
  EvalNumberScore s;
  auto add = [&](std::optional<std::string> expected, const std::string& found, double conf) {
    EvalReceipt r;
    r.number_labelled = true;
    r.number_expected = std::move(expected);
    r.number_found = found;
    r.number_confidence = conf;
    s.Add(r, 0.9);
  };
  add("A-1", "A-1", 0.95);        // right
  add("A-2", "A-3", 0.95);        // wrong, confident
  add("A-4", "A-5", 0.8);         // wrong, not confident
  add("A-6", "", 0);              // not found
  add(std::nullopt, "X9", 0.95);  // found where none is printed
  add(std::nullopt, "", 0);
  CHECK(s.labelled == 6);
  CHECK(s.printed == 4);
  CHECK(s.found == 3);
  CHECK(s.right == 1);
  CHECK(s.wrong == 2);
  CHECK(s.wrong_confident == 1);
  CHECK(s.found_where_none == 1);
  CHECK(s.ToJson()["right"] == 1);
  CHECK(s.ToText().find("found 3") != std::string::npos);
}
