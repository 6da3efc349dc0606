// The only file that includes yara.h (see yara_rules.h): no nlohmann/json here.
#include "scanners/yara_rules.h"

#include <yara.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <spdlog/spdlog.h>

#include "common/embedded.h"
#include "common/error.h"
#include "common/file.h"
#include "common/strings.h"

FORAGE_EMBEDDED_DECLARE(default_rules)

namespace forage::scanners {
namespace fs = std::filesystem;

namespace {

std::mutex g_lib_mu;
int g_lib_refs = 0;

constexpr size_t kMaxStringsPerRule = 16;
constexpr size_t kMaxMatchBytes = 64;

std::string yara_error_name(int code) {
  switch (code) {
    case ERROR_INSUFFICIENT_MEMORY:
      return "out of memory";
    case ERROR_COULD_NOT_OPEN_FILE:
      return "cannot open file";
    case ERROR_INVALID_FILE:
      return "not a compiled YARA rules file";
    case ERROR_CORRUPT_FILE:
      return "corrupt compiled rules";
    case ERROR_UNSUPPORTED_FILE_VERSION:
      return "compiled by an incompatible YARA version";
    case ERROR_SCAN_TIMEOUT:
      return "timeout";
    case ERROR_TOO_MANY_SCAN_THREADS:
      return "too many scan threads (libyara allows 32)";
    case ERROR_TOO_MANY_MATCHES:
      return "too many matches";
    case ERROR_TOO_MANY_RE_FIBERS:
      return "regular expression too complex";
    case ERROR_INTERNAL_FATAL_ERROR:
      return "internal libyara error";
    default:
      return "libyara error " + std::to_string(code);
  }
}

// Matched bytes as text: printable ASCII kept, the rest \xNN.
std::string render_bytes(const uint8_t* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

bool is_rule_source_name(const fs::path& p) {
  std::string ext = to_lower(p.extension().string());
  return ext == ".yar" || ext == ".yara";
}

// Compiled rules begin with the 4 bytes "YARA" (libyara's arena header).
bool is_compiled_rules(const std::string& path) {
  Fd fd = open_evidence(path);
  char magic[4] = {};
  ssize_t n = ::pread(fd.get(), magic, sizeof magic, 0);
  return n == 4 && std::memcmp(magic, "YARA", 4) == 0;
}

struct CompilerDeleter {
  void operator()(YR_COMPILER* c) const { yr_compiler_destroy(c); }
};
using CompilerPtr = std::unique_ptr<YR_COMPILER, CompilerDeleter>;

struct CompileLog {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

void compiler_callback(int level, const char* file, int line, const YR_RULE* rule,
                       const char* message, void* user) {
  auto* log = static_cast<CompileLog*>(user);
  std::string where = file ? file : "<rules>";
  if (line > 0) where += ":" + std::to_string(line);
  std::string text = where + ": " + (message ? message : "error");
  if (rule && rule->identifier) text += " (rule " + std::string(rule->identifier) + ")";
  if (level == YARA_ERROR_LEVEL_ERROR)
    log->errors.push_back(std::move(text));
  else
    log->warnings.push_back(std::move(text));
}

CompilerPtr new_compiler(CompileLog& log) {
  YR_COMPILER* c = nullptr;
  if (yr_compiler_create(&c) != ERROR_SUCCESS) throw Error("libyara: cannot create a compiler");
  CompilerPtr compiler(c);
  yr_compiler_set_callback(c, compiler_callback, &log);
  for (const char* name : kYaraExternalNames)
    if (yr_compiler_define_string_variable(c, name, "") != ERROR_SUCCESS)
      throw Error(std::string("libyara: cannot define external ") + name);
  return compiler;
}

[[noreturn]] void throw_compile_errors(const CompileLog& log) {
  std::string msg = log.errors.empty() ? "YARA rules: compile error" : log.errors.front();
  if (log.errors.size() > 1) msg += " (and " + std::to_string(log.errors.size() - 1) + " more)";
  throw Error(msg);
}

// Whether rule text may read the `filetype` external (an include may pull in anything).
bool mentions_filetype(std::string_view text) {
  return text.find("filetype") != std::string_view::npos ||
         text.find("include") != std::string_view::npos;
}

size_t count_rules(YR_RULES* rules) {
  size_t n = 0;
  const YR_RULE* rule;
  yr_rules_foreach(rules, rule)++ n;
  return n;
}

// Namespace for a rule file: its path below the directory given (or its name), so rule names
// repeated in different files of a collection do not collide (what Loki/THOR do).
std::string namespace_for(const fs::path& file, const fs::path& root) {
  std::error_code ec;
  fs::path rel = root.empty() ? file.filename() : fs::relative(file, root, ec);
  if (ec || rel.empty()) rel = file.filename();
  return rel.generic_string();
}

}  // namespace

YaraLibrary::YaraLibrary() {
  std::lock_guard<std::mutex> lock(g_lib_mu);
  if (g_lib_refs == 0 && yr_initialize() != ERROR_SUCCESS)
    throw Error("libyara: initialisation failed");
  ++g_lib_refs;
}

YaraLibrary::~YaraLibrary() {
  std::lock_guard<std::mutex> lock(g_lib_mu);
  if (--g_lib_refs == 0) yr_finalize();
}

void YaraRules::FreeRules::operator()(YR_RULES* r) const {
  yr_rules_destroy(r);
}

YaraRules::YaraRules() : lib_(std::make_unique<YaraLibrary>()) {}
YaraRules::YaraRules(YaraRules&&) noexcept = default;
// Member order matters: the rule sets are destroyed before the library guard.
YaraRules& YaraRules::operator=(YaraRules&& o) noexcept {
  sets_ = std::move(o.sets_);
  lib_ = std::move(o.lib_);
  rule_count_ = o.rule_count_;
  warnings_ = std::move(o.warnings_);
  return *this;
}
YaraRules::~YaraRules() {
  sets_.clear();
}

YaraRules YaraRules::load(const std::vector<std::string>& paths) {
  YaraRules out;
  struct SourceFile {
    fs::path path;
    std::string ns;
  };
  std::vector<SourceFile> sources;
  std::vector<std::string> compiled;
  for (const auto& p : paths) {
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) throw Error(p + ": no such file or directory");
    if (fs::is_directory(st)) {
      std::vector<fs::path> found;
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
      if (ec) throw system_error(p, ec.value());
      for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) throw system_error(p, ec.value());
        if (it->is_regular_file(ec) && is_rule_source_name(it->path())) found.push_back(it->path());
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) throw Error(p + ": no .yar or .yara files in this directory");
      for (auto& f : found) sources.push_back({f, namespace_for(f, p)});
    } else if (is_compiled_rules(p)) {
      compiled.push_back(p);
    } else {
      sources.push_back({p, namespace_for(p, {})});
    }
  }

