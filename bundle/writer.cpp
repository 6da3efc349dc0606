#include "bundle/writer.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "bundle/bag.h"
#include "bundle/cms_stream.h"
#include "bundle/pax.h"
#include "bundle/stream.h"
#include "bundle/zstd_stream.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/layout.h"
#include "common/strings.h"
#include "common/time.h"

namespace forage::bundle {
namespace {

constexpr size_t kChunk = 1 << 20;

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return std::string(trim(out));
}

std::string date_of(std::time_t t, bool with_time) {
  return with_time ? utc_iso(t) : utc_date(t);
}

// Opens a source file relative to `dirfd` without following a link and without updating its
// atime when allowed; O_NONBLOCK keeps a FIFO swapped in at the last moment from blocking us.
int open_source(int dirfd, const char* name, int* err) {
  int fd = open_noatime(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

struct BundleWriter::Impl {
  WriterOptions opt;
  std::string top, final_path, partial_path;
  Fd owned_fd;
  int fd = -1;
  bool to_stdout = false;
  dev_t out_dev = 0;
  ino_t out_ino = 0;
  std::unique_ptr<FdSink> fd_sink;
  std::unique_ptr<CmsEncryptSink> cms;
  std::unique_ptr<ZstdSink> zstd;
  std::unique_ptr<PaxWriter> tar;
  Sink* stream = nullptr;  // the top layer the tar writer writes into
  ActionLog log;
  std::vector<std::pair<std::string, std::string>> manifest, tag_manifest;  // (path, sha256)
  std::unordered_set<std::string> names;
  uint64_t payload_bytes = 0, payload_files = 0;
  enum class State { kOpen, kFinished, kClosed } state = State::kOpen;
  bool broken = false;
  std::vector<char> buf = std::vector<char>(kChunk);
  std::time_t started = 0;

  std::string member_name(const std::string& rel) const { return top + "/" + rel; }

  [[noreturn]] void output_failed(const std::exception& e) {
    broken = true;
    state = State::kClosed;
    std::string where = to_stdout
                            ? std::string("the bundle on stdout is incomplete")
                            : partial_path + " is kept, readable up to the last complete member";
    throw Error(std::string(e.what()) + " (bundle not finished: " + where + ")");
  }

  template <class F>
  auto guarded(F&& f) {
    if (state != State::kOpen) throw Error("bundle writer: the bundle is already closed");
    try {
      return f();
    } catch (const std::exception& e) {
      output_failed(e);
    }
  }

  std::string unique(const std::string& rel) {
    std::string name = rel;
    for (int n = 2; names.count(name); ++n) name = rel + "~" + std::to_string(n);
    names.insert(name);
    return name;
  }

  // The member limit (bag.h): past it nothing more is added, never an error (the bundle must
  // still seal). Tag files a caller adds (meta/incident.json...) may use the reserve, all but
  // the few the writer adds at finish(). The first file refused is logged with the reason, the
  // others counted (a tree of millions of files must not give millions of log lines), and the
  // count logged at finish().
  bool full(std::string_view rel) const {
    return names.size() + (layout::is_payload(rel) ? kMemberReserve : 16) >= opt.max_members;
  }
  std::string full_reason() const {
    return "member limit reached (" + std::to_string(names.size()) +
           " members; verify accepts at most " + std::to_string(opt.max_members) +
           " with the tag files): not collected";
  }

  uint64_t refused_count = 0;

  void refuse(const std::string& source, PathSummary* s) {
    if (refused_count++ == 0) log.append(opt.actor, "bundle.skip", source, full_reason());
    if (s) ++s->skipped;
  }

  MemberResult refused(const std::string& rel, const std::string& source) {
    MemberResult r;
    r.bag_path = rel;
    r.status = "skipped";
    r.detail = full_reason();
    refuse(source, nullptr);
    return r;
  }

  std::string checked_rel(std::string_view bag_path) {
    std::string rel = bag_safe_path(bag_path);
    if (!layout::is_payload(rel) && reserved_tag_name(rel))
      throw Error("bag path '" + printable(rel) + "' is written by the bundle itself");
    if (rel == "data") throw Error("bag path 'data' is the payload directory");
    return unique(rel);
  }

  bool is_payload(const std::string& rel) const { return layout::is_payload(rel); }

  void account(const std::string& rel, uint64_t size, const std::string& sha) {
    if (is_payload(rel)) {
      manifest.emplace_back(rel, sha);
      payload_bytes += size;
      ++payload_files;
    } else {
      tag_manifest.emplace_back(rel, sha);
    }
  }

  std::string blob(const std::string& rel, std::string_view data, bool listed = true) {
    PaxWriter::Member m;
    m.name = member_name(rel);
    m.mtime_sec = started;
    m.mode = 0644;
    tar->add(m, data);
    stream->flush();
    std::string sha = sha256_hex(data);
    if (listed) account(rel, data.size(), sha);
    return sha;
  }

  void log_member(const MemberResult& r, const std::string& source) {
    std::string result = r.bag_path + " " + std::to_string(r.size) + " bytes sha256 " + r.sha256;
    if (r.problem()) result = r.status + ": " + r.detail + "; stored as " + result;
    log.append(opt.actor, "bundle.add", source, result);
  }

  MemberResult copy_fd(const std::string& rel, int src, const struct stat& st,
                       const std::string& source, uint64_t max_bytes = UINT64_MAX) {
    MemberResult r;
    r.bag_path = rel;
    const bool over = static_cast<uint64_t>(st.st_size) > max_bytes;
    uint64_t declared = over ? max_bytes : static_cast<uint64_t>(st.st_size);
    ::posix_fadvise(src, 0, 0, POSIX_FADV_SEQUENTIAL);
    PaxWriter::Member m;
    m.name = member_name(rel);
    m.size = declared;
    m.mtime_sec = st.st_mtim.tv_sec;
    m.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    m.mode = 0644;
    tar->begin(m);
    Hasher h(HashAlgo::kSha256);
    ConcurrentHasher hashing(h);
    uint64_t got = 0;
    std::string read_error;
    while (got < declared) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), declared - got));
      ssize_t n = ::read(src, buf.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        read_error = std::strerror(errno);
        break;
      }
      if (n == 0) break;
      hashing.update_while(buf.data(), static_cast<size_t>(n),
                           [&] { tar->write(buf.data(), static_cast<size_t>(n)); });
      got += static_cast<uint64_t>(n);
    }
    r.from_source = got;
    bool grew = false;
    if (got == declared && read_error.empty() && !over) {
      char c;
      ssize_t n;
      do n = ::read(src, &c, 1);
      while (n < 0 && errno == EINTR);
      grew = n > 0;
    }
    pad(h, declared - got);
    tar->end();
    stream->flush();
    r.stored = true;
    r.size = declared;
    r.sha256 = h.final_hex();
    struct stat after {};
    bool changed = ::fstat(src, &after) == 0 &&
                   (after.st_size != st.st_size || after.st_mtim.tv_sec != st.st_mtim.tv_sec ||
                    after.st_mtim.tv_nsec != st.st_mtim.tv_nsec);
    if (over) {
      r.status = "truncated";
      r.detail = std::to_string(st.st_size) + " bytes when opened: cut at the " +
                 std::to_string(max_bytes) + " bytes its budget allowed";
    } else if (!read_error.empty()) {
      r.status = "padded";
      r.detail = "read error after " + std::to_string(got) + " of " + std::to_string(declared) +
                 " bytes (" + read_error + "), rest zero-filled";
    } else if (got < declared) {
      r.status = "padded";
      r.detail = "source shrank while read: " + std::to_string(got) + " of " +
                 std::to_string(declared) + " bytes, rest zero-filled";
    } else if (grew) {
      r.status = "truncated";
      r.detail = "source grew while read: cut at the " + std::to_string(declared) +
                 " bytes it had when opened";
    } else if (changed) {
      r.status = "changed";
      r.detail = "source modified while read (size or mtime changed)";
    } else {
      r.status = "complete";
    }
    account(rel, r.size, r.sha256);
    log_member(r, source);
    return r;
  }

  void pad(Hasher& h, uint64_t n) {
    if (n == 0) return;
    std::fill(buf.begin(), buf.end(), 0);
    while (n > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf.size()));
      h.update(buf.data(), k);
      tar->write(buf.data(), k);
      n -= k;
    }
  }

  void skipped(const std::string& source, const std::string& why, PathSummary* s) {
    log.append(opt.actor, "bundle.skip", source, why);
    if (s) ++s->skipped;
  }

  void missing(const std::string& source, int err, PathSummary* s) {
    log.append(opt.actor, "bundle.add", source,
               err == ENOENT
                   ? "vanished: no longer exists, not collected"
                   : std::string("unreadable: ") + std::strerror(err) + ", not collected");
    if (s) ++s->problems;
  }

  void add_opened(const std::string& rel_in, int dirfd, const char* name, const std::string& source,
                  PathSummary* s) {
    int err = 0;
    Fd f(open_source(dirfd, name, &err));
    if (!f) return missing(source, err, s);
    struct stat st {};
    if (::fstat(f.get(), &st) != 0) return missing(source, errno, s);
    if (!S_ISREG(st.st_mode))
      return skipped(source, std::string(file_type_name(st.st_mode)) + ", not collected", s);
    if (!to_stdout && st.st_dev == out_dev && st.st_ino == out_ino)
      return skipped(source, "the bundle being written, not collected", s);
    if (full(rel_in)) return refuse(source, s);
    MemberResult r = copy_fd(checked_rel(rel_in), f.get(), st, source);
    if (s) {
      ++s->files;
      s->bytes += r.size;
      if (r.problem()) ++s->problems;
    }
  }

  void walk(int dirfd, const std::string& source, const std::string& rel, int depth,
            PathSummary& s) {
    if (depth > 128) return skipped(source, "directory nesting deeper than 128, not collected", &s);
    Dir d = Dir::at(dirfd);
    if (!d) return missing(source, d.error(), &s);
    for (const auto& n : d.names()) {
      std::string child = source + "/" + n;
      std::string child_rel = rel + "/" + n;
      struct stat st {};
      if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        missing(child, errno, &s);
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        Fd sub(::openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) {
          missing(child, errno, &s);
          continue;
        }
        walk(sub.get(), child, child_rel, depth + 1, s);
      } else if (S_ISREG(st.st_mode)) {
        add_opened(child_rel, dirfd, n.c_str(), child, &s);
      } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t k = ::readlinkat(dirfd, n.c_str(), target, sizeof target - 1);
        std::string t = k > 0 ? std::string(target, static_cast<size_t>(k)) : "?";
        skipped(child, "symbolic link to '" + t + "', not followed", &s);
      } else {
        skipped(child, std::string(file_type_name(st.st_mode)) + ", not collected", &s);
      }
    }
  }

  std::string bag_info() const {
    std::string s;
    auto field = [&](const char* k, std::string_view v) {
      if (!v.empty()) s += std::string(k) + ": " + one_line(v) + "\n";
    };
    field("Bag-Software-Agent", opt.software_agent.empty() ? "forage" : opt.software_agent);
    field("Bagging-Date", date_of(started, false));
    field("Bagging-Time", date_of(started, true));
    field("External-Identifier", opt.case_id);
    if (!opt.tlp.empty()) field("TLP", opt.tlp.substr(opt.tlp.find(':') + 1));
    std::string host;
    const auto& env = opt.environment;
    if (env.contains("host") && env["host"].is_object()) {
      const auto& h = env["host"];
      if (h.contains("fqdn") && h["fqdn"].is_string())
        host = h["fqdn"].get<std::string>();
      else if (h.contains("hostname") && h["hostname"].is_string())
        host = h["hostname"].get<std::string>();
    }
    field("Source-Host", host.empty() ? opt.host : host);
    field("Payload-Oxum", std::to_string(payload_bytes) + "." + std::to_string(payload_files));
    field("Internal-Sender-Description",
          "Evidence bundle written by forage; how to check it: docs/bundle-format.md");
    return s;
  }
};

