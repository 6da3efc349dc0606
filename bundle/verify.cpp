#include "bundle/verify.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <utility>

#include "bundle/action_log.h"
#include "bundle/bag.h"
#include "bundle/layers.h"
#include "bundle/pax.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/layout.h"
#include "common/strings.h"

namespace forage::bundle {
namespace {

// Every tag file (outside data/) together, first copies only: what verify may hold in memory, and
// so the most `bundle report` reads back from outside data/. A hostile bundle of many large tag
// files is refused past it instead of filling the memory (docs/bundle-format.md).
constexpr uint64_t kTagBudget = 64ull << 20;

// Problems kept as text: the report prints the first 200 anyway. Past it they are counted (and
// the affected files still recorded), so a manifest of millions of bad lines cannot fill memory.
constexpr size_t kMaxProblemsListed = 10000;

// The tag files verify parses, hence keeps in memory (within kTagBudget); the others it hashes.
bool parsed_tag(std::string_view rel) {
  return rel == kBagitTxt || rel == kBagInfo || rel == kManifest || rel == kTagManifest ||
         rel == kSignatureCms || rel == kSignatureRaw || rel == kSignatureKey || rel == kActions ||
         rel == kActionsHead;
}

// Tag files every bundle has.
constexpr std::string_view kRequiredTags[] = {kBagitTxt, kBagInfo,     kManifest,
                                              kActions,  kActionsHead, kEnvironment};

bool required_tag(std::string_view rel) {
  return std::find(std::begin(kRequiredTags), std::end(kRequiredTags), rel) !=
         std::end(kRequiredTags);
}

std::string strip_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

class Verifier {
 public:
  Verifier(VerifyReport& r, const VerifyOptions& o) : r_(r), o_(o) {}

  void problem(const std::string& file, const std::string& why) {
    add_problem(file.empty() ? why : printable(file, 200) + ": " + why);
    if (!file.empty()) mark_affected(file);
  }

  void mark_affected(const std::string& rel) {
    auto it = r_.files.find(rel);
    if (it != r_.files.end())
      it->second.affected = true;
    else
      r_.affected.insert(rel);
  }

  // Every problem found, listed or only counted (kMaxProblemsListed).
  size_t problem_count() const { return r_.problems.size() + unlisted_problems_; }

  void read_members(Source& s, const std::string& name) {
    PaxReader reader(s, name);
    std::vector<char> buf(1 << 20);
    while (auto e = reader.next()) {
      if (++r_.members > kMaxMembers)
        throw Error("more than " + std::to_string(kMaxMembers) +
                        " members (a bundle of millions of tiny members is a memory bomb): "
                        "the rest is not read",
                    Exit::kVerifyFailed);
      std::string why = unsafe_member_name(e->name);
      if (!why.empty()) {
        problem(e->name, "unsafe member name: " + why);
        continue;
      }
      std::string clean = strip_slashes(e->name);
      std::string first = clean.substr(0, clean.find('/'));
      if (r_.top.empty()) r_.top = first;
      if (first != r_.top) {
        problem(clean, "member outside the bag directory " + r_.top + "/");
        continue;
      }
      // Duplicates are found in what is kept anyway (files_, dirs_): no third copy of every name.
      bool is_top = clean == r_.top;
      std::string rel = rel_of(clean);
      bool duplicate =
          is_top ? std::exchange(top_seen_, true) : r_.files.count(rel) > 0 || dirs_.count(rel) > 0;
      if (duplicate)
        problem(rel, "duplicate member (extraction would silently replace the first copy)");
      if (e->type == EntryType::kDirectory) {
        if (!is_top) dirs_.insert(rel);
        continue;
      }
      if (e->type != EntryType::kFile) {
        std::string what = std::string(entry_type_name(e->type)) + " member";
        if (!e->linkname.empty()) what += " -> " + printable(e->linkname);
        problem(rel, what + " (a bundle holds only regular files and directories)");
        continue;
      }
      if (e->sparse) {
        problem(rel, "sparse member (never written by forage)");
        continue;
      }
      if (is_top) {
        problem(clean, "the bag directory itself is a file");
        continue;
      }
      read_file(reader, rel, e->size, buf);
    }
    if (reader.data_after_end()) problem("archive", "data after the end-of-archive marker");
  }

