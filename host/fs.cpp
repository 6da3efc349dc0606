#include "host/fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/hash.h"
#include "common/strings.h"
#include "host/deadline.h"

namespace forage::host {
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

constexpr int64_t kFuseType = 0x65735546;  // fuse (sshfs, cvmfs, glusterfs, s3fs...)

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
    0x19830326,  // beegfs
    0xAAD7AAEA,  // panfs
    0x20030528,  // orangefs / pvfs2
    0x0187,      // autofs (a trigger: entering it may mount a network share)
};

constexpr std::string_view kPseudoNames[] = {
    "proc",       "sysfs",  "devpts",  "cgroup",    "cgroup2", "debugfs",   "tracefs",
    "securityfs", "selinuxfs", "smackfs", "bpf",     "pstore",  "efivarfs",  "configfs",
    "binfmt_misc", "mqueue", "hugetlbfs", "resctrl", "nsfs",    "fusectl",   "devtmpfs",
    "rpc_pipefs", "nfsd",   "autofs"};
constexpr std::string_view kNetworkNames[] = {"nfs",   "nfs4", "smb3",    "smbfs",  "cifs",
                                              "ceph",  "lustre", "gpfs",  "afs",    "coda",
                                              "9p",    "beegfs", "panfs", "orangefs", "glusterfs"};

template <class T, size_t N>
bool in(const T (&arr)[N], const T& v) {
  return std::find(std::begin(arr), std::end(arr), v) != std::end(arr);
}

Opened fail(int err, std::string why) {
  Opened o;
  o.err = err;
  o.why = std::move(why);
  return o;
}

std::string errno_reason(int err) {
  if (err == ELOOP) return "a symbolic link on the way, not followed";
  if (err == EXDEV) return "crosses into another file system, not entered";
  return std::strerror(err);
}

bool valid_rel(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = std::min(rel.find('/', i), rel.size());
    std::string_view c = rel.substr(i, j - i);
    if (c == ".." || c == "." || c.empty()) return false;
    i = j + 1;
  }
  return true;
}

bool g_allow_openat2 = true;

bool have_openat2() {
  if (!g_allow_openat2) return false;
  static const bool yes = [] {
    struct open_how how {};
    how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH;
    long fd = ::syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
    if (fd >= 0) ::close(static_cast<int>(fd));
    return !(fd < 0 && (errno == ENOSYS || errno == EPERM));  // EPERM: a seccomp filter
  }();
  return yes;
}

// One openat2 below dirfd, or the per-component fallback.
int open_beneath(int dirfd, std::string_view rel, int flags) {
  std::string r(rel);
  if (have_openat2()) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    for (;;) {
      long fd = ::syscall(SYS_openat2, dirfd, r.c_str(), &how, sizeof how);
      if (fd >= 0) return static_cast<int>(fd);
      if (errno == EAGAIN) continue;  // a rename raced the lookup: the kernel asks to retry
      if (errno == EPERM && (flags & O_NOATIME)) {
        how.flags &= ~static_cast<uint64_t>(O_NOATIME);
        flags &= ~O_NOATIME;
        continue;
      }
      return -1;
    }
  }
  // Fallback: one component at a time, never following, never leaving the device.
  struct stat top {};
  if (::fstat(dirfd, &top) != 0) return -1;
  Fd cur;
  int at = dirfd;
  size_t i = 0;
  for (;;) {
    size_t j = r.find('/', i);
    bool last = j == std::string::npos;
    std::string comp = r.substr(i, last ? std::string::npos : j - i);
    int f = last ? flags | O_NOFOLLOW : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    int fd = open_noatime(at, comp.c_str(), f);
    if (fd < 0) {
      // O_NOFOLLOW|O_DIRECTORY on a link says ENOTDIR: say what it is.
      struct stat l {};
      int err = errno;
      if (err == ENOTDIR && ::fstatat(at, comp.c_str(), &l, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(l.st_mode))
        err = ELOOP;
      errno = err;
      return -1;
    }
    Fd next(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return -1;
    if (st.st_dev != top.st_dev) {
      errno = EXDEV;
      return -1;
    }
    if (last) return next.release();
    cur = std::move(next);
    at = cur.get();
    i = j + 1;
  }
}

// Refuses what must not be read; fills o.st.
bool check_opened(Opened& o, bool want_dir, const Mounts* mounts) {
  if (::fstat(o.fd.get(), &o.st) != 0) {
    o.err = errno;
    o.why = std::strerror(errno);
    return false;
  }
  if (want_dir ? !S_ISDIR(o.st.st_mode) : !S_ISREG(o.st.st_mode)) {
    o.err = want_dir ? ENOTDIR : EINVAL;
    o.why = std::string(file_type_name(o.st.st_mode)) + ", not a " +
            (want_dir ? "directory" : "regular file") + ": not read";
    return false;
  }
  FsKind kind = FsKind::kLocal;
  if (mounts && mounts->find(o.st.st_dev)) {
    kind = mounts->kind(o.st.st_dev);
  } else {
    struct statfs sfs {};
    if (::fstatfs(o.fd.get(), &sfs) == 0) kind = fs_kind(static_cast<int64_t>(sfs.f_type), "");
  }
  if (kind == FsKind::kPseudo || kind == FsKind::kFuse) {
    o.err = EPERM;
    o.why = std::string("on a ") + std::string(fs_kind_name(kind)) + " file system: not read";
    return false;
  }
  return true;
}

}  // namespace

