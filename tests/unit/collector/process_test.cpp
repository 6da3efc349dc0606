// Freezing, target selection, volatile state and the kill, with real forked processes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "collector/freeze.h"
#include "collector/process.h"
#include "../bundle/test_util.h"
#include "host/process_ref.h"
#include "host/proc.h"
#include "common/error.h"
#include "ioc/reader.h"
#include "scanners/ioc_match.h"

using namespace forage;
using namespace forage::collector;
using namespace forage::host;
using forage::bundle::test::slurp;
using forage::bundle::test::spit;
using forage::bundle::test::TempDir;

namespace {

char state_of(int pid) {
  auto s = read_stat("/proc", pid);
  return s ? s->state : '-';
}

bool wait_state(int pid, bool stopped) {
  for (int i = 0; i < 400; ++i) {
    char st = state_of(pid);
    if ((st == 'T') == stopped) return true;
    ::usleep(5000);
  }
  return false;
}

// A child that forks a grandchild; both sleep. `gpid` learns the grandchild through a pipe.
struct Tree {
  int pid = -1, gpid = -1;
  Tree() {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    pid = ::fork();
    if (pid == 0) {
      int g = ::fork();
      if (g == 0) {
        for (;;) ::pause();
      }
      if (::write(fds[1], &g, sizeof g) != sizeof g) _exit(1);
      for (;;) ::pause();
    }
    if (::read(fds[0], &gpid, sizeof gpid) != sizeof gpid) gpid = -1;
    ::close(fds[0]);
    ::close(fds[1]);
  }
  ~Tree() {
    ::kill(gpid, SIGKILL);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};

}  // namespace

TEST(Freezer, StopsTheTreeAndThawsInDestructor) {
  Tree t;
  ASSERT_GT(t.gpid, 0);
  {
    FreezeOptions fo;
    fo.use_cgroup = false;
    Freezer f(fo);
    f.freeze({t.pid});
    EXPECT_EQ(f.processes().size(), 2u);
    EXPECT_TRUE(f.all_verified());
    EXPECT_EQ(f.processes().front().pid, t.gpid);  // children first
    EXPECT_EQ(state_of(t.pid), 'T');
    EXPECT_EQ(state_of(t.gpid), 'T');
    EXPECT_EQ(f.to_json().size(), 2u);
  }
  EXPECT_TRUE(wait_state(t.pid, false));
  EXPECT_TRUE(wait_state(t.gpid, false));
}

TEST(Freezer, KeepFrozenLeavesThemStopped) {
  Tree t;
  {
    FreezeOptions fo;
    fo.use_cgroup = false;
    Freezer f(fo);
    f.freeze({t.pid});
    f.keep_frozen();
  }
  ::usleep(50000);
  EXPECT_EQ(state_of(t.pid), 'T');
  EXPECT_EQ(state_of(t.gpid), 'T');
}

TEST(Freezer, CgroupHelpers) {
  EXPECT_EQ(cgroup2_path("12:pids:/x\n0::/system.slice/job_42\n"), "/system.slice/job_42");
  EXPECT_EQ(cgroup2_path("4:memory:/\n"), "");
  EXPECT_TRUE(cgroup_holds_only("10\n11\n", {10, 11, 12}));
  EXPECT_FALSE(cgroup_holds_only("10\n99\n", {10, 11}));
  EXPECT_FALSE(cgroup_holds_only("", {10}));
  EXPECT_FALSE(cgroup_holds_only("10x\n", {10}));
}

TEST(Freezer, FindsTheCgroup2MountOnUnifiedAndHybridHosts) {
  const std::string unified =
      "25 1 0:23 / / rw,relatime - ext4 /dev/vda rw\n"
      "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
      "rw,nsdelegate,memory_recursiveprot\n";
  EXPECT_EQ(cgroup2_mount_point(unified), "/sys/fs/cgroup");
  const std::string hybrid =
      "31 25 0:27 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
      "34 31 0:30 / /sys/fs/cgroup/freezer rw,relatime shared:13 - cgroup cgroup rw,freezer\n"
      "32 31 0:28 / /sys/fs/cgroup/unified rw,nosuid,nodev shared:10 - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(cgroup2_mount_point(hybrid), "/sys/fs/cgroup/unified");
  // A container's bind mount of a sub-tree is not the hierarchy's root; escapes are decoded.
  EXPECT_EQ(cgroup2_mount_point("40 1 0:26 /job.slice /mnt/cg rw - cgroup2 cgroup2 rw\n"
                                "41 1 0:26 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n"),
            "/mnt/my cg");
  EXPECT_EQ(cgroup2_mount_point("34 31 0:30 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw\n"), "");
  EXPECT_EQ(cgroup2_mount_point("garbage\n - \n- cgroup2\n"), "");
}

TEST(Targets, OperatorErrorsAreExit2) {
  TargetSpec s;
  s.pids = {1};
  try {
    select_targets(s);
    FAIL() << "pid 1 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Exit::kUsage);
    EXPECT_NE(std::string(e.what()).find("pid 1"), std::string::npos);
  }
  s.pids = {static_cast<int>(::getpid())};
  EXPECT_THROW(select_targets(s), Error);
  s.pids = {0x3ffffff0};
  try {
    select_targets(s);
    FAIL() << "missing pid accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "--pid 1073741808: no such process");
  }
  s.strict = false;  // sweep: listed, not thrown
  auto t = select_targets(s);
  EXPECT_TRUE(t.pids.empty());
  EXPECT_EQ(t.excluded.size(), 1u);
  s.pids = {};
  s.user = "no-such-user-forage";
  EXPECT_THROW(select_targets(s), Error);
}

TEST(Targets, UserSelectsChildButNeverForage) {
  Tree t;
  TargetSpec s;
  s.user = std::to_string(::getuid());
  auto got = select_targets(s);
  EXPECT_NE(std::find(got.pids.begin(), got.pids.end(), t.pid), got.pids.end());
  EXPECT_EQ(std::find(got.pids.begin(), got.pids.end(), static_cast<int>(::getpid())),
            got.pids.end());
  EXPECT_EQ(std::find(got.pids.begin(), got.pids.end(), 1), got.pids.end());
}

TEST(Process, StateOfAChild) {
  Tree t;
  auto sockets = host_sockets("/proc");
  auto j = process_state("/proc", t.pid, sockets);
  EXPECT_EQ(j["pid"], t.pid);
  EXPECT_TRUE(j["exe"].is_string());
  EXPECT_TRUE(j["fds"].is_array());
  EXPECT_FALSE(j["maps"].empty());
  EXPECT_TRUE(j["namespaces"].contains("pid"));
  EXPECT_TRUE(j["environ"].is_object());
  auto table = process_table("/proc");
  bool seen = false;
  for (const auto& p : table) seen = seen || p["pid"] == t.gpid;
  EXPECT_TRUE(seen);
}

TEST(Process, EnvironJsonSurvivesBadBytes) {
  auto j = environ_json(std::string("A=1\0B=x=y\0NOEQ\0\xff\xfe=\x80\0\0", 21));
  ASSERT_TRUE(j.contains("A")) << j.dump();
  EXPECT_TRUE(j.at("A").is_string()) << j.dump();
  EXPECT_EQ(j.value("A", ""), "1");
  EXPECT_EQ(j.at("B").get<std::string>(), "x=y");
  EXPECT_TRUE(j.at("NOEQ").is_null());
  EXPECT_EQ(j.size(), 4u);
  EXPECT_NO_THROW((void)j.dump());
}

TEST(Process, KillReportsOurZombie) {
  int pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  ::kill(pid, SIGSTOP);
  auto ref = host::ProcessRef::open("/proc", pid, 0, nullptr);
  ASSERT_TRUE(ref);
  EXPECT_TRUE(ref->has_pidfd());
  auto r = kill_processes("/proc", {*ref}, 2000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].gone);
  // We are its parent and have not reaped it yet.
  EXPECT_NE(r[0].result.find("zombie until its parent " + std::to_string(::getpid())),
            std::string::npos)
      << r[0].result;
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  auto again = kill_processes("/proc", {*ref}, 100);
  EXPECT_EQ(again[0].result, "already gone");
}

