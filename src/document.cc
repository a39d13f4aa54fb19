#include "ncbocr/document.h"

#include <cctype>
#include <fstream>
#include <memory>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

namespace ncbocr {

namespace {

Status PageTooLarge(const std::string& file, int page, long long pixels, long long max) {
  return Status::Permanent(file + ": page " + std::to_string(page + 1) + " has " +
                           std::to_string(pixels) + " pixels, more than the limit of " +
                           std::to_string(max) + " (ocr.max_pixels)");
}

Status TooManyPages(const std::string& file, int pages, int max) {
  return Status::Permanent(file + ": " + std::to_string(pages) +
                           " pages, more than the limit of " + std::to_string(max) +
                           " (ocr.max_pages)");
}

// Brings any decoded image to 8-bit BGR so later steps see one layout.
cv::Mat ToBgr8(const cv::Mat& in) {
  cv::Mat m = in;
  if (m.depth() != CV_8U) {
    double scale = m.depth() == CV_16U ? 1.0 / 257.0 : 1.0;
    m.convertTo(m, CV_8U, scale);
  }
  cv::Mat out;
  switch (m.channels()) {
    case 1: cv::cvtColor(m, out, cv::COLOR_GRAY2BGR); break;
    case 4: cv::cvtColor(m, out, cv::COLOR_BGRA2BGR); break;
    default: out = m;
  }
  return out;
}

Result<Document> LoadImages(const std::string& file, DocumentFormat format,
                            const OcrConfig& config) {
  Document doc;
  doc.file = file;
  doc.format = format;
  std::vector<cv::Mat> mats;
  try {
    if (format == DocumentFormat::kTiff) {
      if (!cv::imreadmulti(file, mats, cv::IMREAD_ANYCOLOR)) mats.clear();
    } else {
      // IMREAD_COLOR applies the EXIF orientation tag (photos from phones).
      cv::Mat m = cv::imread(file, cv::IMREAD_COLOR);
      if (!m.empty()) mats.push_back(m);
    }
  } catch (const cv::Exception& e) {
    return Status::Permanent(file + ": cannot decode " + DocumentFormatName(format) +
                             " image (" + e.err + ")");
  }
  if (mats.empty()) {
    return Status::Permanent(file + ": cannot decode " + DocumentFormatName(format) +
                             " image (corrupt or truncated)");
  }
  if (static_cast<int>(mats.size()) > config.max_pages) {
    return TooManyPages(file, static_cast<int>(mats.size()), config.max_pages);
  }
  for (size_t i = 0; i < mats.size(); ++i) {
    long long px = static_cast<long long>(mats[i].cols) * mats[i].rows;
    if (px > config.max_pixels) return PageTooLarge(file, static_cast<int>(i), px, config.max_pixels);
    DocumentPage p;
    p.image = ToBgr8(mats[i]);
    doc.pages.push_back(std::move(p));
  }
  return doc;
}

cv::Mat PopplerImageToMat(const poppler::image& img) {
  const int w = img.width(), h = img.height();
  switch (img.format()) {
    case poppler::image::format_argb32: {
      cv::Mat bgra(h, w, CV_8UC4, const_cast<char*>(img.const_data()), img.bytes_per_row());
      cv::Mat out;
      cv::cvtColor(bgra, out, cv::COLOR_BGRA2BGR);
      return out;
    }
    case poppler::image::format_rgb24: {
      cv::Mat rgb(h, w, CV_8UC3, const_cast<char*>(img.const_data()), img.bytes_per_row());
      cv::Mat out;
      cv::cvtColor(rgb, out, cv::COLOR_RGB2BGR);
      return out;
    }
    case poppler::image::format_gray8: {
      cv::Mat g(h, w, CV_8UC1, const_cast<char*>(img.const_data()), img.bytes_per_row());
      cv::Mat out;
      cv::cvtColor(g, out, cv::COLOR_GRAY2BGR);
      return out;
    }
    default:
      return {};
  }
}

Result<Document> LoadPdf(const std::string& file, const OcrConfig& config) {
  std::unique_ptr<poppler::document> pdf(poppler::document::load_from_file(file));
  if (!pdf) return Status::Permanent(file + ": cannot open PDF (corrupt or not a PDF)");
  if (pdf->is_locked()) return Status::Permanent(file + ": PDF is encrypted (password needed)");
  const int n = pdf->pages();
  if (n <= 0) return Status::Permanent(file + ": PDF has no pages");
  if (n > config.max_pages) return TooManyPages(file, n, config.max_pages);

  Document doc;
  doc.file = file;
  doc.format = DocumentFormat::kPdf;
  poppler::page_renderer renderer;
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  renderer.set_image_format(poppler::image::format_argb32);
  const double dpi = config.pdf_dpi > 0 ? config.pdf_dpi : 300;
  for (int i = 0; i < n; ++i) {
    std::unique_ptr<poppler::page> page(pdf->create_page(i));
    if (!page) return Status::Permanent(file + ": cannot read PDF page " + std::to_string(i + 1));
    DocumentPage p;
    poppler::byte_array bytes = page->text(poppler::rectf(), poppler::page::physical_layout).to_utf8();
    std::string text(bytes.begin(), bytes.end());
    if (IsUsableTextLayer(text)) {
      p.text_layer = std::move(text);
      p.has_text_layer = true;
      doc.pages.push_back(std::move(p));
      continue;
    }
    // Scanned page: render it at a resolution fit for OCR, refusing what
    // would exceed the pixel limit before allocating it.
    poppler::rectf r = page->page_rect();
    long long px = static_cast<long long>(r.width() * dpi / 72.0) *
                   static_cast<long long>(r.height() * dpi / 72.0);
    if (px > config.max_pixels) return PageTooLarge(file, i, px, config.max_pixels);
    poppler::image img = renderer.render_page(page.get(), dpi, dpi);
    if (!img.is_valid()) {
      return Status::Permanent(file + ": cannot render PDF page " + std::to_string(i + 1));
    }
    p.image = PopplerImageToMat(img);
    if (p.image.empty()) {
      return Status::Permanent(file + ": unsupported PDF page image format on page " +
                               std::to_string(i + 1));
    }
    doc.pages.push_back(std::move(p));
  }
  return doc;
}

}  // namespace

const char* DocumentFormatName(DocumentFormat f) {
  switch (f) {
    case DocumentFormat::kJpeg: return "JPEG";
    case DocumentFormat::kPng: return "PNG";
    case DocumentFormat::kTiff: return "TIFF";
    case DocumentFormat::kPdf: return "PDF";
    case DocumentFormat::kBmp: return "BMP";
    case DocumentFormat::kWebp: return "WebP";
    case DocumentFormat::kUnknown: break;
  }
  return "unknown";
}

DocumentFormat SniffFormat(const std::string& h) {
  auto starts = [&](const char* magic, size_t n) { return h.size() >= n && h.compare(0, n, magic, n) == 0; };
  if (starts("\xFF\xD8\xFF", 3)) return DocumentFormat::kJpeg;
  if (starts("\x89PNG\r\n\x1a\n", 8)) return DocumentFormat::kPng;
  if (starts("II*\0", 4) || starts("MM\0*", 4)) return DocumentFormat::kTiff;
  if (starts("BM", 2)) return DocumentFormat::kBmp;
  if (starts("RIFF", 4) && h.size() >= 12 && h.compare(8, 4, "WEBP") == 0) return DocumentFormat::kWebp;
  // "%PDF" may follow a little junk (some mailers prepend bytes); the spec
  // allows it within the first 1024 bytes.
  size_t pos = h.find("%PDF-");
  if (pos != std::string::npos && pos < 1024) return DocumentFormat::kPdf;
  return DocumentFormat::kUnknown;
}

bool IsUsableTextLayer(const std::string& text) {
  int alnum = 0, words = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    bool a = std::isalnum(c) != 0;
    alnum += a;
    if (a && !in_word) ++words;
    in_word = a;
  }
  return alnum >= 20 && words >= 4;
}

Result<Document> LoadDocument(const std::filesystem::path& path, const OcrConfig& config) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io(file + ": cannot open for reading");
  std::string head(1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.empty()) return Status::Permanent(file + ": file is empty");
  DocumentFormat f = SniffFormat(head);
  if (f == DocumentFormat::kUnknown) {
    return Status::Permanent(file + ": not a supported receipt format (JPEG, PNG, TIFF, PDF)");
  }
  if (f == DocumentFormat::kPdf) return LoadPdf(file, config);
  return LoadImages(file, f, config);
}

}  // namespace ncbocr
