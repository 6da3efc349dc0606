// meta/incident.json: the fields of the EGI CSIRT Incident Analysis Guideline, pre-filled from what
// `forage collect` saw, with explicit "to be completed by a human" markers where only a person can
// answer (how the attacker got in, what was lost outside this host, ...).
// docs/incident-guideline.md maps each Guideline item to the bundle file and field that covers it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "collector/artifacts.h"
#include "collector/grid.h"
#include "common/records.h"

namespace forage::collector {

inline constexpr const char* kHumanMarker = "TO BE COMPLETED BY A HUMAN";

// A target as incident.json lists it: the record `forage bundle report` reads back.
using IncidentProcess = records::Target;

struct IncidentEvidence {
  std::string path;  // bag path
  std::string sha256;
  uint64_t size = 0;
  std::string utc;   // when it was taken
  std::string what;  // "ELF core of pid 4242", ...
};

struct IncidentAction {
  std::string utc, action, target, result;
};

struct IncidentInputs {
  std::string case_id, tlp, detected_by, operator_name, profile;
  std::string started_utc, finished_utc;
  std::string host;                                                         // host name
  nlohmann::ordered_json host_identity = nlohmann::ordered_json::object();  // from environment
  std::vector<IncidentProcess> processes;
  std::vector<GridContext> grid;
  const ArtifactReport* artifacts = nullptr;  // null: no disk artefacts taken
  std::vector<std::string> remote_ips;  // seen in the host's sockets (targets' ones are added)
  std::vector<IncidentEvidence> evidence;
  std::vector<IncidentAction> actions;
  std::vector<std::string> not_collected;  // what could not be taken, one line each
  std::vector<std::string> iocs_matched;   // indicators that selected targets (--iocs)
  // Containment: when the targets were frozen and killed (UTC), the latency between, and what
  // became of the kill ("not requested", "done", "NOT done: <why>").
  std::string frozen_utc, killed_utc, kill_outcome;
  double containment_latency_s = -1;  // < 0: no kill
};

nlohmann::ordered_json incident_json(const IncidentInputs& in);

}  // namespace forage::collector
