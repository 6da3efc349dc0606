// Listings of the artefact table (the shared temp dirs) and of each target's working directory:
// path, type, size, mode, owner, times, libmagic type and sha256 of every entry, walked by
// directory fd on one file system; files are opened with their owner's rights (a target's cwd:
// with the target owner's), small executables copied newest first within the step's budget
// (collector/artifacts.h).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bundle/writer.h"
#include "collector/artifact_context.h"
#include "common/error.h"
#include "common/layout.h"
#include "common/strings.h"
#include "common/time.h"
#include "host/logins.h"
#include "host/private_key.h"
#include "host/proc.h"

namespace forage::collector::detail {
namespace {

constexpr int kMaxDepth = 32;
constexpr size_t kMaxOpenFiles = 1000;  // a target's open files listed below its cwd

bool looks_executable(std::string_view head) {
  return head.substr(0, 4) == std::string_view(
                                  "\x7f"
                                  "ELF",
                                  4) ||
         head.substr(0, 2) == "#!";
}

std::string mode_text(mode_t m) {
  char b[8];
  std::snprintf(b, sizeof b, "%04o", static_cast<unsigned>(m & 07777));
  return b;
}

// libmagic's soft rules over text run dozens of regular expressions (1-2 ms a file, against 0.1
// for a binary): a listing of 200,000 job outputs would spend minutes there. Plain text that is
// not a script is named by its encoding here; everything else goes to libmagic.
std::string type_of(FileTyper& typer, std::string_view head) {
  std::string_view h = head.substr(0, 16384);
  if (!h.empty() && h.substr(0, 2) != "#!") {
    bool ascii = true, text = true;
    for (char ch : h) {
      auto u = static_cast<unsigned char>(ch);
      if (u >= 0x80) ascii = false;
      if (u < 0x20 && ch != '\n' && ch != '\r' && ch != '\t' && ch != '\f') {
        text = false;
        break;
      }
    }
    if (text && ascii) return "ASCII text";
    if (text && valid_utf8(h)) return "UTF-8 text";
  }
  return typer.describe(head.substr(0, 65536));
}

std::string slug_of(const std::string& vdir) {
  std::string slug;
  for (char ch : vdir) slug += ch == '/' ? '_' : ch;
  while (!slug.empty() && slug[0] == '_') slug.erase(0, 1);
  return slug.empty() ? "root" : slug;
}

class Listing {
 public:
  Listing(Ctx& c, Step& s, int basefd, std::string vbase, dev_t dev, const host::Identity* who)
      : c_(c), s_(s), basefd_(basefd), vbase_(std::move(vbase)), dev_(dev), who_(who) {}

  void tree(int dirfd, const std::string& rel_dir, int depth, int max_depth) {
    Dir d = Dir::at(dirfd);
    bool more = false;
    auto names = d.names(c_.opt.listing_max_entries + 1, &more);
    for (const auto& n : names) {
      if (stopped()) return;
      std::string rel = rel_dir.empty() ? n : rel_dir + "/" + n;
      host::Entry e = host::peek(dirfd, n);
      if (e.err) continue;  // gone since the directory was read
      entry(dirfd, n, rel, e.st);
      if (!S_ISDIR(e.st.st_mode) || depth >= max_depth) continue;
      if (e.mount_root || e.st.st_dev != dev_) {
        c_.rep.skipped++;
        c_.w.record("artifacts.skip", c_.real(vpath(rel)),
                    "another file system (mount point): not entered");
        continue;
      }
      host::Opened sub = host::open_dir_beneath(dirfd, n);
      if (sub) tree(sub.fd.get(), rel, depth + 1, max_depth);
    }
  }

  // A file below the base named by relative path (a target's open file).
  void one(const std::string& rel) {
    if (stopped() || !seen_.insert(rel).second) return;
    size_t slash = rel.rfind('/');
    std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    host::Opened dir;
    int dirfd = basefd_;
    if (slash != std::string::npos) {
      host::ActAs as(owner_of_dir());
      dir = host::open_dir_beneath(basefd_, rel.substr(0, slash));
      if (!dir) return;
      dirfd = dir.fd.get();
    }
    host::Entry e = host::peek(dirfd, name);
    if (!e.err) entry(dirfd, name, rel, e.st);
  }

