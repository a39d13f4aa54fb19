// EmailInfo: what a claim keeps of the email it came from (email.json).
//
// Fetch writes it; extraction reads it for the member fields (member id,
// name, policy number) and for values the member typed (total, date,
// provider) that corroborate or contradict the receipt. It holds personal
// data: it lives only in the claim directory (0600) and is never logged.
#ifndef NCBOCR_EMAIL_H_
#define NCBOCR_EMAIL_H_

#include <string>

#include <nlohmann/json.hpp>

#include "ncbocr/status.h"

namespace ncbocr {

struct EmailInfo {
  std::string from;        // "Name <addr>" as sent
  std::string from_address;
  std::string to;
  std::string subject;
  std::string date;        // Date header as sent
  std::string message_id;
  std::string text;        // body as plain text (from text/plain, else HTML)

  nlohmann::json ToJson() const;
  static Result<EmailInfo> FromJson(const nlohmann::json& j);
};

}  // namespace ncbocr

#endif  // NCBOCR_EMAIL_H_