BundleWriter::BundleWriter(WriterOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.opt = std::move(options);
  if (!m.opt.signer && !m.opt.unsigned_ok)
    throw Error("no signing identity given (an unsigned bundle needs --no-sign)");
  m.started = m.opt.utc ? m.opt.utc : std::time(nullptr);
  m.top = top_directory(m.opt.case_id, m.opt.host, m.started);
  std::string out_name;
  if (m.opt.out == "-") {
    if (::isatty(STDOUT_FILENO))
      throw Error("refusing to write a bundle to a terminal: give --out FILE or pipe stdout");
    m.to_stdout = true;
    m.fd = STDOUT_FILENO;
    m.final_path = m.partial_path = "-";
    out_name = "<stdout>";
  } else {
    if (m.opt.out.empty()) throw Error("no output given (--out FILE or -)");
    struct stat st {};
    if (::lstat(m.opt.out.c_str(), &st) == 0)
      throw Error(m.opt.out + ": exists; forage never overwrites a bundle");
    m.final_path = m.opt.out;
    m.partial_path = m.opt.out + ".partial";
    m.owned_fd = Fd(
        ::open(m.partial_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!m.owned_fd) {
      if (errno == EEXIST)
        throw Error(m.partial_path +
                    ": exists (left by an interrupted run?); move it away or "
                    "choose another --out");
      throw system_error(m.partial_path, errno);
    }
    m.fd = m.owned_fd.get();
    if (::fstat(m.fd, &st) == 0) {
      m.out_dev = st.st_dev;
      m.out_ino = st.st_ino;
    }
    out_name = m.partial_path;
  }
  m.fd_sink = std::make_unique<FdSink>(m.fd, out_name);
  Sink* s = m.fd_sink.get();
  try {
    if (!m.opt.encrypt_to.empty()) {
      m.cms = std::make_unique<CmsEncryptSink>(*s, m.opt.encrypt_to);
      s = m.cms.get();
    }
    if (m.opt.compress) {
      m.zstd = std::make_unique<ZstdSink>(*s, m.opt.compress_level);
      s = m.zstd.get();
    }
  } catch (...) {
    // Nothing was written yet: leave no empty .partial behind.
    if (!m.to_stdout) ::unlink(m.partial_path.c_str());
    m.state = Impl::State::kClosed;
    throw;
  }
  m.stream = s;
  m.tar = std::make_unique<PaxWriter>(*s);

  std::string how = "output " + (m.to_stdout ? std::string("stdout") : m.final_path);
  how += m.opt.compress ? "; zstd level " + std::to_string(m.opt.compress_level) : "; uncompressed";
  how += m.opt.encrypt_to.empty() ? "; not encrypted"
                                  : "; CMS AuthEnvelopedData AES-256-GCM to " +
                                        std::to_string(m.opt.encrypt_to.size()) + " recipient(s)";
  for (X509* r : m.opt.encrypt_to) how += " [" + subject_slash(r) + "]";
  how += m.opt.signer ? "; signing: " + m.opt.signer->describe() : "; UNSIGNED (--no-sign)";
  if (!m.opt.tlp.empty()) how += "; " + m.opt.tlp;
  m.guarded([&] {
    m.log.append(m.opt.actor, "bundle.begin", m.top, how);
    m.blob(std::string(kBagitTxt), kBagitContent);
    m.blob(std::string(kEnvironment),
           m.opt.environment.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  });
}

BundleWriter::~BundleWriter() {
  if (impl_ && impl_->state == Impl::State::kOpen) {
    try {
      abort("interrupted before the bundle was finished");
    } catch (...) {
    }
  }
}

const std::string& BundleWriter::top() const {
  return impl_->top;
}
const std::string& BundleWriter::output_path() const {
  return impl_->partial_path;
}
uint64_t BundleWriter::payload_files() const {
  return impl_->payload_files;
}
uint64_t BundleWriter::payload_bytes() const {
  return impl_->payload_bytes;
}

void BundleWriter::record(std::string_view action, std::string_view target,
                          std::string_view result) {
  impl_->log.append(impl_->opt.actor, action, target, result);
}

void BundleWriter::note(std::string_view text) {
  std::string who =
      impl_->opt.operator_name.empty() ? "operator" : "operator:" + impl_->opt.operator_name;
  impl_->log.append(who, "note", "", text);
}

MemberResult BundleWriter::add_fd(std::string_view bag_path, int fd, const std::string& source,
                                  uint64_t max_bytes) {
  Impl& m = *impl_;
  if (std::string rel = bag_safe_path(bag_path); m.full(rel)) return m.refused(rel, source);
  std::string rel = m.checked_rel(bag_path);
  return m.guarded([&] {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      MemberResult r;
      r.bag_path = rel;
      r.status = "skipped";
      r.detail = "not a regular file";
      m.skipped(source, r.detail, nullptr);
      return r;
    }
    return m.copy_fd(rel, fd, st, source, max_bytes);
  });
}

void BundleWriter::checkpoint() {
  Impl& m = *impl_;
  m.guarded([&] {
    m.stream->flush();
    if (!m.to_stdout && ::fdatasync(m.fd) != 0) throw system_error(m.partial_path, errno);
  });
}

bool BundleWriter::failed() const {
  const Impl& m = *impl_;
  return m.broken || m.fd_sink->failed() || m.state != Impl::State::kOpen;
}

MemberResult BundleWriter::add_file(std::string_view bag_path, const std::string& source) {
  Impl& m = *impl_;
  if (std::string rel = bag_safe_path(bag_path); m.full(rel)) return m.refused(rel, source);
  std::string rel = m.checked_rel(bag_path);
  return m.guarded([&] {
    MemberResult r;
    r.bag_path = rel;
    int err = 0;
    Fd f(open_source(AT_FDCWD, source.c_str(), &err));
    struct stat st {};
    if (!f || ::fstat(f.get(), &st) != 0) {
      if (f) err = errno;
      r.status = err == ENOENT ? "vanished" : "unreadable";
      r.detail = err == ELOOP ? "symbolic link, not followed" : std::strerror(err);
      m.missing(source, err, nullptr);
      return r;
    }
    if (!S_ISREG(st.st_mode)) {
      r.status = "skipped";
      r.detail = std::string(file_type_name(st.st_mode)) + ", not collected";
      m.skipped(source, r.detail, nullptr);
      return r;
    }
    return m.copy_fd(rel, f.get(), st, source);
  });
}

MemberResult BundleWriter::add_stream(std::string_view bag_path, uint64_t declared,
                                      const StreamProducer& producer, const std::string& source) {
  Impl& m = *impl_;
  if (std::string rel = bag_safe_path(bag_path); m.full(rel)) return m.refused(rel, source);
  std::string rel = m.checked_rel(bag_path);
  return m.guarded([&] {
    struct Out : StreamOut {
      Impl& m;
      Hasher h{HashAlgo::kSha256};
      ConcurrentHasher hashing{h};  // a core is GiBs: hash and write each chunk in parallel
      uint64_t left, extra = 0;
      Out(Impl& impl, uint64_t n) : m(impl), left(n) {}
      size_t write(const void* data, size_t size) override {
        size_t take = static_cast<size_t>(std::min<uint64_t>(size, left));
        hashing.update_while(data, take, [&] { m.tar->write(data, take); });
        left -= take;
        extra += size - take;
        return take;
      }
      uint64_t remaining() const override { return left; }
    } out(m, declared);
    PaxWriter::Member mem;
    mem.name = m.member_name(rel);
    mem.size = declared;
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    mem.mtime_sec = now.tv_sec;
    mem.mtime_nsec = static_cast<uint32_t>(now.tv_nsec);
    m.tar->begin(mem);
    std::string source_error;
    try {
      producer(out);
    } catch (const Error& e) {
      if (m.broken || m.fd_sink->failed()) throw;
      source_error = e.what();
    }
    if (m.fd_sink->failed()) throw Error("output failed");
    MemberResult r;
    r.bag_path = rel;
    r.from_source = declared - out.left;
    m.pad(out.h, out.left);
    m.tar->end();
    m.stream->flush();
    r.stored = true;
    r.size = declared;
    r.sha256 = out.h.final_hex();
    if (!source_error.empty()) {
      r.status = "padded";
      r.detail = "source failed after " + std::to_string(r.from_source) + " of " +
                 std::to_string(declared) + " bytes (" + source_error + "), rest zero-filled";
    } else if (r.from_source < declared) {
      r.status = "padded";
      r.detail = "source delivered " + std::to_string(r.from_source) + " of " +
                 std::to_string(declared) + " declared bytes, rest zero-filled";
    } else if (out.extra > 0) {
      r.status = "truncated";
      r.detail = "source delivered " + std::to_string(out.extra) +
                 " bytes more than the declared " + std::to_string(declared) + ", dropped";
    } else {
      r.status = "complete";
    }
    m.account(rel, r.size, r.sha256);
    m.log_member(r, source);
    return r;
  });
}

MemberResult BundleWriter::add_blob(std::string_view bag_path, std::string_view data) {
  Impl& m = *impl_;
  if (std::string rel = bag_safe_path(bag_path); m.full(rel)) return m.refused(rel, "(generated)");
  std::string rel = m.checked_rel(bag_path);
  return m.guarded([&] {
    MemberResult r;
    r.bag_path = rel;
    r.stored = true;
    r.size = r.from_source = data.size();
    r.sha256 = m.blob(rel, data);
    r.status = "complete";
    m.log_member(r, "(generated)");
    return r;
  });
}

PathSummary BundleWriter::add_path(std::string_view bag_path, const std::string& source) {
  Impl& m = *impl_;
  std::string rel = bag_safe_path(bag_path);
  return m.guarded([&] {
    PathSummary s;
    struct stat st {};
    if (::lstat(source.c_str(), &st) != 0) {
      m.missing(source, errno, &s);
      return s;
    }
    if (S_ISDIR(st.st_mode)) {
      Fd d(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!d)
        m.missing(source, errno, &s);
      else
        m.walk(d.get(), source, rel, 0, s);
    } else if (S_ISREG(st.st_mode)) {
      m.add_opened(rel, AT_FDCWD, source.c_str(), source, &s);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t k = ::readlink(source.c_str(), target, sizeof target - 1);
      m.skipped(source,
                "symbolic link to '" + (k > 0 ? std::string(target, static_cast<size_t>(k)) : "?") +
                    "', not followed",
                &s);
    } else {
      m.skipped(source, std::string(file_type_name(st.st_mode)) + ", not collected", &s);
    }
    return s;
  });
}

std::string BundleWriter::finish(bool keep_partial) {
  Impl& m = *impl_;
  m.guarded([&] {
    if (m.refused_count > 0)
      m.log.append(
          m.opt.actor, "bundle.skip", "(member limit)",
          std::to_string(m.refused_count) + " files not collected in all: " + m.full_reason());
    m.log.append(m.opt.actor, "bundle.seal", m.top,
                 std::to_string(m.payload_files) + " payload files, " +
                     std::to_string(m.payload_bytes) + " bytes; " +
                     (m.opt.signer ? "signature: " + m.opt.signer->describe()
                                   : std::string("UNSIGNED (--no-sign)")));
    m.blob(std::string(kActions), m.log.text());
    m.blob(std::string(kActionsHead), m.log.head());
    m.blob(std::string(kBagInfo), m.bag_info());
    std::string manifest;
    for (const auto& [path, sha] : m.manifest) manifest += manifest_line(sha, path);
    m.blob(std::string(kManifest), manifest);
    std::string tags;
    for (const auto& [path, sha] : m.tag_manifest) tags += manifest_line(sha, path);
    m.blob(std::string(kTagManifest), tags, false);
    if (m.opt.signer)
      for (const auto& [name, bytes] : m.opt.signer->sign(tags)) m.blob(name, bytes, false);
    m.tar->finish();
    if (!m.to_stdout) {
      if (::fsync(m.fd) != 0) throw system_error(m.partial_path, errno);
    }
  });
  m.state = Impl::State::kFinished;
  if (m.to_stdout) return "-";
  if (keep_partial) {
    m.owned_fd.reset();
    return m.partial_path;
  }
  m.owned_fd.reset();
  if (::renameat2(AT_FDCWD, m.partial_path.c_str(), AT_FDCWD, m.final_path.c_str(),
                  RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err != EINVAL && err != ENOSYS)
      throw system_error("renaming " + m.partial_path + " to " + m.final_path, err);
    if (::link(m.partial_path.c_str(), m.final_path.c_str()) != 0)
      throw system_error("renaming " + m.partial_path + " to " + m.final_path, errno);
    ::unlink(m.partial_path.c_str());
  }
  std::string dir = m.final_path.find('/') == std::string::npos
                        ? "."
                        : m.final_path.substr(0, m.final_path.rfind('/') + 1);
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) ::fsync(d.get());
  return m.final_path;
}

void BundleWriter::abort(std::string_view reason) {
  Impl& m = *impl_;
  if (m.state != Impl::State::kOpen) return;
  m.state = Impl::State::kClosed;
  if (!m.broken && !m.fd_sink->failed()) {
    try {
      if (m.tar->in_member()) {
        Hasher h(HashAlgo::kSha256);
        m.pad(h, m.tar->member_remaining());
        m.tar->end();
      }
      m.log.append(m.opt.actor, "bundle.abort", m.top, reason);
      m.blob(std::string(kActions), m.log.text());
      m.blob(std::string(kActionsHead), m.log.head());
      m.tar->finish();
      if (!m.to_stdout) ::fsync(m.fd);
    } catch (const std::exception& e) {
      spdlog::debug("closing the incomplete bundle: {}", e.what());
    }
  }
  m.owned_fd.reset();
  if (!m.to_stdout)
    spdlog::warn("bundle not finished ({}): {} kept, readable up to the last complete member",
                 std::string(reason), m.partial_path);
}

}  // namespace forage::bundle
