// Document: a receipt file (image or PDF) turned into pages ready for OCR.
//
// A claim's attachment may be a JPEG photo, a PNG or multi-page TIFF scan, or
// a PDF. LoadDocument sniffs the format from the bytes (never the name),
// decodes every page into an 8-bit BGR image, and for a PDF whose text layer
// is usable keeps that text so OCR can be skipped. It enforces the limits of
// OcrConfig (pixels per page, pages per document) so that a hostile or huge
// file is refused with a clear kPermanent error instead of exhausting memory.
// JPEG EXIF orientation is honoured by OpenCV's decoder.
#ifndef NCBOCR_DOCUMENT_H_
#define NCBOCR_DOCUMENT_H_

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ncbocr/config.h"
#include "ncbocr/status.h"

namespace ncbocr {

enum class DocumentFormat { kUnknown, kJpeg, kPng, kTiff, kPdf, kBmp, kWebp };

const char* DocumentFormatName(DocumentFormat f);

// Recognises a format by its magic bytes.
DocumentFormat SniffFormat(const std::string& head);

struct DocumentPage {
  cv::Mat image;          // 8-bit grayscale; empty when text_layer is used instead
  std::string text_layer; // a PDF page's own text (physical layout), if usable
  bool has_text_layer = false;
};

struct Document {
  std::string file;       // the path it was read from (for messages)
  DocumentFormat format = DocumentFormat::kUnknown;
  std::vector<DocumentPage> pages;
};

// An opened receipt file whose pages are decoded one at a time, so memory
// holds one page however many the file has. Open checks everything that can
// be checked without decoding pixels: the format, the page count against
// max_pages, and each image page's size from its header against max_pixels
// (a small file may claim 20000x20000 pixels: a decompression bomb). A
// truncated JPEG (no end-of-image marker) is refused rather than read with
// its missing part grey, because a receipt without its bottom lines has lost
// its total.
class DocumentReader {
 public:
  // Errors are kPermanent and name the file: unknown format, corrupt data,
  // encrypted PDF, a page over max_pixels, more than max_pages pages. A
  // missing or unreadable file is kIo.
  static Result<DocumentReader> Open(const std::filesystem::path& path, const OcrConfig& config);

  const std::string& file() const { return file_; }
  DocumentFormat format() const { return format_; }
  int page_count() const { return pages_; }
  // Pixels of every page together, from the headers (a PDF page at
  // ocr.pdf_dpi, text layer or not; a BMP or WebP page, whose header is not
  // read, counts 0 until decoded). Open refuses a document over
  // ocr.max_claim_pixels, and any page whose PageMemoryEstimateMb is over
  // ocr.worker_memory_mb.
  long long total_pixels() const { return total_pixels_; }
  // Decodes (or renders) page `index`, 0-based. kPermanent if it cannot.
  Result<DocumentPage> ReadPage(int index);

 private:
  struct Pdf;  // the open poppler document
  std::string file_;
  DocumentFormat format_ = DocumentFormat::kUnknown;
  int pages_ = 0;
  long long total_pixels_ = 0;
  OcrConfig config_;
  std::shared_ptr<Pdf> pdf_;
};

// About how many MB one worker needs to read a page of `pixels` pixels that
// decodes to `channels` bytes a pixel: the decoded page, preprocessing's
// working copies and Tesseract on the preprocessed page (which
// preprocessing caps at 24 MP). Measured with /usr/bin/time -v on blank and
// noisy pages of 4 to 60 MP; see the README ("Limits and budgets").
double PageMemoryEstimateMb(long long pixels, int channels);

// Reads and decodes every page of path (DocumentReader, all pages at once:
// for tools and tests; the OCR stage reads page by page).
Result<Document> LoadDocument(const std::filesystem::path& path, const OcrConfig& config);

// True if text from a PDF text layer holds enough words to stand in for OCR
// (scanned PDFs often carry an empty or junk layer).
bool IsUsableTextLayer(const std::string& text);

}  // namespace ncbocr

#endif  // NCBOCR_DOCUMENT_H_
