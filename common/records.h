// Records the collector writes into a bundle and `forage bundle report` reads back: one struct per
// record, one to_json (the writer's form) and one from_json (the reader's, which names the field
// that is missing its type). Member paths are in layout.h.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace forage::records {

// A target process as meta/incident.json lists it under "processes".
struct Target {
  int pid = 0;
  int ppid = 0;
  uid_t uid = 0;
  std::string user, exe, cmdline, cwd, start_utc;
  std::string exe_sha256;  // of the recovered executable, when taken
  bool exe_deleted = false;
  std::vector<std::string> remote_endpoints;  // "203.0.113.5:4444" of its sockets
  std::string core;                           // bag path of its core, when dumped
  std::string frozen;                         // "cgroup freezer" | "SIGSTOP" | "" (not frozen)
  std::string kill_result;                    // "" when not killed, else what happened ("killed")
};

// Strings go out as UTF-8 (other bytes escaped, as every text of incident.json).
nlohmann::ordered_json to_json(const Target& t);
// Throws forage::Error("<field>: expected <type>") for a field of the wrong type; a missing field
// keeps its default (older bundles).
Target target_from_json(const nlohmann::ordered_json& j);

}  // namespace forage::records
