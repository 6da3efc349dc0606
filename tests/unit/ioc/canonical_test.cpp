// Canonical forms and validation (ioc/canonical.h): lower-case hex and domains, compressed
// lower-case IPv6, CIDR networks; classify() for explicitly listed values.
#include "ioc/canonical.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace forage::ioc {
namespace {

std::string or_none(const std::optional<std::string>& v) {
  return v ? *v : "<none>";
}

TEST(Canonical, Ipv4) {
  EXPECT_EQ(or_none(canonical_ipv4("1.2.3.4")), "1.2.3.4");
  EXPECT_EQ(or_none(canonical_ipv4("192.168.000.001")), "192.168.0.1");
  EXPECT_EQ(or_none(canonical_ipv4("255.255.255.255")), "255.255.255.255");
  for (const char* bad : {"256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4", "1.2.3.0004",
                          "a.b.c.d", "1..2.3", "", "1.2.3.-4"})
    EXPECT_FALSE(canonical_ipv4(bad)) << bad;
}

TEST(Canonical, Ipv6IsCompressedAndLowerCase) {
  EXPECT_EQ(or_none(canonical_ipv6("2001:0DB8:0000:0000:0000:0000:0000:0001")), "2001:db8::1");
  EXPECT_EQ(or_none(canonical_ipv6("FDC4:2581:575B:5A72:0000:0000:0000:0001")),
            "fdc4:2581:575b:5a72::1");
  EXPECT_EQ(or_none(canonical_ipv6("[::1]")), "::1");
  EXPECT_EQ(or_none(canonical_ipv6("::ffff:192.0.2.1")), "::ffff:192.0.2.1");
  EXPECT_EQ(or_none(canonical_ipv6("fe80:0:0:0:0:0:0:1")), "fe80::1");
  for (const char* bad : {"fe80::1%eth0", "1:2:3", "10:30:00", "00:1a:2b:3c:4d:5e", "2001:db8::g",
                          "", "1.2.3.4", "::1::2"})
    EXPECT_FALSE(canonical_ipv6(bad)) << bad;
}

TEST(Canonical, CidrClearsHostBits) {
  EXPECT_EQ(or_none(canonical_cidr("185.220.101.7/24")), "185.220.101.0/24");
  EXPECT_EQ(or_none(canonical_cidr("10.1.2.3/8")), "10.0.0.0/8");
  EXPECT_EQ(or_none(canonical_cidr("1.2.3.4/32")), "1.2.3.4/32");
  EXPECT_EQ(or_none(canonical_cidr("0.0.0.0/0")), "0.0.0.0/0");
  EXPECT_EQ(or_none(canonical_cidr("2001:DB8::1/32")), "2001:db8::/32");
  EXPECT_EQ(or_none(canonical_cidr("2001:db8:1:2::5/64")), "2001:db8:1:2::/64");
  for (const char* bad : {"1.2.3.4/33", "1.2.3.4/", "/24", "1.2.3.4/08", "1.2.3.4/2a",
                          "2001:db8::/129", "example.com/24", "1.2.3.4/1234"})
    EXPECT_FALSE(canonical_cidr(bad)) << bad;
}

TEST(Canonical, DomainIsLowerCaseWithKnownTld) {
  EXPECT_EQ(or_none(canonical_domain("Example.COM")), "example.com");
  EXPECT_EQ(or_none(canonical_domain("www.Example.co.uk.")), "www.example.co.uk");
  EXPECT_EQ(or_none(canonical_domain("short.is")), "short.is");
  EXPECT_EQ(or_none(canonical_domain("ex4mple.com")), "ex4mple.com");
  EXPECT_EQ(or_none(canonical_domain("xn--80ak6aa92e.com")), "xn--80ak6aa92e.com");
  EXPECT_EQ(or_none(canonical_domain("example.xn--p1ai")), "example.xn--p1ai");
  EXPECT_EQ(or_none(canonical_domain("example.invalidtld", false)), "example.invalidtld");
  for (const char* bad :
       {"example.invalidtld", "_____.tld", "x.x.x.x", "tooshor.t", "localhost", "-a.com", "a-.com",
        "a..com", ".com", "1.2.3.4", "exa_mple.com", "example.c0m", ""})
    EXPECT_FALSE(canonical_domain(bad)) << bad;
  EXPECT_FALSE(canonical_domain(std::string(64, 'a') + ".com"));  // label > 63
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  EXPECT_TRUE(canonical_domain(long_name + "com"));         // 253: the longest name
  EXPECT_FALSE(canonical_domain("a" + long_name + "com"));  // 254
}

TEST(Canonical, Email) {
  EXPECT_EQ(or_none(canonical_email("John.Doe@Example.COM")), "john.doe@example.com");
  EXPECT_EQ(or_none(canonical_email("a+tag@mail.example.org")), "a+tag@mail.example.org");
  for (const char* bad : {"@example.com", "a@", ".a@example.com", "a.@example.com", "a@b",
                          "a b@example.com", "a@example.invalidtld"})
    EXPECT_FALSE(canonical_email(bad)) << bad;
  EXPECT_FALSE(canonical_email(std::string("a\0b@example.com", 15)));  // a NUL is no character
}

TEST(Canonical, UrlLowerCasesSchemeAndHostOnly) {
  EXPECT_EQ(or_none(canonical_url("HTTP://Example.COM:80/Path?Q=1#F")),
            "http://example.com:80/Path?Q=1#F");
  EXPECT_EQ(or_none(canonical_url("http://example,com/")), "http://example.com/");
  EXPECT_EQ(or_none(canonical_url("http://[FDC4:2581:575b:5a72:0000:0000:0000:0001]:80/path")),
            "http://[fdc4:2581:575b:5a72::1]:80/path");
  EXPECT_EQ(or_none(canonical_url("http://fdc4:2581:575b:5a72:0000:0000:0000:0001")),
            "http://[fdc4:2581:575b:5a72::1]");
  EXPECT_EQ(or_none(canonical_url("http://user:pw@example.com/x")), "http://user:pw@example.com/x");
  EXPECT_EQ(or_none(canonical_url("http://example.com\\bad.doc")), "http://example.com\\bad.doc");
  EXPECT_EQ(or_none(canonical_url("stratum+tcp://Pool.Example.COM:3333")),
            "stratum+tcp://pool.example.com:3333");
  EXPECT_EQ(or_none(canonical_url("tcp://192.168.000.001:80/")), "tcp://192.168.0.1:80/");
  for (const char* bad :
       {"gopher://example.com/", "http://example.invalidtld/", "http://", "example.com/x",
        "http://example.com:abc/", "http://example.com:123456/", "http://[::1/", "://example.com"})
    EXPECT_FALSE(canonical_url(bad)) << bad;
}

TEST(Canonical, UrlHost) {
  auto d = url_host("http://sub.Example.com:8080/x");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->type, Type::kDomain);
  EXPECT_EQ(d->value, "sub.example.com");
  auto v4 = url_host("http://192.168.0.1:80/path");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->type, Type::kIpv4);
  EXPECT_EQ(v4->value, "192.168.0.1");
  auto v6 = url_host("tcp://[fdc4:2581:575b:5a72::1]:80/path");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->type, Type::kIpv6);
  EXPECT_EQ(v6->value, "fdc4:2581:575b:5a72::1");

  auto both = canonical_url_and_host("HTTPS://WWW.Example.org/A");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->url, "https://www.example.org/A");
  EXPECT_EQ(both->host_type, Type::kDomain);
  EXPECT_EQ(both->host, "www.example.org");
  EXPECT_FALSE(canonical_url_and_host("http://nowhere.invalidtld/"));
}