std::string_view fs_kind_name(FsKind k) {
  switch (k) {
    case FsKind::kLocal:
      return "local";
    case FsKind::kPseudo:
      return "pseudo";
    case FsKind::kNetwork:
      return "network";
    case FsKind::kFuse:
      return "FUSE";
  }
  return "local";
}

FsKind fs_kind(int64_t t, const std::string& mount_point) {
  if (mount_point == "/dev") return FsKind::kPseudo;
  if (in(kPseudoTypes, t)) return FsKind::kPseudo;
  if (t == kFuseType) return FsKind::kFuse;
  if (in(kNetworkTypes, t)) return FsKind::kNetwork;
  return FsKind::kLocal;
}

FsKind fs_kind_of_type(std::string_view type, std::string_view mount_point) {
  if (mount_point == "/dev") return FsKind::kPseudo;
  if (type == "fuse" || type == "fuseblk" || type.rfind("fuse.", 0) == 0) return FsKind::kFuse;
  std::string_view base = type.substr(0, type.find('.'));
  if (in(kPseudoNames, base)) return FsKind::kPseudo;
  if (in(kNetworkNames, base)) return FsKind::kNetwork;
  return FsKind::kLocal;
}

Mounts Mounts::load(const std::string& mountinfo) {
  Fd fd(::open(mountinfo.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return {};
  try {
    return parse(read_all(fd.get(), mountinfo, 64u << 20));
  } catch (const std::exception&) {
    return {};
  }
}

Mounts Mounts::parse(std::string_view text) {
  Mounts m;
  auto unescape = [](std::string_view s) {
    // The kernel writes space, tab, newline and backslash as \ooo.
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
          s[i + 3] >= '0' && s[i + 3] <= '7') {
        out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
        i += 3;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  for (std::string_view line : split_lines(text)) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    std::vector<std::string_view> head;
    for (size_t at = 0; at < dash && head.size() < 5;) {
      size_t sp = std::min(line.find(' ', at), dash);
      if (sp > at) head.push_back(line.substr(at, sp - at));
      at = sp + 1;
    }
    std::string_view tail = line.substr(dash + 3);
    std::string_view type = tail.substr(0, tail.find(' '));
    if (head.size() < 5 || type.empty()) continue;
    std::string_view mm = head[2];
    size_t colon = mm.find(':');
    if (colon == std::string_view::npos) continue;
    unsigned maj = 0, min = 0;
    try {
      maj = static_cast<unsigned>(std::stoul(std::string(mm.substr(0, colon))));
      min = static_cast<unsigned>(std::stoul(std::string(mm.substr(colon + 1))));
    } catch (const std::exception&) {
      continue;
    }
    Mount mt;
    mt.point = unescape(head[4]);
    mt.fstype = std::string(type);
    mt.kind = fs_kind_of_type(type, mt.point);
    // A device mounted twice (bind mounts) keeps its first, least specific entry, except that a
    // pseudo or FUSE kind always wins: refusing is the safe side.
    auto [it, fresh] = m.by_dev_.emplace(makedev(maj, min), mt);
    if (!fresh && (mt.kind == FsKind::kPseudo || mt.kind == FsKind::kFuse)) it->second = mt;
  }
  return m;
}

const Mounts::Mount* Mounts::find(dev_t dev) const {
  auto it = by_dev_.find(dev);
  return it == by_dev_.end() ? nullptr : &it->second;
}

FsKind Mounts::kind(dev_t dev) const {
  const Mount* m = find(dev);
  return m ? m->kind : FsKind::kLocal;
}

Entry peek(int dirfd, const std::string& name) {
  Entry e;
  struct statx sx {};
  // AT_STATX_DONT_SYNC: a FUSE or network file system answers from its cache, never asks its
  // server (who may be a frozen target); AT_NO_AUTOMOUNT: an automount point is not triggered.
  if (::statx(dirfd, name.c_str(), AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
              STATX_BASIC_STATS, &sx) != 0) {
    e.err = errno;
    return e;
  }
  e.st.st_mode = sx.stx_mode;
  e.st.st_ino = sx.stx_ino;
  e.st.st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  e.st.st_nlink = sx.stx_nlink;
  e.st.st_uid = sx.stx_uid;
  e.st.st_gid = sx.stx_gid;
  e.st.st_size = static_cast<off_t>(sx.stx_size);
  e.st.st_blocks = static_cast<blkcnt_t>(sx.stx_blocks);
  e.st.st_blksize = sx.stx_blksize;
  e.st.st_atim = {sx.stx_atime.tv_sec, sx.stx_atime.tv_nsec};
  e.st.st_mtim = {sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec};
  e.st.st_ctim = {sx.stx_ctime.tv_sec, sx.stx_ctime.tv_nsec};
  e.mount_root = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                 (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  return e;
}

Opened open_dir_beneath(int dirfd, std::string_view rel) {
  if (!valid_rel(rel)) return fail(EINVAL, "not a plain relative path");
  Opened o;
  o.fd = Fd(open_beneath(dirfd, rel, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC));
  if (!o.fd) return fail(errno, errno_reason(errno));
  if (!check_opened(o, true, nullptr)) o.fd.reset();
  return o;
}

Opened open_file_beneath(int dirfd, std::string_view rel, const Mounts* mounts) {
  if (!valid_rel(rel)) return fail(EINVAL, "not a plain relative path");
  Opened o;
  o.fd = Fd(open_beneath(dirfd, rel,
                         O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC));
  if (!o.fd) return fail(errno, errno_reason(errno));
  if (!check_opened(o, false, mounts)) o.fd.reset();
  return o;
}

Opened open_base_dir(const std::string& path, const Mounts& mounts) {
  struct statx sx {};
  if (::statx(AT_FDCWD, path.c_str(), AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC, STATX_BASIC_STATS,
              &sx) != 0)
    return fail(errno, std::strerror(errno));
  FsKind kind = mounts.kind(makedev(sx.stx_dev_major, sx.stx_dev_minor));
  if (kind == FsKind::kPseudo || kind == FsKind::kFuse)
    return fail(EPERM, std::string("on a ") + std::string(fs_kind_name(kind)) +
                           " file system: not entered");
  Opened o;
  o.fd = Fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC));
  if (!o.fd) return fail(errno, std::strerror(errno));
  if (!check_opened(o, true, &mounts)) o.fd.reset();
  return o;
}

Opened open_named_file(const std::string& path, const Mounts* mounts) {
  if (mounts) {
    struct statx sx {};
    if (::statx(AT_FDCWD, path.c_str(),
                AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC, STATX_BASIC_STATS,
                &sx) == 0) {
      FsKind kind = mounts->kind(makedev(sx.stx_dev_major, sx.stx_dev_minor));
      if (kind == FsKind::kPseudo || kind == FsKind::kFuse)
        return fail(EPERM, std::string("on a ") + std::string(fs_kind_name(kind)) +
                               " file system: not read");
    }
  }
  Opened o;
  int fd = open_noatime(AT_FDCWD, path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail(errno, errno == ELOOP ? "symbolic link not followed" : std::strerror(errno));
  o.fd = Fd(fd);
  if (!check_opened(o, false, mounts)) o.fd.reset();
  return o;
}

Opened open_process_file(const std::string& link) {
  struct stat st {};
  if (::stat(link.c_str(), &st) != 0) return fail(errno, std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail(EINVAL, "not a regular file (" + std::string(file_type_name(st.st_mode)) + ")");
  const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  Opened o;
  o.fd = Fd(open_noatime(AT_FDCWD, link.c_str(), flags));
  if (!o.fd) return fail(errno, std::strerror(errno));
  if (::fstat(o.fd.get(), &o.st) != 0) return fail(errno, std::strerror(errno));
  if (!S_ISREG(o.st.st_mode))
    return fail(EINVAL, "not a regular file (" + std::string(file_type_name(o.st.st_mode)) + ")");
  return o;
}

std::string read_range(int fd, uint64_t off, uint64_t max, const Deadline* deadline) {
  std::string out;
  uint64_t chunk = std::min<uint64_t>(max, 1u << 20);
  out.reserve(static_cast<size_t>(chunk));
  uint64_t pos = off;
  while (out.size() < max) {
    if (deadline && deadline->expired()) break;
    // Jump a hole: its bytes read as zeros without touching the disk.
    off_t data = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0 && errno == ENXIO) {
      // Only a hole (or the end) is left: zeros up to the size, within max.
      struct stat st {};
      if (::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) <= pos) break;
      uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(st.st_size) - pos, max - out.size());
      out.append(static_cast<size_t>(n), '\0');
      break;
    }
    if (data > static_cast<off_t>(pos)) {
      uint64_t n = std::min<uint64_t>(static_cast<uint64_t>(data) - pos, max - out.size());
      out.append(static_cast<size_t>(n), '\0');
      pos += n;
      continue;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, max - out.size()));
    size_t have = out.size();
    out.resize(have + want);
    ssize_t n = ::pread(fd, out.data() + have, want, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) {
      out.resize(have);
      continue;
    }
    if (n <= 0) {
      out.resize(have);
      break;
    }
    out.resize(have + static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
  }
  return out;
}

