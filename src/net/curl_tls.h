// Private to the libcurl users of the core (http.cc, imap_source.cc): how a
// configured CA file is trusted, so HTTP, IMAP and any later protocol treat
// ncb.ca_file and imap.ca_file the same way.
//
// The CA file is added to the system bundle libcurl already loaded, not put
// in its place (CURLOPT_CAINFO would replace it), so a private CA for one
// service never breaks verification of public ones, and a server signed by
// a public CA keeps working when a ca_file is set.
#ifndef NCBOCR_SRC_CURL_TLS_H_
#define NCBOCR_SRC_CURL_TLS_H_

#include <curl/curl.h>

#include <string>

namespace ncbocr {

// Turns on peer and host verification and trusts *ca_file (if not empty) in
// addition to the system CAs. REQUIRES: ca_file outlives every transfer on
// handle (libcurl calls back with the pointer during the TLS handshake).
void SetCurlTls(CURL* handle, const std::string* ca_file);

}  // namespace ncbocr

#endif  // NCBOCR_SRC_CURL_TLS_H_