// A pid that names another process by the time of the kill is never signalled: the handle's
// start time no longer matches (here without a pidfd: a saved proc root whose stat changed).
TEST(Process, KillNeverSignalsARecycledPid) {
  int pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  TempDir t;
  std::string dir = t / std::to_string(pid);
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  spit(dir + "/stat", stat);
  auto ref = host::ProcessRef::open(t.path(), pid, 0, nullptr);
  ASSERT_TRUE(ref);
  EXPECT_FALSE(ref->has_pidfd());
  // The process "exits" and its pid is given to another one, started later.
  auto st = host::parse_stat(stat);
  ASSERT_TRUE(st);
  std::string later = stat;
  size_t at = later.rfind(") ");
  std::vector<std::string> f;
  for (size_t i = at + 2; i < later.size();) {
    size_t j = later.find(' ', i);
    if (j == std::string::npos) j = later.size();
    f.push_back(later.substr(i, j - i));
    i = j + 1;
  }
  f[19] = std::to_string(st->start_ticks + 1000);
  std::string rebuilt = later.substr(0, at + 2);
  for (size_t i = 0; i < f.size(); ++i) rebuilt += (i ? " " : "") + f[i];
  spit(dir + "/stat", rebuilt);
  auto r = kill_processes(t.path(), {*ref}, 100);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(r[0].result.find("NOT signalled"), std::string::npos) << r[0].result;
  // The real process was left alone.
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), 0);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

TEST(Targets, IocsSelectOnlyProcessesThatHit) {
  const std::string domain = "c2-" + std::to_string(::getpid()) + ".forage-test.example.org";
  int pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", ("sleep 30; : " + domain).c_str(), nullptr);
    _exit(127);
  }
  ::usleep(200000);
  char path[] = "/tmp/forage-iocs-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = "block " + domain + " now\n";
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  auto set = ioc::read_files({path}, {});
  ::unlink(path);
  scanners::IocIndex index(set);
  TargetSpec s;
  s.iocs = &index;
  auto t = select_targets(s);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ASSERT_EQ(t.pids.size(), 1u) << t.selection.dump();
  EXPECT_EQ(t.pids[0], pid);
  EXPECT_NE(t.selection[0]["why"].get<std::string>().find("domain:" + domain), std::string::npos);
}
