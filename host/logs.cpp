#include "host/logs.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "host/deadline.h"
#include "host/fs.h"

namespace forage::host {
namespace {

std::string base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string join(const std::string& dir, const std::string& name) {
  return dir + (!dir.empty() && dir.back() == '/' ? "" : "/") + name;
}

void walk(int dirfd, const std::string& dir, const Mounts& mounts, dev_t dev, int depth,
          int max_depth, std::vector<std::string>& out, const SkipSink& skipped) {
  Dir d = Dir::at(dirfd);
  for (const auto& n : d.names()) {
    std::string path = join(dir, n);
    Entry e = peek(dirfd, n);
    if (e.err) {
      skipped("unreadable", path, std::strerror(e.err));
      continue;
    }
    if (S_ISLNK(e.st.st_mode)) {
      skipped("symlink", path, "");
    } else if (S_ISREG(e.st.st_mode)) {
      if (!log_kind(path).empty()) out.push_back(path);
    } else if (S_ISDIR(e.st.st_mode) && depth < max_depth) {
      if (e.mount_root || e.st.st_dev != dev) {
        FsKind k = mounts.kind(e.st.st_dev);
        if (k == FsKind::kPseudo || k == FsKind::kFuse) {
          skipped(k == FsKind::kPseudo ? "pseudo-fs" : "fuse-fs", path, "");
          continue;
        }
      }
      Opened sub = open_dir_beneath(dirfd, n);
      if (!sub && sub.err == EXDEV) sub = open_base_dir(path, mounts);  // a mount of its own
      if (!sub) {
        skipped("unreadable", path, sub.why);
        continue;
      }
      walk(sub.fd.get(), path, mounts, sub.st.st_dev, depth + 1, max_depth, out, skipped);
    }
  }
}

}  // namespace

std::string log_kind(std::string_view path) {
  std::string name = base_name(path);
  std::string dir(path.substr(0, path.size() - name.size()));
  auto ends = [&](std::string_view s) {
    return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  if (ends(".journal") || ends(".journal~")) return "journal";
  for (const char* p : {"auth.log", "secure"})
    if (name.rfind(p, 0) == 0) return "auth";
  for (const char* p : {"syslog", "messages"})
    if (name.rfind(p, 0) == 0) return "syslog";
  if (name.find("slurm") != std::string::npos || dir.find("/slurm") != std::string::npos)
    return "slurm";
  if (dir.find("/condor/") != std::string::npos || dir.find("/htcondor/") != std::string::npos)
    return "condor";
  return "";
}

std::vector<std::string> default_log_paths(const std::string& root) {
  std::vector<std::string> out;
  std::string var_log = root + "/var/log";
  Dir d = Dir::open(var_log);
  for (const auto& n : d.names()) {
    std::string p = var_log + "/" + n;
    std::string k = log_kind(p);
    if (k == "auth" || k == "syslog" || (k == "slurm" && n.find(".log") != std::string::npos))
      out.push_back(p);
    else if (n == "slurm" || n == "slurm-llnl" || n == "slurmctld" || n == "slurmd" ||
             n == "condor" || n == "htcondor" || n == "journal")
      out.push_back(p);
  }
  std::string run_journal = root + "/run/log/journal";
  struct stat st {};
  if (::lstat(run_journal.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) out.push_back(run_journal);
  return out;
}

std::vector<std::string> find_logs(const std::string& path, bool named, const SkipSink& skipped,
                                   int max_depth) {
  std::vector<std::string> out;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (named && errno != ENOENT) skipped("unreadable", path, std::strerror(errno));
    return out;
  }
  if (S_ISLNK(st.st_mode)) {
    skipped("symlink", path, "");
    return out;
  }
  if (S_ISREG(st.st_mode)) {
    if (named || !log_kind(path).empty()) out.push_back(path);
    return out;
  }
  if (!S_ISDIR(st.st_mode)) return out;
  Mounts mounts = Mounts::load();
  Opened d = open_base_dir(path, mounts);
  if (!d) {
    skipped("unreadable", path, d.why);
    return out;
  }
  walk(d.fd.get(), path, mounts, d.st.st_dev, 0, max_depth, out, skipped);
  std::sort(out.begin(), out.end());
  return out;
}

bool is_gzip(int fd) {
  unsigned char magic[2] = {};
  return ::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

std::string gunzip(int fd, uint64_t max, const std::function<bool(const char*, size_t)>& sink,
                   const Deadline* deadline) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return "zlib initialisation failed";
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  std::vector<unsigned char> in(1 << 16), out(1 << 16);
  uint64_t off = 0, produced = 0;
  bool in_member = false;  // input taken since the last member ended
  for (;;) {
    if (deadline && deadline->expired()) return deadline->reason();
    ssize_t n = ::pread(fd, in.data(), in.size(), static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::strerror(errno);
    if (n == 0) return in_member ? "gzip data cut short" : "";
    off += static_cast<uint64_t>(n);
    z.next_in = in.data();
    z.avail_in = static_cast<uInt>(n);
    while (z.avail_in > 0) {
      in_member = true;
      z.next_out = out.data();
      z.avail_out = static_cast<uInt>(out.size());
      int r = inflate(&z, Z_NO_FLUSH);
      size_t k = out.size() - z.avail_out;
      if (k && !sink(reinterpret_cast<const char*>(out.data()), k)) return "stopped";
      produced += k;
      if (produced >= max) return "stopped after " + std::to_string(max >> 20) + " MiB";
      if (r == Z_STREAM_END) {
        in_member = false;
        if (inflateReset(&z) != Z_OK) return "zlib reset failed";
        continue;
      }
      if (r == Z_BUF_ERROR && k == 0) break;
      if (r != Z_OK) return std::string("corrupt gzip data: ") + (z.msg ? z.msg : "inflate failed");
    }
  }
}

}  // namespace forage::host
