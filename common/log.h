// Logging set-up: spdlog to stderr only (stdout is for results, so pipes stay clean).
#pragma once

#include <string>

namespace forage {

// level: trace, debug, info, warn, error, critical, off. json: one JSON object per line
// ({"ts","level","msg"}), for sweeps whose stderr is collected by machines.
// Throws forage::Error on an unknown level.
void init_logging(const std::string& level, bool json);

}  // namespace forage
