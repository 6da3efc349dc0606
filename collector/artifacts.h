// The host artefacts `forage collect` takes (issue 6 step 7), as ONE declarative table: adding an
// artefact is adding a row. `forage collect --list-artifacts` prints the table.
//
// Every file is read through bundle::BundleWriter (O_RDONLY|O_NOFOLLOW|O_NOATIME, vanished and
// changed files recorded). Files that hold a private key (PEM "-----BEGIN ... PRIVATE KEY-----",
// OpenSSH "openssh-key-v1", PuTTY) are never copied, whatever their row says: only their sha256,
// size and path are recorded. /etc/shadow is never copied either: only its metadata fields.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collector/profile.h"

namespace forage::bundle {
class BundleWriter;
}

namespace forage::collector {

enum class ArtifactPolicy {
  kCopy,          // copied as it is (rotated .gz too)
  kCopyParse,     // copied, plus a parsed JSON next to it (<bag path>.json)
  kMetadataOnly,  // never copied: only parsed, non-secret fields (shadow)
  kHashOnly,      // never copied: sha256 + size (private keys)
  kListing,       // a listing (path, size, mode, owner, mtime, sha256, libmagic type); small
                  // executables (ELF, #! scripts) copied under a size cap
};

enum class ArtifactParser { kNone, kUtmp, kLastlog, kShadow };

struct ArtifactSpec {
  std::string name;      // unique, stable: "auth-logs", "wtmp", ...
  std::string category;  // logs | logins | accounts | privileges | persistence | ssh | history |
                         // listing
  // Absolute paths below the root. Globs (fnmatch, in the last components) are allowed; "**" as
  // the last component means the whole tree; a leading "~/" means every home directory of
  // /etc/passwd.
  std::vector<std::string> paths;
  Profile profile = Profile::kTriage;  // the smallest profile that takes it
  ArtifactPolicy policy = ArtifactPolicy::kCopy;
  ArtifactParser parser = ArtifactParser::kNone;
  std::string bag_dir;  // "data/logs" or "data/host"
  std::string why;      // one line for --list-artifacts
};

const std::vector<ArtifactSpec>& artifact_table();
// The table as a readable text (one block per row), for `forage collect --list-artifacts`.
std::string artifact_table_text();
std::string_view policy_name(ArtifactPolicy p);

struct SshLogReach {
  int64_t oldest_epoch = 0, newest_epoch = 0;  // 0: no sshd line found
  uint64_t lines = 0;                          // sshd lines seen
  std::string oldest, newest;                  // ISO 8601 UTC, "" when no sshd line was found
  double days = 0;                             // from the oldest sshd line to the collection time
  double span_days = 0;                        // from the oldest to the newest sshd line
  bool sec01_six_months = false;               // days >= 182: the logs reach six months back
  std::vector<std::string> files;              // files that held sshd lines
  std::vector<std::string> journal_files;      // systemd journal files present (not parsed)
  std::vector<std::string> remote_ips;         // "from <ip>" of sshd lines (first 1000)
  std::vector<std::string> accepted;           // "user from ip" of Accepted lines (first 1000)
  std::string note;                            // how the year of syslog lines was inferred

  nlohmann::ordered_json to_json() const;
};

struct ArtifactReport {
  uint64_t files_copied = 0, bytes_copied = 0;
  uint64_t hashed_only = 0;               // private keys and other files not copied
  uint64_t listed = 0;                    // entries of the listings
  uint64_t problems = 0;                  // vanished, unreadable, changed while read
  uint64_t skipped = 0;                   // links, devices, over the cap
  std::vector<std::string> private_keys;  // paths of files hashed and not copied
  std::vector<std::string> parsed;        // bag paths of the parsed JSON files
  SshLogReach ssh_logs;
  std::vector<std::string> login_users;  // users of wtmp USER_PROCESS records
  std::vector<std::string> login_hosts;  // remote hosts of wtmp/btmp records
  std::vector<std::string> errors;       // one line each

  nlohmann::ordered_json to_json() const;
};

struct ArtifactOptions {
  uint64_t executable_cap = 16ull << 20;  // small executables in listed dirs copied up to this
  uint64_t listing_max_entries = 100000;  // per listed directory tree
  uint64_t hash_max = 256ull << 20;       // files larger than this are listed without a sha256
};

// Takes every row of the table for `profile` (nothing for Profile::kProcess) plus listings of
// `extra_dirs` (the targets' cwd). `root` prefixes every path (tests use a fake tree). Writes
// data/host/artifacts.json (the report) and returns the report. Throws only on output failure.
ArtifactReport collect_artifacts(bundle::BundleWriter& w, Profile profile,
                                 const std::vector<std::string>& extra_dirs,
                                 const std::string& root = "/", const ArtifactOptions& opt = {});

// Helpers exposed for tests and for the process side.
// True if the bytes hold a private key (PEM, OpenSSH binary, PuTTY).
bool holds_private_key(std::string_view bytes);
// Reads a regular file without blocking on a FIFO, following a link or changing its atime; at
// most `max_bytes` (more is an error). Throws forage::Error("<path>: <reason>").
std::string read_evidence_file(const std::string& path, uint64_t max_bytes);
// sshd-line time range of one auth/secure log text. Syslog lines carry no year: it is inferred
// from `file_mtime` (a line dated after the file's last change belongs to the year before).
// `now` (0: the current time) is what `days` counts back from.
SshLogReach ssh_reach_of_text(std::string_view text, std::time_t file_mtime,
                              const std::string& name, std::time_t now = 0);

}  // namespace forage::collector
