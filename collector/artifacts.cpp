#include "collector/artifacts.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "bundle/writer.h"
#include "collector/artifact_context.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/layout.h"
#include "common/strings.h"
#include "common/time.h"
#include "host/fs.h"
#include "host/logins.h"
#include "host/private_key.h"

namespace forage::collector {

using detail::Ctx;
using detail::Json;
using detail::Step;

namespace {

using P = ArtifactPolicy;
using X = ArtifactParser;

// Logs and login records: the first things an incident is read from.
std::vector<ArtifactSpec> log_rows() {
  return {
      {.name = "auth-logs",
       .category = "logs",
       .paths = {"/var/log/auth.log*", "/var/log/secure*"},
       .bag_dir = std::string(layout::kLogsDir),
       .why = "authentication log, rotated and compressed too; scanned for the SSH log reach",
       .budget = 128ull << 20,
       .deadline_s = 30},
      {.name = "syslog",
       .category = "logs",
       .paths = {"/var/log/syslog*", "/var/log/messages*"},
       .bag_dir = std::string(layout::kLogsDir),
       .why = "system log, rotated and compressed too",
       .budget = 192ull << 20,
       .deadline_s = 30},
      {.name = "journal",
       .category = "logs",
       .paths = {"/var/log/journal/**", "/run/log/journal/**"},
       .bag_dir = std::string(layout::kLogsDir),
       .why = "systemd journal files (persistent and volatile); read with journalctl --file",
       .budget = 192ull << 20,
       .deadline_s = 30},
      {.name = "wtmp",
       .category = "logins",
       .paths = {"/var/log/wtmp*"},
       .policy = P::kCopyParse,
       .parser = X::kUtmp,
       .bag_dir = std::string(layout::kLogsDir),
       .why = "login history; parsed to <file>.json",
       .budget = 32ull << 20,
       .deadline_s = 15},
      {.name = "btmp",
       .category = "logins",
       .paths = {"/var/log/btmp*"},
       .policy = P::kCopyParse,
       .parser = X::kUtmp,
       .bag_dir = std::string(layout::kLogsDir),
       .why = "failed logins; parsed to <file>.json",
       .budget = 32ull << 20,
       .deadline_s = 15},
      {.name = "lastlog",
       .category = "logins",
       .paths = {"/var/log/lastlog"},
       .policy = P::kCopyParse,
       .parser = X::kLastlog,
       .bag_dir = std::string(layout::kLogsDir),
       .why = "last login per uid; parsed to lastlog.json (a sparse one is parsed, not copied)",
       .budget = 16ull << 20,
       .deadline_s = 15},
  };
}

// Who may log in and become root.
std::vector<ArtifactSpec> account_rows() {
  return {
      {.name = "accounts",
       .category = "accounts",
       .paths = {"/etc/passwd", "/etc/group"},
       .bag_dir = std::string(layout::kHostDir),
       .why = "local users and groups",
       .budget = 8ull << 20,
       .deadline_s = 10},
      {.name = "shadow",
       .category = "accounts",
       .paths = {"/etc/shadow"},
       .policy = P::kMetadataOnly,
       .parser = X::kShadow,
       .bag_dir = std::string(layout::kHostDir),
       .why = "password state and ageing only (user, last change, expiry): hashes never copied",
       .budget = 8ull << 20,
       .deadline_s = 10},
      {.name = "sudoers",
       .category = "privileges",
       .paths = {"/etc/sudoers", "/etc/sudoers.d/**"},
       .bag_dir = std::string(layout::kHostDir),
       .why = "who may become root",
       .budget = 4ull << 20,
       .deadline_s = 10},
  };
}

// What starts again by itself: cron, units, preloads, login scripts.
std::vector<ArtifactSpec> persistence_rows() {
  return {
      {.name = "cron",
       .category = "persistence",
       .paths = {"/etc/crontab", "/etc/anacrontab", "/etc/cron.d/**", "/etc/cron.hourly/**",
                 "/etc/cron.daily/**", "/etc/cron.weekly/**", "/etc/cron.monthly/**",
                 "/var/spool/cron/**", "/var/spool/anacron/**"},
       .bag_dir = std::string(layout::kHostDir),
       .why = "scheduled jobs, system-wide and per user",
       .budget = 16ull << 20,
       .deadline_s = 20},
      {.name = "systemd-units",
       .category = "persistence",
       .paths = {"/etc/systemd/system/**", "/etc/systemd/user/**", "~/.config/systemd/user/**"},
       .bag_dir = std::string(layout::kHostDir),
       .why = "locally added or overridden units and timers (links recorded, not followed)",
       .budget = 16ull << 20,
       .deadline_s = 20},
      {.name = "boot-persistence",
       .category = "persistence",
       .paths = {"/etc/ld.so.preload", "/etc/rc.local", "/etc/profile.d/**", "/etc/environment"},
       .bag_dir = std::string(layout::kHostDir),
       .why = "preloaded libraries and login-time scripts, favourite rootkit hooks",
       .budget = 16ull << 20,
       .deadline_s = 10},
  };
}

// SSH: the server, its keys, every user's ~/.ssh.
std::vector<ArtifactSpec> ssh_rows() {
  return {
      {.name = "sshd-config",
       .category = "ssh",
       .paths = {"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/**", "/etc/ssh/ssh_host_*.pub"},
       .bag_dir = std::string(layout::kHostDir),
       .why = "SSH server configuration and public host keys",
       .budget = 4ull << 20,
       .deadline_s = 10},
      {.name = "ssh-host-keys",
       .category = "ssh",
       .paths = {"/etc/ssh/ssh_host_*_key"},
       .policy = P::kHashOnly,
       .bag_dir = std::string(layout::kHostDir),
       .why = "SSH host private keys: sha256 recorded (was the key replaced?), never copied",
       .budget = 1ull << 20,
       .deadline_s = 10},
      {.name = "user-ssh",
       .category = "ssh",
       .paths = {"~/.ssh/**"},
       .bag_dir = std::string(layout::kHostDir),
       .why =
           "every user's ~/.ssh (authorized_keys, known_hosts, config); private keys hashed only",
       .budget = 32ull << 20,
       .deadline_s = 30},
  };
}

// What users typed, and the places anyone may drop a file.
std::vector<ArtifactSpec> user_rows() {
  return {
      {.name = "shell-history",
       .category = "history",
       .paths = {"~/.bash_history", "~/.zsh_history", "~/.sh_history", "~/.ash_history",
                 "~/.history", "~/.local/share/fish/fish_history", "~/.python_history",
                 "~/.mysql_history", "~/.psql_history", "~/.lesshst", "~/.viminfo", "~/.wget-hsts"},
       .bag_dir = std::string(layout::kHostDir),
       .why = "shell and tool histories of every user",
       .budget = 64ull << 20,
       .deadline_s = 30},
      {.name = "tmp-listings",
       .category = "listing",
       .paths = {"/tmp", "/var/tmp", "/dev/shm"},
       .policy = P::kListing,
       .bag_dir = std::string(layout::kHostDir),
       .why = "listing with sha256 and libmagic type; small executables (ELF, #!) copied",
       .budget = 128ull << 20,
       .deadline_s = 60},
  };
}

// Only in the full profile.
std::vector<ArtifactSpec> full_rows() {
  return {
      {.name = "all-logs",
       .category = "logs",
       .paths = {"/var/log/**"},
       .profile = Profile::kFull,
       .bag_dir = std::string(layout::kLogsDir),
       .why = "the whole /var/log tree (profile full)",
       .budget = 4ull << 30,
       .deadline_s = 300},
  };
}

}  // namespace

const std::vector<ArtifactSpec>& artifact_table() {
  // Rows are taken in this order; a file matched by two rows is taken once, by the first.
  static const std::vector<ArtifactSpec> table = [] {
    std::vector<ArtifactSpec> t;
    for (auto rows : {log_rows, account_rows, persistence_rows, ssh_rows, user_rows, full_rows})
      for (auto& r : rows()) t.push_back(std::move(r));
    return t;
  }();
  return table;
}

std::string_view policy_name(ArtifactPolicy p) {
  switch (p) {
    case ArtifactPolicy::kCopy:
      return "copy";
    case ArtifactPolicy::kCopyParse:
      return "copy+parse";
    case ArtifactPolicy::kMetadataOnly:
      return "metadata-only";
    case ArtifactPolicy::kHashOnly:
      return "hash-only";
    case ArtifactPolicy::kListing:
      return "listing";
  }
  return "copy";
}

namespace {

std::string mib(uint64_t bytes) {
  if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
    return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (1ull << 20)) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

std::string artifact_table_text(const ArtifactOptions& opt) {
  std::ostringstream o;
  o << "Host artefacts taken by `forage collect` (profile triage, the default; full adds the rows\n"
       "marked full; process takes none). Any file holding a private key is hashed, never copied.\n"
       "~/ means every home directory listed in /etc/passwd, read with its owner's rights.\n"
       "Each row has a byte budget and a deadline; files are taken newest first, and what does "
       "not\n"
       "fit or is not reached in time is listed in "
    << layout::kOverBudget
    << ", never dropped.\n"
       "Limits: "
    << mib(opt.max_file_size) << " per file (--max-file-size), "
    << (opt.max_total == UINT64_MAX ? std::string("no total cap") : mib(opt.max_total) + " in all")
    << " (--max-bundle-size), " << opt.deadline_s
    << " s for all rows; each target's cwd: one level plus its open files, " << mib(opt.cwd_budget)
    << ", " << opt.cwd_deadline_s << " s (never /, never a pseudo file system).\n\n";
  for (const auto& s : artifact_table()) {
    o << s.name << "  [" << s.category << ", " << policy_name(s.policy) << ", "
      << profile_name(s.profile) << ", " << mib(s.budget) << ", " << s.deadline_s << " s] -> "
      << s.bag_dir << "/\n";
    o << "    " << s.why << "\n";
    for (const auto& p : s.paths) o << "    " << p << "\n";
  }
  return o.str();
}

nlohmann::ordered_json ArtifactReport::to_json() const {
  Json j;
  j["files_copied"] = files_copied;
  j["bytes_copied"] = bytes_copied;
  j["hashed_only"] = hashed_only;
  j["listed"] = listed;
  j["problems"] = problems;
  j["skipped"] = skipped;
  j["over_budget"] = over_budget;
  j["over_budget_bytes"] = over_budget_bytes;
  j["not_reached"] = not_reached;
  j["abandoned"] = abandoned;
  j["private_keys_not_copied"] = private_keys;
  j["parsed"] = parsed;
  j["ssh_logs"] = ssh_logs.to_json();
  j["login_users"] = login_users;
  j["login_hosts"] = login_hosts;
  j["errors"] = errors;
  return j;
}

namespace detail {

host::Identity Ctx::identity_for(uid_t uid, gid_t gid) const {
  for (const auto& u : users)
    if (u.uid == uid) return host::identity_of(u, members);
  host::Identity id;
  id.uid = uid;
  id.gid = gid;
  id.groups = {gid};
  id.name = "uid " + std::to_string(uid);
  return id;
}

void Ctx::problem(std::string_view action, const std::string& target, const std::string& why) {
  rep.problems++;
  w.record(action, target, why);
}

std::string read_head(int fd, const struct stat& st, const host::Deadline& d) {
  uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string head = host::read_range(fd, 0, std::min<uint64_t>(size, 64u << 10), &d);
  // A key may sit further in (a PEM after a comment): read on only when the start hints at one.
  bool hint = head.find("-----BEGIN ") != std::string::npos ||
              head.find("PuTTY-User-Key-File-") != std::string::npos;
  if (hint && size > head.size())
    head = host::read_range(fd, 0, std::min<uint64_t>(size, kKeyScanMax), &d);
  return head;
}

void record_key(Ctx& c, const std::string& vpath, int fd, const std::string& where,
                const std::string& kind, const host::Deadline& d) {
  if (!c.done.insert("key:" + vpath).second) return;  // seen by two listings
  struct stat st {};
  ::fstat(fd, &st);
  // A key file is small; one that is not (a sparse 1 EiB "key") is hashed over its head only.
  uint64_t hashed = 0;
  std::string sha = host::sha256_prefix(fd, c.opt.hash_max, &hashed, &d);
  bool whole = hashed == static_cast<uint64_t>(st.st_size);
  c.rep.hashed_only++;
  add_unique(c.rep.private_keys, utf8_or_escaped(vpath));
  Json k = {{"path", utf8_or_escaped(vpath)},
            {"kind", kind},
            {"sha256", sha},
            {"size", static_cast<uint64_t>(st.st_size)},
            {"found_in", where},
            {"copied", false}};
  if (!whole) k["sha256_of_first_bytes"] = hashed;
  c.keys.push_back(std::move(k));
  c.w.record("artifacts.hash-only", c.real(vpath),
             "holds a private key (" + kind + "): sha256 " + sha +
                 (whole ? "" : " of the first " + std::to_string(hashed) + " bytes") + ", " +
                 std::to_string(st.st_size) + " bytes, NOT copied");
}

void list_not_copied(Ctx& c, Step& s, const std::string& vpath, int fd, const struct stat& st,
                     const std::string& why, bool over_budget) {
  Json j;
  j["path"] = utf8_or_escaped(c.real(vpath));
  j["step"] = s.name;
  j["why"] = why;
  j["type"] = file_type_name(st.st_mode);
  j["size"] = static_cast<uint64_t>(st.st_size);
  j["allocated"] = host::allocated_bytes(st);
  j["mtime"] = utc_iso(st.st_mtim.tv_sec);
  j["ctime"] = utc_iso(st.st_ctim.tv_sec);
  j["uid"] = st.st_uid;
  j["user"] = utf8_or_escaped(c.names.name(st.st_uid));
  j["gid"] = st.st_gid;
  if (fd >= 0) {
    // What it is and which it is, without copying it: its type and the hash of its head.
    std::string head =
        host::read_range(fd, 0, std::min<uint64_t>(st.st_size, 64u << 10), &s.deadline);
    j["magic"] = utf8_or_escaped(c.typer.describe(head));
    uint64_t hashed = 0;
    j["sha256_head"] = host::sha256_prefix(fd, c.opt.head_hash, &hashed, &s.deadline);
    j["sha256_head_bytes"] = hashed;
  }
  if (fd >= 0 || over_budget) {
    ++s.over;
    c.rep.over_budget++;
    c.rep.over_budget_bytes += static_cast<uint64_t>(st.st_size);
  } else {
    ++s.not_reached;
    c.rep.not_reached++;
  }
  c.over_jsonl += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (s.over + s.not_reached <= kLoggedPerStep)
    c.w.record(fd >= 0 || over_budget ? "artifacts.over-budget" : "artifacts.not-reached",
               c.real(vpath), why + "; listed in " + std::string(layout::kOverBudget));
}

void end_step(Ctx& c, Step& s, const ArtifactReport& before) {
  const ArtifactReport& r = c.rep;
  std::string line = std::to_string(r.files_copied - before.files_copied) + " files copied, " +
                     std::to_string(r.bytes_copied - before.bytes_copied) + " bytes, " +
                     std::to_string(r.hashed_only - before.hashed_only) + " hashed only, " +
                     std::to_string(r.problems - before.problems) + " problems";
  if (r.listed != before.listed)
    line += ", " + std::to_string(r.listed - before.listed) + " listed";
  if (s.over) line += ", " + std::to_string(s.over) + " over budget (listed, not copied)";
  if (s.not_reached)
    line += ", " + std::to_string(s.not_reached) + " not reached (listed, not read)";
  line += "; budget " + std::to_string(s.budget.used()) + " of " +
          std::to_string(s.budget.limit()) + " bytes";
  if (!s.abandoned.empty()) {
    line += "; ABANDONED: " + s.abandoned;
    c.rep.abandoned.push_back(s.name + ": " + s.abandoned);
    c.w.record("artifacts.abandoned", s.name, s.abandoned + "; the collection goes on");
  }
  c.w.record("artifacts.row", s.name, line);
}

}  // namespace detail

ArtifactReport collect_artifacts(bundle::BundleWriter& w, Profile profile,
                                 const std::vector<CwdListing>& cwds, const std::string& root,
                                 const ArtifactOptions& opt) {
  ArtifactReport rep;
  if (profile == Profile::kProcess) return rep;
  Ctx c(w, rep, opt);
  c.root = root;
  while (!c.root.empty() && c.root.back() == '/') c.root.pop_back();
  c.deadline = host::Deadline::in(std::chrono::seconds(opt.deadline_s));
  c.mounts = host::Mounts::load();
  const std::string& out = w.output_path();
  struct stat ost {};
  if (out != "-" && ::stat(out.c_str(), &ost) == 0) {
    c.out_dev = ost.st_dev;
    c.out_ino = ost.st_ino;
  }
  try {
    std::string passwd = host::read_named_file(c.real("/etc/passwd"), 64ull << 20);
    c.users = host::parse_passwd(passwd);
    c.names = host::UserNames::parse(passwd);
  } catch (const Error& e) {
    rep.errors.push_back(std::string("home directories unknown: ") + e.what());
  }
  try {
    c.members = host::parse_group_members(host::read_named_file(c.real("/etc/group"), 64ull << 20));
  } catch (const Error& e) {
    rep.errors.push_back(std::string("supplementary groups unknown: ") + e.what());
  }
  w.record("artifacts.begin", c.root.empty() ? "/" : c.root,
           "profile " + std::string(profile_name(profile)) + ", " + std::to_string(c.users.size()) +
               " accounts in /etc/passwd; " +
               (host::can_act_as_others() ? "homes read with their owners' rights"
                                          : "not root: everything read with forage's own rights") +
               "; total budget " +
               (opt.max_total == UINT64_MAX ? std::string("none") : std::to_string(opt.max_total)) +
               " bytes, deadline " + std::to_string(opt.deadline_s) + " s");

  for (const auto& s : artifact_table()) {
    if (s.profile == Profile::kFull && profile != Profile::kFull) continue;
    // Writer failures (disk full, closed pipe) propagate: the bundle so far stays readable and
    // the caller decides; nothing else here throws.
    detail::take_row(c, s);
  }
  for (const auto& d : cwds) detail::take_cwd(c, d);
  finish_reach(rep.ssh_logs, 0);
  if (!c.over_jsonl.empty()) w.add_blob(layout::kOverBudget, c.over_jsonl);
  Json j = rep.to_json();
  j["profile"] = profile_name(profile);
  j["root"] = c.root.empty() ? "/" : c.root;
  j["limits"] = {{"max_file_size", opt.max_file_size},
                 {"max_total", opt.max_total == UINT64_MAX ? Json(nullptr) : Json(opt.max_total)},
                 {"deadline_s", opt.deadline_s},
                 {"used_total", c.total.used()}};
  j["private_keys"] = c.keys;
  j["links"] = c.links;
  w.add_blob(layout::kArtifacts,
             j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  const auto& r = rep.ssh_logs;
  w.record("artifacts.ssh-log-reach", "auth/secure logs",
           r.oldest.empty() ? std::string("no sshd line found")
                            : "oldest " + r.oldest + ", newest " + r.newest + ", " +
                                  std::to_string(static_cast<int>(r.days)) + " days back; SEC01 " +
                                  (r.sec01_six_months ? "six months met" : "six months NOT met"));
  w.record("artifacts.end", c.root.empty() ? "/" : c.root,
           std::to_string(rep.files_copied) + " files, " + std::to_string(rep.bytes_copied) +
               " bytes, " + std::to_string(rep.hashed_only) + " hashed only, " +
               std::to_string(rep.listed) + " listed, " + std::to_string(rep.over_budget) +
               " over budget, " + std::to_string(rep.not_reached) + " not reached, " +
               std::to_string(rep.problems) + " problems" +
               (rep.abandoned.empty()
                    ? ""
                    : ", " + std::to_string(rep.abandoned.size()) + " steps abandoned"));
  return rep;
}

}  // namespace forage::collector
