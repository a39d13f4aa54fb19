// IMAP: a MailSource (fetch.h) over IMAP with libcurl, for fetch.source: imap.
//
// List asks the server for the folder's UIDVALIDITY (STATUS), then runs
// imap.search as a UID SEARCH and the sizes of the hits (UID FETCH
// RFC822.SIZE FLAGS). A message's email id is "UIDVALIDITY:UID": a UID alone
// may be reused after the folder is recreated, the pair never is. Read fetches
// one message by UID (libcurl's UID FETCH BODY[], which sets \Seen: libcurl
// drops the literal of a custom BODY.PEEK[] answer), then clears \Seen again
// if the message was unread, so a message that fails still looks untouched
// to the clerks; a message over fetch.max_message_bytes is refused from its
// listed size before any byte is read. MarkProcessed adds
// imap.processed_keyword (so the default search no longer finds it) and
// \Seen and, with imap.move_to, moves it (UID MOVE, or
// COPY + \Deleted + UID EXPUNGE where the server lacks MOVE). The
// fetch stage calls it only after the message's claims are in the spool; a
// crash in between re-lists the message and the source-key index skips it.
//
// TLS is required (imaps://) except to a loopback host, and verified;
// imap.ca_file names the CA of a private-CA server, trusted in addition to
// the system CAs (as ncb.ca_file is). Proxy environment variables are left
// to libcurl. The password comes from a 0600 file. Mail
// content and addresses are never logged; errors name UIDs only.
#ifndef NCBOCR_IMAP_SOURCE_H_
#define NCBOCR_IMAP_SOURCE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ncbocr/config.h"
#include "ncbocr/mail_source.h"
#include "ncbocr/log.h"
#include "ncbocr/status.h"

namespace ncbocr {

// imap.url taken apart: "imaps://host:993/INBOX" -> base "imaps://host:993",
// mailbox "INBOX" (percent-decoded). kConfig for another scheme, a missing
// host or mailbox, or imap:// to a host that is not loopback.
struct ImapUrl {
  std::string base;     // scheme://host[:port], no trailing slash
  std::string host;
  std::string mailbox;  // decoded; what goes into IMAP commands
  std::string mailbox_path;  // as in the URL (still percent-encoded)
  bool tls = true;
};
Result<ImapUrl> ParseImapUrl(const std::string& url);

// The UIDVALIDITY in an untagged "* STATUS box (UIDVALIDITY n)" or
// "* OK [UIDVALIDITY n]" line; nullopt if none.
std::optional<unsigned long long> ParseUidValidity(const std::string& response);
// The UIDs of "* SEARCH 3 5 7" lines, ascending.
std::vector<unsigned long long> ParseSearchUids(const std::string& response);
// One "* n FETCH (UID u RFC822.SIZE s FLAGS (...))" line, items in any order.
struct ImapFetchItem {
  unsigned long long uid = 0;
  long long size = -1;
  bool seen = false;
};
std::vector<ImapFetchItem> ParseFetchItems(const std::string& response);
// "UIDVALIDITY:UID" back into its numbers; nullopt if malformed.
std::optional<std::pair<unsigned long long, unsigned long long>> ParseImapEmailId(
    const std::string& email_id);
// A mailbox or keyword as an IMAP quoted string ("a \"b\"").
std::string ImapQuote(const std::string& s);

// The IMAP source. Needs the imap and fetch sections of the config.
Result<std::unique_ptr<MailSource>> MakeImapSource(const Config& config, Logger log);

// For validate-credentials: logs in with imap.username and the password
// file and opens the folder of imap.url read-only (EXAMINE); returns how
// many messages it holds. kCredentials when the login is refused, kConfig
// for a folder the server will not open or a certificate it cannot verify.
Result<unsigned long long> ProbeImap(const Config& config, Logger log);

}  // namespace ncbocr

#endif  // NCBOCR_IMAP_SOURCE_H_
