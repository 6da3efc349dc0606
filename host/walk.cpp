#include "host/walk.h"

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

#include "common/file.h"
#include "host/fs.h"

namespace forage::host {
namespace {

std::string join(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

struct Pending {
  std::shared_ptr<Fd> parent;  // null: a path given, opened by its name
  std::string name;            // below parent
  std::string path;
  dev_t parent_dev;
  bool named;      // given on the command line
  dev_t root_dev;  // for --one-file-system
  int depth = 0;   // below the path given
};

int open_dir(const Pending& p) {
  const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  int at = p.parent ? p.parent->get() : AT_FDCWD;
  const std::string& name = p.parent ? p.name : p.path;
  return open_noatime(at, name.c_str(), flags);
}

std::string_view skip_reason(FsKind k) {
  switch (k) {
    case FsKind::kPseudo:
      return "pseudo-fs";
    case FsKind::kNetwork:
    case FsKind::kFuse:
      return "network-fs";
    case FsKind::kLocal:
      break;
  }
  return "";
}

}  // namespace

bool excluded(const std::string& path, const std::vector<std::string>& globs) {
  if (globs.empty()) return false;
  auto slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  for (const auto& g : globs)
    if (::fnmatch(g.c_str(), path.c_str(), 0) == 0 || ::fnmatch(g.c_str(), name.c_str(), 0) == 0)
      return true;
  return false;
}

namespace {

// Depth-first over directory descriptors: a directory is opened below its parent's descriptor
// with O_NOFOLLOW, so a path swapped for a symlink mid-walk is never followed.
class Walker {
 public:
  Walker(const WalkOptions& opts, const WalkSkip& skipped)
      : opts_(opts), skipped_(skipped), mounts_(Mounts::load()) {}

  std::vector<WalkEntry> run() {
    for (const auto& root : opts_.paths) add_root(root);
    while (!stack_.empty()) {
      Pending dir = std::move(stack_.back());
      stack_.pop_back();
      if (!dir.named && excluded(dir.path, opts_.excludes)) {
        skipped_("excluded", dir.path, false, "");
        continue;
      }
      std::shared_ptr<Fd> fd;
      struct stat dst {};
      if (enter(dir, fd, dst)) read_entries(dir, fd, dst);
    }
    return std::move(out_);
  }

 private:
  const WalkOptions& opts_;
  const WalkSkip& skipped_;
  const Mounts mounts_;
  std::vector<WalkEntry> out_;
  std::vector<Pending> stack_;
  std::set<std::pair<dev_t, ino_t>> seen_dirs_;
  std::set<std::pair<dev_t, ino_t>> seen_files_;

  void consider_file(const std::string& path, const struct stat& st) {
    if (excluded(path, opts_.excludes)) return skipped_("excluded", path, false, "");
    if (opts_.max_size > 0 && static_cast<uint64_t>(st.st_size) > opts_.max_size)
      return skipped_("too-large", path, false, "");
    // Hard links and overlapping paths given twice: each file once.
    if (!seen_files_.emplace(st.st_dev, st.st_ino).second)
      return skipped_("duplicate", path, false, "");
    out_.push_back({path, static_cast<uint64_t>(st.st_size), st.st_dev, st.st_ino, st.st_uid});
  }

  void classify_other(const std::string& path, mode_t mode) {
    if (S_ISLNK(mode)) return skipped_("symlink", path, false, "");
    return skipped_("special", path, false, "");  // FIFO, socket, device: never opened
  }

  void add_root(const std::string& root) {
    struct stat st {};
    if (::lstat(root.c_str(), &st) != 0) {
      skipped_(errno == ENOENT ? "vanished" : "unreadable", root, true, std::strerror(errno));
    } else if (S_ISREG(st.st_mode)) {
      consider_file(root, st);
    } else if (S_ISDIR(st.st_mode)) {
      stack_.push_back({nullptr, "", root, st.st_dev, true, st.st_dev});
    } else {
      classify_other(root, st.st_mode);
    }
  }

  // Opens a pending directory; false (and the reason logged) when it is gone, unreadable, seen
  // before, or on a file system that is not scanned.
  bool enter(Pending& dir, std::shared_ptr<Fd>& fd, struct stat& dst) {
    fd = std::make_shared<Fd>(open_dir(dir));
    dir.parent.reset();  // the parent's descriptor closes once its last child is open
    if (!*fd) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR || err == ELOOP)  // replaced or removed mid-walk
        skipped_("vanished", dir.path, false, "");
      else
        skipped_("unreadable", dir.path, true, std::strerror(err));
      return false;
    }
    if (::fstat(fd->get(), &dst) != 0) {
      skipped_("unreadable", dir.path, true, std::strerror(errno));
      return false;
    }
    if (!seen_dirs_.emplace(dst.st_dev, dst.st_ino).second) {
      skipped_("loop", dir.path, false,
               "");  // a bind mount back up the tree, or a path given twice
      return false;
    }
    if (!dir.named && dst.st_dev != dir.parent_dev) {
      // A device the mount table does not know (a btrfs subvolume): statfs tells its kind.
      struct statfs sfs {};
      if (!mounts_.find(dst.st_dev) && ::fstatfs(fd->get(), &sfs) == 0) {
        FsKind kind = fs_kind(static_cast<int64_t>(sfs.f_type), dir.path);
        if (kind != FsKind::kLocal) {
          skipped_(std::string(skip_reason(kind)), dir.path, false, "");
          return false;
        }
      }
    }
    return true;
  }

  void read_entries(const Pending& dir, const std::shared_ptr<Fd>& fd, const struct stat& dst) {
    Dir d = Dir::at(fd->get());
    if (!d) return skipped_("unreadable", dir.path, true, std::strerror(d.error()));
    for (const auto& name : d.names()) {
      std::string path = join(dir.path, name);
      Entry e = peek(fd->get(), name);
      if (e.err == ENOENT) {
        skipped_("vanished", path, false, "");
      } else if (e.err) {
        skipped_("unreadable", path, true, std::strerror(e.err));
      } else if (S_ISDIR(e.st.st_mode)) {
        if (opts_.max_depth >= 0 && dir.depth >= opts_.max_depth) {
          skipped_("depth", path, false, "");
          continue;
        }
        if ((e.st.st_dev != dst.st_dev || e.mount_root) && !cross_mount(dir, e, path)) continue;
        stack_.push_back(
            {fd, name, std::move(path), dst.st_dev, false, dir.root_dev, dir.depth + 1});
      } else if (S_ISREG(e.st.st_mode)) {
        consider_file(path, e.st);
      } else {
        classify_other(path, e.st.st_mode);
      }
    }
  }

  // A mount point: decided from the mount table, before anything is asked of it.
  bool cross_mount(const Pending& dir, const Entry& e, const std::string& path) {
    if (opts_.one_file_system && e.st.st_dev != dir.root_dev) {
      skipped_("other-fs", path, false, "");
      return false;
    }
    FsKind kind = path == "/dev" ? FsKind::kPseudo : mounts_.kind(e.st.st_dev);
    if (kind == FsKind::kLocal) return true;
    skipped_(std::string(skip_reason(kind)), path, false, "");
    // /dev/shm is a real tmpfs and a favourite drop place: scan it anyway.
    if (path == "/dev")
      stack_.push_back({nullptr, "", "/dev/shm", e.st.st_dev, false, dir.root_dev});
    return false;
  }
};

}  // namespace

std::vector<WalkEntry> walk_files(const WalkOptions& opts, const WalkSkip& skipped) {
  return Walker(opts, skipped).run();
}

}  // namespace forage::host
