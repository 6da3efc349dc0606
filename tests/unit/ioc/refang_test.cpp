// Refanging (ioc/refang.h): every defang form CSIRTs use, the mask that remembers what was
// defanged, and hostile lines.
#include "ioc/refang.h"

#include <algorithm>
#include <vector>

#include "ioc/indicator.h"
#include "ioc/reader.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace forage::ioc {
namespace {

struct Case {
  const char* in;
  const char* out;
};

TEST(Refang, EveryCommonForm) {
  const Case cases[] = {
      {"example[.]com", "example.com"},
      {"example(.)com", "example.com"},
      {"example{.}com", "example.com"},
      {"example[dot]com", "example.com"},
      {"example[DOT]com", "example.com"},
      {"example(dot)com", "example.com"},
      {"example{dot}com", "example.com"},
      {"example\\.com", "example.com"},
      {"hxxp://example.com", "http://example.com"},
      {"hxxps://example.com", "https://example.com"},
      {"hXXp://example.com", "http://example.com"},
      {"HXXPS://example.com", "https://example.com"},
      {"h**p://example.com", "http://example.com"},
      {"h**ps://example.com", "https://example.com"},
      {"fxp://files.example.com", "ftp://files.example.com"},
      {"meow://example.com", "http://example.com"},
      {"http[:]//example.com", "http://example.com"},
      {"hxxp[:]//example.com", "http://example.com"},
      {"http[://]example.com", "http://example.com"},
      {"hxxps[://]example.com", "https://example.com"},
      {"http://example.com[/]test", "http://example.com/test"},
      {"user[@]example.com", "user@example.com"},
      {"user(@)example.com", "user@example.com"},
      {"user{@}example.com", "user@example.com"},
      {"user[at]example.com", "user@example.com"},
      {"user(at)example.com", "user@example.com"},
      {"user{at}example.com", "user@example.com"},
      {"192[.]168[.]0[.]1", "192.168.0.1"},
      {"192[.]168[dot]0[.]1", "192.168.0.1"},
      // Half brackets, as in the iocextract data.
      {"http://example[.com/", "http://example.com/"},
      {"example.]com", "example.com"},
      {"http://[example.com", "http://example.com"},
      // Bracketed word forms between spaces.
      {"user [at] example [dot] com", "user@example.com"},
      {"user {at} example {dot} com", "user@example.com"},
  };
  for (const auto& c : cases) EXPECT_EQ(refang(c.in), c.out) << c.in;
}

TEST(Refang, LeavesProseAndLiteralsAlone) {
  const char* unchanged[] = {
      "meet (at) noon",           // word forms only between names
      "a smile (.) in prose",     // "(.)" glued to nothing
      "see [1.2.3.4] and [::1]",  // brackets around a value
      "http://[::1]:8080/x",      // an IPv6 literal, not a half bracket
      "http://[fdc4:2581:575b:5a72:0000:0000:0000:0001]:80/path",
      "hxxp is not a scheme here",  // no "://" after it
      "thxxp://example.com",        // not at a word start
      "\\.bashrc",                  // "\." needs a name on both sides
      "ends with [.",               // half bracket at the end of the text
      "foo [at]bar",                // spaced form needs spaces on both sides
      "",
  };
  for (const char* s : unchanged) EXPECT_EQ(refang(s), s) << s;
}

TEST(Refang, MaskMarksDefangedBytes) {
  auto r = refang_marked("ratatosk[.]sh");
  EXPECT_EQ(r.text, "ratatosk.sh");
  ASSERT_EQ(r.defanged.size(), r.text.size());
  EXPECT_TRUE(r.any());
  EXPECT_TRUE(r.defanged[8]);
  EXPECT_FALSE(r.defanged[7]);
  EXPECT_FALSE(r.any_in(0, 8));
  EXPECT_TRUE(r.any_in(0, 9));
  EXPECT_FALSE(r.any_in(9, 100));  // clamped to the text

  auto scheme = refang_marked("hxxp://a.com");
  EXPECT_EQ(scheme.text, "http://a.com");
  EXPECT_TRUE(scheme.any_in(0, 4));
  EXPECT_FALSE(scheme.any_in(4, scheme.text.size()));

  // A dropped half bracket marks the byte before it.
  auto half = refang_marked("http://[example.com");
  EXPECT_EQ(half.text, "http://example.com");
  EXPECT_TRUE(half.defanged[6]);

  auto plain = refang_marked("ratatosk.sh");
  EXPECT_EQ(plain.text, "ratatosk.sh");
  EXPECT_EQ(plain.defanged.size(), plain.text.size());
  EXPECT_FALSE(plain.any());
}

TEST(Refang, IntoReusesBuffersAndSaysWhenNothingChanged) {
  Refanged out;
  out.text = "untouched";
  EXPECT_FALSE(refang_into("plain text 1.2.3.4 (see note)", out));
  EXPECT_EQ(out.text, "untouched");
  EXPECT_TRUE(refang_into("1[.]2[.]3[.]4", out));
  EXPECT_EQ(out.text, "1.2.3.4");
  EXPECT_EQ(out.defanged.size(), out.text.size());
  EXPECT_TRUE(refang_into("a[.]b", out));
  EXPECT_EQ(out.text, "a.b");  // the previous content is gone
  EXPECT_EQ(out.defanged.size(), 3u);
}

// Lines with many forms take the byte-by-byte path instead of the memchr candidates: both must
// give the same text.
TEST(Refang, ManyFormsOnOneLineGiveTheSameResult) {
  const std::string samples[] = {
      "hxxp://evil[.]example[.]com/a user[at]evil[dot]com 10[.]0[.]0[.]1 x.]y http://[host.org",
      "meet (at) noon: hxxps[://]a(.)b ftp fxp://c{.}d e\\.f [1.2.3.4] http://[::1]/",
  };
  std::string padding(70, '(');  // 70 more candidates, none a form
  for (const auto& s : samples) {
    EXPECT_EQ(refang(s + " " + padding), refang(s) + " " + padding) << s;
  }
  std::string many;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    many += "a[.]b ";
    expected += "a.b ";
  }
  EXPECT_EQ(refang(many), expected);
}

