// The extract stage: ocred -> ready or review. Adapts the spool to the
// extraction library (extract.h, segment.h): it reads a claim's ocr.json and
// email.json, splits a document holding several receipts into one claim per
// receipt (<parent>-pN-M, committed before the parent's own range is saved,
// so a crash mid-split never makes a third claim), extracts, writes
// extract.json and records the claim's progress in the audit log (audit.h),
// so the Sheet shows a claim while NCB is down.
#ifndef NCBOCR_EXTRACT_STAGE_H_
#define NCBOCR_EXTRACT_STAGE_H_

#include "ncbocr/stage.h"

namespace ncbocr {

// Spool stage: ocred -> ready (submit) or review, writing extract.json and
// setting the claim's confidence and review reasons.
StageReport RunExtractStage(StageContext& ctx);

}  // namespace ncbocr

#endif  // NCBOCR_EXTRACT_STAGE_H_
