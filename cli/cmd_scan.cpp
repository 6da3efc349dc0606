// forage scan files|procs|net|pcap: the parent command; each target kind registers itself.
#include "cli/command.h"

namespace forage::cli {

void register_scan_host(CLI::App& scan, Action& action);  // cmd_scan_host.cpp: files, procs, net
void register_scan_pcap(CLI::App& scan, Action& action);  // cmd_scan_pcap.cpp: pcap

void register_scan(CLI::App& app, Action& action) {
  auto* scan = app.add_subcommand("scan", "Scan files, processes, sockets or captures for indicators");
  scan->require_subcommand(1);
  register_scan_host(*scan, action);
  register_scan_pcap(*scan, action);
}

}  // namespace forage::cli