TEST(Canonical, HashTypeByLength) {
  EXPECT_EQ(hash_type(std::string(32, 'a')), Type::kMd5);
  EXPECT_EQ(hash_type(std::string(40, 'B')), Type::kSha1);
  EXPECT_EQ(hash_type(std::string(64, '0')), Type::kSha256);
  EXPECT_EQ(hash_type(std::string(128, 'f')), Type::kSha512);
  EXPECT_FALSE(hash_type(std::string(34, 'a')));  // iocextract's invalid 34-hex string
  EXPECT_FALSE(hash_type(std::string(31, 'a')));
  EXPECT_FALSE(hash_type(std::string(31, 'a') + "g"));
  EXPECT_EQ(or_none(canonicalize(Type::kSha256, std::string(64, 'E'))), std::string(64, 'e'));
  EXPECT_FALSE(canonicalize(Type::kSha1, std::string(32, 'a')));  // an MD5 is no SHA-1
}

TEST(Canonical, X509Dn) {
  EXPECT_EQ(or_none(canonical_x509_dn("/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=fst")),
            "/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=fst");
  EXPECT_EQ(or_none(canonical_x509_dn("/DC=org/CN=host/wn1.example.org")),
            "/DC=org/CN=host/wn1.example.org");  // '/' inside a value
  EXPECT_EQ(or_none(canonical_x509_dn("CN=John Doe,O=Example , C=DE")),
            "CN=John Doe, O=Example, C=DE");
  EXPECT_EQ(or_none(canonical_x509_dn("CN=Doe\\, John, O=Example")), "CN=Doe\\, John, O=Example");
  for (const char* bad :
       {"/tmp/x", "/etc/passwd", "CN=alone", "CN=a, foo", "X=1, Y=2", "", "CN=, O=x"})
    EXPECT_FALSE(canonical_x509_dn(bad)) << bad;
}

