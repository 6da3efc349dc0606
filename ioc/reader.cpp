#include "ioc/reader.h"

#include <array>
#include <cctype>
#include <cerrno>
#include <optional>

#include <sys/mman.h>
#include <sys/stat.h>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "common/map_guard.h"
#include "common/strings.h"
#include "ioc/mime.h"
#include "ioc/tlp.h"

namespace forage::ioc {
namespace {

constexpr std::array<std::string_view, 16> kMailHeaders = {
    "from",           "to",           "cc",          "subject",      "date",     "received",
    "message-id",     "mime-version", "return-path", "delivered-to", "reply-to", "sender",
    "dkim-signature", "content-type", "x-mailer",    "user-agent"};

bool looks_like_email(std::string_view data) {
  auto lines = split_lines(data.substr(0, 64 * 1024));
  size_t i = 0;
  if (!lines.empty() && lines[0].rfind("From ", 0) == 0) i = 1;  // mbox separator line
  size_t known = 0;
  for (; i < lines.size(); ++i) {
    auto line = lines[i];
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') continue;  // folded header
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    auto name = line.substr(0, colon);
    for (char c : name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    for (auto h : kMailHeaders)
      if (iequals(name, h)) ++known;
  }
  return known >= 2;
}

constexpr uint64_t kMaxInput = 256ull << 20;  // read_file's limit

// A whole input's bytes. A regular file is mapped rather than read: read() would first zero a
// buffer of our own and then copy the file into it, a page fault per 4 KiB page each time, which
// on a 16 MiB broadcast cost a fifth of the run. The mapping's page-table entries are filled in
// one call (MADV_POPULATE_READ) instead of one fault per page. A file truncated by another
// process while it is parsed reads as zeros from the cut on (MapGuard) and is reported.
class InputBytes {
 public:
  explicit InputBytes(const std::string& path) {
    if (path == "-") {
      buf_ = read_file(path, kMaxInput);
      return;
    }
    Fd fd = open_evidence(path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw system_error(path, errno);
    if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory");
    if (!S_ISREG(st.st_mode)) throw Error(path + ": not a regular file");
    auto size = static_cast<uint64_t>(st.st_size);
    if (size > kMaxInput)
      throw Error(path + ": larger than " + std::to_string(kMaxInput >> 20) + " MiB");
    int err = 0;
    if (size > 0) map_ = MappedFile::map(fd.get(), static_cast<size_t>(size), err);
    if (map_) {
      void* p = const_cast<uint8_t*>(map_.data());
      // Old kernels lack MADV_POPULATE_READ (EINVAL): their pages come by faults, as before. A
      // file that shrank since fstat() fails here (EFAULT) instead of later: read it instead.
      if (::madvise(p, map_.size(), MADV_POPULATE_READ) != 0 && errno != EINVAL) map_.reset();
    }
    if (!map_) buf_ = read_all(fd.get(), path, kMaxInput, size);
  }
  const MappedFile* mapping() const { return map_ ? &map_ : nullptr; }
  std::string_view view() const {
    if (map_) return {reinterpret_cast<const char*>(map_.data()), map_.size()};
    return buf_;
  }

 private:
  MappedFile map_;
  std::string buf_;
};

}  // namespace

std::string_view format_name(Format f) {
  switch (f) {
    case Format::kAuto:
      return "auto";
    case Format::kEmail:
      return "email";
    case Format::kText:
      return "text";
    case Format::kList:
      return "list";
    case Format::kCsv:
      return "csv";
    case Format::kMisp:
      return "misp";
    case Format::kStix:
      return "stix";
    case Format::kForageJson:
      return "forage-json";
    case Format::kJson:
      return "json";
  }
  return "unknown";
}

Format detect_format(std::string_view data, const std::string& name) {
  auto head = data.substr(0, 64 * 1024);
  size_t control = 0;
  for (unsigned char c : head) {
    if (c == 0) throw Error(name + ": binary data (not text, e-mail, CSV or JSON)");
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b) ++control;
  }
  if (control * 20 > head.size())
    throw Error(name + ": binary data (not text, e-mail, CSV or JSON)");
  auto t = trim(head);
  if (t.empty()) return Format::kText;
  if (t[0] == '{' || t[0] == '[') return Format::kJson;
  if (looks_like_email(head)) return Format::kEmail;
  if (looks_like_csv(head)) return Format::kCsv;
  if (looks_like_list(data)) return Format::kList;
  return Format::kText;
}

void input_problem(const ReadOptions& opts, IocSet& out, const std::string& message) {
  if (!opts.keep_going) throw Error(message);
  spdlog::warn("{} (skipped, --keep-going)", message);
  out.errors.push_back(message);
}

void read_input(std::string_view data, const Source& src, const ReadOptions& opts, IocSet& out,
                Format hint) {
  std::string name = src.display();
  if (data.size() >= 3 && data.substr(0, 3) == "\xEF\xBB\xBF") data.remove_prefix(3);  // UTF-8 BOM
  Format f = hint == Format::kAuto ? detect_format(data, name) : hint;
  spdlog::debug("{}: read as {}", name, format_name(f));

  IocSet part;
  std::string clear;  // clear-signed text without its armor
  if (f == Format::kText || f == Format::kList || f == Format::kCsv) {
    if (mime::has_pgp_message(data))
      return input_problem(opts, out, encrypted_message(src, "OpenPGP (inline armor)"));
    if (mime::is_clearsigned(data)) {
      clear = mime::strip_pgp_armor(data);
      data = clear;
      part.notes.push_back(name +
                           ": signed (OpenPGP); forage read the signed text and did not "
                           "verify the signature");
    }
  }
  switch (f) {
    case Format::kEmail:
      read_email(data, src, opts, part);
      break;
    case Format::kCsv:
      read_csv(data, src, opts, part);
      break;
    case Format::kList:
      read_list(data, src, part);
      break;
    case Format::kText:
      read_text(data, src, part, opts.contexts);
      break;
    case Format::kJson:
    case Format::kMisp:
    case Format::kStix:
    case Format::kForageJson:
      read_json(data, src, opts, part, f);
      break;
    case Format::kAuto:
      break;
  }
  // Text-like inputs carry their TLP label and incident tag in the text itself.
  if (f == Format::kText || f == Format::kList || f == Format::kCsv) {
    if (auto tlp = find_tlp(data)) part.tlp = stricter_tlp(part.tlp, *tlp);
    if (part.case_tag.empty())
      if (auto tag = find_case_tag(data)) part.case_tag = *tag;
  }
  for (auto& ind : part.indicators)
    if (ind.tlp.empty()) ind.tlp = part.tlp;
  out.merge(std::move(part));
}

IocSet read_iocs_option(const std::vector<std::string>& paths, bool allow_empty) {
  IocSet set = read_files(paths, ReadOptions{});
  if (set.indicators.empty() && !allow_empty) {
    std::string names;
    for (const auto& p : paths) names += (names.empty() ? "" : ", ") + p;
    throw Error("no indicators in " + names +
                " (nothing to look for; with YARA rules, --allow-empty-iocs scans anyway)");
  }
  return set;
}

IocSet read_files(const std::vector<std::string>& paths, const ReadOptions& opts) {
  IocSet out;
  for (const auto& path : paths) {
    std::optional<InputBytes> data;
    try {
      data.emplace(path);
    } catch (const Error& e) {
      input_problem(opts, out, e.what());
      continue;
    }
    out.sources.push_back(path);
    Source src;
    src.file = path;
    try {
      std::optional<MapGuard> guard;
      if (data->mapping()) guard.emplace(*data->mapping());
      read_input(data->view(), src, opts, out);
      if (guard && guard->faulted())
        throw Error(path + ": truncated by another process while being read");
    } catch (const Error& e) {
      if (!opts.keep_going) throw;
      input_problem(opts, out, e.what());
    }
  }
  return out;
}

}  // namespace forage::ioc
