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
  cv::Mat image;          // 8-bit BGR; empty when text_layer is used instead
  std::string text_layer; // a PDF page's own text (physical layout), if usable
  bool has_text_layer = false;
};

struct Document {
  std::string file;       // the path it was read from (for messages)
  DocumentFormat format = DocumentFormat::kUnknown;
  std::vector<DocumentPage> pages;
};

// Reads and decodes path. Errors are kPermanent and name the file: unknown
// format, corrupt data, encrypted PDF, a page over max_pixels, more than
// max_pages pages. A missing or unreadable file is kIo.
Result<Document> LoadDocument(const std::filesystem::path& path, const OcrConfig& config);

// True if text from a PDF text layer holds enough words to stand in for OCR
// (scanned PDFs often carry an empty or junk layer).
bool IsUsableTextLayer(const std::string& text);

}  // namespace ncbocr

#endif  // NCBOCR_DOCUMENT_H_