TEST(Refang, HostileLinesStayLinear) {
  auto t0 = std::chrono::steady_clock::now();
  const std::string patterns[] = {"[", "://[", "[.", "hxxp", "(at)", "\\", ".]", "[:]", " [at] "};
  for (const auto& p : patterns) {
    std::string s;
    while (s.size() < (1u << 20)) s += p;
    auto r = refang_marked(s);
    EXPECT_EQ(r.text.size(), r.defanged.size());
  }
  std::string nul("a\0[.]b", 6);
  EXPECT_EQ(refang(nul), std::string("a\0.b", 4));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 30.0) << "refang is not linear on hostile lines";
}

}  // namespace
}  // namespace forage::ioc

namespace forage::ioc {
namespace {

TEST(Refang, WindowsDotDirectoriesStayPaths) {
  EXPECT_EQ(refang(R"(C:\Users\bob\.ssh\id_rsa)"), R"(C:\Users\bob\.ssh\id_rsa)");
  EXPECT_EQ(refang(R"(dropped in C:\ProgramData\.cache\x.exe and evil\.com)"),
            R"(dropped in C:\ProgramData\.cache\x.exe and evil.com)");
  EXPECT_EQ(refang(R"(example\.com)"), "example.com");
}

TEST(Refang, WindowsPathsSurviveExtraction) {
  IocSet set;
  Source src;
  src.file = "t";
  read_text(R"(payload at C:\Users\bob\.ssh\id_rsa.exe, c2 evil\.example\.net)", src, set);
  std::vector<std::string> got;
  for (const auto& i : set.indicators)
    got.push_back(std::string(type_name(i.type)) + " " + i.value);
  EXPECT_NE(std::find(got.begin(), got.end(), R"(filepath C:\Users\bob\.ssh\id_rsa.exe)"),
            got.end())
      << ::testing::PrintToString(got);
  EXPECT_NE(std::find(got.begin(), got.end(), "domain evil.example.net"), got.end())
      << ::testing::PrintToString(got);
}

}  // namespace
}  // namespace forage::ioc
