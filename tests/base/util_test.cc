// The small shared helpers of util.h.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "ncbocr/util.h"

using namespace ncbocr;

TEST_CASE("AsciiLower lowers ASCII letters only") {
  CHECK(AsciiLower("Content-Type: TEXT/Plain") == "content-type: text/plain");
  CHECK(AsciiLower("\xC3\x89T\xC3\x89") == "\xC3\x89t\xC3\x89");  // UTF-8 bytes untouched
}

TEST_CASE("PercentDecode decodes escapes, '+' only for form encoding") {
  CHECK(PercentDecode("INBOX%2FClaims%20") == "INBOX/Claims ");
  CHECK(PercentDecode("a+b") == "a+b");
  CHECK(PercentDecode("a+b%3Dc", true) == "a b=c");
  // Malformed or cut-off escapes stay as they are.
  CHECK(PercentDecode("100%") == "100%");
  CHECK(PercentDecode("%4") == "%4");
  CHECK(PercentDecode("%zz%41") == "%zzA");
  CHECK(PercentDecode("%41") == "A");
}

TEST_CASE("ReplaceControlChars keeps text on one line") {
  CHECK(ReplaceControlChars("a\nb\r\tc\x7f", '?') == "a?b??c?");
  CHECK(ReplaceControlChars("caf\xC3\xA9", ' ') == "caf\xC3\xA9");
}

TEST_CASE("JsonString reads strings leniently") {
  nlohmann::json j = {{"s", "v"}, {"n", 3}, {"o", {{"s", "w"}}}};
  CHECK(JsonString(j, "s") == "v");
  CHECK(JsonString(j, "n") == "");
  CHECK(JsonString(j, "missing") == "");
  CHECK(JsonString(j["o"], "s") == "w");
  CHECK(JsonString(nlohmann::json::array({1, 2}), "s") == "");
  CHECK(JsonString(nlohmann::json("text"), "s") == "");
}

TEST_CASE("DoublingDelay doubles up to its cap") {
  CHECK(DoublingDelay(0, 60, 3600) == 60);
  CHECK(DoublingDelay(1, 60, 3600) == 60);
  CHECK(DoublingDelay(2, 60, 3600) == 120);
  CHECK(DoublingDelay(4, 60, 3600) == 480);
  CHECK(DoublingDelay(7, 60, 3600) == 3600);
  CHECK(DoublingDelay(1000, 60, 3600) == 3600);
}

TEST_CASE("util: times by a format, and ages for a table") {
  auto t = *ParseIso("2024-12-18T02:42:05Z");
  CHECK(FormatUtc(t, "%Y%m%dT%H%M%SZ") == "20241218T024205Z");
  CHECK(IsoUtc(t) == "2024-12-18T02:42:05Z");
  CHECK(FormatLocal(t, "%Y/%m/%d").size() == 10);
  CHECK(ShortAge(45) == "45s");
  CHECK(ShortAge(600) == "10m");
  CHECK(ShortAge(3 * 3600) == "3.0h");
  CHECK(ShortAge(5 * 86400) == "5.0d");
}
