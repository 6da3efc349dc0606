#include "collector/profile.h"

#include "common/error.h"

namespace forage::collector {

Profile parse_profile(std::string_view name) {
  if (name == "process") return Profile::kProcess;
  if (name == "triage") return Profile::kTriage;
  if (name == "full") return Profile::kFull;
  throw Error("--profile " + std::string(name) + ": expected process, triage or full",
              Exit::kUsage);
}

std::string_view profile_name(Profile p) {
  switch (p) {
    case Profile::kProcess:
      return "process";
    case Profile::kTriage:
      return "triage";
    case Profile::kFull:
      return "full";
  }
  return "triage";
}

}  // namespace forage::collector
