// NCB over HTTPS: the NcbClient that speaks ../shared/ncb-api.md, and the
// watch that notices when NCB stays down.
//
// NcbHttpClient sends one claim per call with the claim's stable
// Idempotency-Key and a fresh X-Request-ID per attempt. It does not retry
// 5xx or timeouts itself: the submit stage defers the claim in the spool,
// which survives restarts. The one exception is a connection reset or an
// empty reply (the answer was lost, maybe after NCB committed): that is
// retried once at once with the same key, which NCB turns into a replay.
//
// Noticing that NCB stays down is the submit stage's business
// (submit_stage.h: NcbOutageWatch), so this client knows nothing of the spool.
#ifndef NCBOCR_NCB_HTTP_H_
#define NCBOCR_NCB_HTTP_H_

#include <memory>
#include <optional>
#include <string>

#include "ncbocr/config.h"
#include "ncbocr/http.h"
#include "ncbocr/log.h"
#include "ncbocr/ncb.h"

namespace ncbocr {

// The API key: from ncb.api_key_file (which must be 0600) if set, else
// ncb.api_key (NCB_API_KEY). kConfig if neither, kCredentials if the file is
// unsafe. Never logged.
Result<std::string> LoadNcbApiKey(const NcbConfig& config);

// Reads one HTTP answer of NCB into an NcbResponse: claim_reference,
// error_code, message (+ details), retry_after (the larger of the header and
// the body field). A non-JSON body (a proxy's error page) leaves them empty.
NcbResponse ParseNcbResponse(const HttpResponse& r);

class NcbHttpClient : public NcbClient {
 public:
  // base_url without the trailing slash: https://ncb.internal.example/api/v1
  NcbHttpClient(std::string base_url, std::string api_key, std::unique_ptr<HttpClient> http, Logger log);
  NcbResponse Submit(const std::string& body, const std::string& idempotency_key) override;
  // GET {base}/health with the key: ok, kCredentials (401/403), kConfig (TLS
  // not trusted) or kUnavailable.
  Status Health() override;

 private:
  std::string base_url_;
  std::string api_key_;
  std::unique_ptr<HttpClient> http_;
  Logger log_;
};

// The HTTP client for config (https://, or http:// to loopback), with the
// key loaded and the CA file and timeouts applied.
Result<std::unique_ptr<NcbClient>> MakeNcbHttpClient(const NcbConfig& config, Logger log);

}  // namespace ncbocr

#endif  // NCBOCR_NCB_HTTP_H_
