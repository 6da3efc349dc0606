// MIME decoding (ioc/mime.h): headers, RFC 2047/2231, quoted-printable, base64, charsets,
// HTML, multipart trees, and hostile e-mails. The end-to-end tests at the bottom go through
// read_email() and so also need the free-text and CSV readers.
#include "ioc/mime.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/error.h"
#include "common/file.h"
#include "ioc/reader.h"
#include "ioc/writers.h"

namespace forage::ioc::mime {
namespace {

std::string example(const std::string& name) {
  return std::string(FORAGE_TEST_DATA) + "/../../docs/examples/" + name;
}
std::string email_data(const std::string& name) {
  return read_file(std::string(FORAGE_TEST_DATA) + "/email/" + name);
}

const Part* find_part(const Message& m, const std::string& label) {
  for (const auto& p : m.parts)
    if (p.label() == label) return &p;
  return nullptr;
}

std::string problems_of(const Message& m) {
  std::string out;
  for (const auto& p : m.problems) out += "[" + p.part + "] " + p.reason + "\n";
  return out;
}

// --- headers ---

TEST(MimeHeaders, UnfoldsAndFindsCaseInsensitively) {
  Entity e = split_entity(
      "Subject: part one\r\n  and two\r\nX-Thing:\tv\r\nsubject: second\r\n\r\nbody\r\n");
  ASSERT_EQ(e.headers.fields.size(), 3u);
  ASSERT_NE(e.headers.find("SUBJECT"), nullptr);
  EXPECT_EQ(*e.headers.find("SUBJECT"), "part one  and two");  // first one wins
  EXPECT_EQ(*e.headers.find("x-thing"), "v");
  EXPECT_EQ(e.headers.find("from"), nullptr);
  EXPECT_EQ(e.body, "body\r\n");
  EXPECT_TRUE(e.problems.empty());
}

TEST(MimeHeaders, MboxSeparatorOnlyWhenAsked) {
  std::string mail = "From abuse@egi.eu Fri Nov 20 15:30:58 2026\nSubject: s\n\nb\n";
  Entity with = split_entity(mail, true);
  ASSERT_NE(with.headers.find("subject"), nullptr);
  EXPECT_EQ(with.body, "b\n");
  Entity without = split_entity(mail, false);
  EXPECT_EQ(without.headers.find("subject"), nullptr);  // "From abuse..." is no field: body
}

TEST(MimeHeaders, ObsoleteSpaceBeforeColonAndMissingSeparator) {
  Entity e = split_entity("Subject : old style\nthis line is body text\nmore\n");
  ASSERT_NE(e.headers.find("subject"), nullptr);
  EXPECT_EQ(*e.headers.find("subject"), "old style");
  EXPECT_EQ(e.body, "this line is body text\nmore\n");
}

TEST(MimeHeaders, HeadersOnlyAndEmpty) {
  EXPECT_TRUE(split_entity("").headers.fields.empty());
  Entity e = split_entity("Subject: no body");
  EXPECT_EQ(*e.headers.find("subject"), "no body");
  EXPECT_TRUE(e.body.empty());
}

TEST(MimeHeaders, AbsurdFieldIsAProblemNotACrash) {
  std::string huge(kMaxHeaderField + 10, 'A');
  std::string mail = "Subject: ok\nX-Huge: " + huge + "\n folded tail\nFrom: a@b.org\n\nbody";
  Entity e = split_entity(mail);  // e.body is a view into mail
  ASSERT_EQ(e.problems.size(), 1u);
  EXPECT_NE(e.problems[0].find("X-Huge"), std::string::npos) << e.problems[0];
  EXPECT_NE(e.problems[0].find("longer than 65536"), std::string::npos);
  EXPECT_EQ(e.headers.find("x-huge"), nullptr);
  ASSERT_NE(e.headers.find("from"), nullptr);  // the fields after it are still read
  EXPECT_EQ(e.body, "body");
  // Growth by folding is bounded the same way.
  std::string folded = "Subject: x\n";
  for (int i = 0; i < 2000; ++i) folded += " " + std::string(60, 'b') + "\n";
  folded += "\nbody";
  Entity f = split_entity(folded);
  EXPECT_EQ(f.problems.size(), 1u);
  EXPECT_EQ(f.body, "body");
}

TEST(MimeHeaderValue, TypeAndQuotedParameters) {
  HeaderValue v = parse_header_value(
      "Multipart/Mixed (a comment); Boundary=\"==a;b \\\"c\\\"==\" ; charset=UTF-8 (c)");
  EXPECT_EQ(v.value, "multipart/mixed");
  EXPECT_EQ(v.param("boundary").value_or("?"), "==a;b \"c\"==");
  EXPECT_EQ(v.param("CHARSET").value_or("?"), "UTF-8");
  EXPECT_FALSE(v.param("name").has_value());
}

TEST(MimeHeaderValue, Rfc2231AndRfc2047Filenames) {
  HeaderValue a = parse_header_value(
      "attachment; filename*0*=utf-8''ind%C3%A9; filename*1=\"x list.csv\"; filename=fallback.csv");
  EXPECT_EQ(a.value, "attachment");
  EXPECT_EQ(a.param("filename").value_or("?"), "ind\xC3\xA9x list.csv");
  HeaderValue b = parse_header_value("attachment; filename*=iso-8859-1'en'caf%E9.txt");
  EXPECT_EQ(b.param("filename").value_or("?"), "caf\xC3\xA9.txt");
  HeaderValue c = parse_header_value("text/csv; name=\"=?utf-8?B?aW9jcy5jc3Y=?=\"");
  EXPECT_EQ(c.param("name").value_or("?"), "iocs.csv");
}

TEST(MimeHeaderValue, GarbageGivesEmptyOrPartialNotACrash) {
  for (std::string_view s : {"", ";", ";;=;", "text/plain; =x; charset", "(((", "\"unterminated",
                             "a/b; name=\"open", "a/b; name*99999999999*=x", "a/b; x*=%"}) {
    HeaderValue v = parse_header_value(s);
    (void)v;
  }
  EXPECT_EQ(parse_header_value("text/plain; =x; charset").params.size(), 0u);
  EXPECT_EQ(parse_header_value("a/b; name=\"open").param("name").value_or("?"), "open");
}

TEST(MimeWords, QAndBEncodedWords) {
  EXPECT_EQ(decode_words("=?UTF-8?Q?=5BEGI-20261120-01=5D_TLP=3AAMBER?="),
            "[EGI-20261120-01] TLP:AMBER");
  EXPECT_EQ(decode_words("=?utf-8?b?VExQOkFNQkVS?= heads-up"), "TLP:AMBER heads-up");
  // Blanks between adjacent encoded words vanish; blanks next to plain text stay.
  EXPECT_EQ(decode_words("=?utf-8?q?Tor-?=\r\n =?utf-8?q?hidden?= C2 =?utf-8?q?x?="),
            "Tor-hidden C2 x");
  EXPECT_EQ(decode_words("=?iso-8859-1?q?caf=E9?="), "caf\xC3\xA9");
  EXPECT_EQ(decode_words("=?utf-8*en?q?lang?="), "lang");
  EXPECT_EQ(decode_words("=?utf-8?b?YWI?="), "ab");  // missing padding, as some mailers send
}

TEST(MimeWords, MalformedWordsStayAsWritten) {
  for (std::string_view s : {"=?utf-8?x?abc?=", "=?utf-8?q?no end", "=??q?x?=", "=?utf-8?b?@@@@?=",
                             "=?utf-8?q?has space?=", "=?", "=?a?", "=?a?q", "plain = ? text"}) {
    EXPECT_EQ(decode_words(s), s);
  }
}

// Many unterminated words, then one that ends: the end is found for the last word only, and each
// word is judged by what follows it up to the next blank (the scan is one pass, not one per word).
TEST(MimeWords, UnterminatedWordsBeforeAGoodOne) {
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "=?a?q?x";
  EXPECT_EQ(decode_words(many), many);
  EXPECT_EQ(decode_words(many + " =?utf-8?q?ok?="), many + " ok");
  // A word whose "?=" lies beyond a blank is not a word; the one after the blank is.
  EXPECT_EQ(decode_words("=?utf-8?q?a b?= =?utf-8?q?c?="), "=?utf-8?q?a b?= c");
  // A charset of 77 bytes is read; one of 78 is not.
  std::string cs77(77, 'c'), cs78(78, 'c');
  EXPECT_EQ(decode_words("=?" + cs77 + "?q?x?="), "x");
  EXPECT_EQ(decode_words("=?" + cs78 + "?q?x?="), "=?" + cs78 + "?q?x?=");
}

TEST(MimeAddresses, DomainsOfTheAddrSpecOnly) {
  EXPECT_EQ(address_domains("EGI CSIRT <abuse@egi.eu>"), std::vector<std::string>{"egi.eu"});
  EXPECT_EQ(address_domains("\"abuse@egi.eu\" <x@Evil-Mirror.example.NET>"),
            std::vector<std::string>{"evil-mirror.example.net"});
  EXPECT_EQ(address_domains("a@one.org, (comment@two.org) b@three.org"),
            (std::vector<std::string>{"one.org", "three.org"}));
  EXPECT_EQ(address_domains("CSIRTs: a@egi.eu, b@mailman.egi.eu;"),
            (std::vector<std::string>{"egi.eu", "mailman.egi.eu"}));
  EXPECT_EQ(address_domains("<@relay.org:user@site.org>"), std::vector<std::string>{"site.org"});
  EXPECT_TRUE(address_domains("undisclosed-recipients:;").empty());
  EXPECT_TRUE(address_domains("x@[192.0.2.1]").empty());
  EXPECT_TRUE(address_domains("<unterminated@").empty());
}

// --- transfer encodings ---

TEST(MimeQuotedPrintable, SoftBreaksJoinAnIpAndAHash) {
  EXPECT_EQ(decode_quoted_printable("from 198.5=\r\n1.100.23 and=20\r\nsha256 7a3a7148=\n33d5\r\n"),
            "from 198.51.100.23 and \nsha256 7a3a714833d5\n");
  EXPECT_EQ(decode_quoted_printable("DC=3Dorg/CN=3dx=E2=80=94"), "DC=org/CN=x\xE2\x80\x94");
}

TEST(MimeQuotedPrintable, InvalidEscapesKeptAndTransportBlanksDropped) {
  EXPECT_EQ(decode_quoted_printable("a=ZZb =4 =\t \nc"), "a=ZZb =4 c");
  EXPECT_EQ(decode_quoted_printable("trailing   \nx=\n"), "trailing\nx");
  EXPECT_EQ(decode_quoted_printable("="), "");
  EXPECT_EQ(decode_quoted_printable("=4"), "=4");
  EXPECT_EQ(decode_quoted_printable(""), "");
}

TEST(MimeBase64, DecodesAcrossLines) {
  Decoded d = decode_base64("dHlwZSx2YWx1ZQpp\r\ncHY0LDE5OC41MS4xMDAuNzcK\r\n");
  EXPECT_TRUE(d.ok()) << d.error;
  EXPECT_EQ(d.data, "type,value\nipv4,198.51.100.77\n");
  EXPECT_TRUE(decode_base64("").ok());
}

TEST(MimeBase64, InvalidCharacterNamesTheLine) {
  Decoded d = decode_base64("dHlwZSx2\naW#x1ZQ==\n");
  EXPECT_FALSE(d.ok());
  EXPECT_EQ(d.error, "invalid character '#' at line 2");
  EXPECT_FALSE(d.truncated);
  // '-' would make OpenSSL stop silently; it must be an error here.
  EXPECT_FALSE(decode_base64("aGVsbG8-d29ybGQ=").ok());
  EXPECT_FALSE(decode_base64("this is plain text, not base64.").ok());
}

TEST(MimeBase64, TruncatedAndPaddingErrors) {
  Decoded t = decode_base64("aGVsbG8gd29y\nbGQ");
  EXPECT_FALSE(t.ok());
  EXPECT_TRUE(t.truncated);
  EXPECT_NE(t.error.find("truncated"), std::string::npos) << t.error;
  EXPECT_EQ(t.data.substr(0, 0), "");
  Decoded p = decode_base64("aGk=\naGk=\n");  // two encodings concatenated
  EXPECT_FALSE(p.ok());
  EXPECT_NE(p.error.find("padding at line 1"), std::string::npos) << p.error;
  EXPECT_FALSE(decode_base64("a===").ok());
}

// --- charsets ---

TEST(MimeCharset, PassThroughLatin1AndWindows1252) {
  EXPECT_EQ(to_utf8("plain", "us-ascii").text, "plain");
  EXPECT_EQ(to_utf8("caf\xC3\xA9", "UTF-8").text, "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("caf\xE9", "ISO-8859-1").text, "caf\xC3\xA9");
  EXPECT_EQ(to_utf8("caf\xE9", "\"latin1\"").text, "caf\xC3\xA9");
  Utf8 w = to_utf8("\x93quoted\x94 \x80", "windows-1252");
  EXPECT_TRUE(w.converted);
  EXPECT_EQ(w.text, "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC");
}

TEST(MimeCharset, IconvOrRawBytesWithAFlag) {
  // A static binary on a host without gconv modules has no ISO-8859-15: either converted, or
  // the raw bytes with converted=false. Never anything else.
  Utf8 u = to_utf8("\xA4", "iso-8859-15");
  if (u.converted)
    EXPECT_EQ(u.text, "\xE2\x82\xAC");
  else
    EXPECT_EQ(u.text, "\xA4");
  Utf8 none = to_utf8("caf\xE9", "x-no-such-charset");
  EXPECT_FALSE(none.converted);
  EXPECT_EQ(none.text, "caf\xE9");
  Utf8 weird = to_utf8("caf\xE9", "utf-8\"; rm -rf /");
  EXPECT_FALSE(weird.converted);
  // Pure ASCII reads the same in any ASCII-based charset, available or not.
  EXPECT_TRUE(to_utf8("1.2.3.4", "x-no-such-charset").converted);
}

TEST(MimeCharset, InvalidSequencesBecomeReplacementCharacters) {
  Utf8 u = to_utf8(std::string("a\0b\0c", 5), "utf-16le");  // odd length: incomplete at the end
  ASSERT_TRUE(u.converted);
  EXPECT_EQ(u.text, "ab\xEF\xBF\xBD");
}

// --- text bodies ---

TEST(MimeHtml, TextEntitiesAndLinks) {
  std::string t = html_to_text(
      "<html><head><title>Alert</title><style>p{color:red}</style>"
      "<script>var ip='10.9.9.9';</script><link href=\"https://cdn.example.org/x.css\">"
      "</head><body><p>C2 at 198.51.100.&#50;3 &amp; <a "
      "href='hxxp://evil.example.net/a?x=1&amp;y=2'>"
      "the panel</a></p><!-- 10.8.8.8 --><img src=\"cid:logo@egi.eu\"><img "
      "src=data:image/png;base64,AAA>"
      "<table><tr><td>md5</td><td>1c4fd1566cee83b3fbd12c30aabbb9fa</td></tr></table>"
      "a &lt; b &#x41;&#0;&#xD800;&bogus; &nbsp;</body></html>");
  EXPECT_NE(t.find("198.51.100.23 & "), std::string::npos) << t;
  EXPECT_NE(t.find(" hxxp://evil.example.net/a?x=1&y=2 the panel"), std::string::npos) << t;
  EXPECT_NE(t.find("md5\t1c4fd1566cee83b3fbd12c30aabbb9fa"), std::string::npos) << t;
  EXPECT_NE(t.find("a < b A\xEF\xBF\xBD\xEF\xBF\xBD&bogus;"), std::string::npos) << t;
  EXPECT_NE(t.find("Alert\n"), std::string::npos) << t;
  for (std::string_view absent : {"10.9.9.9", "10.8.8.8", "color", "cid:", "data:", "cdn.example"})
    EXPECT_EQ(t.find(absent), std::string::npos) << absent << " in " << t;
}

TEST(MimeHtml, UnterminatedConstructsAreSafe) {
  for (std::string_view s : {"<", "<a", "<a href=\"x", "<script>1.2.3.4", "<!-- open", "&#", "&#x",
                             "&", "<a href=", "<style", "</", "<p <b>x", "x < y > z"}) {
    std::string t = html_to_text(s);
    EXPECT_EQ(t.find("1.2.3.4"), std::string::npos);
  }
  EXPECT_EQ(html_to_text("x < y > z"), "x < y > z");
  EXPECT_EQ(html_to_text("<a href=\"x"), " x ");
}

TEST(MimeFlowed, JoinsSoftBrokenLines) {
  EXPECT_EQ(decode_flowed("see hxxps://evil.example.net/a/ \r\nb/c today\r\n-- \r\nsig\r\n", false),
            "see hxxps://evil.example.net/a/ b/c today\n-- \nsig\n");
  EXPECT_EQ(decode_flowed("a long-url-part1 \npart2\n", true), "a long-url-part1part2\n");
  EXPECT_EQ(decode_flowed(" >not quote \nx\n> q1 \n> q2\n", false), ">not quote x\n> q1 q2\n");
}

TEST(MimePgp, ArmourBlankedAndDashEscapingUndone) {
  std::string in =
      "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nblock 198.51.100.23\n- -- \n"
      "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAdFiEE/x+y/Z.onion\n=abcd\n"
      "-----END PGP SIGNATURE-----\nafter\n";
  std::string out = strip_pgp_armor(in);
  EXPECT_EQ(out, "\n\n\nblock 198.51.100.23\n-- \n\n\n\n\n\nafter\n");
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), std::count(in.begin(), in.end(), '\n'));
  EXPECT_EQ(strip_pgp_armor("-----BEGIN PGP MESSAGE-----\nxyz"), "\n");  // never ends: all blank
}

// --- multipart ---

TEST(MimeMultipart, PreambleEpilogueAndLineBreaks) {
  Multipart mp = split_multipart(
      "preamble 10.0.0.1\r\n--b\r\nA\r\n\r\n--b  \r\nB\r\n--b-longer\r\nstill B\r\n--b--\r\n"
      "epilogue 10.0.0.2\r\n",
      "b");
  ASSERT_EQ(mp.parts.size(), 2u);
  EXPECT_TRUE(mp.closed);
  EXPECT_EQ(mp.parts[0], "A\r\n");  // the last CRLF belongs to the delimiter
  EXPECT_EQ(mp.parts[1], "B\r\n--b-longer\r\nstill B");
}

TEST(MimeMultipart, UnclosedAndAbsent) {
  Multipart open = split_multipart("--b\nA\n--b\nB cut", "b");
  EXPECT_FALSE(open.closed);
  ASSERT_EQ(open.parts.size(), 2u);
  EXPECT_EQ(open.parts[1], "B cut");
  EXPECT_TRUE(split_multipart("no delimiter here", "b").parts.empty());
  EXPECT_TRUE(split_multipart("", "b").parts.empty());
  Multipart end = split_multipart("--b", "b");  // a delimiter as the very last bytes
  ASSERT_EQ(end.parts.size(), 1u);
  EXPECT_EQ(end.parts[0], "");
}

// --- the tree ---

TEST(MimeMessage, TheExampleBroadcast) {
  Message m = parse_message(read_file(example("broadcast.eml")));
  EXPECT_EQ(problems_of(m), "");
  EXPECT_EQ(m.subject,
            "[EGI-20261120-01] TLP:AMBER \xE2\x80\x94 Heads-up: Tor-hidden botnet C2 and "
            "crypto-mining on worker nodes");
  EXPECT_EQ(m.sender_domains, std::vector<std::string>{"egi.eu"});
  ASSERT_EQ(m.parts.size(), 3u);
  const Part* plain = find_part(m, "1.1");
  const Part* html = find_part(m, "1.2");
  const Part* csv = find_part(m, "2/iocs.csv");
  ASSERT_TRUE(plain && html && csv);
  EXPECT_EQ(plain->kind, Part::Kind::kText);
  EXPECT_EQ(html->kind, Part::Kind::kHtml);
  EXPECT_EQ(csv->kind, Part::Kind::kData);
  EXPECT_EQ(csv->content_type, "text/csv");
  // The soft line breaks fall inside these in the encoded text; decoded they are whole.
  for (std::string_view whole :
       {"from 198.51.100.23 and", "in 185.220.101.0/24 as",
        "nodes: 7a3a714833d5552d41583ea6550f2f528f4a3b18df8360863a3041cdc704d0a9\n",
        "/DC=org/DC=terena/DC=tcs/C=NL/O=Example Univ/CN=Mallory Example\n",
        "report to us \xE2\x80\x94 even"}) {
    EXPECT_NE(plain->text.find(whole), std::string::npos) << whole;
  }
  for (std::string_view whole :
       {"from 198.51.100.23 and", "in 185.220.101.0/24 as",
        "SHA256\t7a3a714833d5552d41583ea6550f2f528f4a3b18df8360863a3041cdc704d0a9\n",
        "/DC=org/DC=terena/DC=tcs/C=NL/O=Example Univ/CN=Mallory Example\n",
        "report to us \xE2\x80\x94 even"}) {
    EXPECT_NE(html->text.find(whole), std::string::npos) << whole;
  }
  EXPECT_EQ(html->text.find("<p>"), std::string::npos);
  EXPECT_NE(html->text.find("https://wiki.egi.eu/wiki/Forensic_Howto"), std::string::npos);
  EXPECT_EQ(csv->text.rfind("type,value,comment\n", 0), 0u);
  EXPECT_NE(csv->text.find("ip-src,198.51.100.77,"), std::string::npos);
}

TEST(MimeMessage, SinglePartMessageIsPartOne) {
  Message m = parse_message("From: a@site.org\nSubject: hi\n\nbody 198.51.100.1\n");
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_EQ(m.parts[0].label(), "1");
  EXPECT_EQ(m.parts[0].kind, Part::Kind::kText);
  EXPECT_EQ(m.parts[0].text, "body 198.51.100.1\n");
  EXPECT_EQ(m.header_label(), "HEADER");
}

TEST(MimeMessage, ForwardedBroadcastIsWalked) {
  Message m = parse_message(email_data("forwarded.eml"));
  EXPECT_EQ(problems_of(m), "");
  EXPECT_EQ(m.sender_domains, std::vector<std::string>{"uni-example.nl"});
  const Part* fwd = find_part(m, "2/heads-up.eml");
  ASSERT_NE(fwd, nullptr);
  ASSERT_EQ(fwd->kind, Part::Kind::kMessage);
  const Message& inner = *fwd->message;
  EXPECT_EQ(inner.path, "2");
  EXPECT_EQ(inner.header_label(), "2.HEADER");
  EXPECT_EQ(inner.sender_domains, std::vector<std::string>{"egi.eu"});
  EXPECT_NE(inner.subject.find("[EGI-20261120-01]"), std::string::npos);
  ASSERT_EQ(inner.parts.size(), 2u);
  EXPECT_EQ(inner.parts[0].label(), "2.1");
  EXPECT_EQ(inner.parts[1].label(), "2.2/extra.csv");
}

TEST(MimeMessage, CharsetsAndEncodedSubject) {
  Message m = parse_message(email_data("latin1.eml"));
  EXPECT_EQ(problems_of(m), "");
  EXPECT_EQ(m.subject, "[EGI-20261120-01] Caf\xC3\xA9 TLP:GREEN");
  ASSERT_EQ(m.parts.size(), 1u);
  EXPECT_NE(m.parts[0].text.find("\xE2\x80\x9C"
                                 "198.51.100.99\xE2\x80\x9D"),
            std::string::npos);
}

TEST(MimeMessage, BinaryAttachmentsAreSkippedWithANote) {
  Message m = parse_message(email_data("attachments.eml"));
  EXPECT_EQ(problems_of(m), "");
  const Part* pdf = find_part(m, "2/report.pdf");
  ASSERT_NE(pdf, nullptr);
  EXPECT_EQ(pdf->kind, Part::Kind::kSkipped);
  EXPECT_EQ(pdf->note, "application/pdf attachment skipped (not text, CSV or JSON)");
  EXPECT_TRUE(pdf->text.empty());
  const Part* json = find_part(m, "3/event.json");
  ASSERT_NE(json, nullptr);
  EXPECT_EQ(json->kind, Part::Kind::kData);  // application/octet-stream, named .json
  const Part* sig = find_part(m, "4/signature.asc");
  ASSERT_NE(sig, nullptr);
  EXPECT_EQ(sig->kind, Part::Kind::kSkipped);
  const Part* headers = find_part(m, "5");
  ASSERT_NE(headers, nullptr);
  EXPECT_EQ(headers->kind, Part::Kind::kSkipped);  // a bounce's quoted headers are transport
  EXPECT_EQ(headers->note, "text/rfc822-headers part skipped (mail headers)");
  const Part* elf = find_part(m, "6/notes.txt");
  ASSERT_NE(elf, nullptr);
  EXPECT_EQ(elf->kind, Part::Kind::kSkipped);  // named .txt, but an ELF header inside
  EXPECT_NE(elf->note.find("binary data despite its name"), std::string::npos);
}

TEST(MimeMessage, TruncatedMultipartNamesThePart) {
  Message m = parse_message(email_data("truncated.eml"));
  ASSERT_FALSE(m.problems.empty());
  EXPECT_EQ(m.problems[0].part, "2/iocs.csv");
  EXPECT_NE(m.problems[0].reason.find("truncated"), std::string::npos) << problems_of(m);
  EXPECT_EQ(m.problems.size(), 1u) << problems_of(m);  // the cut base64 is the same problem
  // The good part is decoded, and the cut-off last line of the truncated one is not kept.
  const Part* text = find_part(m, "1");
  ASSERT_NE(text, nullptr);
  EXPECT_NE(text->text.find("198.51.100.23"), std::string::npos);
  const Part* csv = find_part(m, "2/iocs.csv");
  ASSERT_NE(csv, nullptr);
  EXPECT_NE(csv->text.find("ipv4,203.0.113.45,"), std::string::npos) << csv->text;
  EXPECT_EQ(csv->text.back(), '\n');
}

TEST(MimeMessage, InvalidBase64AndFakeBase64) {
  Message m = parse_message(email_data("bad_base64.eml"));
  ASSERT_EQ(m.problems.size(), 2u) << problems_of(m);
  EXPECT_EQ(m.problems[0].part, "2/iocs.csv");
  EXPECT_EQ(m.problems[0].reason, "invalid base64: invalid character '!' at line 3");
  EXPECT_EQ(m.problems[1].part, "3");
  EXPECT_NE(m.problems[1].reason.find("invalid base64"), std::string::npos);
  EXPECT_EQ(find_part(m, "2/iocs.csv"), nullptr);
  ASSERT_NE(find_part(m, "1"), nullptr);  // the good part is still there
}

TEST(MimeMessage, Base64ThatDecodesToBinaryIsAProblem) {
  Message m = parse_message(
      "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nAAECAwQFBgcICQoL\n");
  ASSERT_EQ(m.problems.size(), 1u);
  EXPECT_EQ(m.problems[0].part, "1");
  EXPECT_NE(m.problems[0].reason.find("binary"), std::string::npos);
}

TEST(MimeMessage, StructuralProblems) {
  Message nb = parse_message("Content-Type: multipart/mixed\n\n--x\nhello\n--x--\n");
  ASSERT_EQ(nb.problems.size(), 1u);
  EXPECT_EQ(nb.problems[0].reason, "multipart/mixed without a boundary parameter");
  Message nf = parse_message("Content-Type: multipart/mixed; boundary=zz\n\nno parts\n");
  ASSERT_EQ(nf.problems.size(), 1u);
  EXPECT_NE(nf.problems[0].reason.find("\"zz\" not found"), std::string::npos);
  Message cut = parse_message("Content-Type: multipart/mixed; boundary=zz\n");
  EXPECT_EQ(cut.problems.size(), 1u);
}

std::string nested_messages(int levels) {
  std::string m = "Subject: innermost\n\ncore 198.51.100.200\n";
  for (int i = 0; i < levels; ++i)
    m = "Subject: level " + std::to_string(i) + "\nContent-Type: message/rfc822\n\n" + m;
  return m;
}

std::string nested_multiparts(int levels) {
  std::string body = "Content-Type: text/plain\n\ncore\n";
  for (int i = 0; i < levels; ++i) {
    std::string b = "b" + std::to_string(i);
    body = "Content-Type: multipart/mixed; boundary=" + b + "\n\n--" + b + "\n" + body + "\n--" +
           b + "--\n";
  }
  return body;
}

TEST(MimeMessage, NestingIsCapped) {
  Message ok = parse_message(nested_messages(5));
  EXPECT_EQ(problems_of(ok), "");
  Message deep = parse_message(nested_messages(40));
  // Find the problem at the bottom of the chain.
  const Message* cur = &deep;
  size_t levels = 0;
  while (cur->problems.empty() && !cur->parts.empty() && cur->parts[0].message) {
    cur = cur->parts[0].message.get();
    ++levels;
  }
  ASSERT_EQ(cur->problems.size(), 1u);
  EXPECT_NE(cur->problems[0].reason.find("nested more than 16 levels"), std::string::npos);
  EXPECT_LE(levels, kMaxDepth);
  Message mp = parse_message(nested_multiparts(40));
  ASSERT_EQ(mp.problems.size(), 1u);
  EXPECT_EQ(mp.problems[0].part, "1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1");
  Message mp_ok = parse_message(nested_multiparts(10));
  EXPECT_EQ(problems_of(mp_ok), "");
  ASSERT_EQ(mp_ok.parts.size(), 1u);
  EXPECT_EQ(mp_ok.parts[0].label(), "1.1.1.1.1.1.1.1.1.1");
}

TEST(MimeMessage, HostileBytesNeverCrash) {
  // Mutations of real e-mails: truncations at every length of the start and random bytes.
  std::string base = read_file(example("broadcast.eml"));
  for (size_t n = 0; n < 2000; n += 7) (void)parse_message(base.substr(0, n));
  for (size_t n = base.size() - 1200; n < base.size(); n += 3)
    (void)parse_message(base.substr(0, n));
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string s = base;
    for (int k = 0; k < 20; ++k) {
      size_t at = rng() % s.size();
      static const char kNasty[] = "=\r\n-<>&;\"?\\:*%\0\xff";
      s[at] = kNasty[rng() % (sizeof kNasty - 1)];
    }
    Message m = parse_message(s);
    (void)m;
  }
  std::string noise(1 << 16, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  (void)parse_message(noise);
  (void)parse_message("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n");
}

// --- end to end: read_email() into indicators (needs the text and CSV readers) ---

IocSet read(const std::string& data, const std::string& name, bool keep_going = false) {
  IocSet set;
  ReadOptions opts;
  opts.keep_going = keep_going;
  Source src;
  src.file = name;
  read_email(data, src, opts, set);
  return set;
}

const Indicator* find_ioc(const IocSet& set, Type t, const std::string& value) {
  for (const auto& i : set.indicators)
    if (i.type == t && i.value == value) return &i;
  return nullptr;
}

TEST(ReadEmail, BroadcastIndicatorsTlpAndCase) {
  IocSet set = read(read_file(example("broadcast.eml")), "broadcast.eml");
  EXPECT_EQ(set.tlp, "TLP:AMBER");
  EXPECT_EQ(set.case_tag, "EGI-20261120-01");
  EXPECT_TRUE(set.errors.empty());
  const Indicator* ip = find_ioc(set, Type::kIpv4, "198.51.100.23");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->source.file, "broadcast.eml");
  EXPECT_EQ(ip->source.part, "1.1");
  EXPECT_GT(ip->source.line, 0u);
  EXPECT_EQ(ip->tlp, "TLP:AMBER");
  ASSERT_NE(find_ioc(set, Type::kSha256,
                     "7a3a714833d5552d41583ea6550f2f528f4a3b18df8360863a3041cdc704d0a9"),
            nullptr);
  const Indicator* csv_ip = find_ioc(set, Type::kIpv4, "198.51.100.77");
  ASSERT_NE(csv_ip, nullptr);
  EXPECT_EQ(csv_ip->source.part, "2/iocs.csv");
  EXPECT_EQ(csv_ip->tlp, "TLP:AMBER");
  ASSERT_NE(find_ioc(set, Type::kCidr, "185.220.101.0/24"), nullptr);
  for (const auto& i : set.indicators) {
    EXPECT_EQ(i.value.find("egi.eu"), std::string::npos) << i.value;
    EXPECT_EQ(i.value.find("192.0.2."), std::string::npos) << i.value;  // Received: relays
    EXPECT_EQ(i.value.find("uni-example.nl"), std::string::npos) << i.value;
    EXPECT_EQ(i.value.find("nren-transit"), std::string::npos) << i.value;
    EXPECT_EQ(i.value.find("2001:db8:ffff"), std::string::npos) << i.value;
  }
  bool noted = false;
  for (const auto& n : set.notes)
    noted |= n.find("sender's own domain (egi.eu)") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(ReadEmail, SubjectTlpWinsOverBodyBoilerplate) {
  IocSet set = read(
      "From: CSIRT <abuse@egi.eu>\nSubject: [EGI-20261120-02] TLP:GREEN update\n\n"
      "In case of TLP:RED data, use GPG. Block 198.51.100.9 now.\n",
      "m.eml");
  EXPECT_EQ(set.tlp, "TLP:GREEN");
  EXPECT_EQ(set.case_tag, "EGI-20261120-02");
  const Indicator* ip = find_ioc(set, Type::kIpv4, "198.51.100.9");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->tlp, "TLP:GREEN");
  IocSet body_only = read(
      "From: a@site.org\nSubject: update\n\nTLP:GREEN then TLP:AMBER+STRICT, case "
      "EGI-20261121-07\n",
      "m.eml");
  EXPECT_EQ(body_only.tlp, "TLP:AMBER+STRICT");
  EXPECT_EQ(body_only.case_tag, "EGI-20261121-07");
}