  for (const auto& path : compiled) {
    YR_RULES* r = nullptr;
    int rc = yr_rules_load(path.c_str(), &r);
    if (rc != ERROR_SUCCESS) throw Error(path + ": " + yara_error_name(rc));
    out.sets_.emplace_back(r);
    out.rule_count_ += count_rules(r);
    out.uses_filetype_ = true;
  }

  if (!sources.empty()) {
    CompileLog log;
    CompilerPtr compiler = new_compiler(log);
    for (const auto& s : sources) {
      std::FILE* f = std::fopen(s.path.c_str(), "rb");
      if (!f) throw system_error(s.path.string(), errno);
      if (!out.uses_filetype_) {
        try {
          out.uses_filetype_ = mentions_filetype(read_file(s.path.string()));
        } catch (const Error&) {
          out.uses_filetype_ = true;
        }
      }
      int errors = yr_compiler_add_file(compiler.get(), f, s.ns.c_str(), s.path.c_str());
      std::fclose(f);
      // libyara cannot go on with a compiler that reported errors.
      if (errors > 0) throw_compile_errors(log);
    }
    YR_RULES* r = nullptr;
    if (yr_compiler_get_rules(compiler.get(), &r) != ERROR_SUCCESS)
      throw Error("YARA rules: cannot build the rule set (out of memory?)");
    out.sets_.emplace_back(r);
    out.rule_count_ += count_rules(r);
    out.warnings_ = std::move(log.warnings);
  }
  if (out.sets_.empty()) throw Error("YARA rules: nothing to load");
  return out;
}