  // A regular file member: hashed as it streams; a tag file verify parses is kept when it fits
  // what is left of the tag budget. Reads at most `size` bytes (what the header declares).
  void read_file(PaxReader& reader, const std::string& rel, uint64_t size, std::vector<char>& buf) {
    bool payload = layout::is_payload(rel);
    bool first = !r_.files.count(rel);  // a duplicate is a problem already; the first copy counts
    bool fits = size <= kTagBudget - tag_bytes_;
    if (!payload && first && fits) tag_bytes_ += size;
    bool keep = !payload && first && fits && parsed_tag(rel);
    std::string content;
    if (keep) content.reserve(static_cast<size_t>(size));
    Hasher h(HashAlgo::kSha256);
    uint64_t got = 0;
    size_t n;
    while ((n = reader.read(buf.data(), buf.size())) > 0) {
      h.update(buf.data(), n);
      if (keep) content.append(buf.data(), n);
      got += n;
    }
    if (!first) return;
    VerifyReport::File& f = r_.files[rel];
    f.size = got;
    h.final_raw(f.sha256.data());
    if (keep) tags_[rel] = std::move(content);
    if (!payload && !fits) {
      refused_.insert(rel);
      problem(rel, "tag file of " + std::to_string(size) + " bytes over the " +
                       std::to_string(kTagBudget >> 20) +
                       " MiB budget for all tag files together (" + std::to_string(tag_bytes_) +
                       " bytes before it): hashed, not kept");
    }
  }

  void evaluate() {
    archive_checks();
    bagit_checks();
    signature_checks();
    action_checks();
    if (unlisted_problems_ > 0)
      r_.problems.push_back("... and " + std::to_string(unlisted_problems_) +
                            " more problems, not listed");
  }

 private:
  std::string rel_of(const std::string& clean) const {
    return clean.size() > r_.top.size() ? clean.substr(r_.top.size() + 1) : clean;
  }

  const std::string* tag(std::string_view rel) const {
    auto it = tags_.find(std::string(rel));
    return it == tags_.end() ? nullptr : &it->second;
  }

  // A tag file verify needs is not there: missing, or refused by the tag budget.
  void absent(std::string_view rel, const std::string& why = "missing") {
    problem(std::string(rel),
            refused_.count(std::string(rel)) ? "not checked (over the tag-file budget)" : why);
  }

  void check(size_t before, const std::string& what) {
    r_.checks.push_back({problem_count() == before, what});
  }

  // Everything found while reading the members (names, types, duplicates, the tag budget, a
  // damaged stream) is a problem of the archive.
  void archive_checks() {
    size_t before = 0;
    for (const auto& [rel, f] : r_.files) {
      for (size_t p = rel.find('/'); p != std::string::npos; p = rel.find('/', p + 1))
        if (r_.files.count(rel.substr(0, p)))
          problem(rel, "path runs through " + rel.substr(0, p) + ", which is a file");
    }
    for (const auto& d : dirs_)
      if (r_.files.count(d)) problem(d, "both a file and a directory");
    check(before, std::to_string(r_.members) +
                      " members: regular files and directories only, safe names, no duplicates, "
                      "tag files within " +
                      std::to_string(kTagBudget >> 20) + " MiB, complete archive");
  }

  // bagit.txt: the BagIt declaration.
  void bagit_checks() {
    size_t before = problem_count();
    const std::string* bagit = tag(kBagitTxt);
    if (!bagit)
      absent(kBagitTxt);
    else if (bagit->find("BagIt-Version:") == std::string::npos ||
             bagit->find("Tag-File-Character-Encoding:") == std::string::npos)
      problem(std::string(kBagitTxt), "not a BagIt declaration");
    check(before, "bagit.txt: BagIt declaration");
    payload_manifest_checks();
    payload_oxum_checks();
    tag_manifest_checks();
  }

