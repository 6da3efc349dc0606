// The free-text and list readers (ioc/text.cpp): every indicator type, every rule of issue 2,
// and hostile input.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "ioc/reader.h"

namespace forage::ioc {
namespace {

IocSet read(std::string_view text, const std::string& file = "broadcast.txt") {
  IocSet set;
  Source src;
  src.file = file;
  read_text(text, src, set);
  return set;
}

// "type<TAB>value" of everything found, sorted.
std::vector<std::string> found(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& i : read(text).indicators)
    out.push_back(std::string(type_name(i.type)) + "\t" + i.value);
  std::sort(out.begin(), out.end());
  return out;
}

std::string listing(const std::vector<std::string>& rows) {
  std::string s;
  for (const auto& r : rows) s += "\n  " + r;
  return s.empty() ? " (nothing)" : s;
}

testing::AssertionResult finds(std::string_view text, std::string_view type,
                               std::string_view value) {
  auto rows = found(text);
  std::string want = std::string(type) + "\t" + std::string(value);
  if (std::find(rows.begin(), rows.end(), want) != rows.end()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "'" << text << "' gave" << listing(rows);
}

// The type/value is not among what `text` gives.
testing::AssertionResult lacks(std::string_view text, std::string_view type,
                               std::string_view value) {
  auto rows = found(text);
  std::string bad = std::string(type) + "\t" + std::string(value);
  if (std::find(rows.begin(), rows.end(), bad) == rows.end()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << "'" << text << "' gave" << listing(rows);
}

testing::AssertionResult finds_exactly(std::string_view text, std::vector<std::string> want) {
  auto rows = found(text);
  std::sort(want.begin(), want.end());
  if (rows == want) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << "'" << text << "' gave" << listing(rows) << "\nwanted" << listing(want);
}

testing::AssertionResult finds_nothing(std::string_view text) {
  return finds_exactly(text, {});
}

// --- every indicator type ---

TEST(TextTypes, Ipv4) {
  EXPECT_TRUE(finds_exactly("The attacker came from 185.220.101.7.", {"ipv4\t185.220.101.7"}));
  EXPECT_TRUE(finds("ip=10.1.2.3, then (172.16.0.9)", "ipv4", "10.1.2.3"));
  EXPECT_TRUE(finds("ip=10.1.2.3, then (172.16.0.9)", "ipv4", "172.16.0.9"));
  EXPECT_TRUE(finds("IP:203.0.113.5", "ipv4", "203.0.113.5"));
  EXPECT_TRUE(finds("leading zeros 010.001.002.003", "ipv4", "10.1.2.3"));
}

TEST(TextTypes, Ipv6) {
  EXPECT_TRUE(
      finds("seen from 2001:0DB8:0000:0000:0000:0000:0000:0001 today", "ipv6", "2001:db8::1"));
  EXPECT_TRUE(finds("fe80::1%eth0 was the link-local", "ipv6", "fe80::1"));
  EXPECT_TRUE(finds("IPv6:2001:db8::2", "ipv6", "2001:db8::2"));
  EXPECT_TRUE(finds("::ffff:192.0.2.1", "ipv6", "::ffff:192.0.2.1"));
}

TEST(TextTypes, Cidr) {
  EXPECT_TRUE(finds_exactly("block 203.0.113.0/24 now", {"cidr\t203.0.113.0/24"}));
  EXPECT_TRUE(finds_exactly("and 2001:db8::/32 too", {"cidr\t2001:db8::/32"}));
}

TEST(TextTypes, Domain) {
  EXPECT_TRUE(finds_exactly("C2: Evil-Host.Example.COM.", {"domain\tevil-host.example.com"}));
  EXPECT_TRUE(finds("the panel at short[.]is", "domain", "short.is"));
  EXPECT_TRUE(finds("example.com:443 and example.org/path", "domain", "example.com"));
  EXPECT_TRUE(finds("example.com:443 and example.org/path", "domain", "example.org"));
}

TEST(TextTypes, Url) {
  EXPECT_TRUE(
      finds_exactly("get hxxps://evil[.]example[.]com/gate.php?id=1 now",
                    {"url\thttps://evil.example.com/gate.php?id=1", "domain\tevil.example.com"}));
}

TEST(TextTypes, Email) {
  EXPECT_TRUE(
      finds_exactly("write to Attacker@Evil.example.com.", {"email\tattacker@evil.example.com"}));
  EXPECT_TRUE(finds("mailto:bob@example.org", "email", "bob@example.org"));
  EXPECT_TRUE(finds("<alice@example.org>", "email", "alice@example.org"));
}

TEST(TextTypes, Hashes) {
  std::string md5 = "D41D8CD98F00B204E9800998ECF8427E";
  std::string sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
  std::string sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  std::string sha512(128, 'c');
  sha512[0] = '1';
  EXPECT_TRUE(finds_exactly("md5 " + md5, {"md5\td41d8cd98f00b204e9800998ecf8427e"}));
  EXPECT_TRUE(finds_exactly("sha1=" + sha1, {"sha1\t" + sha1}));
  EXPECT_TRUE(finds_exactly("sha256:" + sha256 + ".", {"sha256\t" + sha256}));
  EXPECT_TRUE(finds_exactly("(" + sha512 + ")", {"sha512\t" + sha512}));
}

TEST(TextTypes, FileNames) {
  EXPECT_TRUE(finds_exactly(
      "dropped payload.exe, tor-browser.tar.xz and download-tor.sh",
      {"filename\tpayload.exe", "filename\ttor-browser.tar.xz", "filename\tdownload-tor.sh"}));
}

TEST(TextTypes, FilePaths) {
  EXPECT_TRUE(finds("in /dev/shm/xmrig and ~/.ssh/authorized_keys", "filepath", "/dev/shm/xmrig"));
  EXPECT_TRUE(
      finds("in /dev/shm/xmrig and ~/.ssh/authorized_keys", "filepath", "~/.ssh/authorized_keys"));
  EXPECT_TRUE(
      finds("saved as C:\\Users\\Public\\evil.exe.", "filepath", "C:\\Users\\Public\\evil.exe"));
  EXPECT_TRUE(finds("%APPDATA%\\svc\\run.bat", "filepath", "%APPDATA%\\svc\\run.bat"));
}

TEST(TextTypes, UserNames) {
  EXPECT_TRUE(finds_exactly("Local account: pillhcb048", {"username\tpillhcb048"}));
  EXPECT_TRUE(finds_exactly("user=fsta", {"username\tfsta"}));
}

TEST(TextTypes, X509Dns) {
  EXPECT_TRUE(finds_exactly("DN: /DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=fst",
                            {"x509-dn\t/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=fst"}));
  EXPECT_TRUE(finds_exactly("Subject: CN=John Doe, O=Example, C=DE",
                            {"x509-dn\tCN=John Doe, O=Example, C=DE"}));
}

// --- every defang form, in context ---

TEST(TextDefang, EveryForm) {
  struct Case {
    const char* text;
    const char* type;
    const char* value;
  };
  const Case cases[] = {
      {"evil[.]example[.]com", "domain", "evil.example.com"},
      {"evil(.)example(.)com", "domain", "evil.example.com"},
      {"evil{.}example{.}com", "domain", "evil.example.com"},
      {"evil[dot]example[dot]com", "domain", "evil.example.com"},
      {"evil\\.example\\.com", "domain", "evil.example.com"},
      {"hxxp://evil.example.com/a", "url", "http://evil.example.com/a"},
      {"hxxps://evil.example.com/a", "url", "https://evil.example.com/a"},
      {"http[:]//evil.example.com/a", "url", "http://evil.example.com/a"},
      {"http[://]evil.example.com/a", "url", "http://evil.example.com/a"},
      {"http://evil.example.com[/]a", "url", "http://evil.example.com/a"},
      {"bad[@]evil.example.com", "email", "bad@evil.example.com"},
      {"bad[at]evil[dot]example[dot]com", "email", "bad@evil.example.com"},
      {"bad (at) evil.example.com", "domain", "evil.example.com"},  // prose "(at)": no e-mail
      {"bad [at] evil [dot] example [dot] com", "email", "bad@evil.example.com"},
      {"1[.]2[.]3[.]4", "ipv4", "1.2.3.4"},
      {"http://evil.example[.com/", "url", "http://evil.example.com/"},
      {"http://[evil.example.com", "url", "http://evil.example.com"},
      {"evil.example.]com", "domain", "evil.example.com"},
      {"fxp://files.example.com/x", "url", "ftp://files.example.com/x"},
  };
  for (const auto& c : cases) EXPECT_TRUE(finds(c.text, c.type, c.value));
  EXPECT_TRUE(lacks("bad (at) evil.example.com", "email", "bad@evil.example.com"));
}

// --- the rules of issue 2 ---

TEST(TextRules, HashNeverInsideALongerRun) {
  std::string md5 = "d41d8cd98f00b204e9800998ecf8427e";
  EXPECT_TRUE(finds_nothing(md5 + "ab"));  // 34 hex: no hash
  EXPECT_TRUE(finds_nothing("adc83b191b1c6ea0fd8b46cd9f32e592fc"));
  EXPECT_TRUE(finds_nothing("x" + md5));  // a longer word
  EXPECT_TRUE(finds_nothing(md5 + "g"));
  EXPECT_TRUE(finds_nothing("name_" + md5));
  EXPECT_TRUE(finds_nothing(std::string(65, 'a')));
  // Placeholders and counters are no digests.
  EXPECT_TRUE(finds_nothing(std::string(32, '0')));
  EXPECT_TRUE(finds_nothing("12345678901234567890123456789012"));
  EXPECT_TRUE(finds_nothing(std::string(64, 'f')));
  // A hash at every offset from the start of a line (the probe runs every 16 bytes).
  for (size_t pad = 0; pad < 20; ++pad)
    EXPECT_TRUE(finds(std::string(pad, ' ') + md5, "md5", md5)) << pad;
}

TEST(TextRules, VersionsAndTimesAreNotAddresses) {
  EXPECT_TRUE(finds_nothing("version 1.2.3.4.5"));
  EXPECT_TRUE(finds_nothing("v2.4.10.1"));
  EXPECT_TRUE(finds_nothing("1.2.3.4.5"));
  EXPECT_TRUE(finds_nothing("OID 1.3.6.1.4.1.2620"));
  EXPECT_TRUE(finds_nothing("version 1.2.3.4"));
  EXPECT_TRUE(finds_nothing("Version: 10.2.0.1"));
  EXPECT_TRUE(finds_nothing("release 4.18.0.305"));
  EXPECT_TRUE(finds_nothing("at 10:30:00 and 23:59"));
  EXPECT_TRUE(finds_nothing("MAC 00:1a:2b:3c:4d:5e"));
  EXPECT_TRUE(finds_nothing("std::max and Foo::bar"));
  EXPECT_TRUE(finds_nothing("on 2024.01.15 at 12.30"));
  EXPECT_TRUE(finds_nothing("tel 123.102.1215 or 123-456-7890"));
  // ...but an address after other words is one.
  EXPECT_TRUE(finds("connection 1.2.3.4", "ipv4", "1.2.3.4"));
}

TEST(TextRules, CidrWithHostBitsIsTheNetworkOnly) {
  EXPECT_TRUE(finds_exactly("block 185.220.101.7/24", {"cidr\t185.220.101.0/24"}));
  EXPECT_TRUE(finds_exactly("block 185[.]220[.]101[.]7/24", {"cidr\t185.220.101.0/24"}));
  EXPECT_TRUE(finds_exactly("2001:db8::5/64", {"cidr\t2001:db8::/64"}));
  // Not a prefix length: the address of a host with a path.
  EXPECT_TRUE(finds_exactly("192.168.0.1/some/url", {"ipv4\t192.168.0.1"}));
}

TEST(TextRules, AddressRangesGiveBothEnds) {
  EXPECT_TRUE(finds_exactly("range 185.220.101.1-185.220.101.254 blocked",
                            {"ipv4\t185.220.101.1", "ipv4\t185.220.101.254"}));
  EXPECT_TRUE(finds_nothing("1.2.3.4.5-6.7.8.9.10"));
}

TEST(TextRules, PortsAreDropped) {
  EXPECT_TRUE(finds_exactly("1.2.3.4:8080", {"ipv4\t1.2.3.4"}));
  EXPECT_TRUE(finds_exactly("[2001:db8::1]:443", {"ipv6\t2001:db8::1"}));
  EXPECT_TRUE(finds_exactly("[fdc4:2581:575b:5a72:0000:0000:0000:0001]:80/path",
                            {"ipv6\tfdc4:2581:575b:5a72::1"}));
  EXPECT_TRUE(finds_exactly("evil.example.com:8443", {"domain\tevil.example.com"}));
}

TEST(TextRules, EveryUrlHostIsAnIndicator) {
  EXPECT_TRUE(finds_exactly("http://192.168.0.1:80/path",
                            {"url\thttp://192.168.0.1:80/path", "ipv4\t192.168.0.1"}));
  EXPECT_TRUE(finds_exactly(
      "tcp://[fdc4:2581:575b:5a72::1]:80/path",
      {"url\ttcp://[fdc4:2581:575b:5a72::1]:80/path", "ipv6\tfdc4:2581:575b:5a72::1"}));
  EXPECT_TRUE(
      finds_exactly("http://ratatosk.sh/x", {"url\thttp://ratatosk.sh/x", "domain\tratatosk.sh"}));
  // A URL our model rejects still names its host.
  EXPECT_TRUE(finds_exactly("gopher://evil.example.com/1", {"domain\tevil.example.com"}));
  EXPECT_TRUE(finds_exactly("http://evil.example.com:abc/", {"domain\tevil.example.com"}));
}

TEST(TextRules, UrlBoundaries) {
  EXPECT_TRUE(
      finds("(see http://evil.example.com/a_(b)).", "url", "http://evil.example.com/a_(b)"));
  EXPECT_TRUE(finds("<http://evil.example.com/x>", "url", "http://evil.example.com/x"));
  EXPECT_TRUE(finds("\"http://evil.example.com/x\",", "url", "http://evil.example.com/x"));
  EXPECT_TRUE(finds("[link](http://evil.example.com/y)", "url", "http://evil.example.com/y"));
  EXPECT_TRUE(finds("http://example.com test /test", "url", "http://example.com"));
  // A defanged dot is part of the URL, a sentence's dot is not.
  EXPECT_TRUE(finds("http://example[.]com/[.]", "url", "http://example.com/."));
  EXPECT_TRUE(finds("go to http://example.com/.", "url", "http://example.com/"));
  // Hashes in a URL are found (a sandbox link); file names in its path are not.
  std::string sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  EXPECT_TRUE(
      finds("https://www.virustotal.com/gui/file/" + sha256 + "/detection", "sha256", sha256));
  EXPECT_TRUE(lacks("http://evil.example.com/gate.php", "filename", "gate.php"));
  EXPECT_TRUE(lacks("http://evil.example.com/tmp/x", "filepath", "/tmp/x"));
  EXPECT_TRUE(
      finds("stratum+tcp://pool.minexmr.com:4444", "url", "stratum+tcp://pool.minexmr.com:4444"));
}

TEST(TextRules, FileNamesVersusDomains) {
  // A file extension that is also a TLD: a file unless defanged or with a scheme.
  for (const char* name : {"ratatosk.sh", "run.py", "x.zip", "libfoo.so"}) {
    std::string n(name);
    EXPECT_TRUE(finds_exactly("ran " + n, {"filename\t" + n})) << n;
  }
  EXPECT_TRUE(finds_exactly("ratatosk[.]sh", {"domain\tratatosk.sh"}));
  EXPECT_TRUE(finds_exactly("x(.)zip", {"domain\tx.zip"}));
  EXPECT_TRUE(finds("hxxp://ratatosk.sh", "domain", "ratatosk.sh"));
  EXPECT_TRUE(lacks("hxxp://ratatosk.sh", "filename", "ratatosk.sh"));
  // A defanged name whose extension is no TLD stays a file name.
  EXPECT_TRUE(finds_exactly("payload[.]exe", {"filename\tpayload.exe"}));
  // Domains need a known TLD.
  EXPECT_TRUE(finds_nothing("host.invalidtld _____.tld tooshor.t x.x.x.x +example.tld+"));
  // Abbreviations are neither.
  EXPECT_TRUE(finds_nothing("e.g. i.e. U.S.A. etc."));
}

TEST(TextRules, FilePaths) {
  EXPECT_TRUE(finds_exactly("dropped /tmp/.x/ratatosk.sh",
                            {"filepath\t/tmp/.x/ratatosk.sh", "filename\tratatosk.sh"}));
  // The basename is a file name only with a known extension.
  EXPECT_TRUE(finds_exactly("/dev/shm/xmrig", {"filepath\t/dev/shm/xmrig"}));
  EXPECT_TRUE(finds_exactly("C:\\Users\\Public\\evil.exe",
                            {"filepath\tC:\\Users\\Public\\evil.exe", "filename\tevil.exe"}));
  EXPECT_TRUE(finds_exactly("/tmp/x.sh:12: error", {"filepath\t/tmp/x.sh", "filename\tx.sh"}));
  // Not paths: prefix lengths, single letters, relative words, parts of URLs and DNs.
  EXPECT_TRUE(finds_nothing("and/or TCP/IP w/o /a /24"));
  EXPECT_TRUE(lacks("/DC=ch/DC=cern/CN=fst", "filepath", "/DC=ch/DC=cern/CN=fst"));
  EXPECT_TRUE(lacks("/DC=ch/DC=cern/CN=fst", "filepath", "/DC"));
}

TEST(TextRules, UserNamesFromLabelledFieldsOnly) {
  EXPECT_TRUE(finds_exactly("Username: alice", {"username\talice"}));
  EXPECT_TRUE(finds_exactly("user name = bob", {"username\tbob"}));
  EXPECT_TRUE(finds_exactly("LOGIN: carol", {"username\tcarol"}));
  EXPECT_TRUE(finds_exactly("account=svc_backup", {"username\tsvc_backup"}));
  EXPECT_TRUE(finds_exactly("user: \"dave\"", {"username\tdave"}));
  EXPECT_TRUE(finds_exactly("users: alice, bob and carol were seen",
                            {"username\talice", "username\tbob", "username\tcarol"}));
  EXPECT_TRUE(finds_exactly("accounts: a1, b2", {"username\ta1", "username\tb2"}));
  EXPECT_TRUE(finds_exactly("account(s): x1, y2", {"username\tx1", "username\ty2"}));
  // A singular label takes one name.
  EXPECT_TRUE(finds_exactly("user: eve, who logged in", {"username\teve"}));
  // Not user names.
  EXPECT_TRUE(finds_nothing("the user logged in as root"));
  EXPECT_TRUE(finds_nothing("Last login: Tue Nov 19 10:00:00"));
  EXPECT_TRUE(finds_nothing("login: 2024-11-19"));
  EXPECT_TRUE(finds_nothing("user: none"));
  EXPECT_TRUE(finds_nothing("superuser: x User-Agent: curl"));
  EXPECT_TRUE(finds_nothing("no label alice"));
  // "user@host": the address part, the user name only with a label.
  EXPECT_TRUE(finds_exactly("login: root@203.0.113.5", {"username\troot", "ipv4\t203.0.113.5"}));
}

TEST(TextRules, X509Dns) {
  // Spaces inside values are kept; the DN ends at a quote, '<' '>' or a bracket.
  EXPECT_TRUE(finds_exactly("\"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=fst\" was used",
                            {"x509-dn\t/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=fst"}));
  EXPECT_TRUE(
      finds_exactly("<CN=John Doe, O=Example, C=DE>", {"x509-dn\tCN=John Doe, O=Example, C=DE"}));
  EXPECT_TRUE(finds_exactly("(subject=/O=Grid/OU=Ops/CN=Jane Roe).",
                            {"x509-dn\t/O=Grid/OU=Ops/CN=Jane Roe"}));
  EXPECT_TRUE(finds_exactly("DN /DC=org/CN=a.", {"x509-dn\t/DC=org/CN=a"}));
  // Two DNs on one line.
  EXPECT_TRUE(finds_exactly("/DC=org/CN=a /DC=org/CN=b",
                            {"x509-dn\t/DC=org/CN=a", "x509-dn\t/DC=org/CN=b"}));
  // A comma DN ends where its RDNs end.
  EXPECT_TRUE(
      finds_exactly("CN=John Doe, O=Example, and more", {"x509-dn\tCN=John Doe, O=Example"}));
  // Addresses and hashes inside a DN line are still found; host names in it are identity.
  EXPECT_TRUE(finds_exactly("/DC=org/CN=wn1.example.org from 1.2.3.4",
                            {"x509-dn\t/DC=org/CN=wn1.example.org from 1.2.3.4", "ipv4\t1.2.3.4"}));
  // Not DNs: one RDN, lower-case code, unknown attributes.
  EXPECT_TRUE(finds_nothing("CN=alone"));
  EXPECT_TRUE(finds_nothing("for (c=0, l=1; c < n; ++c)"));
  EXPECT_TRUE(finds_nothing("X=1, Y=2"));
  EXPECT_TRUE(finds_nothing("/CN=single"));
}

TEST(TextRules, NoiseAddressesDroppedInTextOnly) {
  EXPECT_TRUE(finds_nothing("127.0.0.1 127.1.2.3 ::1 0.0.0.0 :: 255.255.255.255"));
  EXPECT_TRUE(finds_nothing("netmask 255.255.255.0 or 255.255.0.0"));
  EXPECT_TRUE(finds_nothing("127.0.0.0/8 0.0.0.0/0"));
  EXPECT_TRUE(finds_exactly("http://127.0.0.1:8080/x", {"url\thttp://127.0.0.1:8080/x"}));
  // Private addresses stay.
  EXPECT_TRUE(
      finds_exactly("10.0.0.5 192.168.1.1 172.16.5.4 fd00::5",
                    {"ipv4\t10.0.0.5", "ipv4\t192.168.1.1", "ipv4\t172.16.5.4", "ipv6\tfd00::5"}));
}

TEST(TextRules, EmailsNeedAValidDomain) {
  EXPECT_TRUE(finds_nothing("x@y.invalidtld and a@b"));
  EXPECT_TRUE(finds("root@203.0.113.5", "ipv4", "203.0.113.5"));
  EXPECT_TRUE(lacks("root@203.0.113.5", "email", "root@203.0.113.5"));
}

// --- what every indicator carries ---

TEST(TextSource, LineNumbersContextAndFile) {
  auto set =
      read("first line\r\nsecond 1.2.3.4  and\tmore\r\n\r\nfourth evil.example.com\n", "b.txt");
  ASSERT_EQ(set.indicators.size(), 2u);
  const auto& ip = set.indicators[0];
  EXPECT_EQ(ip.value, "1.2.3.4");
  EXPECT_EQ(ip.source.file, "b.txt");
  EXPECT_EQ(ip.source.line, 2u);
  EXPECT_EQ(ip.source.display(), "b.txt:2");
  EXPECT_EQ(ip.context, "second 1.2.3.4 and more");  // whitespace collapsed, no '\r'
  EXPECT_EQ(set.indicators[1].source.line, 4u);
  EXPECT_EQ(set.indicators[1].context, "fourth evil.example.com");
}

TEST(TextSource, ContextIsTheOriginalLineCapped) {
  std::string line = "c2 at 1[.]2[.]3[.]4 " + std::string(400, 'x');
  auto set = read(line);
  ASSERT_EQ(set.indicators.size(), 1u);
  EXPECT_EQ(set.indicators[0].context.rfind("c2 at 1[.]2[.]3[.]4", 0), 0u);
  EXPECT_LE(set.indicators[0].context.size(), 243u);
}

TEST(TextSource, FirstMentionWins) {
  auto set = read("a 1.2.3.4\nb 1.2.3.4\nc 1.2.3.4:80\n");
  ASSERT_EQ(set.indicators.size(), 1u);
  EXPECT_EQ(set.indicators[0].source.line, 1u);
}

TEST(TextSource, KeepsWhatTheSetAlreadyHad) {
  IocSet set;
  Indicator existing;
  existing.type = Type::kIpv4;
  existing.value = "1.2.3.4";
  existing.context = "from an earlier input";
  set.add(existing);
  Source src;
  src.file = "t";
  read_text("1.2.3.4 and 5.6.7.8\n1.2.3.4 again", src, set);
  ASSERT_EQ(set.indicators.size(), 2u);
  EXPECT_EQ(set.indicators[0].context, "from an earlier input");
  EXPECT_EQ(set.indicators[1].value, "5.6.7.8");
}

// --- hostile input ---

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(TextHostile, OneMegabyteLineWithoutNewline) {
  std::string line;
  while (line.size() < (1u << 20)) line += "lorem ipsum dolor sit amet ";
  line += "c2 203.0.113.7";
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(finds_exactly(line, {"ipv4\t203.0.113.7"}));
  EXPECT_LT(seconds_since(t0), 30.0);
}

TEST(TextHostile, DegenerateLinesStayLinearAndQuiet) {
  const std::string patterns[] = {
      ".",
      ":",
      "a",
      "0",
      "/",
      "\\",
      "@",
      "[",
      "[.]",
      "://",
      "://[",
      "a.",
      "1.",
      "1.2.",
      ":1",
      "::",
      "a@",
      "@a.com ",
      "=",
      "CN=a ",
      "/CN=",
      "/CN=a ",
      "CN=a, ",
      "user: ",
      "users: a, ",
      "http://a.com ",
      "%",
      "~/",
      "C:\\",
      "'",
      "\xe2\x80\x9c",
      "\xff",
      "x[dot]",
      " [at] ",
  };
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& p : patterns) {
    std::string line;
    while (line.size() < (1u << 18)) line += p;
    IocSet set = read(line);
    for (const auto& i : set.indicators) EXPECT_LE(i.value.size(), 70000u) << p;
  }
  EXPECT_LT(seconds_since(t0), 60.0) << "a pattern made the reader super-linear";
  // Only hex, of no hash's length.
  EXPECT_TRUE(finds_nothing(std::string(1u << 20, 'a')));
  EXPECT_TRUE(finds_nothing(std::string(1u << 20, '.')));
  EXPECT_TRUE(finds_nothing(std::string(1u << 20, ':')));
}

TEST(TextHostile, NulBytesAreDelimiters) {
  std::string text("1.2.3.4\0evil.example.com\0", 25);
  EXPECT_TRUE(finds_exactly(text, {"ipv4\t1.2.3.4", "domain\tevil.example.com"}));
  auto set = read(text);
  ASSERT_FALSE(set.indicators.empty());
  EXPECT_EQ(set.indicators[0].context.find('\0'), std::string::npos);
}

TEST(TextHostile, InvalidUtf8AndUnicodePunctuation) {
  EXPECT_TRUE(finds_exactly("\xff\xfe 1.2.3.4 \xc3", {"ipv4\t1.2.3.4"}));
  EXPECT_TRUE(
      finds_exactly("\xe2\x80\x9c"
                    "1.2.3.4"
                    "\xe2\x80\x9d",  // “1.2.3.4”
                    {"ipv4\t1.2.3.4"}));
  EXPECT_TRUE(
      finds_exactly("host\xc2\xa0"
                    "evil.example.com\xe2\x80\xa6",  // nbsp, ellipsis
                    {"domain\tevil.example.com"}));
  EXPECT_TRUE(
      finds_nothing("b\xc3\xbc"
                    "cher.invalid \xff.com"));
  EXPECT_TRUE(finds_nothing("/tmp/\xff\xfe.sh"));  // no path with invalid UTF-8
}

TEST(TextHostile, EmptyAndBlank) {
  EXPECT_TRUE(finds_nothing(""));
  EXPECT_TRUE(finds_nothing("\n\n\r\n"));
  EXPECT_TRUE(finds_nothing("   \t  "));
}

// --- lists ---

IocSet read_as_list(std::string_view text) {
  IocSet set;
  Source src;
  src.file = "list.txt";
  read_list(text, src, set);
  return set;
}

TEST(List, LooksLikeList) {
  EXPECT_TRUE(
      looks_like_list("1.2.3.4\nevil[.]example[.]com\n# comment\n\n"
                      "// another\nd41d8cd98f00b204e9800998ecf8427e\r\n"));
  EXPECT_TRUE(looks_like_list("127.0.0.1"));
  EXPECT_TRUE(looks_like_list("203.0.113.5   # the C2\n"));
  EXPECT_FALSE(looks_like_list("1.2.3.4\nthis line is prose\n"));
  EXPECT_FALSE(looks_like_list("# only comments\n\n"));
  EXPECT_FALSE(looks_like_list(""));
  EXPECT_FALSE(looks_like_list("Please block 1.2.3.4"));
}

TEST(List, NothingDroppedByHeuristics) {
  auto set = read_as_list("127.0.0.1\n::1\n0.0.0.0\nversion.sh\n1.2.3.4/32\n");
  std::vector<std::string> rows;
  for (const auto& i : set.indicators)
    rows.push_back(std::string(type_name(i.type)) + "\t" + i.value);
  std::vector<std::string> want = {"ipv4\t127.0.0.1", "ipv6\t::1", "ipv4\t0.0.0.0",
                                   "filename\tversion.sh", "cidr\t1.2.3.4/32"};
  EXPECT_EQ(rows, want);
}

TEST(List, SourceContextAndNotes) {
  auto set = read_as_list("# C2 servers\n203.0.113.5\n198.51.100.7   # backup c2\nnot one\n");
  ASSERT_EQ(set.indicators.size(), 2u);
  EXPECT_EQ(set.indicators[0].source.display(), "list.txt:2");
  EXPECT_EQ(set.indicators[0].context, "C2 servers");
  EXPECT_EQ(set.indicators[1].value, "198.51.100.7");
  EXPECT_EQ(set.indicators[1].context, "backup c2");
  ASSERT_EQ(set.notes.size(), 1u);
  EXPECT_EQ(set.notes[0], "list.txt:4: not an indicator: not one");
}

TEST(List, DetectedThroughReadInput) {
  IocSet set;
  Source src;
  src.file = "iocs.txt";
  read_input("127.0.0.1\nevil[.]example[.]com\n", src, ReadOptions{}, set);
  EXPECT_EQ(set.count(Type::kIpv4), 1u);  // a list: the loopback address stays
  IocSet text;
  read_input("Block these: 127.0.0.1 and evil[.]example[.]com\n", src, ReadOptions{}, text);
  EXPECT_EQ(text.count(Type::kIpv4), 0u);  // free text: dropped
  EXPECT_EQ(text.count(Type::kDomain), 1u);
}

}  // namespace
}  // namespace forage::ioc
