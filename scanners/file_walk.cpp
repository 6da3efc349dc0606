#include "scanners/file_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "common/error.h"

namespace forage::scanners {
namespace {

// statfs f_type values (linux/magic.h and the file systems' own sources).
constexpr int64_t kPseudoTypes[] = {
    0x9fa0,      // proc
    0x62656572,  // sysfs
    0x1cd1,      // devpts
    0x27e0eb,    // cgroup
    0x63677270,  // cgroup2
    0x64626720,  // debugfs
    0x74726163,  // tracefs
    0x73636673,  // securityfs
    0xf97cff8c,  // selinuxfs
    0x43415d53,  // smackfs
    0xcafe4a11,  // bpf
    0x6165676C,  // pstore
    0xde5e81e4,  // efivarfs
    0x62656570,  // configfs
    0x42494e4d,  // binfmt_misc
    0x19800202,  // mqueue
    0x958458f6,  // hugetlbfs
    0x7655821,   // resctrl
    0x6e736673,  // nsfs
    0x65735543,  // fusectl
    0x534F434B,  // sockfs
    0x50495045,  // pipefs
    0x09041934,  // anon_inode
};

constexpr int64_t kNetworkTypes[] = {
    0x6969,      // nfs
    0x517B,      // smb
    0xFF534D42,  // cifs
    0xFE534D42,  // smb2
    0x00c36400,  // ceph
    0x0BD00BD0,  // lustre
    0x47504653,  // gpfs
    0x5346414F,  // afs
    0x6B414653,  // kafs
    0x73757245,  // coda
    0x564c,      // ncp
    0x01021997,  // 9p
    0x65735546,  // fuse (sshfs, cvmfs, glusterfs, s3fs...)
    0x19830326,  // beegfs
    0xAAD7AAEA,  // panfs
    0x20030528,  // orangefs / pvfs2
    0x0187,      // autofs (a trigger: entering it may mount a network share)
};

bool in(const int64_t* begin, const int64_t* end, int64_t v) {
  for (const int64_t* p = begin; p != end; ++p)
    if (*p == v) return true;
  return false;
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

int open_dir(const std::string& path) {
  int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(path.c_str(), flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), flags);
  return fd;
}

std::string join(const std::string& dir, const char* name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

struct Pending {
  std::string path;
  dev_t parent_dev;
  bool named;      // given on the command line
  dev_t root_dev;  // for --one-file-system
};

}  // namespace

FsKind fs_kind(int64_t t, const std::string& mount_point) {
  // devtmpfs reports the tmpfs magic; /dev is told apart by where it is mounted.
  if (mount_point == "/dev") return FsKind::kPseudo;
  if (in(std::begin(kPseudoTypes), std::end(kPseudoTypes), t)) return FsKind::kPseudo;
  if (in(std::begin(kNetworkTypes), std::end(kNetworkTypes), t)) return FsKind::kNetwork;
  return FsKind::kLocal;
}

bool excluded(const std::string& path, const std::vector<std::string>& globs) {
  if (globs.empty()) return false;
  auto slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  for (const auto& g : globs)
    if (::fnmatch(g.c_str(), path.c_str(), 0) == 0 || ::fnmatch(g.c_str(), name.c_str(), 0) == 0)
      return true;
  return false;
}

std::vector<WalkEntry> walk(const WalkOptions& opts, ScanStats& stats) {
  std::vector<WalkEntry> out;
  std::vector<Pending> stack;
  std::set<std::pair<dev_t, ino_t>> seen_dirs;
  std::set<std::pair<dev_t, ino_t>> seen_files;

  auto consider_file = [&](const std::string& path, const struct stat& st) {
    if (excluded(path, opts.excludes)) return stats.skipped("excluded", path);
    if (opts.max_size > 0 && static_cast<uint64_t>(st.st_size) > opts.max_size)
      return stats.skipped("too-large", path);
    // Hard links and overlapping paths given twice: each file once.
    if (!seen_files.emplace(st.st_dev, st.st_ino).second) return stats.skipped("duplicate", path);
    out.push_back({path, static_cast<uint64_t>(st.st_size), st.st_dev, st.st_ino, st.st_uid});
  };
  auto classify_other = [&](const std::string& path, mode_t mode) {
    if (S_ISLNK(mode)) return stats.skipped("symlink", path);
    return stats.skipped("special", path);  // FIFO, socket, device: never opened
  };

  for (const auto& root : opts.paths) {
    struct stat st {};
    if (::lstat(root.c_str(), &st) != 0) {
      stats.skipped(errno == ENOENT ? "vanished" : "unreadable", root, true, std::strerror(errno));
      continue;
    }
    if (S_ISREG(st.st_mode)) {
      consider_file(root, st);
    } else if (S_ISDIR(st.st_mode)) {
      stack.push_back({root, st.st_dev, true, st.st_dev});
    } else {
      classify_other(root, st.st_mode);
    }
  }

  while (!stack.empty()) {
    Pending dir = std::move(stack.back());
    stack.pop_back();
    if (!dir.named && excluded(dir.path, opts.excludes)) {
      stats.skipped("excluded", dir.path);
      continue;
    }
    int fd = open_dir(dir.path);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP)  // replaced or removed mid-walk
        stats.skipped("vanished", dir.path);
      else
        stats.skipped("unreadable", dir.path, true, std::strerror(err));
      continue;
    }
    std::unique_ptr<DIR, DirCloser> d(::fdopendir(fd));
    if (!d) {
      ::close(fd);
      stats.skipped("unreadable", dir.path, true, std::strerror(errno));
      continue;
    }
    struct stat dst {};
    if (::fstat(fd, &dst) != 0) {
      stats.skipped("unreadable", dir.path, true, std::strerror(errno));
      continue;
    }
    if (!seen_dirs.emplace(dst.st_dev, dst.st_ino).second) {
      stats.skipped("loop", dir.path);  // a bind mount back up the tree, or a path given twice
      continue;
    }
    if (!dir.named && dst.st_dev != dir.parent_dev) {
      if (opts.one_file_system && dst.st_dev != dir.root_dev) {
        stats.skipped("other-fs", dir.path);
        continue;
      }
      struct statfs sfs {};
      if (::fstatfs(fd, &sfs) == 0) {
        FsKind kind = fs_kind(static_cast<int64_t>(sfs.f_type), dir.path);
        if (kind != FsKind::kLocal) {
          stats.skipped(kind == FsKind::kPseudo ? "pseudo-fs" : "network-fs", dir.path);
          // /dev/shm is a real tmpfs and a favourite drop place: scan it anyway.
          if (dir.path == "/dev") stack.push_back({"/dev/shm", dst.st_dev, false, dir.root_dev});
          continue;
        }
      }
    }
    for (;;) {
      // errno is the only way readdir() tells an error from the end; anything in the loop
      // body (logging to a terminal...) may set it.
      errno = 0;
      struct dirent* e = ::readdir(d.get());
      if (!e) {
        if (errno != 0) stats.skipped("unreadable", dir.path, true, std::strerror(errno));
        break;
      }
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      std::string path = join(dir.path, e->d_name);
      struct stat st {};
      if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
          stats.skipped("vanished", path);
        else
          stats.skipped("unreadable", path, true, std::strerror(errno));
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        stack.push_back({std::move(path), dst.st_dev, false, dir.root_dev});
      } else if (S_ISREG(st.st_mode)) {
        consider_file(path, st);
      } else {
        classify_other(path, st.st_mode);
      }
    }
  }
  return out;
}

}  // namespace forage::scanners