  // Small executables, newest first, within the step's budget.
  void copy_executables() {
    std::stable_sort(execs_.begin(), execs_.end(), [](const Exec& a, const Exec& b) {
      return a.st.st_mtim.tv_sec > b.st.st_mtim.tv_sec;
    });
    for (const auto& x : execs_) {
      if (!c_.done.insert(x.vpath).second) continue;
      host::Opened o;
      {
        host::ActAs as(x.who);
        if (as.ok()) o = host::open_file_beneath(basefd_, x.rel, &c_.mounts);
      }
      if (!o || o.st.st_ino != x.st.st_ino || o.st.st_dev != x.st.st_dev) continue;  // changed
      if (s_.deadline.expired()) {
        list_not_copied(c_, s_, x.vpath, -1, o.st, "not reached: " + s_.deadline.reason());
        continue;
      }
      uint64_t size = static_cast<uint64_t>(o.st.st_size);
      if (!s_.budget.fits(size)) {
        // Typed and hashed in the listing already: named here, not read again.
        list_not_copied(c_, s_, x.vpath, -1, o.st,
                        "small executable over budget (" + std::to_string(s_.budget.left()) +
                            " bytes left of the step's and the total's); its type and hash are "
                            "in the listing",
                        true);
        continue;
      }
      bundle::MemberResult r = c_.w.add_fd(std::string(layout::kHostFilesDir) + x.vpath, o.fd.get(),
                                           c_.real(x.vpath), s_.budget.left());
      s_.budget.take(r.size);
      if (r.stored) {
        c_.rep.files_copied++;
        c_.rep.bytes_copied += r.size;
        Json j = Json::parse(lines_[x.line]);
        j["copied_to"] = r.bag_path;
        lines_[x.line] = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
      if (r.problem()) c_.rep.problems++;
    }
  }

  std::string text() const {
    std::string out;
    for (const auto& l : lines_) out.append(l).push_back('\n');
    return out;
  }
  uint64_t count() const { return count_; }
  const std::string& cut() const { return cut_; }

 private:
  struct Exec {
    std::string rel, vpath;
    struct stat st;
    host::Identity who;
    size_t line;  // its line in the listing, told where the copy went
  };

  std::string vpath(const std::string& rel) const { return vbase_ + "/" + rel; }

  host::Identity owner_of_dir() const { return who_ ? *who_ : host::Identity::root(); }

  bool stopped() {
    if (!cut_.empty()) return true;
    if (count_ >= c_.opt.listing_max_entries)
      cut_ = "stopped at the limit of " + std::to_string(c_.opt.listing_max_entries) + " entries";
    else if (s_.deadline.expired())
      cut_ = s_.deadline.reason() + " after " + std::to_string(count_) + " entries";
    return !cut_.empty();
  }

  void entry(int dirfd, const std::string& name, const std::string& rel, const struct stat& st) {
    const std::string v = vpath(rel);
    Json j;
    j["path"] = utf8_or_escaped(c_.real(v));
    j["type"] = file_type_name(st.st_mode);
    j["size"] = static_cast<uint64_t>(st.st_size);
    if (S_ISREG(st.st_mode) && host::allocated_bytes(st) < static_cast<uint64_t>(st.st_size) / 2)
      j["allocated"] = host::allocated_bytes(st);  // sparse
    j["mode"] = mode_text(st.st_mode);
    j["uid"] = st.st_uid;
    j["user"] = utf8_or_escaped(c_.names.name(st.st_uid));
    j["gid"] = st.st_gid;
    j["nlink"] = static_cast<uint64_t>(st.st_nlink);
    j["mtime"] = utc_iso(st.st_mtim.tv_sec);
    j["ctime"] = utc_iso(st.st_ctim.tv_sec);
    if (S_ISLNK(st.st_mode)) {
      char t[4096];
      ssize_t k = ::readlinkat(dirfd, name.c_str(), t, sizeof t - 1);
      j["link"] = utf8_or_escaped(k > 0 ? std::string(t, static_cast<size_t>(k)) : "?");
    }
    if (S_ISREG(st.st_mode) && c_.is_output(st)) {
      j["note"] = "the bundle being written";
    } else if (S_ISREG(st.st_mode)) {
      file(dirfd, name, rel, st, j);
    }
    lines_.push_back(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    ++count_;
    c_.rep.listed++;
  }

  void file(int dirfd, const std::string& name, const std::string& rel, const struct stat& st,
            Json& j) {
    host::Identity who = who_ ? *who_ : c_.identity_for(st.st_uid, st.st_gid);
    host::Opened o;
    {
      host::ActAs as(who);
      if (!as.ok()) {
        j["error"] = "cannot take the rights of " + who.name + ": " + as.error();
        c_.rep.problems++;
        return;
      }
      o = host::open_file_beneath(dirfd, name, &c_.mounts);
    }
    if (!o) {
      j["error"] = o.err == ENOENT ? std::string("vanished") : o.why;
      if (o.err != ENOENT) c_.rep.problems++;
      return;
    }
    const int fd = o.fd.get();
    const uint64_t size = static_cast<uint64_t>(o.st.st_size);
    std::string head = read_head(fd, o.st, s_.deadline);
    j["magic"] = utf8_or_escaped(type_of(c_.typer, head));
    uint64_t hashed = 0;
    // A whole-file hash costs its size even where the file is a hole: a sparse file, a large one,
    // or one past the listing's hashing budget is hashed over its head only.
    const bool sparse = host::allocated_bytes(o.st) < size / 2 && size > c_.opt.head_hash;
    if (size <= c_.opt.hash_max && !sparse && hashed_ + size <= c_.opt.listing_hash_budget) {
      j["sha256"] = host::sha256_prefix(fd, c_.opt.hash_max, &hashed, &s_.deadline);
      if (hashed < size) j["sha256_note"] = "cut by " + s_.deadline.reason();
    } else {
      j["sha256_head"] = host::sha256_prefix(fd, c_.opt.head_hash, &hashed, &s_.deadline);
      j["sha256_head_bytes"] = hashed;
      if (sparse)
        j["sha256_note"] = "sparse: hashed over its head only";
      else if (size <= c_.opt.hash_max)
        j["sha256_note"] = "listing's hashing budget used up";
    }
    hashed_ += hashed;
    std::string kind = host::private_key_kind(head);
    const std::string v = vpath(rel);
    if (!kind.empty()) {
      j["private_key"] = true;
      j["key_kind"] = kind;
      record_key(c_, v, fd, "listing", kind, s_.deadline);
    } else if (looks_executable(head) && size <= c_.opt.executable_cap) {
      // A root file with other links, in a directory anyone may write: a hard link someone
      // planted (hosts without fs.protected_hardlinks). Listed, not copied.
      if (o.st.st_uid == 0 && o.st.st_nlink > 1 && shared_dir(dirfd)) {
        j["note"] = "root-owned hard link in a shared directory: not copied";
      } else {
        execs_.push_back({rel, v, o.st, who, lines_.size()});
      }
    }
  }

  static bool shared_dir(int dirfd) {
    struct stat d {};
    return ::fstat(dirfd, &d) == 0 && (d.st_mode & S_IWOTH);
  }

  Ctx& c_;
  Step& s_;
  int basefd_;
  std::string vbase_;
  dev_t dev_;
  const host::Identity* who_;       // null: each file's owner
  std::vector<std::string> lines_;  // JSON lines, amended with copied_to
  uint64_t count_ = 0;
  std::string cut_;
  std::vector<Exec> execs_;
  std::set<std::string> seen_;
  uint64_t hashed_ = 0;  // bytes hashed by this listing
};

void finish_listing(Ctx& c, Step& s, Listing& l, const std::string& vdir, const std::string& note) {
  l.copy_executables();
  std::string bag = layout::listing_path(slug_of(vdir));
  c.w.add_blob(bag, l.text());
  std::string result = std::to_string(l.count()) + " entries -> " + bag + note;
  if (!l.cut().empty()) {
    result += " (" + l.cut() + "; the rest of " + utf8_or_escaped(c.real(vdir)) + " not listed)";
    if (s.abandoned.empty()) s.abandoned = "listing of " + vdir + " " + l.cut();
  }
  c.w.record("artifacts.list", c.real(vdir), result);
}

}  // namespace

void take_listing(Ctx& c, Step& s, const std::string& vdir) {
  if (!c.done.insert("listing:" + vdir).second) return;
  host::Opened b = host::open_base_dir(c.real(vdir), c.mounts);
  if (!b) {
    if (b.err == ENOENT)
      c.w.record("artifacts.list", c.real(vdir), "not present");
    else
      c.problem("artifacts.list", c.real(vdir), "not listed: " + b.why);
    return;
  }
  Listing l(c, s, b.fd.get(), vdir, b.st.st_dev, nullptr);
  l.tree(b.fd.get(), "", 0, kMaxDepth);
  finish_listing(c, s, l, vdir, "");
}

void take_cwd(Ctx& c, const CwdListing& cwd) {
  std::string vdir = cwd.dir;
  const bool deleted = host::deleted_suffix(vdir);
  if (deleted) vdir.resize(vdir.size() - std::string_view(" (deleted)").size());
  vdir = host::clean_absolute_path(vdir);
  const std::string label = "pid " + std::to_string(cwd.pid) + " cwd " + utf8_or_escaped(cwd.dir);
  if (vdir.empty()) {
    c.w.record("artifacts.list", label, "not a plain absolute path: not listed");
    return;
  }
  Step s("cwd of pid " + std::to_string(cwd.pid), c.opt.cwd_budget, &c.total,
         host::Deadline::in(std::chrono::seconds(c.opt.cwd_deadline_s)).earlier(c.deadline));
  host::Watchdog watchdog(s.deadline);
  ArtifactReport before = c.rep;
  // The directory itself, whatever its name now (/proc/PID/cwd), never a pseudo file system.
  host::Opened b =
      host::open_base_dir(cwd.open_path.empty() ? c.real(vdir) : cwd.open_path, c.mounts);
  if (!b) {
    c.w.record("artifacts.list", label, "not listed: " + b.why);
    return end_step(c, s, before);
  }
  struct stat root {};
  const std::string host_root = c.root.empty() ? "/" : c.root;
  if (::stat(host_root.c_str(), &root) == 0 && root.st_dev == b.st.st_dev &&
      root.st_ino == b.st.st_ino) {
    c.w.record("artifacts.list", label,
               "the root directory (the whole disk): not listed; the process's own files are "
               "recovered from /proc");
    return end_step(c, s, before);
  }
  if (!c.done.insert("listing:" + vdir).second) {
    c.w.record("artifacts.list", label, "listed already (another target's cwd or a table row)");
    return end_step(c, s, before);
  }
  Listing l(c, s, b.fd.get(), vdir, b.st.st_dev, &cwd.who);
  l.tree(b.fd.get(), "", 0, 0);  // one level
  size_t n = 0;
  for (const auto& f : cwd.open_files) {
    std::string p = host::clean_absolute_path(f);
    if (p.size() <= vdir.size() + 1 || p.compare(0, vdir.size() + 1, vdir + "/") != 0) continue;
    if (++n > kMaxOpenFiles) break;
    l.one(p.substr(vdir.size() + 1));
  }
  finish_listing(c, s, l, vdir,
                 std::string(deleted ? "; the directory was deleted" : "") +
                     (cwd.who.is_root() ? "" : "; files read as " + cwd.who.name));
  end_step(c, s, before);
}

}  // namespace forage::collector::detail
