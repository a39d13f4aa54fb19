// Preprocess: OpenCV steps that turn a decoded page into what Tesseract reads
// best.
//
// Tesseract's LSTM recogniser is most accurate when capital letters are about
// 30 pixels tall, the text lines are level and the background is even. Phone
// photos and faded thermal receipts rarely are. Each step here is optional and
// driven by PreprocessOptions, so the defaults can be (and were) chosen by
// measuring OCR accuracy on the dev receipts; `ncbocr ocr --preprocess SPEC`
// lets anyone repeat the measurement. Page rotation by multiples of 90 degrees
// needs the OCR engine (orientation detection) and lives in ocr.cc.
#ifndef NCBOCR_PREPROCESS_H_
#define NCBOCR_PREPROCESS_H_

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ncbocr/status.h"

namespace ncbocr {

enum class Binarize { kNone, kOtsu, kAdaptive };
enum class Denoise { kNone, kMedian, kBilateral };

struct PreprocessOptions {
  // Scale so the median character height becomes this many pixels; 0: no
  // scaling. Scale factors are clamped to [min_scale, max_scale].
  double target_text_height = 0;
  double min_scale = 0.5;
  double max_scale = 4.0;
  Denoise denoise = Denoise::kNone;
  Binarize binarize = Binarize::kNone;
  bool deskew = false;           // level lines tilted up to max_skew degrees
  double max_skew = 8.0;
  bool rotate = true;            // detect pages turned by 90/180/270 (ocr.cc)
  // Where, not what: neither is part of the spec, because neither changes
  // the text of an ordinary receipt. use_gpu runs the pixel steps on the GPU
  // (gpu.h; same result up to rounding). max_output_pixels caps the scaled
  // page so one worker's Tesseract memory stays bounded (a 16 MP page, the
  // largest of the dev receipts, peaks near 300 MB); a page that would
  // exceed it is scaled less.
  bool use_gpu = false;
  long long max_output_pixels = 24'000'000;
  // Spec form, e.g. "height=30,denoise=none,binarize=otsu,deskew=1,rotate=1".
  std::string ToSpec() const;
};

// The measured defaults (see the table in ocr.cc).
PreprocessOptions DefaultPreprocessOptions();

// Parses a spec: comma-separated key=value pairs over the defaults. Unknown
// keys or values are kUsage errors.
Result<PreprocessOptions> ParsePreprocessSpec(const std::string& spec);

struct PreprocessResult {
  cv::Mat image;          // 8-bit single channel
  double scale = 1.0;     // applied scale factor
  double skew = 0.0;      // degrees the page was turned to level it
  double text_height = 0; // estimated character height before scaling (px)
};

// Grayscale conversion of any 1/3/4-channel 8-bit image.
cv::Mat ToGray(const cv::Mat& image);

// Median height in pixels of character-sized dark blobs; 0 if none found.
double EstimateTextHeight(const cv::Mat& gray);

// The 8-connected components of the nonzero pixels of an 8-bit mask: box
// and pixel count of each, in no particular order.
struct InkBlob {
  int x, y, width, height;
  long long area;
};
std::vector<InkBlob> InkBlobs(const cv::Mat& mask);

// Angle in degrees (counter-clockwise positive) by which the page must be
// rotated to make its text lines horizontal, searched within +-max_degrees.
double EstimateSkew(const cv::Mat& gray, double max_degrees);

// Rotates by an arbitrary angle about the centre, growing the canvas and
// filling with white.
cv::Mat RotateDegrees(const cv::Mat& image, double degrees);

// Rotates clockwise by quarter_turns * 90 degrees (any integer).
cv::Mat RotateQuarterTurns(const cv::Mat& image, int quarter_turns);

// The scale Preprocess applies to a size x page whose text is text_height
// pixels tall (0: unknown): target/text_height clamped to [min_scale,
// max_scale] and to max_output_pixels; 1 when within 5% of 1.
double ChooseScale(double text_height, cv::Size size, const PreprocessOptions& options);

// The interpolation used to resample by scale: area averaging to shrink (no
// aliasing), bicubic to enlarge.
int ResizeInterpolation(double scale);

// The steps after scaling (denoise, deskew, binarise) on an 8-bit gray page.
void FinishPreprocess(cv::Mat& gray, const PreprocessOptions& options, PreprocessResult& result);

// The whole chain; with options.use_gpu on the GPU (gpu.h), falling back to
// the CPU if the GPU fails.
PreprocessResult Preprocess(const cv::Mat& image, const PreprocessOptions& options);

}  // namespace ncbocr

#endif  // NCBOCR_PREPROCESS_H_
