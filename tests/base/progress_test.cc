// The progress line of long interactive runs.
#include "ncbocr/progress.h"

#include <doctest/doctest.h>

using namespace ncbocr;

TEST_CASE("progress: the line says how far, how fast and how long is left") {
  CHECK(Progress::Line("ocr", 0, 250, 0) == "ocr 0 of 250");
  CHECK(Progress::Line("ocr", 10, 250, 5) == "ocr 10 of 250 (2.0/s, about 2m 00s left)");
  CHECK(Progress::Line("ocr", 1, 10000, 2) == "ocr 1 of 10000 (0.5/s, about 5h 33m left)");
  CHECK(Progress::Line("ocr", 3, 4, 1.5) == "ocr 3 of 4 (2.0/s, about 1s left)");
  CHECK(Progress::Line("ocr", 4, 4, 2) == "ocr 4 of 4 (2.0/s)");
}
