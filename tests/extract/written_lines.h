// Receipt lines written in a test, for the extraction rules' own tests.
#ifndef NCBOCR_TESTS_EXTRACT_WRITTEN_LINES_H_
#define NCBOCR_TESTS_EXTRACT_WRITTEN_LINES_H_

#include <string>

#include "extract/extract_internal.h"

namespace ncbocr::testing {

// A line as read, with no words or second reading.
inline internal::Line L(const std::string& text, double confidence = 0.95) {
  internal::Line l;
  l.text = text;
  l.confidence = confidence;
  return l;
}

}  // namespace ncbocr::testing

#endif  // NCBOCR_TESTS_EXTRACT_WRITTEN_LINES_H_
