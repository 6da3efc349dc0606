// The bundle's member paths, relative to the bag directory (DESIGN.md "Bundle",
// docs/bundle-format.md): where the collector puts each piece of evidence and where the bundle
// writer, verify and `forage bundle report` look for it. One list, so the side that writes a
// member and the side that reads it cannot drift apart. Directories are named without a trailing
// slash; under() tests membership.
#pragma once

#include <string>
#include <string_view>

namespace forage::layout {

// Tag files (listed in the tag manifest, covered by the signature).
inline constexpr std::string_view kMetaDir = "meta";
inline constexpr std::string_view kIncident = "meta/incident.json";
inline constexpr std::string_view kEnvironment = "meta/environment.json";
inline constexpr std::string_view kActions = "meta/actions.jsonl";
inline constexpr std::string_view kActionsHead = "meta/actions.head";

// The payload (listed in manifest-sha256.txt).
inline constexpr std::string_view kPayloadDir = "data";
inline constexpr std::string_view kVolatileDir = "data/volatile";
inline constexpr std::string_view kHostState = "data/volatile/host.json";
inline constexpr std::string_view kProcesses = "data/volatile/processes.json";
inline constexpr std::string_view kSockets = "data/volatile/sockets.json";
inline constexpr std::string_view kUtmp = "data/volatile/utmp.json";
inline constexpr std::string_view kMemoryDir = "data/memory";
inline constexpr std::string_view kExeDir = "data/exe";
inline constexpr std::string_view kLogsDir = "data/logs";  // /var/log/X -> data/logs/X
inline constexpr std::string_view kHostDir = "data/host";  // other host artefacts by path
inline constexpr std::string_view kHostFilesDir = "data/host/files";    // files in a listing
inline constexpr std::string_view kListingsDir = "data/host/listings";  // <slug>.jsonl
inline constexpr std::string_view kArtifacts = "data/host/artifacts.json";
inline constexpr std::string_view kOverBudget = "data/host/over-budget.jsonl";
inline constexpr std::string_view kGridDir = "data/grid";
inline constexpr std::string_view kScansDir = "data/scans";

// "<dir>/<name>".
inline std::string join(std::string_view dir, std::string_view name) {
  std::string s(dir);
  s += '/';
  s += name;
  return s;
}

// True when `rel` lies inside `dir`: it starts with "<dir>/".
constexpr bool under(std::string_view rel, std::string_view dir) {
  return rel.size() > dir.size() && rel.substr(0, dir.size()) == dir && rel[dir.size()] == '/';
}

// A payload file (data/...), as opposed to a tag file.
constexpr bool is_payload(std::string_view rel) {
  return under(rel, kPayloadDir);
}

// Per target process.
inline std::string process_state_path(int pid) {  // data/volatile/<pid>/state.json
  return join(join(kVolatileDir, std::to_string(pid)), "state.json");
}
inline std::string core_path(int pid) {  // data/memory/<pid>/core (ELF core)
  return join(join(kMemoryDir, std::to_string(pid)), "core");
}
inline std::string core_info_path(int pid) {  // data/memory/<pid>/core.json
  return core_path(pid) + ".json";
}
inline std::string exe_dir(int pid) {  // data/exe/<pid>: its executable and open files
  return join(kExeDir, std::to_string(pid));
}
inline std::string grid_dir(int pid) {  // data/grid/<pid>: batch job and proxy
  return join(kGridDir, std::to_string(pid));
}
inline std::string grid_context_path(int pid) {  // data/grid/<pid>/grid.json
  return join(grid_dir(pid), "grid.json");
}
inline std::string listing_path(std::string_view slug) {  // data/host/listings/<slug>.jsonl
  return join(kListingsDir, slug) + ".jsonl";
}

}  // namespace forage::layout