TEST(Canonical, TldsAndFileExtensions) {
  for (const char* tld : {"com", "COM", "is", "sh", "py", "zip", "de", "ch"})
    EXPECT_TRUE(is_known_tld(tld)) << tld;
  for (const char* no : {"tld", "invalidtld", "", "c", "exe"}) EXPECT_FALSE(is_known_tld(no)) << no;
  for (const char* ext : {"sh", "EXE", "xz", "so", "py", "zip", "tar"})
    EXPECT_TRUE(is_file_extension(ext)) << ext;
  for (const char* no : {"com", "org", "", "shx"}) EXPECT_FALSE(is_file_extension(no)) << no;
  EXPECT_FALSE(is_file_extension(std::string(100, 'a')));
}

TEST(Canonical, InDomain) {
  EXPECT_TRUE(in_domain("example.org", "example.org"));
  EXPECT_TRUE(in_domain("wiki.example.org", "example.org"));
  EXPECT_FALSE(in_domain("badexample.org", "example.org"));
  EXPECT_FALSE(in_domain("example.org", "wiki.example.org"));
  EXPECT_FALSE(in_domain("example.org", ""));
}

struct Expect {
  const char* in;
  std::optional<Type> type;
  const char* value;
};

TEST(Classify, ExplicitValues) {
  const Expect cases[] = {
      {"1.2.3.4", Type::kIpv4, "1.2.3.4"},
      {"127.0.0.1", Type::kIpv4, "127.0.0.1"},  // an explicit loopback stays
      {"192[.]168[.]0[.]1:80/path", Type::kIpv4, "192.168.0.1"},
      {"1.2.3.4:8080", Type::kIpv4, "1.2.3.4"},
      {"185.220.101.7/24", Type::kCidr, "185.220.101.0/24"},
      {"2001:0DB8::0001", Type::kIpv6, "2001:db8::1"},
      {"[2001:db8::1]:443", Type::kIpv6, "2001:db8::1"},
      {"::1", Type::kIpv6, "::1"},
      {"Example[.]COM", Type::kDomain, "example.com"},
      {"short[.]is", Type::kDomain, "short.is"},
      {"hxxps://Evil[.]example[.]com/X", Type::kUrl, "https://evil.example.com/X"},
      {"hxxps://evil[.]example/x", std::nullopt, ""},  // ".example" is no delegated TLD
      {"a[@]b[.]com", Type::kEmail, "a@b.com"},
      {"D41D8CD98F00B204E9800998ECF8427E", Type::kMd5, "d41d8cd98f00b204e9800998ecf8427e"},
      {"ratatosk.sh", Type::kFilename, "ratatosk.sh"},
      {"ratatosk[.]sh", Type::kDomain, "ratatosk.sh"},
      {"payload.exe", Type::kFilename, "payload.exe"},
      {"/tmp/.x/ratatosk.sh", Type::kFilepath, "/tmp/.x/ratatosk.sh"},
      {"C:\\Users\\x\\evil.exe", Type::kFilepath, "C:\\Users\\x\\evil.exe"},
      {"/DC=ch/DC=cern/CN=fst", Type::kX509Dn, "/DC=ch/DC=cern/CN=fst"},
      {"hello world", std::nullopt, ""},
      {"hello", std::nullopt, ""},
      {"example[.]com/", std::nullopt, ""},
      {"", std::nullopt, ""},
  };
  for (const auto& c : cases) {
    auto got = classify(c.in);
    if (!c.type) {
      EXPECT_FALSE(got) << c.in << " -> " << (got ? got->value : "");
      continue;
    }
    ASSERT_TRUE(got) << c.in;
    EXPECT_EQ(got->type, *c.type) << c.in;
    EXPECT_EQ(got->value, c.value) << c.in;
  }
}

TEST(Canonicalize, ByType) {
  EXPECT_EQ(or_none(canonicalize(Type::kIpv4, "1.2.3.4/32")), "1.2.3.4");
  EXPECT_EQ(or_none(canonicalize(Type::kIpv4, "1[.]2[.]3[.]4:443")), "1.2.3.4");
  EXPECT_FALSE(canonicalize(Type::kIpv4, "1.2.3.4/24"));
  EXPECT_EQ(or_none(canonicalize(Type::kDomain, "Intranet.Local")), "intranet.local");
  EXPECT_EQ(or_none(canonicalize(Type::kUsername, "fsta")), "fsta");
  EXPECT_FALSE(canonicalize(Type::kUsername, "two words"));
  EXPECT_FALSE(canonicalize(Type::kFilename, "a/b"));
  EXPECT_FALSE(canonicalize(Type::kFilepath, "relative/path"));
}

}  // namespace
}  // namespace forage::ioc
