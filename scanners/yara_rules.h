// YARA through libyara: rules compiled (or loaded) once per run and shared by every scan thread,
// one scanner per thread. yara.h stays inside yara_rules.cpp: its macros clash with C++ headers
// (nlohmann/json), so this header only forward-declares the C handles.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

typedef struct YR_RULES YR_RULES;
typedef struct YR_SCAN_CONTEXT YR_SCAN_CONTEXT;  // libyara: typedef YR_SCAN_CONTEXT YR_SCANNER

namespace forage::scanners {

// yr_initialize()/yr_finalize() around everything that uses libyara. Reference-counted and
// thread-safe, so any number of guards may live at once; every YaraRules holds one.
class YaraLibrary {
 public:
  YaraLibrary();
  ~YaraLibrary();
  YaraLibrary(const YaraLibrary&) = delete;
  YaraLibrary& operator=(const YaraLibrary&) = delete;
};

// The externals Loki/THOR-style rule sets expect (signature-base uses all five). Defined for
// every rule set we compile, empty by default, set per target.
struct YaraExternals {
  std::string filename;   // base name
  std::string filepath;   // full path
  std::string extension;  // lower-case with the dot, ".exe" ("" when none), as Loki sets it
  std::string filetype;   // short upper-case tag as Loki sets it: "ELF", "EXE", "ZIP", ...
  std::string owner;      // user name of the owner (numeric uid when unknown)
};
inline constexpr const char* kYaraExternalNames[] = {"filename", "filepath", "extension",
                                                     "filetype", "owner"};

// Compiled rules: one or more YR_RULES (each compiled rule file given is its own set; every
// source file given is compiled into one set, each file in its own namespace).
class YaraRules {
 public:
  // paths: .yar/.yara files, directories of them (recursive, sorted), compiled rule files
  // (yarac or --save-compiled output, recognised by content). Throws forage::Error naming the
  // file and line of the first compile error (exit 2).
  static YaraRules load(const std::vector<std::string>& paths);
  // One rule text, e.g. the embedded default set. `name` appears in error messages.
  static YaraRules from_string(std::string_view text, const std::string& name);
  // The default rule set compiled into the binary (scanners/rules/*.yar).
  static YaraRules builtin();
  static std::string_view builtin_source();

  YaraRules(YaraRules&&) noexcept;
  YaraRules& operator=(YaraRules&&) noexcept;
  ~YaraRules();

  // Writes the rules in libyara's compiled format (readable by `yara -C` and by load()).
  // Only possible for a single set (all sources, or one compiled file).
  void save(const std::string& path) const;

  size_t rule_count() const { return rule_count_; }
  // False when no rule can read the `filetype` external: the libmagic call it costs per target
  // is then skipped. Conservative: compiled rules and rules with includes count as using it.
  bool uses_filetype() const { return uses_filetype_; }
  size_t set_count() const { return sets_.size(); }
  std::vector<std::string> warnings() const { return warnings_; }

 private:
  friend class YaraScanner;
  struct FreeRules {
    void operator()(YR_RULES* r) const;
  };
  YaraRules();
  std::unique_ptr<YaraLibrary> lib_;
  std::vector<std::unique_ptr<YR_RULES, FreeRules>> sets_;
  size_t rule_count_ = 0;
  bool uses_filetype_ = false;
  std::vector<std::string> warnings_;
};

struct YaraStringHit {
  std::string identifier;  // "$a"
  uint64_t offset = 0;     // from the start of the scanned buffer, plus its base address
  std::string data;        // matched bytes (capped), printable or \xNN escaped
};

struct YaraMatch {
  std::string rule;
  std::string ns;  // namespace
  std::vector<std::string> tags;
  struct Meta {
    std::string key;
    std::string text;  // string metas
    int64_t number = 0;
    enum Type { kString, kInteger, kBoolean } type = kString;
  };
  std::vector<Meta> meta;
  std::vector<YaraStringHit> strings;  // capped per rule
};

enum class YaraStatus { kOk, kTimeout, kError };

struct YaraResult {
  YaraStatus status = YaraStatus::kOk;
  std::string error;  // for kError (and kTimeout)
  std::vector<YaraMatch> matches;
};

// One per thread (YR_SCANNER is not thread-safe); the rules must outlive it.
class YaraScanner {
 public:
  // timeout_s: per scan; 0 means none.
  YaraScanner(const YaraRules& rules, int timeout_s);
  YaraScanner(YaraScanner&&) noexcept;
  YaraScanner& operator=(YaraScanner&&) noexcept;
  ~YaraScanner();

  // Scans one buffer. `base` is added to string offsets (a process region's address).
  // Externals not defined in a compiled rule set are skipped silently.
  YaraResult scan(const uint8_t* data, size_t size, const YaraExternals& ext, uint64_t base = 0);

 private:
  struct FreeScanner {
    void operator()(YR_SCAN_CONTEXT* s) const;
  };
  std::vector<std::unique_ptr<YR_SCAN_CONTEXT, FreeScanner>> scanners_;
};

// Loki's short file-type tag from a libmagic description ("ELF 64-bit LSB ..." -> "ELF",
// "PE32 executable ..." -> "EXE"); "" when none applies.
std::string filetype_tag(std::string_view magic_description);

}  // namespace forage::scanners
