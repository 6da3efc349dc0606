// Internal to the artefact collector (artifacts.cpp, artifact_files.cpp, artifact_listing.cpp):
// the state one collection of host artefacts carries, and the steps they share.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundle/writer.h"
#include "collector/artifacts.h"
#include "common/file.h"
#include "common/filetype.h"
#include "host/accounts.h"
#include "host/budget.h"
#include "host/deadline.h"
#include "host/fs.h"

namespace forage::collector::detail {

using Json = nlohmann::ordered_json;

constexpr uint64_t kKeyScanMax = 8ull << 20;  // the whole-file private key check reads this much
constexpr uint64_t kLoggedPerStep = 20;       // over-budget lines per step in the action log

// A directory every path of a row is opened beneath, with whose rights.
struct Base {
  Fd fd;
  std::string vdir;  // its path on the node ("/var/log", "/home/alice")
  host::Identity who;
  dev_t dev = 0;
};

// A file a row found: opened later, through its base.
struct Candidate {
  std::shared_ptr<Base> base;
  std::string rel;    // below the base
  std::string vpath;  // base->vdir + "/" + rel
  struct stat st {};  // from host::peek
};

// One row or listing: its budget, its deadline, what it had to leave.
struct Step {
  Step(std::string n, uint64_t budget, host::Budget* total, host::Deadline d)
      : name(std::move(n)), budget(budget, total), deadline(d) {}
  std::string name;
  host::Budget budget;
  host::Deadline deadline;
  uint64_t over = 0, not_reached = 0;
  std::string abandoned;  // why the step stopped early, "" when it did not
};

struct Ctx {
  Ctx(bundle::BundleWriter& writer, ArtifactReport& report, const ArtifactOptions& options)
      : w(writer), rep(report), opt(options), total(options.max_total) {}

  bundle::BundleWriter& w;
  ArtifactReport& rep;
  const ArtifactOptions& opt;
  std::string root;  // "" for the live "/", else without a trailing '/'
  host::Mounts mounts;
  std::vector<host::PasswdEntry> users;
  std::unordered_map<std::string, std::vector<gid_t>> members;
  host::UserNames names;
  FileTyper typer{0};
  dev_t out_dev = 0;
  ino_t out_ino = 0;
  std::set<std::string> done;  // virtual paths already taken
  Json keys = Json::array();
  Json links = Json::array();
  std::string over_jsonl;  // data/host/over-budget.jsonl
  host::Budget total;
  host::Deadline deadline;

  std::string real(const std::string& vpath) const { return root + vpath; }
  bool is_output(const struct stat& st) const {
    return out_ino != 0 && st.st_dev == out_dev && st.st_ino == out_ino;
  }
  // The identity that owns uid: its passwd gid and groups when known.
  host::Identity identity_for(uid_t uid, gid_t gid) const;
  void problem(std::string_view action, const std::string& target, const std::string& why);
};

// A file holding a private key: its sha256 (of at most the first 8 MiB... see the .cpp), never
// its bytes.
void record_key(Ctx& c, const std::string& vpath, int fd, const std::string& where,
                const std::string& kind, const host::Deadline& d);
// Lists a file that is not copied: over a budget (fd >= 0: hashed over its head and typed; or
// over_budget with fd < 0: its listing line has them) or not reached before a deadline (fd < 0:
// what peek saw).
void list_not_copied(Ctx& c, Step& s, const std::string& vpath, int fd, const struct stat& st,
                     const std::string& why, bool over_budget = false);
// Ends a step: the action log line of the row, and the abandonment if any.
void end_step(Ctx& c, Step& s, const ArtifactReport& before);
// The head of a file: enough for libmagic, the executable test and, when a key may be in it, the
// whole-file key test.
std::string read_head(int fd, const struct stat& st, const host::Deadline& d);

// The rows of files (artifact_files.cpp) and the listings (artifact_listing.cpp).
void take_row(Ctx& c, const ArtifactSpec& spec);
void take_listing(Ctx& c, Step& s, const std::string& vdir);
void take_cwd(Ctx& c, const CwdListing& cwd);

}  // namespace forage::collector::detail
