// Placeholder: scan pcap lands with issue 5 in this session.
#include "cli/command.h"
namespace forage::cli {
void register_scan_pcap(CLI::App&, Action&) {}
}  // namespace forage::cli
