// Fuzzes `forage bundle report` past verification: the members the report reads (incident.json,
// environment.json, the action log, volatile state, scan findings, login records, listings, grid
// files, bag-info.txt) are built in memory from the input, as read_bundle_for_report() hands them
// over once their hashes match. The input is those files in the order of kMembers, separated by
// a line "%%" (the dictionary has it); missing ones are absent from the bundle. The report is
// rendered as JSON, Markdown and HTML: anything must give a report with its problems named, never
// a crash, hang, stack exhaustion or sanitizer report.
#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "bundle/bag.h"
#include "bundle/report.h"
#include "common/hash.h"

namespace {

constexpr std::string_view kSeparator = "\n%%\n";

// Bag-relative paths, the order in which the input's pieces fill them.
constexpr std::string_view kMembers[] = {
    "meta/incident.json",
    "meta/environment.json",
    "meta/actions.jsonl",
    "meta/actions.head",
    "data/volatile/processes.json",
    "data/volatile/sockets.json",
    "data/volatile/utmp.json",
    "data/volatile/host.json",
    "data/volatile/4242/state.json",
    "data/host/artifacts.json",
    "data/scans/sweep.jsonl",
    "data/logs/wtmp.json",
    "data/logs/btmp.json",
    "data/host/listings/tmp.jsonl",
    "data/grid/4242/grid.json",
    "bag-info.txt",
};

}  // namespace

// The readers log a warning per odd part or line; at thousands of inputs a second that is all the
// fuzzer would do.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace forage::bundle;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  BundleForReport b;
  b.verify.input = "fuzz.tar";
  b.verify.top = "EGI-20261120-01_wn042_20261120T081502Z";
  b.verify.unsigned_bundle = true;
  size_t pos = 0;
  for (std::string_view rel : kMembers) {
    if (pos > input.size()) break;
    size_t end = input.find(kSeparator, pos);
    if (end == std::string_view::npos) end = input.size();
    std::string bytes(input.substr(pos, end - pos));
    pos = end + kSeparator.size();
    if (rel == "bag-info.txt") b.verify.bag_info = parse_bag_info(bytes);
    auto& file = b.verify.files[std::string(rel)];
    file.size = bytes.size();
    forage::Hasher h(forage::HashAlgo::kSha256);
    h.update(bytes);
    h.final_raw(file.sha256.data());
    b.members[std::string(rel)] = std::move(bytes);
  }
  // Half the inputs stand for a bundle that failed verification (the report says so).
  if (size % 2) b.verify.problems.push_back("fuzz: a problem");
  // build_report() throws nothing for a bundle's content: any exception is a finding.
  ReportJson r = build_report(b);
  // As cmd_bundle_report.cpp writes it.
  size_t sink = r.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).size();
  sink += report_markdown(r).size() + report_html(r).size();
  return sink == SIZE_MAX ? 1 : 0;
}