YaraRules YaraRules::from_string(std::string_view text, const std::string& name) {
  YaraRules out;
  CompileLog log;
  CompilerPtr compiler = new_compiler(log);
  // yr_compiler_add_string needs a NUL-terminated string; file names in messages come from the
  // include stack, so push `name` through the error text instead.
  std::string source(text);
  if (yr_compiler_add_string(compiler.get(), source.c_str(), "forage") > 0) {
    for (auto& e : log.errors)
      if (e.rfind("<rules>", 0) == 0) e = name + e.substr(7);
    throw_compile_errors(log);
  }
  YR_RULES* r = nullptr;
  if (yr_compiler_get_rules(compiler.get(), &r) != ERROR_SUCCESS)
    throw Error(name + ": cannot build the rule set");
  out.sets_.emplace_back(r);
  out.rule_count_ = count_rules(r);
  out.uses_filetype_ = mentions_filetype(text);
  out.warnings_ = std::move(log.warnings);
  return out;
}

std::string_view YaraRules::builtin_source() {
  auto text = FORAGE_EMBEDDED(default_rules);
  return text;
}

YaraRules YaraRules::builtin() {
  return from_string(builtin_source(), "built-in rules");
}

void YaraRules::save(const std::string& path) const {
  if (sets_.size() != 1)
    throw Error(path + ": --save-compiled needs one rule set (source files, or one compiled file)");
  int rc = yr_rules_save(sets_.front().get(), path.c_str());
  if (rc != ERROR_SUCCESS)
    throw Error(path + ": cannot write compiled rules (" + yara_error_name(rc) + ")");
}

void YaraScanner::FreeScanner::operator()(YR_SCAN_CONTEXT* s) const {
  yr_scanner_destroy(s);
}

YaraScanner::YaraScanner(const YaraRules& rules, int timeout_s) {
  for (const auto& set : rules.sets_) {
    YR_SCANNER* s = nullptr;
    int rc = yr_scanner_create(set.get(), &s);
    if (rc != ERROR_SUCCESS)
      throw Error("libyara: cannot create a scanner: " + yara_error_name(rc));
    scanners_.emplace_back(s);
    if (timeout_s > 0) yr_scanner_set_timeout(s, timeout_s);
    // Buffers we own cannot fault, and mapped files are scanned under a MapGuard
    // (common/map_guard.h): libyara's SIGBUS/SIGSEGV catching (a handler swapped in and out per
    // scan) is not needed.
    yr_scanner_set_flags(s, SCAN_FLAGS_NO_TRYCATCH);
  }
}
YaraScanner::YaraScanner(YaraScanner&&) noexcept = default;
YaraScanner& YaraScanner::operator=(YaraScanner&&) noexcept = default;
YaraScanner::~YaraScanner() = default;

namespace {

struct ScanState {
  YaraResult* result;
  uint64_t base;
  bool too_many = false;
};

int scan_callback(YR_SCAN_CONTEXT* context, int message, void* message_data, void* user) {
  auto* st = static_cast<ScanState*>(user);
  if (message == CALLBACK_MSG_TOO_MANY_MATCHES) {
    st->too_many = true;
    return CALLBACK_CONTINUE;
  }
  if (message != CALLBACK_MSG_RULE_MATCHING) return CALLBACK_CONTINUE;
  const auto* rule = static_cast<YR_RULE*>(message_data);
  YaraMatch m;
  m.rule = rule->identifier;
  m.ns = rule->ns && rule->ns->name ? rule->ns->name : "";
  const char* tag;
  yr_rule_tags_foreach(rule, tag) m.tags.emplace_back(tag);
  const YR_META* meta;
  yr_rule_metas_foreach(rule, meta) {
    YaraMatch::Meta x;
    x.key = meta->identifier;
    if (meta->type == META_TYPE_INTEGER) {
      x.type = YaraMatch::Meta::kInteger;
      x.number = meta->integer;
    } else if (meta->type == META_TYPE_BOOLEAN) {
      x.type = YaraMatch::Meta::kBoolean;
      x.number = meta->integer;
    } else if (meta->string) {
      x.text = meta->string;
    }
    m.meta.push_back(std::move(x));
  }
  const YR_STRING* string;
  yr_rule_strings_foreach(rule, string) {
    // Not yr_string_matches_foreach: libyara 4.2 allocates matches from its notebook without
    // aligning them, so each is copied out before it is read (UBSan: misaligned access).
    YR_MATCH match;
    for (const YR_MATCH* p = context->matches[string->idx].head;
         p != nullptr && m.strings.size() < kMaxStringsPerRule; p = match.next) {
      std::memcpy(&match, p, sizeof match);
      if (match.is_private) continue;
      YaraStringHit hit;
      hit.identifier = string->identifier;
      hit.offset = st->base + static_cast<uint64_t>(match.base + match.offset);
      size_t n =
          std::min<size_t>(static_cast<size_t>(std::max(match.data_length, 0)), kMaxMatchBytes);
      hit.data = render_bytes(match.data, n);
      m.strings.push_back(std::move(hit));
    }
  }
  st->result->matches.push_back(std::move(m));
  return CALLBACK_CONTINUE;
}

}  // namespace

