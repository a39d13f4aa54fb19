// Document (see document.h): receipt files checked, then decoded page by page.
#include "ncbocr/document.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

#include "ncbocr/file_kind.h"

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

// Brings any decoded image to 8-bit grayscale, the one layout every later
// step works on: OCR needs no colour, and a 35-megapixel phone photo is
// 35 MB in gray against 105 MB in colour.
cv::Mat ToGray8(const cv::Mat& in) {
  cv::Mat m = in;
  if (m.depth() != CV_8U) {
    double scale = m.depth() == CV_16U ? 1.0 / 257.0 : 1.0;
    m.convertTo(m, CV_8U, scale);
  }
  cv::Mat out;
  switch (m.channels()) {
    case 3: cv::cvtColor(m, out, cv::COLOR_BGR2GRAY); break;
    case 4: cv::cvtColor(m, out, cv::COLOR_BGRA2GRAY); break;
    default: out = m;
  }
  return out;
}

Status Corrupt(const std::string& file, const std::string& what) {
  return Status::Permanent(file + ": " + what + " (corrupt or truncated)");
}

uint32_t Get16(std::string_view b, size_t i, bool le) {
  uint32_t x = static_cast<unsigned char>(b[i]), y = static_cast<unsigned char>(b[i + 1]);
  return le ? (x | (y << 8)) : ((x << 8) | y);
}
uint32_t Get32(std::string_view b, size_t i, bool le) {
  return le ? (Get16(b, i, le) | (Get16(b, i + 2, le) << 16))
            : ((Get16(b, i, le) << 16) | Get16(b, i + 2, le));
}

// The size of every page of a TIFF, from its chain of image directories,
// without decoding any. Refuses a chain that loops (libtiff would stop at
// the loop and read the pages before it, hiding the damage), directories
// past the end of the file, and more than max_pages pages.
Result<std::vector<ImageSize>> TiffPageSizes(std::string_view b, const std::string& file,
                                             int max_pages, std::vector<int>* channels = nullptr) {
  if (b.size() < 8) return Corrupt(file, "TIFF header cut short");
  const bool le = b[0] == 'I';
  std::vector<ImageSize> pages;
  std::set<uint32_t> seen;
  for (uint32_t off = Get32(b, 4, le); off != 0;) {
    if (!seen.insert(off).second) return Corrupt(file, "TIFF directory chain loops");
    if (static_cast<size_t>(off) + 2 > b.size()) return Corrupt(file, "TIFF directory past the end");
    const uint32_t n = Get16(b, off, le);
    const size_t end = static_cast<size_t>(off) + 2 + 12 * static_cast<size_t>(n) + 4;
    if (n == 0 || end > b.size()) return Corrupt(file, "TIFF directory past the end");
    long long width = 0, height = 0;
    int samples = 1;
    for (uint32_t k = 0; k < n; ++k) {
      const size_t e = off + 2 + 12 * static_cast<size_t>(k);
      const uint32_t tag = Get16(b, e, le), type = Get16(b, e + 2, le);
      const uint32_t value = type == 3 ? Get16(b, e + 8, le) : Get32(b, e + 8, le);
      if (tag == 256) width = value;
      if (tag == 257) height = value;
      if (tag == 277) samples = static_cast<int>(std::clamp<uint32_t>(value, 1, 4));
    }
    if (width <= 0 || height <= 0) return Corrupt(file, "TIFF page without a size");
    pages.push_back(ImageSize{static_cast<int>(std::min<long long>(width, INT32_MAX)),
                              static_cast<int>(std::min<long long>(height, INT32_MAX))});
    if (channels) channels->push_back(samples);
    if (static_cast<int>(pages.size()) > max_pages) {
      return Status::Permanent(file + ": more than " + std::to_string(max_pages) +
                               " pages, the limit (ocr.max_pages)");
    }
    off = Get32(b, end - 4, le);
  }
  if (pages.empty()) return Corrupt(file, "TIFF without pages");
  return pages;
}

// Where a JPEG's entropy-coded data starts (just after the first top-level
// start-of-scan segment); 0 if the marker walk fails first.
size_t JpegScanStart(std::string_view b) {
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return 0;
    const unsigned char marker = static_cast<unsigned char>(b[i + 1]);
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      i += 2;
      continue;
    }
    const size_t len = Get16(b, i + 2, false);
    if (marker == 0xDA) return i + 2 + len;
    if (marker == 0xD9 || len < 2) return 0;
    i += 2 + len;
  }
  return 0;
}

