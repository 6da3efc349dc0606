// to_yara judged by libyara: the rule file compiles with the externals forage scan defines, and
// the compiled rules match the files the indicators name. Kept apart from nlohmann/json, whose
// names clash with macros in yara.h.
#include <gtest/gtest.h>
#include <yara.h>

#include <memory>
#include <set>
#include <string>

#include "ioc/writers.h"

namespace forage::ioc {
namespace {

struct CompilerDeleter {
  void operator()(YR_COMPILER* c) const { yr_compiler_destroy(c); }
};
struct RulesDeleter {
  void operator()(YR_RULES* r) const { yr_rules_destroy(r); }
};

class Yara : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(yr_initialize(), ERROR_SUCCESS); }
  static void TearDownTestSuite() { yr_finalize(); }

  // Compiles `source` with the externals filename/filepath; "" on success, else the errors.
  std::string compile(const std::string& source) {
    YR_COMPILER* raw = nullptr;
    if (yr_compiler_create(&raw) != ERROR_SUCCESS) return "yr_compiler_create failed";
    std::unique_ptr<YR_COMPILER, CompilerDeleter> compiler(raw);
    std::string errors;
    yr_compiler_set_callback(
        compiler.get(),
        [](int level, const char*, int line, const YR_RULE*, const char* message, void* user) {
          if (level == YARA_ERROR_LEVEL_ERROR)
            *static_cast<std::string*>(user) +=
                "line " + std::to_string(line) + ": " + message + "\n";
        },
        &errors);
    yr_compiler_define_string_variable(compiler.get(), "filename", "");
    yr_compiler_define_string_variable(compiler.get(), "filepath", "");
    if (yr_compiler_add_string(compiler.get(), source.c_str(), nullptr) != 0) return errors;
    YR_RULES* rules = nullptr;
    if (yr_compiler_get_rules(compiler.get(), &rules) != ERROR_SUCCESS) return "no rules";
    rules_.reset(rules);
    return "";
  }

  // The rules matching `data` as a file called `path`.
  std::set<std::string> scan(const std::string& data, const std::string& name,
                             const std::string& path) {
    yr_rules_define_string_variable(rules_.get(), "filename", name.c_str());
    yr_rules_define_string_variable(rules_.get(), "filepath", path.c_str());
    std::set<std::string> hits;
    yr_rules_scan_mem(
        rules_.get(), reinterpret_cast<const uint8_t*>(data.data()), data.size(), 0,
        [](YR_SCAN_CONTEXT*, int message, void* data, void* user) {
          if (message == CALLBACK_MSG_RULE_MATCHING)
            static_cast<std::set<std::string>*>(user)->insert(
                static_cast<YR_RULE*>(data)->identifier);
          return CALLBACK_CONTINUE;
        },
        &hits, 0);
    return hits;
  }

  std::unique_ptr<YR_RULES, RulesDeleter> rules_;
};

Indicator make(Type t, std::string value) {
  Indicator i;
  i.type = t;
  i.value = std::move(value);
  return i;
}

TEST_F(Yara, RulesCompileAndMatchHashesAndNames) {
  IocSet set;
  set.case_tag = "EGI-20261120-01";
  set.tlp = "TLP:AMBER";
  set.add(make(Type::kMd5, "900150983cd24fb0d6963f7d28e17f72"));           // "abc"
  set.add(make(Type::kSha1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"));  // "abcdbcde...nopq"
  set.add(make(Type::kSha256,
               "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));  // "hello"
  set.add(make(Type::kSha512, std::string(128, 'a')));  // not in YARA's hash module: left out
  set.add(make(Type::kFilename, "ratatosk.sh"));
  set.add(make(Type::kFilename, "we\"ird\\name\tx.sh"));
  set.add(make(Type::kFilename, "na\xC3\xAFve.sh"));  // UTF-8
  set.add(make(Type::kFilepath, "/var/tmp/.ICE-unix/.r"));
  set.add(make(Type::kIpv4, "192.0.2.1"));  // not a file property: left out
  std::string source = to_yara(set);
  ASSERT_EQ(compile(source), "") << source;

  EXPECT_EQ(scan("abc", "a.txt", "/tmp/a.txt"), (std::set<std::string>{"forage_ioc_hashes"}));
  EXPECT_EQ(scan("hello", "a.txt", "/tmp/a.txt"), (std::set<std::string>{"forage_ioc_hashes"}));
  EXPECT_EQ(scan("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "b", "/b"),
            (std::set<std::string>{"forage_ioc_hashes"}));
  EXPECT_EQ(scan("nothing", "ratatosk.sh", "/home/u/ratatosk.sh"),
            (std::set<std::string>{"forage_ioc_filenames"}));
  EXPECT_EQ(scan("nothing", "we\"ird\\name\tx.sh", "/x"),
            (std::set<std::string>{"forage_ioc_filenames"}));
  EXPECT_EQ(scan("nothing", "na\xC3\xAFve.sh", "/x"),
            (std::set<std::string>{"forage_ioc_filenames"}));
  EXPECT_EQ(scan("nothing", ".r", "/var/tmp/.ICE-unix/.r"),
            (std::set<std::string>{"forage_ioc_filenames"}));
  EXPECT_EQ(scan("abc", "ratatosk.sh", "/x/ratatosk.sh"),
            (std::set<std::string>{"forage_ioc_hashes", "forage_ioc_filenames"}));
  EXPECT_TRUE(scan("nothing", "other.sh", "/tmp/other.sh").empty());
  EXPECT_EQ(source.find(std::string(128, 'a')), std::string::npos);
  EXPECT_EQ(source.find("192.0.2.1"), std::string::npos);
}

TEST_F(Yara, EmptySetCompilesToARuleThatNeverMatches) {
  std::string source = to_yara(IocSet{});
  ASSERT_EQ(compile(source), "") << source;
  EXPECT_TRUE(scan("abc", "ratatosk.sh", "/x").empty());
}

TEST_F(Yara, HostileCaseTagAndNamesStayInsideTheirStrings) {
  IocSet set;
  set.case_tag = "X\"\n} rule injected { condition: true }";
  set.add(make(Type::kFilename, "\"\n} rule injected2 { condition: true } //"));
  std::string source = to_yara(set);
  ASSERT_EQ(compile(source), "") << source;
  auto hits = scan("abc", "harmless", "/harmless");
  EXPECT_EQ(hits.count("injected"), 0u);
  EXPECT_EQ(hits.count("injected2"), 0u);
  EXPECT_TRUE(hits.empty());
}

}  // namespace
}  // namespace forage::ioc