  // manifest-sha256.txt: every payload file present, listed once, with its SHA-256.
  void payload_manifest_checks() {
    size_t before = problem_count();
    std::vector<std::string> manifest_problems;
    std::set<std::string> listed;
    const std::string* manifest = tag(kManifest);
    uint64_t payload_bytes = 0, payload_files = 0;
    for (const auto& [rel, f] : r_.files)
      if (layout::is_payload(rel)) payload_bytes += f.size, ++payload_files;
    r_.payload_bytes = payload_bytes;
    r_.payload_files = payload_files;
    if (!manifest) {
      absent(kManifest);
    } else {
      // Entries are checked as they are parsed; `listed` only holds names that are members, so
      // its size is bounded by kMaxMembers whatever the manifest says.
      for_each_manifest_entry(*manifest, kManifest, manifest_problems, [&](ManifestEntry&& e) {
        if (!layout::is_payload(e.path) || !unsafe_member_name(e.path).empty()) {
          problem(e.path, "listed in manifest-sha256.txt outside data/");
          return;
        }
        auto it = r_.files.find(e.path);
        if (it == r_.files.end()) {
          problem(e.path, "listed in manifest-sha256.txt but missing from the bundle");
          return;
        }
        if (!listed.insert(e.path).second)
          problem(e.path, "listed twice in manifest-sha256.txt");
        else if (it->second.sha256_hex() != e.sha256)
          problem(e.path, "SHA-256 mismatch (content differs from manifest-sha256.txt)");
      });
      for (const auto& p : manifest_problems) problem(std::string(kManifest), p);
      for (const auto& [rel, f] : r_.files)
        if (layout::is_payload(rel) && !listed.count(rel))
          problem(rel, "payload file not listed in manifest-sha256.txt (added after bagging?)");
    }
    check(before, "manifest-sha256.txt: " + std::to_string(payload_files) +
                      " payload files present, listed, SHA-256 match");
  }

  // bag-info.txt: its Payload-Oxum agrees with the payload read.
  void payload_oxum_checks() {
    size_t before = problem_count();
    const std::string* info = tag(kBagInfo);
    std::string want = std::to_string(r_.payload_bytes) + "." + std::to_string(r_.payload_files);
    if (!info) {
      absent(kBagInfo);
    } else {
      r_.bag_info = parse_bag_info(*info);
      std::string oxum;
      for (const auto& [k, v] : r_.bag_info)
        if (k == "Payload-Oxum") oxum = v;
      if (oxum.empty())
        problem(std::string(kBagInfo), "no Payload-Oxum");
      else if (oxum != want)
        problem(std::string(kBagInfo),
                "Payload-Oxum " + oxum + " but the payload is " + want + " (octets.files)");
    }
    check(before, "bag-info.txt: Payload-Oxum " + want);
  }

  // tagmanifest-sha256.txt: every tag file listed once, with its SHA-256; the required ones there.
  void tag_manifest_checks() {
    size_t before = problem_count();
    const std::string* tm = tag(kTagManifest);
    std::set<std::string> tag_listed;
    if (!tm) {
      absent(kTagManifest);
    } else {
      std::vector<std::string> tp;
      for_each_manifest_entry(*tm, kTagManifest, tp, [&](ManifestEntry&& e) {
        if (layout::is_payload(e.path) || unlisted_tag_name(e.path) ||
            !unsafe_member_name(e.path).empty()) {
          problem(e.path, "must not be listed in tagmanifest-sha256.txt");
          return;
        }
        auto it = r_.files.find(e.path);
        if (it == r_.files.end()) {
          problem(e.path, "listed in tagmanifest-sha256.txt but missing");
          if (required_tag(e.path)) tag_listed.insert(e.path);  // said once, not twice
          return;
        }
        if (!tag_listed.insert(e.path).second)
          problem(e.path, "listed twice in tagmanifest-sha256.txt");
        else if (it->second.sha256_hex() != e.sha256)
          problem(e.path, "SHA-256 mismatch (content differs from tagmanifest-sha256.txt)");
      });
      for (const auto& p : tp) problem(std::string(kTagManifest), p);
      for (const auto& [rel, f] : r_.files) {
        if (layout::is_payload(rel) || unlisted_tag_name(rel)) continue;
        ++r_.tag_files;
        if (!tag_listed.count(rel)) problem(rel, "tag file not listed in tagmanifest-sha256.txt");
      }
      for (std::string_view req : kRequiredTags)
        if (!r_.files.count(std::string(req)) && !tag_listed.count(std::string(req)))
          problem(std::string(req), "missing");
    }
    check(before, "tagmanifest-sha256.txt: " + std::to_string(r_.tag_files) +
                      " tag files listed, SHA-256 match");
  }