// What a page will cost to read, known before it is decoded.
struct PageCost {
  long long pixels = 0;
  int channels = 1;  // bytes a pixel as decoded
};

// The budgets over a document's pages (ocr.max_claim_pixels,
// ocr.worker_memory_mb), checked before any page is decoded. Sets *total.
Status CheckBudgets(const std::string& file, const std::vector<PageCost>& pages,
                    const OcrConfig& config, long long* total) {
  long long sum = 0;
  for (const auto& p : pages) sum += p.pixels;
  *total = sum;
  if (sum > config.max_claim_pixels) {
    return Status::Permanent(file + ": its " + std::to_string(pages.size()) + " pages hold " +
                             std::to_string(sum) + " pixels together, more than the limit of " +
                             std::to_string(config.max_claim_pixels) + " (ocr.max_claim_pixels)");
  }
  for (size_t i = 0; i < pages.size(); ++i) {
    const double mb = PageMemoryEstimateMb(pages[i].pixels, pages[i].channels);
    if (mb > config.worker_memory_mb) {
      return Status::Permanent(
          file + ": page " + std::to_string(i + 1) + " (" + std::to_string(pages[i].pixels) +
          " pixels) would need about " + std::to_string(static_cast<long long>(mb)) +
          " MB to read, more than the " + std::to_string(config.worker_memory_mb) +
          " MB a worker may use (ocr.worker_memory_mb)");
    }
  }
  return Status::Ok();
}

// Checks an image file's header before any pixel is decoded: page count and
// each page's size. Returns what each page will cost.
Result<std::vector<PageCost>> CheckImageHeader(const std::string& file, std::string_view bytes,
                                               DocumentFormat format, const OcrConfig& config) {
  std::vector<ImageSize> sizes;
  std::vector<int> channels;
  if (format == DocumentFormat::kTiff) {
    auto pages = TiffPageSizes(bytes, file, config.max_pages, &channels);
    if (!pages.ok()) return pages.status();
    sizes = std::move(pages).value();
  } else if (format == DocumentFormat::kJpeg || format == DocumentFormat::kPng) {
    auto size = ReadImageSize(bytes, format == DocumentFormat::kJpeg ? FileKind::kJpeg : FileKind::kPng);
    if (!size) return Corrupt(file, std::string("unreadable ") + DocumentFormatName(format) + " header");
    sizes.push_back(*size);
  } else {
    sizes.push_back(ImageSize{});  // BMP, WebP: OpenCV's own limits, checked after decoding
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    const long long px = static_cast<long long>(sizes[i].width) * sizes[i].height;
    if (px > config.max_pixels) return PageTooLarge(file, static_cast<int>(i), px, config.max_pixels);
  }
  if (format == DocumentFormat::kJpeg) {
    const size_t scan = JpegScanStart(bytes);
    if (scan == 0) return Corrupt(file, "JPEG without image data");
    if (bytes.find("\xFF\xD9", scan) == std::string_view::npos) {
      return Corrupt(file, "JPEG truncated: no end-of-image marker");
    }
  }
  // JPEG and PNG are decoded straight to gray (DecodeImagePage); a TIFF page
  // as it is stored.
  std::vector<PageCost> costs;
  for (size_t i = 0; i < sizes.size(); ++i) {
    costs.push_back({static_cast<long long>(sizes[i].width) * sizes[i].height,
                     i < channels.size() ? channels[i] : 1});
  }
  return costs;
}

Result<DocumentPage> DecodeImagePage(const std::string& file, DocumentFormat format, int index,
                                     const OcrConfig& config) {
  std::vector<cv::Mat> mats;
  try {
    if (format == DocumentFormat::kTiff) {
      if (!cv::imreadmulti(file, mats, index, 1, cv::IMREAD_ANYCOLOR)) mats.clear();
    } else {
      // Decoded straight to gray: libjpeg then skips the colour conversion
      // (about 4x faster on large photos than colour plus cvtColor, same
      // pixels). The EXIF orientation tag (phone photos) is applied.
      cv::Mat m = cv::imread(file, cv::IMREAD_GRAYSCALE);
      if (!m.empty()) mats.push_back(m);
    }
  } catch (const cv::Exception& e) {
    return Status::Permanent(file + ": cannot decode " + DocumentFormatName(format) +
                             " image (" + e.err + ")");
  }
  if (mats.empty() || mats[0].empty()) {
    return Status::Permanent(file + ": cannot decode " + DocumentFormatName(format) +
                             " image, page " + std::to_string(index + 1) + " (corrupt or truncated)");
  }
  const long long px = static_cast<long long>(mats[0].cols) * mats[0].rows;
  if (px > config.max_pixels) return PageTooLarge(file, index, px, config.max_pixels);
  DocumentPage p;
  p.image = ToGray8(mats[0]);
  return p;
}