YaraResult YaraScanner::scan(const uint8_t* data, size_t size, const YaraExternals& ext,
                             uint64_t base) {
  YaraResult result;
  ScanState st{&result, base};
  const std::string* values[] = {&ext.filename, &ext.filepath, &ext.extension, &ext.filetype,
                                 &ext.owner};
  for (auto& s : scanners_) {
    for (size_t i = 0; i < std::size(kYaraExternalNames); ++i)
      yr_scanner_define_string_variable(s.get(), kYaraExternalNames[i], values[i]->c_str());
    yr_scanner_set_callback(s.get(), scan_callback, &st);
    // An empty buffer is still a target (rules on filesize == 0, externals); libyara wants a
    // valid pointer.
    static const uint8_t kEmpty = 0;
    int rc = yr_scanner_scan_mem(s.get(), size ? data : &kEmpty, size);
    if (rc == ERROR_SCAN_TIMEOUT) {
      result.status = YaraStatus::kTimeout;
      result.error = "YARA timeout";
    } else if (rc != ERROR_SUCCESS) {
      result.status = YaraStatus::kError;
      result.error = "YARA: " + yara_error_name(rc);
    }
  }
  if (st.too_many && result.status == YaraStatus::kOk)
    spdlog::debug("YARA: too many matches for a string; some were dropped");
  return result;
}

std::string filetype_tag(std::string_view d) {
  auto starts = [&](std::string_view p) { return d.substr(0, p.size()) == p; };
  auto has = [&](std::string_view p) { return d.find(p) != std::string_view::npos; };
  if (starts("ELF")) return "ELF";
  if (starts("PE32") || starts("MS-DOS executable")) return has("DLL") ? "DLL" : "EXE";
  if (starts("Mach-O")) return "MACHO";
  if (starts("Zip archive") || starts("Java archive")) return "ZIP";
  if (starts("RAR archive")) return "RAR";
  if (starts("7-zip archive")) return "7Z";
  if (starts("gzip compressed")) return "GZIP";
  if (starts("bzip2 compressed")) return "BZIP2";
  if (starts("XZ compressed")) return "XZ";
  if (starts("POSIX tar archive") || starts("tar archive")) return "TAR";
  if (starts("Microsoft Cabinet")) return "CAB";
  if (starts("Mini DuMP")) return "MDMP";
  if (starts("PDF document")) return "PDF";
  if (starts("JPEG image")) return "JPEG";
  if (starts("PNG image")) return "PNG";
  if (starts("GIF image")) return "GIF";
  if (starts("Composite Document File")) return "DOC";
  if (starts("Microsoft Word")) return "DOCX";
  if (starts("Microsoft Excel")) return "XLSX";
  if (starts("Rich Text Format")) return "RTF";
  if (starts("Java serialization") || starts("compiled Java class")) return "CLASS";
  if (has("shell script")) return "SH";
  if (has("Python script")) return "PY";
  if (has("Perl script")) return "PL";
  if (has("PHP script")) return "PHP";
  return "";
}

}  // namespace forage::scanners
