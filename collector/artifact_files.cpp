// The rows of files of the artefact table: each pattern expanded below a base directory by
// descent from its fd, each file opened with the base owner's rights and taken within the row's
// budget and deadline, newest first (collector/artifacts.h).
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "bundle/writer.h"
#include "collector/artifact_context.h"
#include "common/error.h"
#include "common/layout.h"
#include "common/strings.h"
#include "common/time.h"
#include "host/logins.h"
#include "host/logs.h"
#include "host/private_key.h"

namespace forage::collector::detail {
namespace {

constexpr uint64_t kParseMax = 64ull << 20;        // utmp-style files parsed up to this
constexpr uint64_t kGunzipMax = 4ull << 30;        // decompressed bytes scanned per .gz log
constexpr uint64_t kLastlogCopyMax = 64ull << 20;  // a larger lastlog is sparse: parsed only
constexpr size_t kMaxCandidates = 200000;          // files one row may consider
constexpr int kMaxDepth = 32;

bool has_glob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

std::vector<std::string> path_components(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = std::min(p.find('/', i), p.size());
    if (j > i) out.emplace_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string bag_for(const ArtifactSpec& s, const std::string& vpath) {
  if (vpath.rfind("/var/log/", 0) == 0) return layout::join(layout::kLogsDir, vpath.substr(9));
  return s.bag_dir + vpath;
}

std::string link_target_at(int dirfd, const std::string& name) {
  char t[4096];
  ssize_t k = ::readlinkat(dirfd, name.c_str(), t, sizeof t - 1);
  return k > 0 ? std::string(t, static_cast<size_t>(k)) : "?";
}

std::string who_text(const host::Identity& who) {
  return who.is_root() ? std::string()
                       : " as " + (who.name.empty() ? "uid " + std::to_string(who.uid) : who.name);
}

// Bases already opened for this collection, by (path, uid).
using BaseCache = std::map<std::pair<std::string, uid_t>, std::shared_ptr<Base>>;

std::shared_ptr<Base> open_base(Ctx& c, BaseCache& cache, const std::string& vdir,
                                const host::Identity& who) {
  auto key = std::make_pair(vdir, who.uid);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  std::shared_ptr<Base> b;
  host::ActAs as(who);
  if (!as.ok()) {
    c.problem("artifacts.skip", c.real(vdir),
              "cannot take the rights of " + who.name + ": " + as.error());
  } else {
    host::Opened o = host::open_base_dir(c.real(vdir), c.mounts);
    if (o) {
      b = std::make_shared<Base>();
      b->fd = std::move(o.fd);
      b->vdir = vdir == "/" ? "" : vdir;
      b->who = who;
      b->dev = o.st.st_dev;
    } else if (o.err != ENOENT && o.err != ENOTDIR) {
      c.problem("artifacts.skip", c.real(vdir), "not entered" + who_text(who) + ": " + o.why);
    }
  }
  cache[key] = b;
  return b;
}

struct Expander {
  Ctx& c;
  Step& s;
  std::vector<Candidate>& out;

  void add(const std::shared_ptr<Base>& b, const std::string& rel, const struct stat& st) {
    if (out.size() >= kMaxCandidates) {
      if (s.abandoned.empty())
        s.abandoned =
            "more than " + std::to_string(kMaxCandidates) + " files: the rest not considered";
      return;
    }
    out.push_back({b, rel, b->vdir + "/" + rel, st});
  }

  // A directory entry on the way: a link is recorded, never followed; another file system is
  // not entered.
  bool enterable(const std::shared_ptr<Base>& b, int dirfd, const std::string& name,
                 const std::string& rel, const host::Entry& e) {
    if (S_ISLNK(e.st.st_mode)) {
      std::string target = utf8_or_escaped(link_target_at(dirfd, name));
      c.links.push_back({{"path", utf8_or_escaped(b->vdir + "/" + rel)},
                         {"target", target},
                         {"row", s.name},
                         {"note", "a directory on the way: not followed"}});
      c.rep.skipped++;
      c.w.record("artifacts.skip", c.real(b->vdir + "/" + rel),
                 "symbolic link to '" + target + "' on the way, not followed");
      return false;
    }
    if (!S_ISDIR(e.st.st_mode)) return false;
    if (e.mount_root || e.st.st_dev != b->dev) {
      c.rep.skipped++;
      c.w.record("artifacts.skip", c.real(b->vdir + "/" + rel),
                 "another file system (mount point): not entered");
      return false;
    }
    return true;
  }

  // Every non-directory below dirfd ("**").
  void walk_all(const std::shared_ptr<Base>& b, int dirfd, const std::string& rel_dir, int depth) {
    if (depth > kMaxDepth) return;
    Dir d = Dir::at(dirfd);
    for (const auto& n : d.names(kMaxCandidates)) {
      if (s.deadline.expired()) return;
      std::string rel = rel_dir.empty() ? n : rel_dir + "/" + n;
      host::Entry e = host::peek(dirfd, n);
      if (e.err) continue;
      if (S_ISDIR(e.st.st_mode)) {
        if (!enterable(b, dirfd, n, rel, e)) continue;
        host::Opened sub = host::open_dir_beneath(dirfd, n);
        if (!sub) {
          c.problem("artifacts.skip", c.real(b->vdir + "/" + rel),
                    "not entered" + who_text(b->who) + ": " + sub.why);
          continue;
        }
        walk_all(b, sub.fd.get(), rel, depth + 1);
      } else {
        add(b, rel, e.st);
      }
    }
  }

  void descend(const std::shared_ptr<Base>& b, int dirfd, const std::string& rel_dir,
               const std::vector<std::string>& parts, size_t i) {
    if (s.deadline.expired()) return;
    const std::string& comp = parts[i];
    if (comp == "**") return walk_all(b, dirfd, rel_dir, 0);
    bool last = i + 1 == parts.size();
    std::vector<std::string> names;
    if (has_glob(comp)) {
      Dir d = Dir::at(dirfd);
      for (auto& n : d.names(kMaxCandidates))
        if (::fnmatch(comp.c_str(), n.c_str(), FNM_PERIOD) == 0) names.push_back(std::move(n));
    } else {
      names.push_back(comp);
    }
    for (const auto& n : names) {
      std::string rel = rel_dir.empty() ? n : rel_dir + "/" + n;
      host::Entry e = host::peek(dirfd, n);
      if (e.err) {
        if (e.err != ENOENT && e.err != ENOTDIR)
          c.problem("artifacts.skip", c.real(b->vdir + "/" + rel),
                    std::string("unreadable") + who_text(b->who) + ": " + std::strerror(e.err));
        continue;
      }
      if (last) {
        add(b, rel, e.st);
        continue;
      }
      if (!enterable(b, dirfd, n, rel, e)) continue;
      host::Opened sub = host::open_dir_beneath(dirfd, n);
      if (!sub) {
        c.problem("artifacts.skip", c.real(b->vdir + "/" + rel),
                  "not entered" + who_text(b->who) + ": " + sub.why);
        continue;
      }
      descend(b, sub.fd.get(), rel, parts, i + 1);
    }
  }

  // One pattern of the table: its base (the literal directories before the first glob, or each
  // home), then the rest by descent.
  void expand(BaseCache& cache, const std::string& pattern) {
    std::vector<std::pair<std::string, host::Identity>> bases;
    std::vector<std::string> parts;
    if (pattern.rfind("~/", 0) == 0) {
      parts = path_components(pattern.substr(2));
      std::set<std::pair<std::string, uid_t>> seen;
      for (const auto& u : c.users) {
        if (u.home.empty()) {
          if (!u.home_as_is.empty() && u.home_as_is[0] == '/')
            c.problem("artifacts.skip", u.home_as_is,
                      "home of " + u.name + " holds '..': not entered");
          continue;
        }
        if (u.home == "/" || !seen.insert({u.home, u.uid}).second) continue;
        bases.emplace_back(u.home, host::identity_of(u, c.members));
      }
    } else {
      auto all = path_components(pattern);
      size_t k = 0;
      while (k + 1 < all.size() && !has_glob(all[k]) && all[k] != "**") ++k;
      std::string base;
      for (size_t i = 0; i < k; ++i) base += "/" + all[i];
      bases.emplace_back(base.empty() ? "/" : base, host::Identity::root());
      parts.assign(all.begin() + static_cast<long>(k), all.end());
    }
    if (parts.empty()) return;
    for (const auto& [vdir, who] : bases) {
      if (s.deadline.expired()) return;
      auto b = open_base(c, cache, vdir, who);
      if (!b) continue;
      host::ActAs as(who);
      if (!as.ok()) continue;  // open_base said why
      descend(b, b->fd.get(), "", parts, 0);
    }
  }
};

void parse_utmp_file(Ctx& c, const std::string& vpath, const std::string& bag, int fd, bool gz) {
  std::string bytes;
  std::string note;
  if (gz) {
    note = host::gunzip(fd, kParseMax, [&](const char* p, size_t n) {
      bytes.append(p, std::min<size_t>(n, kParseMax - std::min<size_t>(bytes.size(), kParseMax)));
      return true;
    });
  } else {
    bytes = host::read_range(fd, 0, kParseMax);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) > kParseMax)
      note = "parsed the first " + std::to_string(kParseMax >> 20) + " MiB only";
  }
  host::LoginParse p = host::parse_utmp(bytes);
  bool failed_logins = vpath.find("btmp") != std::string::npos;
  for (const auto& r : p.records) {
    if (!failed_logins && r.type == 7 && !r.user.empty())
      add_unique(c.rep.login_users, utf8_or_escaped(r.user));
    if (!r.host.empty()) add_unique(c.rep.login_hosts, utf8_or_escaped(r.host));
  }
  Json j = to_json(p, c.real(vpath));
  if (!note.empty()) j["note"] = note;
  std::string out = (gz && bag.size() > 3 ? bag.substr(0, bag.size() - 3) : bag) + ".json";
  c.w.add_blob(out, j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  c.rep.parsed.push_back(out);
}

void parse_lastlog_file(Ctx& c, const std::string& vpath, const std::string& bag, int fd,
                        uint64_t size) {
  host::LastlogParse all;
  std::string how;
  if (size <= kLastlogCopyMax) {
    all = host::parse_lastlog(host::read_range(fd, 0, size), c.names);
    how = "whole file";
  } else {
    // A sparse file indexed by uid: read the records of the uids /etc/passwd knows.
    how = "records of the uids in /etc/passwd (file is sparse, " + std::to_string(size) + " bytes)";
    std::set<uint32_t> seen;
    for (const auto& u : c.users) {
      if (!seen.insert(u.uid).second) continue;
      uint64_t off = static_cast<uint64_t>(u.uid) * host::kLastlogRecordSize;
      if (off + host::kLastlogRecordSize > size) continue;
      auto one =
          host::parse_lastlog(host::read_range(fd, off, host::kLastlogRecordSize), c.names, u.uid);
      for (auto& r : one.records) all.records.push_back(std::move(r));
    }
  }
  Json j = to_json(all, c.real(vpath));
  j["read"] = how;
  c.w.add_blob(bag + ".json",
               j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  c.rep.parsed.push_back(bag + ".json");
}

// Only non-secret fields (host::parse_shadow): never the hash, only what state it is in.
void shadow_metadata(Ctx& c, const std::string& vpath, int fd, const struct stat& st) {
  Json accounts = Json::array();
  for (const auto& a : host::parse_shadow(host::read_range(fd, 0, 16ull << 20)))
    accounts.push_back({{"user", utf8_or_escaped(a.user)},
                        {"password", a.password},
                        {"algorithm", a.algorithm},
                        {"last_change", a.last_change},
                        {"min_days", utf8_or_escaped(a.min_days)},
                        {"max_days", utf8_or_escaped(a.max_days)},
                        {"warn_days", utf8_or_escaped(a.warn_days)},
                        {"inactive_days", utf8_or_escaped(a.inactive_days)},
                        {"expires", a.expires}});
  Json j;
  j["source"] = utf8_or_escaped(c.real(vpath));
  j["policy"] = "metadata only: password hashes are never copied";
  j["file"] = {{"size", static_cast<uint64_t>(st.st_size)},
               {"mode", std::to_string(st.st_mode & 07777)},
               {"uid", st.st_uid},
               {"gid", st.st_gid},
               {"mtime", utc_iso(st.st_mtim.tv_sec)},
               {"ctime", utc_iso(st.st_ctim.tv_sec)}};
  j["accounts"] = std::move(accounts);
  std::string bag = std::string(layout::kHostDir) + vpath + ".metadata.json";
  c.w.add_blob(bag, j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  c.rep.parsed.push_back(bag);
  c.w.record("artifacts.metadata", c.real(vpath),
             std::to_string(j["accounts"].size()) + " accounts; password hashes not copied");
}

void scan_reach(Ctx& c, Step& s, const std::string& vpath, int fd, const struct stat& st, bool gz) {
  SshLogReach& reach = c.rep.ssh_logs;
  SshLogScanner scan(reach, st.st_mtim.tv_sec, c.real(vpath));
  if (gz) {
    std::string why = host::gunzip(
        fd, kGunzipMax,
        [&](const char* p, size_t n) {
          scan.feed(p, n);
          return true;
        },
        &s.deadline);
    if (!why.empty()) c.rep.errors.push_back(utf8_or_escaped(c.real(vpath)) + ": " + why);
  } else {
    std::vector<char> buf(1 << 16);
    uint64_t off = 0;
    while (!s.deadline.expired()) {
      ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      scan.feed(buf.data(), static_cast<size_t>(n));
      off += static_cast<uint64_t>(n);
    }
  }
  scan.finish();
  if (scan.used_syslog_year())
    reach.note = "syslog lines carry no year: inferred from each file's mtime; times read as UTC";
}

void skip(Ctx& c, const std::string& vpath, const std::string& why) {
  c.rep.skipped++;
  c.w.record("artifacts.skip", c.real(vpath), why);
}

// One file of a row, opened through its base with the base owner's rights.
void take_file(Ctx& c, const ArtifactSpec& spec, Step& s, const Candidate& cand) {
  const std::string& vpath = cand.vpath;
  if (!c.done.insert(vpath).second) return;
  const std::string real = c.real(vpath);
  if (S_ISLNK(cand.st.st_mode)) {
    // Links are evidence too (an enabled unit, authorized_keys pointing elsewhere): kept in
    // artifacts.json, never followed.
    std::string dir =
        cand.rel.find('/') == std::string::npos ? "" : cand.rel.substr(0, cand.rel.rfind('/'));
    std::string name = cand.rel.substr(dir.empty() ? 0 : dir.size() + 1);
    std::string target = "?";
    {
      host::ActAs as(cand.base->who);
      if (dir.empty()) {
        target = link_target_at(cand.base->fd.get(), name);
      } else if (host::Opened d = host::open_dir_beneath(cand.base->fd.get(), dir)) {
        target = link_target_at(d.fd.get(), name);
      }
    }
    target = utf8_or_escaped(target);
    c.links.push_back({{"path", utf8_or_escaped(vpath)}, {"target", target}, {"row", spec.name}});
    return skip(c, vpath, "symbolic link to '" + target + "', not followed");
  }
  if (!S_ISREG(cand.st.st_mode))
    return skip(
        c, vpath,
        std::string(file_type_name(cand.st.st_mode)) + ", not a regular file: not collected");
  if (c.is_output(cand.st)) return skip(c, vpath, "the bundle being written, not collected");
  host::Opened o;
  {
    host::ActAs as(cand.base->who);
    if (!as.ok())
      return c.problem("artifacts.skip", real,
                       "cannot take the rights of " + cand.base->who.name + ": " + as.error());
    o = host::open_file_beneath(cand.base->fd.get(), cand.rel, &c.mounts);
  }
  if (!o) {
    if (o.err == ENOENT) return c.problem("artifacts.skip", real, "vanished before it was opened");
    return c.problem("artifacts.skip", real,
                     "unreadable" + who_text(cand.base->who) + ": " + o.why);
  }
  const struct stat& st = o.st;
  const int fd = o.fd.get();
  if (c.is_output(st)) return skip(c, vpath, "the bundle being written, not collected");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const std::string bag = bag_for(spec, vpath);

  if (spec.parser == ArtifactParser::kShadow) return shadow_metadata(c, vpath, fd, st);
  if (spec.policy == ArtifactPolicy::kHashOnly)
    return record_key(c, vpath, fd, spec.name, "host key", s.deadline);
  // A private key is never copied, whatever the row says (a key left in a cron dir, a log...).
  std::string kind = host::private_key_kind(read_head(fd, st, s.deadline));
  if (!kind.empty()) return record_key(c, vpath, fd, spec.name, kind, s.deadline);

  const bool gz = vpath.size() > 3 && vpath.compare(vpath.size() - 3, 3, ".gz") == 0;
  bool copied = false;
  if (spec.parser == ArtifactParser::kLastlog && size > kLastlogCopyMax) {
    skip(c, vpath,
         "sparse lastlog of " + std::to_string(size) + " bytes: not copied, parsed by uid");
  } else if (size > c.opt.max_file_size) {
    list_not_copied(
        c, s, vpath, fd, st,
        "larger than the per-file cap of " + std::to_string(c.opt.max_file_size) + " bytes");
  } else if (!s.budget.fits(size)) {
    list_not_copied(c, s, vpath, fd, st,
                    "over budget: " + std::to_string(size) + " bytes, " +
                        std::to_string(s.budget.left()) + " left of the row's and the total's");
  } else {
    bundle::MemberResult r = c.w.add_fd(bag, fd, real, s.budget.left());
    s.budget.take(r.size);
    if (r.stored) {
      copied = true;
      c.rep.files_copied++;
      c.rep.bytes_copied += r.size;
    }
    if (r.problem()) c.rep.problems++;
  }
  if (spec.policy == ArtifactPolicy::kCopyParse) {
    if (spec.parser == ArtifactParser::kUtmp && copied) parse_utmp_file(c, vpath, bag, fd, gz);
    if (spec.parser == ArtifactParser::kLastlog) parse_lastlog_file(c, vpath, bag, fd, size);
  }
  // The SSH log reach reads every auth log, copied or not: the oldest ones are the first a budget
  // leaves out, and they are the ones that say how far back the logs go.
  if (spec.name == "auth-logs") scan_reach(c, s, vpath, fd, st, gz);
  if (vpath.find("/journal/") != std::string::npos && vpath.find(".journal") != std::string::npos)
    add_unique(c.rep.ssh_logs.journal_files, utf8_or_escaped(real));
}

}  // namespace

void take_row(Ctx& c, const ArtifactSpec& spec) {
  Step s(spec.name, spec.budget, &c.total,
         host::Deadline::in(std::chrono::seconds(spec.deadline_s)).earlier(c.deadline));
  ArtifactReport before = c.rep;
  host::Watchdog watchdog(s.deadline);
  if (spec.policy == ArtifactPolicy::kListing) {
    for (const auto& p : spec.paths) take_listing(c, s, p);
    return end_step(c, s, before);
  }
  std::vector<Candidate> found;
  BaseCache bases;
  Expander x{c, s, found};
  for (const auto& pattern : spec.paths) x.expand(bases, pattern);
  // Newest first: when the budget or the time runs out, what is left is the oldest.
  std::stable_sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
    if (a.st.st_mtim.tv_sec != b.st.st_mtim.tv_sec)
      return a.st.st_mtim.tv_sec > b.st.st_mtim.tv_sec;
    return a.st.st_mtim.tv_nsec > b.st.st_mtim.tv_nsec;
  });
  for (size_t i = 0; i < found.size(); ++i) {
    if (s.deadline.expired()) {
      if (s.abandoned.empty())
        s.abandoned = s.deadline.reason() + " after " + std::to_string(i) + " of " +
                      std::to_string(found.size()) + " files";
      for (size_t j = i; j < found.size(); ++j)
        if (!c.done.count(found[j].vpath) && S_ISREG(found[j].st.st_mode))
          list_not_copied(c, s, found[j].vpath, -1, found[j].st,
                          "not reached: " + s.deadline.reason());
      break;
    }
    try {
      take_file(c, spec, s, found[i]);
    } catch (const Error& e) {
      if (c.w.failed()) throw;  // the output: the caller keeps the targets frozen
      c.problem("artifacts.skip", c.real(found[i].vpath), e.what());
    }
  }
  if (s.abandoned.empty() && s.deadline.expired()) s.abandoned = s.deadline.reason();
  end_step(c, s, before);
}

}  // namespace forage::collector::detail
