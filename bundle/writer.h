// BundleWriter: streams an evidence bundle (DESIGN.md "Bundle") to a file or stdout.
//
//   BundleWriter w(options);                  // opens B.partial, writes bagit.txt, environment
//   w.add_file("data/logs/secure", "/var/log/secure");
//   w.add_stream("data/memory/4242/core", size, producer);   // collector: core of unknown size
//   w.add_blob("meta/incident.json", json);
//   w.note("operator text");
//   std::string path = w.finish();             // log, manifests, signature; B.partial -> B
//
// Payload bytes go from the source through SHA-256 into the tar stream (then zstd, then CMS
// encryption when asked) in fixed-size chunks: nothing is held in memory or copied to disk.
//
// Sizes come first: a tar header carries the member size before its data, and a bundle on a pipe
// (`--out -`, through zstd or CMS) cannot seek back to fix it, so every member is written with a
// declared size. The collector declares an ELF core's size from its own first pass over
// /proc/PID/maps (headers + readable segments); if the process exits mid-dump the producer simply
// stops and the member is zero-padded to the declared size, with the shortfall in the action log.
// No spool file, no second copy of the evidence.
//
// Sources that misbehave do not break the bundle: a file that shrinks is padded with zeros to the
// size declared in its header, one that grows is cut at it, one that vanishes is skipped; each is
// recorded in the action log (and in the MemberResult). An output failure (disk full, `ulimit -f`,
// closed pipe) throws forage::Error; the .partial file then keeps every member completed before
// it and is never renamed. abort() (and the destructor without finish()) closes the stream as
// well as it can (action log, end-of-archive, zstd/CMS trailers) and keeps the .partial name.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundle/action_log.h"
#include "bundle/bag.h"
#include "bundle/ossl.h"
#include "bundle/signing.h"

namespace forage::bundle {

struct WriterOptions {
  std::string out;  // file path, or "-" for stdout
  std::string case_id;
  std::string tlp;      // a canonical label (common/tlp.h); empty: none recorded
  std::string host;     // short host name for the top directory
  std::time_t utc = 0;  // 0: now
  bool compress = false;
  int compress_level = 3;
  const SigningIdentity* signer = nullptr;  // null only with unsigned_ok
  bool unsigned_ok = false;
  std::vector<X509*> encrypt_to;  // recipients; empty: not encrypted
  nlohmann::ordered_json environment = nlohmann::ordered_json::object();
  std::string software_agent;  // "forage 0.1.0 (commit ...)"
  std::string actor = "forage";
  std::string operator_name;           // actor of note() lines: "operator:<name>"
  uint64_t max_members = kMaxMembers;  // bag.h; lower only in tests
};

struct MemberResult {
  std::string bag_path;  // as stored (sanitised / de-duplicated)
  bool stored = false;   // a member was written
  uint64_t size = 0;     // bytes in the bag
  uint64_t from_source = 0;
  std::string sha256;
  std::string status;  // complete, padded, truncated, changed, vanished, unreadable, skipped
  std::string detail;
  bool problem() const { return status != "complete"; }
};

// What a producer writes a stream member through.
class StreamOut {
 public:
  virtual ~StreamOut() = default;
  // Accepts at most remaining() bytes; returns how many were taken.
  virtual size_t write(const void* data, size_t size) = 0;
  virtual uint64_t remaining() const = 0;
};
// Writes the member's bytes; may stop early (the rest is zero padding) and may throw
// forage::Error for a failing source (recorded, member padded, bundle goes on).
using StreamProducer = std::function<void(StreamOut&)>;

struct PathSummary {
  uint64_t files = 0, bytes = 0, skipped = 0, problems = 0;
};

class BundleWriter {
 public:
  explicit BundleWriter(WriterOptions options);
  ~BundleWriter();
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;

  const std::string& top() const;
  // Where the bytes are going now (".partial" until finish(), "-" for stdout).
  const std::string& output_path() const;

  void record(std::string_view action, std::string_view target, std::string_view result);
  void note(std::string_view text);

  // A regular file by path (opened O_NOFOLLOW|O_NOATIME, read-only).
  MemberResult add_file(std::string_view bag_path, const std::string& source);
  // An open regular file; its size at the time of the call is the declared size, cut at
  // `max_bytes` (a file that grew past the budget it was checked against: status "truncated").
  MemberResult add_fd(std::string_view bag_path, int fd, const std::string& source,
                      uint64_t max_bytes = UINT64_MAX);
  MemberResult add_stream(std::string_view bag_path, uint64_t declared_size,
                          const StreamProducer& producer, const std::string& source);
  // A small payload or tag file from memory ("meta/incident.json", "data/scans/x.jsonl").
  MemberResult add_blob(std::string_view bag_path, std::string_view data);
  // A file, or a directory tree walked without following links; links, devices, FIFOs and
  // sockets are recorded and skipped.
  PathSummary add_path(std::string_view bag_path, const std::string& source);

  // Everything written so far reaches the disk (fdatasync; a pipe: flushed), or forage::Error:
  // the collector checks the output this way before an irreversible step (the kill).
  void checkpoint();
  // True once the output failed (disk full, closed pipe): nothing more can be written.
  bool failed() const;

  // Writes the action log, bag-info, manifests and signature; renames B.partial to B. With
  // keep_partial (an interrupted collection) the sealed bundle keeps its .partial name, so no
  // one mistakes it for a complete one; it verifies all the same.
  std::string finish(bool keep_partial = false);
  void abort(std::string_view reason);

  uint64_t payload_files() const;
  uint64_t payload_bytes() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace forage::bundle
