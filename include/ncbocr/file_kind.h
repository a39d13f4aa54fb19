// File kinds by their bytes: what a file is (JPEG, PNG, TIFF, PDF) from its
// magic numbers, and an image's size from its header, without decoding.
// Base layer: the mail sources judge attachments with it and the OCR
// decoder budgets pages with it. The declared type and the file name are
// never trusted.
#ifndef NCBOCR_FILE_KIND_H_
#define NCBOCR_FILE_KIND_H_

#include <optional>
#include <string_view>

namespace ncbocr {

enum class FileKind { kUnknown, kJpeg, kPng, kTiff, kPdf };

// The kind the bytes are, by their magic numbers.
FileKind SniffFileKind(std::string_view bytes);
// "image/jpeg", "image/png", "image/tiff", "application/pdf", "application/octet-stream".
const char* MimeTypeFor(FileKind kind);
// "jpg", "png", "tif", "pdf", "bin".
const char* ExtensionFor(FileKind kind);
inline bool IsImage(FileKind k) {
  return k == FileKind::kJpeg || k == FileKind::kPng || k == FileKind::kTiff;
}

struct ImageSize {
  int width = 0;
  int height = 0;
};
// Width and height from the image header (JPEG SOFn, PNG IHDR, TIFF first
// IFD) without decoding pixels; nullopt if the header cannot be read.
std::optional<ImageSize> ReadImageSize(std::string_view bytes, FileKind kind);

}  // namespace ncbocr

#endif  // NCBOCR_FILE_KIND_H_
