// The Tesseract implementation of OcrEngine.
//
// Page segmentation mode, measured on 50 dev receipts with height=22 (share
// whose true total / date appears in the text):
//   PSM 4 (single column, variable sizes)  total 0.82  date 0.94
//   PSM 6 (one uniform block)              total 0.80  date 0.92
//   PSM 11 (sparse text)                   total 0.68  date 0.92
// PSM 4 keeps a label and its amount on one line, which extraction needs.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string>

#include <leptonica/allheaders.h>
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include "ncbocr/ocr.h"

namespace ncbocr {

namespace {

std::string JoinLanguages(const std::vector<std::string>& langs) {
  std::string s;
  for (const auto& l : langs) {
    if (!s.empty()) s += '+';
    s += l;
  }
  return s.empty() ? "eng" : s;
}

class TesseractEngine : public OcrEngine {
 public:
  TesseractEngine(std::string langs, int psm) : langs_(std::move(langs)), psm_(psm) {}
  ~TesseractEngine() override {
    api_.End();
    if (osd_) osd_->End();
  }

  Status Init(const std::string& datapath) {
    datapath_ = datapath;
    const char* dp = datapath.empty() ? nullptr : datapath.c_str();
    // Tesseract prints warnings (e.g. about resolution) on stderr; they are
    // noise in our logs.
    api_.SetVariable("debug_file", "/dev/null");
    if (api_.Init(dp, langs_.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
      return Status::Config("cannot initialise Tesseract for languages '" + langs_ +
                            "' (is tesseract-ocr-<lang> installed? ocr.languages / ocr.tessdata_dir)");
    }
    api_.SetPageSegMode(static_cast<tesseract::PageSegMode>(psm_));
    return Status::Ok();
  }

  std::string Name() const override {
    return std::string("tesseract ") + tesseract::TessBaseAPI::Version() + " " + langs_ +
           " psm " + std::to_string(psm_);
  }

  Result<OcrText> RecognizeLine(const cv::Mat& gray) override {
    api_.SetPageSegMode(tesseract::PSM_SINGLE_LINE);
    Result<OcrText> r = Recognize(gray);
    api_.SetPageSegMode(static_cast<tesseract::PageSegMode>(psm_));
    return r;
  }

  Result<OcrText> Recognize(const cv::Mat& gray) override {
    if (gray.empty() || gray.type() != CV_8UC1) return Status::Internal("Recognize needs an 8-bit gray image");
    cv::Mat img = gray.isContinuous() ? gray : gray.clone();
    api_.SetImage(img.data, img.cols, img.rows, 1, static_cast<int>(img.step));
    // Preprocessing scales text to a fixed pixel height, so the nominal
    // resolution only silences Tesseract's guess.
    api_.SetSourceResolution(300);
    // Tesseract's progress monitor checks the deadline as it goes and
    // abandons the page once it has passed (ocr.page_timeout).
    tesseract::ETEXT_DESC monitor;
    if (deadline_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        api_.Clear();
        return Status::Permanent("Tesseract timed out");
      }
      monitor.set_deadline_msecs(
          static_cast<int32_t>(std::min<long long>(left.count(), INT32_MAX)));
    }
    int rc = api_.Recognize(deadline_ ? &monitor : nullptr);
    if (deadline_ && monitor.deadline_exceeded()) {
      api_.Clear();
      return Status::Permanent("Tesseract timed out");
    }
    if (rc != 0) {
      api_.Clear();
      return Status::Permanent("Tesseract could not recognise the page");
    }
    OcrText out;
    std::unique_ptr<tesseract::ResultIterator> it(api_.GetIterator());
    double conf_sum = 0;
    int nwords = 0;
    if (it) {
      do {
        if (it->Empty(tesseract::RIL_WORD)) continue;
        if (it->IsAtBeginningOf(tesseract::RIL_TEXTLINE) || out.lines.empty()) {
          OcrLine line;
          int l, t, r, b;
          if (it->BoundingBox(tesseract::RIL_TEXTLINE, &l, &t, &r, &b)) line.box = {l, t, r - l, b - t};
          out.lines.push_back(std::move(line));
        }
        std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_WORD));
        if (!text) continue;
        OcrWord w;
        w.text = text.get();
        w.confidence = it->Confidence(tesseract::RIL_WORD) / 100.0;
        int l, t, r, b;
        if (it->BoundingBox(tesseract::RIL_WORD, &l, &t, &r, &b)) w.box = {l, t, r - l, b - t};
        conf_sum += w.confidence;
        ++nwords;
        out.lines.back().words.push_back(std::move(w));
      } while (it->Next(tesseract::RIL_WORD));
    }
    api_.Clear();
    for (auto& line : out.lines) {
      double s = 0;
      for (const auto& w : line.words) {
        if (!line.text.empty()) line.text += ' ';
        line.text += w.text;
        s += w.confidence;
      }
      line.confidence = line.words.empty() ? 0 : s / line.words.size();
    }
    std::erase_if(out.lines, [](const OcrLine& l) { return l.words.empty(); });
    out.mean_confidence = nwords ? conf_sum / nwords : 0;
    return out;
  }