  void signature_checks() {
    size_t before = problem_count();
    const std::string* tm = tag(kTagManifest);
    const std::string* p7s = tag(kSignatureCms);
    const std::string* sig = tag(kSignatureRaw);
    const std::string* pem = tag(kSignatureKey);
    std::string what;
    for (std::string_view f : {kSignatureCms, kSignatureRaw, kSignatureKey})
      if (refused_.count(std::string(f))) absent(f);
    if (problem_count() != before) {
      check(before, "signature: not checked");
      return;
    }
    if (!p7s && !sig) {
      r_.unsigned_bundle = true;
      if (!o_.expect_signer.empty())
        problem("", "unsigned bundle, but --expect-signer was given");
      else if (!o_.allow_unsigned)
        problem("",
                "unsigned bundle (made with --no-sign): the manifests agree with each other, "
                "but nothing proves who made it (--allow-unsigned accepts that)");
      check(before, "signature: none (UNSIGNED bundle)");
      return;
    }
    if (!tm) {
      absent(kTagManifest, "missing, so the signature cannot be checked");
      check(before, "signature");
      return;
    }
    if (p7s) r_.signatures.push_back(verify_cms_signature(*p7s, *tm, o_.trust));
    if (sig) {
      if (!pem) {
        absent(kSignatureKey, "missing (the Ed25519 signature has no key)");
        check(before, "signature");
        return;
      }
      r_.signatures.push_back(verify_raw_signature(*sig, *pem, *tm, o_.trust));
    }
    for (const auto& s : r_.signatures) {
      std::string file = std::string(s.kind == "CMS" ? kSignatureCms : kSignatureRaw);
      std::string who = s.has_certificate ? s.subject_slash : "key sha256:" + s.fingerprint;
      bool pinned = !o_.expect_signer.empty() && signer_matches(s, o_.expect_signer);
      if (!s.valid) {
        problem(file, s.problem);
        mark_affected(std::string(kTagManifest));
      } else if (!s.trusted && !(pinned && !s.has_certificate) && !o_.allow_unsigned) {
        problem(file, s.problem);
      }
      if (!o_.expect_signer.empty() && s.valid && !pinned)
        problem(file, "signer " + who + " does not match --expect-signer " + o_.expect_signer);
      what += (what.empty() ? "" : "; ") + s.kind + ", signer " + who;
      if (s.valid && s.trusted)
        what += ", chain verified (" + s.trust_source + ")";
      else if (s.valid && pinned)
        what += ", key pinned by --expect-signer";
      else if (s.valid && o_.allow_unsigned)
        what += ", origin NOT proven (--allow-unsigned)";
      if (s.valid && pinned) what += ", matches --expect-signer";
    }
    check(before, "signature: " + what);
  }

  void action_checks() {
    size_t before = problem_count();
    const std::string* log = tag(kActions);
    const std::string* head = tag(kActionsHead);
    if (!log || !head) {
      absent(log ? kActionsHead : kActions);
      check(before, "action log");
      return;
    }
    ActionLogCheck c = check_action_log(*log, *head);
    r_.actions = c.count;
    for (const auto& p : c.problems) {
      add_problem(p);
      mark_affected(p.rfind(kActionsHead, 0) == 0 ? std::string(kActionsHead)
                                                  : std::string(kActions));
    }
    check(before, std::string(kActions) + ": " + std::to_string(c.count) +
                      " actions, hash chain and " + std::string(kActionsHead) + " agree");
  }

  void add_problem(std::string text) {
    if (r_.problems.size() < kMaxProblemsListed)
      r_.problems.push_back(std::move(text));
    else
      ++unlisted_problems_;
  }

