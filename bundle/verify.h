// Verifying a bundle in one streaming pass, and extracting it safely.
//
// verify reads the bundle once (decrypting and decompressing on the fly when needed), hashing
// every member as it goes, never reading more than a tar header declares. Tag files (outside
// data/) share one 64 MiB budget, first copies together; only those verify parses (bagit.txt,
// bag-info.txt, the manifests, signatures, the action log) are kept in memory. A tag file past
// the budget is hashed, not kept, and a problem. It checks, and reports each with the files
// affected:
//   archive   only regular files and directories, no absolute/../. names, no duplicates, one top
//             directory, the end-of-archive marker, nothing after it, no file/directory clashes
//   bagit     bagit.txt, manifest-sha256.txt (every payload file listed, present, right hash),
//             Payload-Oxum, tagmanifest-sha256.txt (every tag file listed and right)
//   signature CMS (chain to --ca-file/--ca-path or the system + grid CA store, any purpose) or
//             Ed25519; --expect-signer; an unsigned bundle fails unless --allow-unsigned
//   actions   the hash chain of meta/actions.jsonl and meta/actions.head
// extract verifies first, then reads the bundle a second time and writes it under DIR through
// directory descriptors (O_NOFOLLOW, O_EXCL): never outside DIR, never through a link, never
// over an existing file. Each file is written under a temporary name in its directory and renamed
// (RENAME_NOREPLACE) only once its size and SHA-256 match the first pass; a file that does not is
// removed, so nothing unverified is left under DIR. An extract killed mid-way leaves DIR/<top>
// incomplete, with at most one temporary ".forage-extract.<pid>.<n>" file (inside <top>, never
// beside it); a later extract refuses an existing DIR/<top>, so it names the directory to remove
// rather than deleting inside it.
//
// Bounds (a bundle is hostile input): at most 1,000,000 members (kMaxMembers in verify.cpp; each
// costs ~300 bytes of memory even when empty): past it the bundle fails (exit 4) and the rest is
// not read; tag files within 64 MiB together; the manifests are checked line by line from that
// copy, never parsed into a second one; 10,000 problems listed, the rest counted.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bundle/signing.h"
#include "bundle/stream.h"

namespace forage::bundle {

struct VerifyOptions {
  TrustOptions trust;
  std::string expect_signer;
  std::string decrypt_key;
  std::string decrypt_cert;
  bool allow_unsigned = false;
};

struct VerifyReport {
  struct Check {
    bool ok = false;
    std::string what;
  };
  // What verify keeps of each member: up to 1,000,000 of them, so 32 bytes of digest rather than
  // 64 of hex, and the "a problem names it" mark here rather than in a second set of names.
  struct File {
    uint64_t size = 0;
    std::array<unsigned char, 32> sha256{};
    bool affected = false;
    std::string sha256_hex() const;
  };
  std::string input;
  std::vector<std::string> layers;
  std::string top;
  uint64_t members = 0, payload_files = 0, payload_bytes = 0, tag_files = 0, actions = 0;
  std::vector<Check> checks;
  std::vector<std::string> problems;  // in the order found: problems[0] is the first thing wrong
  std::set<std::string> affected;     // named by a problem and not a member: "archive", missing
  std::vector<SignatureCheck> signatures;
  bool unsigned_bundle = false;
  std::vector<std::pair<std::string, std::string>> bag_info;
  std::map<std::string, File> files;  // bag-relative path -> what was read

  bool valid() const { return problems.empty(); }
  // A problem names `rel` (a member or not).
  bool is_affected(const std::string& rel) const;
  // Every name a problem gives, in order; the first `max` of them.
  std::vector<std::string> affected_names(size_t max) const;
  size_t affected_count() const;
  std::string text() const;
};

// "-" reads stdin. Throws forage::Error (exit 2) only for usage problems (unreadable input or
// key); everything wrong with the bundle itself is in the report.
VerifyReport verify_bundle(const std::string& path, const VerifyOptions& options);
VerifyReport verify_stream(Source& in, const std::string& name, const VerifyOptions& options);

// Verifies, then extracts into `dir` (created if missing). Returns the verification report; when
// it is not valid nothing is written. Throws forage::Error(kVerifyFailed) if the bundle differs
// on the second read, or a usage error when `dir`/<top> already exists.
VerifyReport extract_bundle(const std::string& path, const std::string& dir,
                            const VerifyOptions& options);

}  // namespace forage::bundle
