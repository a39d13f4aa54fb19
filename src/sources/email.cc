#include "ncbocr/email.h"

namespace ncbocr {

nlohmann::json EmailInfo::ToJson() const {
  return {{"from", from},       {"from_address", from_address}, {"to", to},
          {"subject", subject}, {"date", date},                 {"message_id", message_id},
          {"text", text}};
}

Result<EmailInfo> EmailInfo::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Permanent("email record is not a JSON object");
  EmailInfo e;
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  e.from = str("from");
  e.from_address = str("from_address");
  e.to = str("to");
  e.subject = str("subject");
  e.date = str("date");
  e.message_id = str("message_id");
  e.text = str("text");
  return e;
}

}  // namespace ncbocr
