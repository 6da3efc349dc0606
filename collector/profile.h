// How much host-wide material `forage collect` takes besides its targets.
#pragma once

#include <string>
#include <string_view>

namespace forage::collector {

enum class Profile {
  kProcess,  // only the target processes
  kTriage,   // targets plus the host artefacts of the artefact table (default)
  kFull,     // triage plus whole log directories
};

// "process" | "triage" | "full"; throws forage::Error (exit 2) for anything else.
Profile parse_profile(std::string_view name);
std::string_view profile_name(Profile p);

}  // namespace forage::collector