TEST(ReadEmail, TransportHeadersNeverGiveIndicators) {
  IocSet set = read(
      "Received: from evil.example.net ([203.0.113.9]) by mx.site.org\n"
      "Return-Path: <bounce@lists.example.org>\nMessage-ID: <1@198.51.100.4>\n"
      "X-Originating-IP: 198.51.100.5\nDKIM-Signature: d=example.com; s=x; b=abc\n"
      "From: a@site.org\nSubject: quiet\n\nnothing here\n",
      "m.eml");
  EXPECT_TRUE(set.indicators.empty()) << to_tsv(set);
}

TEST(ReadEmail, SenderDomainOnlyInItsOwnMessage) {
  IocSet set = read(email_data("forwarded.eml"), "forwarded.eml");
  // The forwarder's domain and the inner sender's domain (egi.eu) are both dropped...
  for (const auto& i : set.indicators) {
    EXPECT_EQ(i.value.find("uni-example.nl"), std::string::npos) << i.value;
    EXPECT_EQ(i.value.find("egi.eu"), std::string::npos) << i.value;
  }
  // ...while the inner message's indicators come with its parts as source.
  const Indicator* ip = find_ioc(set, Type::kIpv4, "203.0.113.45");
  ASSERT_NE(ip, nullptr);
  EXPECT_EQ(ip->source.part, "2.1");
  const Indicator* extra = find_ioc(set, Type::kIpv4, "198.51.100.150");
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(extra->source.part, "2.2/extra.csv");
  EXPECT_EQ(set.tlp, "TLP:AMBER");  // forwarding does not make it less strict
  EXPECT_EQ(set.case_tag, "EGI-20261120-01");
}

