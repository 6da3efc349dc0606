// Placeholder: scan files|procs|net land with issue 4 in this session.
#include "cli/command.h"
namespace forage::cli {
void register_scan_host(CLI::App&, Action&) {}
}  // namespace forage::cli