  std::optional<Orientation> DetectOrientation(const cv::Mat& gray) override {
    // OSD takes no monitor: with the deadline passed it is not started.
    if (deadline_ && std::chrono::steady_clock::now() >= *deadline_) return std::nullopt;
    if (!osd_) {
      // OSD needs its own instance with the "osd" model; made on first use
      // because most receipts never need it.
      osd_ = std::make_unique<tesseract::TessBaseAPI>();
      osd_->SetVariable("debug_file", "/dev/null");
      const char* dp = datapath_.empty() ? nullptr : datapath_.c_str();
      if (osd_->Init(dp, "osd", tesseract::OEM_TESSERACT_ONLY) != 0) {
        osd_failed_ = true;
      }
      osd_->SetPageSegMode(tesseract::PSM_OSD_ONLY);
    }
    if (osd_failed_) return std::nullopt;
    cv::Mat img = gray.isContinuous() ? gray : gray.clone();
    osd_->SetImage(img.data, img.cols, img.rows, 1, static_cast<int>(img.step));
    osd_->SetSourceResolution(300);
    int deg = 0;
    float conf = 0, script_conf = 0;
    const char* script = nullptr;
    bool ok = osd_->DetectOrientationScript(&deg, &conf, &script, &script_conf);
    osd_->Clear();
    if (!ok) return std::nullopt;
    // Tesseract reports the page's orientation in degrees; turning the
    // image clockwise by that angle makes it upright (checked by the test
    // on a page turned 90 degrees clockwise, which reports 270).
    Orientation o;
    o.quarter_turns = ((deg / 90) % 4 + 4) % 4;
    o.confidence = conf;
    return o;
  }

 private:
  tesseract::TessBaseAPI api_;
  std::unique_ptr<tesseract::TessBaseAPI> osd_;
  bool osd_failed_ = false;
  std::string datapath_;
  std::string langs_;
  int psm_;
};

}  // namespace

int DefaultPsm() { return 4; }

Result<std::unique_ptr<OcrEngine>> MakeTesseractEngine(const OcrConfig& config) {
  // OMP_THREAD_LIMIT=1 must be in the environment before libgomp starts,
  // which is before main: the ncbocr binary sees to it (cli/openmp_limit.cc).
  // Leptonica reports recoverable trouble on stderr ("invalid box"); it is
  // noise next to our own log lines.
  setMsgSeverity(L_SEVERITY_NONE);
  int psm = config.psm >= 0 ? config.psm : DefaultPsm();
  if (psm > 13) return Status::Config("ocr.psm must be between 0 and 13");
  auto engine = std::make_unique<TesseractEngine>(JoinLanguages(config.languages), psm);
  Status s = engine->Init(config.tessdata_dir);
  if (!s.ok()) return s;
  return std::unique_ptr<OcrEngine>(std::move(engine));
}

}  // namespace ncbocr