cv::Mat PopplerImageToMat(const poppler::image& img) {
  const int w = img.width(), h = img.height();
  cv::Mat out;
  switch (img.format()) {
    case poppler::image::format_argb32: {
      cv::Mat bgra(h, w, CV_8UC4, const_cast<char*>(img.const_data()), img.bytes_per_row());
      cv::cvtColor(bgra, out, cv::COLOR_BGRA2GRAY);
      return out;
    }
    case poppler::image::format_rgb24: {
      cv::Mat rgb(h, w, CV_8UC3, const_cast<char*>(img.const_data()), img.bytes_per_row());
      cv::cvtColor(rgb, out, cv::COLOR_RGB2GRAY);
      return out;
    }
    case poppler::image::format_gray8: {
      cv::Mat g(h, w, CV_8UC1, const_cast<char*>(img.const_data()), img.bytes_per_row());
      return g.clone();  // the poppler image owns the pixels
    }
    default:
      return {};
  }
}

// Poppler reports syntax errors on stderr, several lines per bad file and
// without the claim they belong to; the Status returned says what failed.
void QuietPoppler(const std::string&, void*) {}

Result<DocumentPage> RenderPdfPage(const std::string& file, poppler::document& pdf,
                                   poppler::page_renderer& renderer, int i, const OcrConfig& config) {
  std::unique_ptr<poppler::page> page(pdf.create_page(i));
  if (!page) return Status::Permanent(file + ": cannot read PDF page " + std::to_string(i + 1));
  DocumentPage p;
  poppler::byte_array bytes = page->text(poppler::rectf(), poppler::page::physical_layout).to_utf8();
  std::string text(bytes.begin(), bytes.end());
  if (IsUsableTextLayer(text)) {
    p.text_layer = std::move(text);
    p.has_text_layer = true;
    return p;
  }
  // Scanned page: render it at a resolution fit for OCR, refusing what would
  // exceed the pixel limit before allocating it. In floating point: a
  // hostile MediaBox may be 1e300 wide, which no integer holds.
  const double dpi = config.pdf_dpi > 0 ? config.pdf_dpi : 300;
  poppler::rectf r = page->page_rect();
  const double w = r.width() * dpi / 72.0, h = r.height() * dpi / 72.0;
  if (!std::isfinite(w) || !std::isfinite(h) || w < 1 || h < 1) {
    return Status::Permanent(file + ": PDF page " + std::to_string(i + 1) + " has no usable size");
  }
  if (w * h > static_cast<double>(config.max_pixels)) {
    const long long px = w * h < 9e18 ? static_cast<long long>(w * h) : INT64_MAX;
    return PageTooLarge(file, i, px, config.max_pixels);
  }
  poppler::image img = renderer.render_page(page.get(), dpi, dpi);
  if (!img.is_valid()) {
    return Status::Permanent(file + ": cannot render PDF page " + std::to_string(i + 1));
  }
  p.image = PopplerImageToMat(img);
  if (p.image.empty()) {
    return Status::Permanent(file + ": unsupported PDF page image format on page " +
                             std::to_string(i + 1));
  }
  return p;
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

double PageMemoryEstimateMb(long long pixels, int channels) {
  // Measured (README, "Limits and budgets"): Tesseract's engine and its
  // reading of a page preprocessed to at most 24 MP take up to kEngineMb;
  // the decoded page and preprocessing's working copies (gray, blurred,
  // binarised, scaled) about kCopies bytes a pixel more.
  constexpr double kEngineMb = 350, kCopies = 4;
  if (pixels <= 0) return 0;
  return kEngineMb +
         (std::max(1, channels) + kCopies) * static_cast<double>(pixels) / (1024.0 * 1024.0);
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

struct DocumentReader::Pdf {
  std::unique_ptr<poppler::document> doc;
  poppler::page_renderer renderer;
};

Result<DocumentReader> DocumentReader::Open(const std::filesystem::path& path,
                                            const OcrConfig& config) {
  DocumentReader r;
  r.file_ = path.string();
  r.config_ = config;
  const std::string& file = r.file_;
  std::error_code ec;
  std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(st)) {
    return Status::Permanent(file + ": is a directory, not a receipt file");
  }
  if (!ec && !std::filesystem::is_regular_file(st)) {
    return Status::Permanent(file + ": not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io(file + ": cannot open for reading");
  std::string head(1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.empty()) return Status::Permanent(file + ": file is empty");
  r.format_ = SniffFormat(head);
  if (r.format_ == DocumentFormat::kUnknown) {
    return Status::Permanent(file + ": not a supported receipt format (JPEG, PNG, TIFF, PDF)");
  }
  if (r.format_ != DocumentFormat::kPdf) {
    // Receipts are at most fetch.max_attachment_bytes, so reading the whole
    // file to check its header is cheap next to decoding it.
    std::string bytes = head;
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return Status::Io(file + ": cannot read");
    auto pages = CheckImageHeader(file, bytes, r.format_, config);
    if (!pages.ok()) return pages.status();
    r.pages_ = static_cast<int>(pages->size());
    Status b = CheckBudgets(file, *pages, config, &r.total_pixels_);
    if (!b.ok()) return b;
    return r;
  }
  static std::once_flag quiet;
  std::call_once(quiet, [] { poppler::set_debug_error_function(&QuietPoppler, nullptr); });
  r.pdf_ = std::make_shared<Pdf>();
  r.pdf_->doc.reset(poppler::document::load_from_file(file));
  if (!r.pdf_->doc) return Status::Permanent(file + ": cannot open PDF (corrupt or not a PDF)");
  if (r.pdf_->doc->is_locked()) return Status::Permanent(file + ": PDF is encrypted (password needed)");
  r.pages_ = r.pdf_->doc->pages();
  if (r.pages_ <= 0) return Status::Permanent(file + ": PDF has no pages");
  if (r.pages_ > config.max_pages) return TooManyPages(file, r.pages_, config.max_pages);
  // Every page at the resolution it would be rendered at, from its box: a
  // page with a usable text layer is never rendered but counts all the same
  // (telling needs its text, and a budget must be known before the work).
  std::vector<PageCost> costs;
  const double dpi = config.pdf_dpi > 0 ? config.pdf_dpi : 300;
  for (int i = 0; i < r.pages_; ++i) {
    std::unique_ptr<poppler::page> page(r.pdf_->doc->create_page(i));
    PageCost c;
    if (page) {
      poppler::rectf box = page->page_rect();
      const double px = (box.width() * dpi / 72.0) * (box.height() * dpi / 72.0);
      // An absurd box is refused by RenderPdfPage with its own reason.
      if (std::isfinite(px) && px > 0 && px <= static_cast<double>(config.max_pixels)) {
        c.pixels = static_cast<long long>(px);
      }
    }
    costs.push_back(c);
  }
  Status b = CheckBudgets(file, costs, config, &r.total_pixels_);
  if (!b.ok()) return b;
  r.pdf_->renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  r.pdf_->renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  r.pdf_->renderer.set_image_format(poppler::image::format_gray8);  // OCR reads gray
  return r;
}

Result<DocumentPage> DocumentReader::ReadPage(int index) {
  if (index < 0 || index >= pages_) {
    return Status::Internal(file_ + ": no page " + std::to_string(index + 1));
  }
  if (pdf_) return RenderPdfPage(file_, *pdf_->doc, pdf_->renderer, index, config_);
  return DecodeImagePage(file_, format_, index, config_);
}

Result<Document> LoadDocument(const std::filesystem::path& path, const OcrConfig& config) {
  auto reader = DocumentReader::Open(path, config);
  if (!reader.ok()) return reader.status();
  Document doc;
  doc.file = reader->file();
  doc.format = reader->format();
  for (int i = 0; i < reader->page_count(); ++i) {
    auto page = reader->ReadPage(i);
    if (!page.ok()) return page.status();
    doc.pages.push_back(std::move(page).value());
  }
  return doc;
}

}  // namespace ncbocr
