// NCB: the request body the claims API expects, and the client that sends it.
//
// The mapping from claim fields to NCB's field names comes from configuration
// (ncb.field_map), because NCB's schema has changed before: a schema change is
// a config edit. A dotted NCB name ("amounts.total") builds a nested object.
// NcbClient hides the transport: FileOutboxClient writes each request into a
// local directory (NCB_API_BASE_URL=file:///dir) for deployments and tests
// without an NCB; the HTTP client speaks ../shared/ncb-api.md over TLS.
#ifndef NCBOCR_NCB_H_
#define NCBOCR_NCB_H_

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "ncbocr/claim.h"
#include "ncbocr/config.h"
#include "ncbocr/log.h"
#include "ncbocr/clock.h"
#include "ncbocr/status.h"

namespace ncbocr {

// Builds the request body. kPermanent naming the NCB field when a required one
// (Event date, Claim Amount > 0, Policy Number; Invoice Number unless allowed
// empty) has no value. Money fields are rendered with exactly two decimals.
Result<std::string> BuildNcbBody(const ClaimValues& v, const NcbConfig& config,
                                 const ExtractConfig& extract, TimePoint now);

// The stable Idempotency-Key of a claim: the same on every retry, for ever.
// Made from the receipt's content: the attachment's digest, and for one of
// several receipts in one attachment its page range too (two receipts of
// one PDF are two NCB claims, never a replay of one another).
std::string IdempotencyKey(const Claim& c);

struct NcbResponse {
  int http_status = 0;        // 0: no response (transport error)
  std::string reference;      // claim_reference
  std::string error_code;     // VALIDATION_FAILED, UNAUTHORIZED, ...
  std::string message;        // NCB's message (+ details) or the transport error
  int retry_after = 0;        // seconds, from Retry-After or retry_after
  std::string request_id;     // X-Request-ID of the last attempt
};

class NcbClient {
 public:
  virtual ~NcbClient() = default;
  virtual NcbResponse Submit(const std::string& body, const std::string& idempotency_key) = 0;
  virtual Status Health() = 0;
};

// Local outbox: <dir>/<idempotency-key>.json holds the exact body; a key seen
// before answers 200 with the same reference, as NCB does for a replay.
class FileOutboxClient : public NcbClient {
 public:
  explicit FileOutboxClient(std::string dir) : dir_(std::move(dir)) {}
  NcbResponse Submit(const std::string& body, const std::string& idempotency_key) override;
  Status Health() override;

 private:
  std::string dir_;
};

// The client for config.ncb.base_url: file:// gives the local outbox,
// https:// (or http:// to loopback) the NCB HTTP client of ncb_http.h, which
// logs its requests (no bodies, no key) to log.
Result<std::unique_ptr<NcbClient>> MakeNcbClient(const NcbConfig& config, Logger log = nullptr);

}  // namespace ncbocr

#endif  // NCBOCR_NCB_H_