  VerifyReport& r_;
  const VerifyOptions& o_;
  size_t unlisted_problems_ = 0;
  bool top_seen_ = false;                    // the bag directory's own member
  std::map<std::string, std::string> tags_;  // parsed tag files, kTagBudget in all
  uint64_t tag_bytes_ = 0;                   // tag files counted against kTagBudget
  std::set<std::string> refused_;            // tag files over it
  std::set<std::string> dirs_;
};

}  // namespace

std::string VerifyReport::File::sha256_hex() const {
  return hex(sha256.data(), sha256.size());
}

bool VerifyReport::is_affected(const std::string& rel) const {
  auto it = files.find(rel);
  return (it != files.end() && it->second.affected) || affected.count(rel);
}

size_t VerifyReport::affected_count() const {
  size_t n = 0;
  for (const auto& [rel, f] : files) n += f.affected && !affected.count(rel);
  return n + affected.size();
}

// The marked members and the other names, merged in order (both are sorted by name).
std::vector<std::string> VerifyReport::affected_names(size_t max) const {
  std::vector<std::string> out;
  auto f = files.begin();
  auto a = affected.begin();
  while (out.size() < max) {
    while (f != files.end() && !f->second.affected) ++f;
    if (f == files.end() && a == affected.end()) break;
    if (a == affected.end() || (f != files.end() && f->first < *a)) {
      out.push_back((f++)->first);
    } else {
      if (f != files.end() && f->first == *a) ++f;
      out.push_back(*a++);
    }
  }
  return out;
}

std::string VerifyReport::text() const {
  std::string s = "bundle: " + input + "\n";
  std::string layer_text;
  for (const auto& l : layers) layer_text += (layer_text.empty() ? "" : " -> ") + l;
  if (!layer_text.empty()) s += "layers: " + layer_text + "\n";
  if (!top.empty()) s += "bag:    " + printable(top) + "/\n";
  for (const auto& [k, v] : bag_info)
    if (k == "External-Identifier" || k == "TLP" || k == "Source-Host" || k == "Bagging-Time" ||
        k == "Bag-Software-Agent")
      s += "        " + k + ": " + printable(v) + "\n";
  for (const auto& c : checks) s += std::string(c.ok ? "  ok    " : "  FAIL  ") + c.what + "\n";
  if (!problems.empty()) {
    s += "problems:\n";
    size_t shown = 0;
    for (const auto& p : problems) {
      if (++shown > 200) {
        s += "  ... and " + std::to_string(problems.size() - 200) + " more\n";
        break;
      }
      s += "  - " + p + "\n";
    }
    s += "verdict: INVALID: " + problems.front() + "\n";
    std::string files;
    for (const auto& a : affected_names(200))
      files += (files.empty() ? "" : ", ") + printable(a, 200);
    if (size_t n = affected_count(); n > 200)
      files += ", ... and " + std::to_string(n - 200) + " more";
    if (!files.empty()) s += "affected: " + files + "\n";
  } else {
    s += std::string("verdict: VALID") + (unsigned_bundle ? " (UNSIGNED: origin not proven)" : "") +
         "\n";
  }
  return s;
}

VerifyReport verify_stream(Source& in, const std::string& name, const VerifyOptions& options) {
  VerifyReport r;
  r.input = name;
  Verifier v(r, options);
  std::unique_ptr<BundleLayers> layers;
  try {
    layers = std::make_unique<BundleLayers>(in, name, options);
    r.layers = layers->names;
    v.read_members(*layers->top, name);
  } catch (const Error& e) {
    if (e.code() != Exit::kVerifyFailed) throw;
    v.problem("archive", e.what());
  }
  layers.reset();  // the decompression window and buffers are not needed to evaluate
  v.evaluate();
  return r;
}

VerifyReport verify_bundle(const std::string& path, const VerifyOptions& options) {
  if (path == "-") {
    FdSource in(STDIN_FILENO, "<stdin>");
    return verify_stream(in, "<stdin>", options);
  }
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw system_error(path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) throw Error(path + ": is a directory");
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  FdSource in(fd.get(), path);
  return verify_stream(in, path, options);
}

// ---------------------------------------------------------------------------------- extract

namespace {

std::vector<std::string> components(const std::string& clean) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= clean.size()) {
    size_t slash = clean.find('/', pos);
    if (slash == std::string::npos) slash = clean.size();
    out.push_back(clean.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

// Descends from `root` through `comps`, creating directories, never following a link.
Fd open_dirs(int root, const std::vector<std::string>& comps, size_t count,
             const std::string& name) {
  Fd cur(::dup(root));
  if (!cur) throw system_error("dup", errno);
  for (size_t i = 0; i < count; ++i) {
    if (::mkdirat(cur.get(), comps[i].c_str(), 0750) != 0 && errno != EEXIST)
      throw system_error("extracting " + printable(name), errno);
    Fd next(::openat(cur.get(), comps[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      if (errno == ELOOP || errno == ENOTDIR)
        throw Error("extracting " + printable(name) + ": '" + printable(comps[i]) +
                        "' is a link or not a directory; refusing to extract through it",
                    Exit::kVerifyFailed);
      throw system_error("extracting " + printable(name), errno);
    }
    cur = std::move(next);
  }
  return cur;
}

// A file being extracted, under a temporary name in its directory until its hash is checked;
// removed unless commit() renamed it to its own name.
class PendingFile {
 public:
  PendingFile(int dir, const std::string& display) : dir_(dir) {
    static unsigned counter = 0;
    for (int attempt = 0; attempt < 100; ++attempt) {
      name_ = ".forage-extract." + std::to_string(::getpid()) + "." + std::to_string(++counter);
      fd_ = Fd(::openat(dir_, name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0640));
      if (fd_ || errno != EEXIST) break;
    }
    if (!fd_) throw system_error("extracting " + display, errno);
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  ~PendingFile() {
    if (!name_.empty()) ::unlinkat(dir_, name_.c_str(), 0);
  }
  int fd() const { return fd_.get(); }

  // Gives the file its name, never over an existing one.
  void commit(const std::string& name, const std::string& display) {
    if (::renameat2(dir_, name_.c_str(), dir_, name.c_str(), RENAME_NOREPLACE) != 0) {
      // File systems without RENAME_NOREPLACE: a hard link refuses an existing name too.
      if (errno != EINVAL && errno != ENOSYS) throw system_error("extracting " + display, errno);
      if (::linkat(dir_, name_.c_str(), dir_, name.c_str(), 0) != 0)
        throw system_error("extracting " + display, errno);
      ::unlinkat(dir_, name_.c_str(), 0);
    }
    name_.clear();
  }

 private:
  int dir_;
  std::string name_;
  Fd fd_;
};

// Writes the current member to a temporary file in `dir`, and gives it its name only when its
// size and SHA-256 are what the first pass read. False (and nothing left behind) otherwise.
bool extract_file(PaxReader& reader, int dir, const std::string& name, const std::string& display,
                  const TarEntry& e, const VerifyReport::File& want, std::vector<char>& buf) {
  PendingFile tmp(dir, display);
  FdSink sink(tmp.fd(), display);
  Hasher h(HashAlgo::kSha256);
  size_t n;
  uint64_t got = 0;
  while ((n = reader.read(buf.data(), buf.size())) > 0) {
    h.update(buf.data(), n);
    sink.write(buf.data(), n);
    got += n;
  }
  sink.finish();
  std::array<unsigned char, 32> sha256{};
  h.final_raw(sha256.data());
  if (got != want.size || sha256 != want.sha256) return false;
  timespec times[2] = {{0, UTIME_OMIT}, {e.mtime_sec, static_cast<long>(e.mtime_nsec)}};
  ::futimens(tmp.fd(), times);
  tmp.commit(name, display);
  return true;
}

}  // namespace

VerifyReport extract_bundle(const std::string& path, const std::string& dir,
                            const VerifyOptions& options) {
  if (path == "-")
    throw Error("extract needs a bundle file, not stdin (it reads it twice: verify, then unpack)");
  VerifyReport report = verify_bundle(path, options);
  if (!report.valid()) return report;

  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) throw system_error(dir, errno);
  Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw system_error(dir, errno);
  struct stat st {};
  if (::fstatat(root.get(), report.top.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
    // Also what a killed extract leaves: its tree, incomplete, with at most one temporary
    // .forage-extract.<pid>.<n> file in it. Every temporary file lives inside <top>, which
    // this check refuses to enter, so no later extract meets one; removing them here would mean
    // deleting inside a tree extract refuses to touch. The user removes <top> and starts again.
    throw Error(dir + "/" + report.top +
                ": exists; extract never overwrites (if an earlier extract was interrupted, "
                "remove that directory, .forage-extract.* files included, and extract again)");

  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw system_error(path, errno);
  FdSource in(fd.get(), path);
  BundleLayers layers(in, path, options);
  PaxReader reader(*layers.top, path);
  std::vector<char> buf(1 << 20);
  auto changed = [&](const std::string& what) {
    return Error(path + ": " + what +
                     " differs from the verified bundle (changed while extracting?); "
                     "extraction under " +
                     dir + " is incomplete",
                 Exit::kVerifyFailed);
  };
  while (auto e = reader.next()) {
    // The first pass rejected anything else; check again rather than trust it blindly.
    if (!unsafe_member_name(e->name).empty()) throw changed(printable(e->name));
    std::string clean = strip_slashes(e->name);
    auto comps = components(clean);
    if (comps.empty() || comps[0] != report.top) throw changed(printable(clean));
    if (e->type == EntryType::kDirectory) {
      open_dirs(root.get(), comps, comps.size(), clean);
      continue;
    }
    if (e->type != EntryType::kFile || e->sparse) throw changed(printable(clean));
    std::string rel = clean.substr(report.top.size() + 1);
    auto want = report.files.find(rel);
    if (want == report.files.end()) throw changed(printable(clean));
    Fd parent = open_dirs(root.get(), comps, comps.size() - 1, clean);
    std::string display = dir + "/" + printable(clean);
    if (!extract_file(reader, parent.get(), comps.back(), display, *e, want->second, buf))
      throw changed(printable(clean));
  }
  // Read to the end so zstd and GCM trailers are checked on this pass too.
  reader.data_after_end();
  return report;
}

}  // namespace forage::bundle
