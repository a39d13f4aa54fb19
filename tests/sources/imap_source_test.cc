// Unit tests of the IMAP source's URL checks and response parsing (imap.h).
// The source against a real server is tests/cli/imap.sh (Dovecot).
#include "ncbocr/imap_source.h"

#include <doctest/doctest.h>

using namespace ncbocr;

TEST_CASE("imap url: imaps with port and folder") {
  auto u = ParseImapUrl("imaps://mail.example.com:993/INBOX");
  REQUIRE(u.ok());
  CHECK(u->base == "imaps://mail.example.com:993");
  CHECK(u->host == "mail.example.com");
  CHECK(u->mailbox == "INBOX");
  CHECK(u->tls);
}

TEST_CASE("imap url: nested, percent-encoded folder is decoded for commands") {
  auto u = ParseImapUrl("imaps://mail.example.com/Claims/2024%20Q1/");
  REQUIRE(u.ok());
  CHECK(u->mailbox == "Claims/2024 Q1");
  CHECK(u->mailbox_path == "Claims/2024%20Q1");
}

TEST_CASE("imap url: plain imap only to loopback") {
  CHECK(ParseImapUrl("imap://127.0.0.1:1143/INBOX").ok());
  CHECK(ParseImapUrl("imap://localhost/INBOX").ok());
  CHECK(ParseImapUrl("imap://[::1]:143/INBOX").ok());
  auto remote = ParseImapUrl("imap://mail.example.com/INBOX");
  REQUIRE(!remote.ok());
  CHECK(remote.status().kind() == ErrorKind::kConfig);
  CHECK(!ParseImapUrl("imap://127.0.0.1.evil.com/INBOX").ok());
}

TEST_CASE("imap url: refuses other schemes, no folder, credentials, uid parts") {
  CHECK(!ParseImapUrl("https://mail.example.com/INBOX").ok());
  CHECK(!ParseImapUrl("imaps://mail.example.com").ok());
  CHECK(!ParseImapUrl("imaps://mail.example.com/").ok());
  CHECK(!ParseImapUrl("imaps://user:pw@mail.example.com/INBOX").ok());
  CHECK(!ParseImapUrl("imaps://mail.example.com/INBOX/;UID=3").ok());
}

TEST_CASE("imap: UIDVALIDITY from STATUS and from SELECT answers") {
  CHECK(ParseUidValidity("* STATUS INBOX (UIDVALIDITY 1700000123)\r\n") == 1700000123ULL);
  CHECK(ParseUidValidity("* STATUS \"Claims In\" (MESSAGES 3 UIDVALIDITY 42)\r\n") == 42ULL);
  CHECK(ParseUidValidity("* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n") == 7ULL);
  CHECK(!ParseUidValidity("* STATUS INBOX (MESSAGES 3)\r\n").has_value());
  CHECK(!ParseUidValidity("").has_value());
}

TEST_CASE("imap: UID SEARCH results, sorted and unique, over several lines") {
  auto uids = ParseSearchUids("* SEARCH 9 3 5\r\n* SEARCH 5 11\r\n");
  CHECK(uids == std::vector<unsigned long long>{3, 5, 9, 11});
  CHECK(ParseSearchUids("* SEARCH\r\n").empty());
  CHECK(ParseSearchUids("* OK nothing\r\n").empty());
}

TEST_CASE("imap: FETCH items in any order, \\Seen among other flags") {
  auto items = ParseFetchItems(
      "* 1 FETCH (UID 4 RFC822.SIZE 1234 FLAGS (\\Seen ncbocr-x))\r\n"
      "* 2 FETCH (FLAGS () UID 6 RFC822.SIZE 99)\r\n"
      "* 3 FETCH (RFC822.SIZE 10 FLAGS (\\Flagged \\Recent) UID 8)\r\n");
  REQUIRE(items.size() == 3);
  CHECK(items[0].uid == 4);
  CHECK(items[0].size == 1234);
  CHECK(items[0].seen);
  CHECK(items[1].uid == 6);
  CHECK(items[1].size == 99);
  CHECK(!items[1].seen);
  CHECK(items[2].uid == 8);
  CHECK(items[2].size == 10);
  CHECK(!items[2].seen);
  // The message number is not the UID.
  CHECK(ParseFetchItems("* 12 FETCH (RFC822.SIZE 5)\r\n").empty());
}

TEST_CASE("imap: email ids are UIDVALIDITY:UID") {
  auto id = ParseImapEmailId("1700000123:45");
  REQUIRE(id.has_value());
  CHECK(id->first == 1700000123ULL);
  CHECK(id->second == 45ULL);
  CHECK(!ParseImapEmailId("45").has_value());
  CHECK(!ParseImapEmailId(":45").has_value());
  CHECK(!ParseImapEmailId("1:").has_value());
  CHECK(!ParseImapEmailId("1:4x").has_value());
  CHECK(!ParseImapEmailId("01-en-clinic.eml").has_value());
}

TEST_CASE("imap: quoting of folder names") {
  CHECK(ImapQuote("Processed") == "\"Processed\"");
  CHECK(ImapQuote("a \"b\" \\c") == "\"a \\\"b\\\" \\\\c\"");
}
