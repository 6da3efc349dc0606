// The host artefacts `forage collect` takes, as ONE declarative table: adding an artefact is adding
// a row. `forage collect --list-artifacts` prints the table with its budgets and deadlines.
//
// The host fights back, so every row is read through host/ (host/fs.h): each path below a base
// directory is opened by descent from the base's fd (no link, no magic link, no other file system
// is followed), non-blocking, regular files only, off pseudo and FUSE file systems. Homes are read
// with their owner's rights (host/identity.h): a link or a hard link planted there reveals only
// what the user could read already. Each row has a byte budget and a deadline, inside a total for
// all artefacts; files are taken newest first, and what does not fit or is not reached in time is
// listed in data/host/over-budget.jsonl (path, size, times, owner, sha256 of its first MiB, type),
// never silently dropped. Files that hold a private key (collector/private_key.h) are never
// copied, whatever their row says: only their sha256, size and path are recorded. /etc/shadow is
// never copied either: only its metadata fields.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collector/profile.h"
#include "collector/ssh_reach.h"
#include "host/identity.h"

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
  uint64_t budget = 16ull << 20;  // bytes the row may add to the bundle
  int deadline_s = 30;            // seconds the row may take
};

const std::vector<ArtifactSpec>& artifact_table();
std::string_view policy_name(ArtifactPolicy p);

struct ArtifactReport {
  uint64_t files_copied = 0, bytes_copied = 0;
  uint64_t hashed_only = 0;               // private keys and other files not copied
  uint64_t listed = 0;                    // entries of the listings
  uint64_t problems = 0;                  // vanished, unreadable, changed while read
  uint64_t skipped = 0;                   // links, devices, the bundle itself
  uint64_t over_budget = 0;               // listed, not copied: over a byte budget
  uint64_t over_budget_bytes = 0;
  uint64_t not_reached = 0;                // listed, not read: a deadline came first
  std::vector<std::string> abandoned;     // "<row>: <reason>", one per step cut short
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
  uint64_t listing_max_entries = 500000;  // per listed directory tree
  uint64_t hash_max = 64ull << 20;        // listed files larger than this: sha256 of the head
  uint64_t head_hash = 1ull << 20;        // the head hashed for large, sparse, over-budget files
  uint64_t listing_hash_budget = 8ull << 30;  // bytes one listing hashes whole; then heads
  uint64_t max_file_size = 256ull << 20;  // one file's share (--max-file-size)
  uint64_t max_total = UINT64_MAX;        // all artefacts together (--max-bundle-size)
  int deadline_s = 150;                   // all artefacts together
  uint64_t cwd_budget = 64ull << 20;      // each target's cwd listing
  int cwd_deadline_s = 30;
};

// A target's working directory, listed one level deep plus the files the target has open below
// it, with the target owner's rights. Never "/" (the whole disk) or a pseudo file system.
struct CwdListing {
  std::string dir;        // as the target sees it (/proc/PID/cwd's link): names the listing
  std::string open_path;  // what is opened (/proc/PID/cwd, the directory itself); "" = dir
  host::Identity who;     // the target's owner
  std::vector<std::string> open_files;  // absolute paths the target holds open
  int pid = 0;
};

// The table as a readable text (one block per row, budgets and deadlines), for
// `forage collect --list-artifacts`.
std::string artifact_table_text(const ArtifactOptions& opt = {});

// Takes every row of the table for `profile` (nothing for Profile::kProcess) plus the targets'
// cwd listings. `root` prefixes every path (tests use a fake tree). Writes
// data/host/artifacts.json (the report) and data/host/over-budget.jsonl, and returns the report.
// Throws only on output failure.
ArtifactReport collect_artifacts(bundle::BundleWriter& w, Profile profile,
                                 const std::vector<CwdListing>& cwds, const std::string& root = "/",
                                 const ArtifactOptions& opt = {});

}  // namespace forage::collector