std::string read_named_file(const std::string& path, uint64_t max, const Mounts* mounts) {
  Opened o = open_named_file(path, mounts);
  if (!o) throw Error(path + ": " + o.why);
  if (static_cast<uint64_t>(o.st.st_size) > max)
    throw Error(path + ": larger than " + std::to_string(max) + " bytes");
  std::string s = read_range(o.fd.get(), 0, max + 1);
  if (s.size() > max) throw Error(path + ": larger than " + std::to_string(max) + " bytes");
  return s;
}

std::string sha256_prefix(int fd, uint64_t max, uint64_t* hashed, const Deadline* deadline) {
  Hasher h(HashAlgo::kSha256);
  static const std::string zeros(1u << 20, '\0');
  thread_local std::vector<char> buf(1u << 20);  // once per thread, not per file
  uint64_t pos = 0;
  struct stat st {};
  uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : UINT64_MAX;
  uint64_t end = std::min(size, max);
  while (pos < end) {
    if (deadline && deadline->expired()) break;
    off_t data = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
    uint64_t hole_end = data < 0 ? (errno == ENXIO ? end : pos) : static_cast<uint64_t>(data);
    if (hole_end > pos) {
      uint64_t n = std::min(hole_end, end) - pos;
      while (n > 0) {
        size_t k = static_cast<size_t>(std::min<uint64_t>(n, zeros.size()));
        h.update(zeros.data(), k);
        n -= k;
        pos += k;
      }
      continue;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - pos));
    ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
  }
  if (hashed) *hashed = pos;
  return h.final_hex();
}


void detail::use_openat2(bool yes) {
  g_allow_openat2 = yes;
}

std::string clean_absolute_path(std::string_view p) {
  if (p.empty() || p.front() != '/') return "";
  std::string out;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = std::min(p.find('/', i), p.size());
    std::string_view c = p.substr(i, j - i);
    if (c == "..") return "";
    if (!c.empty() && c != ".") out.append("/").append(c);
    i = j + 1;
  }
  return out.empty() ? "/" : out;
}

}  // namespace forage::host
