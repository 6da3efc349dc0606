// Being a good neighbour on a shared worker node: lower CPU and I/O priority of forage itself
// (never of another process). Call before starting threads: new threads inherit both.
#pragma once

#include <string>

namespace forage::scanners {

// nice: added niceness 0..19 (0 leaves it). ionice: "idle", "best-effort[:0-7]", "none".
// Throws forage::Error (exit 2) for a malformed value; a refusal by the kernel is logged.
void apply_manners(int nice, const std::string& ionice);

}  // namespace forage::scanners
