// Attachment rules: which parts of an email become claims, and under what name.
//
// A part is a receipt candidate only if its bytes are a JPEG, PNG, TIFF or
// PDF: the declared type and the file name are whatever the sender's mail
// program made up and are never trusted. Images too small to be a receipt
// (logos, signatures, tracking pixels) and parts over the size limit are
// skipped with a reason that names the part by number and type only, so the
// reason can go into the manifest and the log.
//
// File names come from the sender and end up in paths, in NCB and in a clerk's
// browser, so SanitizeFilename reduces them to a safe base name.
#ifndef NCBOCR_ATTACHMENT_H_
#define NCBOCR_ATTACHMENT_H_

#include <optional>
#include <string>
#include <string_view>

#include "ncbocr/config.h"
#include "ncbocr/file_kind.h"
#include "ncbocr/mime.h"

namespace ncbocr {

// A safe file name: the base name only (after either slash), no control,
// bidi or zero-width characters, no leading dots or "..", no characters
// that mean something to a shell or to Windows, valid UTF-8, at most
// max_bytes long, and ending in the extension of `kind`. An empty result
// becomes "attachment-<index+1>.<ext>".
std::string SanitizeFilename(std::string_view name, FileKind kind, int index,
                             size_t max_bytes = 100);

struct AttachmentDecision {
  bool accept = false;
  FileKind kind = FileKind::kUnknown;
  std::string filename;  // sanitised, when accepted
  std::string reason;    // why skipped: "part 2 (image/png, 812 bytes): image too small"
};

// Applies the rules above to one candidate part.
AttachmentDecision ClassifyAttachment(const MimePart& part, const FetchConfig& config);

}  // namespace ncbocr

#endif  // NCBOCR_ATTACHMENT_H_
