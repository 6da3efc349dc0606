// forage scan pcap FILE|DIR... [-i|--iocs I] [--write-matches M.pcap] [--filter BPF] [--json]
// forage scan pcap --interface IF [--duration S] [--packets N] [--snaplen B] [--promisc]
#include <memory>

#include "cli/command.h"
#include "common/error.h"
#include "host/deadline.h"
#include "ioc/reader.h"
#include "scanners/pcap_scan.h"
#include "scanners/report.h"

namespace forage::cli {
namespace {

struct ScanPcapOptions {
  scanners::PcapScanOptions scan;
  std::vector<std::string> iocs;
  bool json = false;
};

int run_scan_pcap(const ScanPcapOptions& o) {
  ioc::IocSet set;
  if (!o.iocs.empty()) set = ioc::read_iocs_option(o.iocs);
  scanners::Reporter report(o.json);
  // SIGINT/SIGTERM end the scan with its summary written (the loops ask host::stop_requested()).
  host::stop_gracefully();
  scanners::PcapResult r = scanners::scan_pcap(o.scan, set, report);
  report.summary(std::move(r.summary));
  return static_cast<int>(report.exit_code(r.incomplete));
}

}  // namespace

void register_scan_pcap(CLI::App& scan, Action& action) {
  auto* cmd = scan.add_subcommand(
      "pcap",
      "Find traffic to or from indicator addresses in captures (pcap, pcapng, .gz) or live");
  auto o = std::make_shared<ScanPcapOptions>();
  cmd->add_option("captures", o->scan.inputs,
                  "Capture files or directories, scanned in time order ('-' alone: stdin)");
  // -i is --iocs, as in the other scans (not tcpdump's interface): one meaning across forage.
  cmd->add_option("-i,--iocs", o->iocs,
                  "Indicators: anything `forage ioc parse` reads (e-mail, text, CSV, MISP, STIX; "
                  "repeatable)")
      ->allow_extra_args(false);
  auto* iface = cmd->add_option("--interface", o->scan.interface,
                                "Capture live on this interface ('any' for all)");
  cmd->add_option("--duration", o->scan.duration_s, "Live: stop after S seconds")
      ->check(CLI::PositiveNumber)
      ->needs(iface);
  cmd->add_option("--packets", o->scan.max_packets, "Live: stop after N packets")
      ->check(CLI::PositiveNumber)
      ->needs(iface);
  cmd->add_option("--snaplen", o->scan.snaplen, "Live: bytes kept per packet")
      ->capture_default_str()
      ->needs(iface);
  cmd->add_flag("--promisc", o->scan.promisc, "Live: promiscuous mode (off by default)")
      ->needs(iface);
  cmd->add_option("--filter", o->scan.filter,
                  "BPF expression (tcpdump syntax): only packets it accepts are examined");
  cmd->add_option("--write-matches", o->scan.write_matches,
                  "Write the matching packets to this pcap file");
  cmd->add_flag("--json", o->json, "Findings as JSON lines");
  cmd->callback([&action, o] { action = [o] { return run_scan_pcap(*o); }; });
}

}  // namespace forage::cli