TEST(ReadEmail, BadPartFailsWithoutKeepGoing) {
  try {
    read(email_data("bad_base64.eml"), "bad.eml");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "bad.eml!2/iocs.csv: invalid base64: invalid character '!' at line 3");
  }
}

TEST(ReadEmail, KeepGoingKeepsTheGoodParts) {
  IocSet set = read(email_data("truncated.eml"), "cut.eml", true);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_EQ(set.errors[0].rfind("cut.eml!2/iocs.csv: truncated", 0), 0u) << set.errors[0];
  EXPECT_NE(find_ioc(set, Type::kIpv4, "198.51.100.23"), nullptr);  // from the good text part
  EXPECT_NE(find_ioc(set, Type::kIpv4, "203.0.113.45"), nullptr);   // whole lines of the cut CSV
  IocSet bad = read(email_data("bad_base64.eml"), "bad.eml", true);
  EXPECT_EQ(bad.errors.size(), 2u);
  EXPECT_NE(find_ioc(bad, Type::kIpv4, "198.51.100.23"), nullptr);
}

TEST(ReadEmail, BinaryAttachmentNoteAndJsonAttachment) {
  IocSet set = read(email_data("attachments.eml"), "a.eml");
  bool pdf_note = false;
  for (const auto& n : set.notes)
    pdf_note |=
        n == "a.eml!2/report.pdf: application/pdf attachment skipped (not text, CSV or JSON)";
  EXPECT_TRUE(pdf_note);
  EXPECT_EQ(find_ioc(set, Type::kIpv4, "198.51.100.250"), nullptr);
  EXPECT_TRUE(set.errors.empty());
  const Indicator* d = find_ioc(set, Type::kDomain, "kworker-sync.net");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->source.part, "3/event.json");
}

TEST(ReadEmail, AttachedEmailsCannotRecurseWithoutBound) {
  // A text attachment that is itself an e-mail comes back through read_input(): bounded too.
  std::string m = "From: a@site.org\nSubject: core\n\n198.51.100.201\n";
  for (int i = 0; i < 60; ++i)
    m = "From: a@site.org\nSubject: wrap\nContent-Type: text/plain; name=m.txt\n"
        "Content-Disposition: attachment\n\n" +
        m;
  IocSet set = read(m, "loop.eml", true);
  EXPECT_FALSE(set.errors.empty());
  EXPECT_THROW(read(m, "loop.eml", false), Error);
}

}  // namespace
}  // namespace forage::ioc::mime
