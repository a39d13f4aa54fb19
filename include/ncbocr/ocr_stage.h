// The OCR stage: fetched -> ocred. Adapts the spool to the OCR library
// (ocr.h): each claim's attachment is decoded, recognised on a pool of
// engines within the claim's budgets (ocr.max_claim_pixels, page and claim
// time limits), and the result kept as ocr.json in the claim directory.
#ifndef NCBOCR_OCR_STAGE_H_
#define NCBOCR_OCR_STAGE_H_

#include "ncbocr/ocr.h"
#include "ncbocr/stage.h"

namespace ncbocr {

// Spool stage: fetched -> ocred, writing ocr.json into each claim directory.
// A claim without attachment or with an unreadable file goes to failed with a
// reason naming the email id and the attachment. factory makes the engines
// (tests pass a fake).
StageReport RunOcrStageWith(StageContext& ctx, const EngineFactory& factory);
// The same with Tesseract engines from ctx.config.ocr.
StageReport RunOcrStage(StageContext& ctx);

}  // namespace ncbocr

#endif  // NCBOCR_OCR_STAGE_H_
