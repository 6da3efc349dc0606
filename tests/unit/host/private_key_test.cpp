// Private-key detection: real keys from ssh-keygen, openssl, gpg and PuTTY-format text are keys;
// the ssh binaries and sources or documents that only quote a header are not (issue 11.8).
#include "host/private_key.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "../bundle/test_util.h"

namespace forage::host {
namespace {

using bundle::test::run;
using bundle::test::slurp;
using bundle::test::TempDir;

constexpr const char* kBody =
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n";

TEST(PrivateKey, PemBlocksWithABody) {
  EXPECT_EQ(private_key_kind(std::string("-----BEGIN PRIVATE KEY-----\n") + kBody +
                             "-----END PRIVATE KEY-----\n"),
            "PEM PRIVATE KEY");
  EXPECT_EQ(private_key_kind(std::string("some comment\r\n-----BEGIN EC PRIVATE KEY-----\r\n") +
                             kBody + "-----END EC PRIVATE KEY-----\r\n"),
            "PEM EC PRIVATE KEY");
  // RFC 1421 headers of a legacy encrypted key.
  EXPECT_EQ(private_key_kind(std::string("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                                         "DEK-Info: AES-128-CBC,0011\n\n") +
                             kBody + "-----END RSA PRIVATE KEY-----\n"),
            "PEM RSA PRIVATE KEY");
  EXPECT_EQ(private_key_kind(std::string("-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: x\n\n") +
                             kBody + "=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n"),
            "PEM PGP PRIVATE KEY BLOCK");
}

TEST(PrivateKey, HeadersAloneAreNotKeys) {
  EXPECT_EQ(private_key_kind("-----BEGIN RSA PRIVATE KEY-----\n"), "");
  EXPECT_EQ(private_key_kind("x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n"), "");  // no END
  EXPECT_EQ(private_key_kind(std::string("-----BEGIN RSA PRIVATE KEY-----\n") + kBody +
                             "-----END EC PRIVATE KEY-----\n"),
            "");  // END of another label
  EXPECT_EQ(private_key_kind(std::string("-----BEGIN CERTIFICATE-----\n") + kBody +
                             "-----END CERTIFICATE-----\n"),
            "");
  // Quoted in a source or a sentence: not at a line start.
  EXPECT_EQ(private_key_kind(std::string("const char* k = \"-----BEGIN PRIVATE KEY-----\\n\";\n") +
                             kBody + "-----END PRIVATE KEY-----\n"),
            "");
  EXPECT_EQ(private_key_kind("PEM \"-----BEGIN ... PRIVATE KEY-----\" lines"), "");
  // In a binary, strings end with NULs.
  static constexpr char kInBinary[] =
      "\0-----BEGIN OPENSSH PRIVATE KEY-----\n\0-----END OPENSSH PRIVATE KEY-----\n\0";
  EXPECT_EQ(private_key_kind(std::string(kInBinary, sizeof kInBinary - 1)), "");
  // Not base64 in between.
  EXPECT_EQ(private_key_kind("-----BEGIN PRIVATE KEY-----\nthis is not a key, see the docs!\n"
                             "-----END PRIVATE KEY-----\n"),
            "");
  EXPECT_EQ(private_key_kind(""), "");
  EXPECT_EQ(private_key_kind("ssh-ed25519 AAAAC3Nza alice@laptop\n"), "");
}

TEST(PrivateKey, BinaryContainers) {
  EXPECT_EQ(private_key_kind(std::string("openssh-key-v1\0\0\0\0\x04none", 24)), "OpenSSH");
  EXPECT_EQ(private_key_kind("(11:private-key(3:rsa(1:n257:"), "GnuPG private key");
  EXPECT_EQ(private_key_kind("(21:protected-private-key(3:ecc"), "GnuPG private key");
  EXPECT_EQ(private_key_kind("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"
                             "Public-Lines: 2\nAAAA\nAAAA\nPrivate-Lines: 1\nAAAA\n"),
            "PuTTY");
  EXPECT_EQ(private_key_kind("PuTTY-User-Key-File-3: ssh-ed25519\n"), "");  // no private lines
  // OpenPGP Secret-Key packet, old format, 2-byte length, version 4, created 2020, EdDSA (22).
  std::string pkt("\x95\x01\x00\x04\x5e\x0b\xe1\x00\x16\x09\x2b", 11);
  EXPECT_EQ(private_key_kind(pkt), "OpenPGP secret key");
  std::string public_key("\x99\x01\x00\x04\x5e\x0b\xe1\x00\x16\x09\x2b", 11);  // tag 6
  EXPECT_EQ(private_key_kind(public_key), "");
  std::string bad_time("\x95\x01\x00\x04\x00\x00\x00\x01\x16\x09\x2b", 11);
  EXPECT_EQ(private_key_kind(bad_time), "");
}

TEST(PrivateKey, RealKeysFromRealTools) {
  TempDir t;
  std::string err;
  ASSERT_EQ(run("ssh-keygen -q -t ed25519 -N '' -f " + (t / "ed"), &err), 0) << err;
  ASSERT_EQ(run("ssh-keygen -q -t rsa -b 1024 -N secret -m PEM -f " + (t / "rsa"), &err), 0) << err;
  ASSERT_EQ(run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out " +
                    (t / "ec.pem"),
                &err),
            0)
      << err;
  EXPECT_EQ(private_key_kind(slurp(t / "ed")), "PEM OPENSSH PRIVATE KEY");
  EXPECT_EQ(private_key_kind(slurp(t / "rsa")), "PEM RSA PRIVATE KEY");
  EXPECT_EQ(private_key_kind(slurp(t / "ec.pem")), "PEM PRIVATE KEY");
  EXPECT_EQ(private_key_kind(slurp(t / "ed.pub")), "");
  // The OpenSSH container decoded from its PEM armor.
  ASSERT_EQ(run("sed '1d;$d' " + (t / "ed") + " | base64 -d > " + (t / "raw"), &err), 0) << err;
  EXPECT_EQ(private_key_kind(slurp(t / "raw")), "OpenSSH");
}

// The ssh tools quote the headers they write; they hold no key. So do this repository's own
// sources and documents, which name the headers in comments and prose.
TEST(PrivateKey, SshBinariesAndThisRepositoryAreNotKeys) {
  int seen = 0;
  for (const char* bin : {"/usr/bin/ssh", "/usr/bin/ssh-agent", "/usr/bin/ssh-keygen",
                          "/usr/bin/ssh-add", "/usr/sbin/sshd", "/usr/bin/openssl"}) {
    struct stat st {};
    if (::stat(bin, &st) != 0) continue;
    ++seen;
    EXPECT_EQ(private_key_kind(slurp(bin)), "") << bin;
  }
  EXPECT_GE(seen, 2);
  std::string src = std::string(FORAGE_TEST_DATA) + "/../..";
  for (const char* f :
       {"host/private_key.h", "host/private_key.cpp", "collector/artifacts.h",
        "docs/runbook-admin.md", "docs/guide-csirt.md", "tests/unit/host/private_key_test.cpp"}) {
    struct stat st {};
    if (::stat((src + "/" + f).c_str(), &st) != 0) continue;
    EXPECT_EQ(private_key_kind(slurp(src + "/" + f)), "") << f;
  }
}

}  // namespace
}  // namespace forage::host
