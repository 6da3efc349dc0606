// Fuzzes `forage merge` over hostile node outputs: the input is one or more nodes' `forage sweep
// --json` files, separated by a line "%%" (the dictionary has it), each parsed as a node result;
// the good ones are merged, and the site report is rendered in every format. The input is also
// read as an --expect-nodes list. Anything must end in a report or a forage::Error naming the
// file, never a crash, hang, stack exhaustion or sanitizer report.
#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "sweep/merge.h"

namespace {

constexpr std::string_view kSeparator = "\n%%\n";

}  // namespace

// The readers log a warning per odd part or line; at thousands of inputs a second that is all the
// fuzzer would do.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace forage::sweep;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  MergeInput in;
  size_t pos = 0;
  for (int k = 0; pos <= input.size(); ++k) {
    size_t end = input.find(kSeparator, pos);
    if (end == std::string_view::npos) end = input.size();
    std::string file = "node" + std::to_string(k) + ".jsonl";
    try {
      in.nodes.push_back(parse_node_result(input.substr(pos, end - pos), file));
    } catch (const forage::Error& e) {
      in.malformed.emplace_back(file, e.what());
    }
    pos = end + kSeparator.size();
  }
  in.expected = parse_node_list(input);
  SiteReport site = merge_results(in);
  size_t sink = 0;
  for (auto f : {ReportFormat::kJson, ReportFormat::kCsv, ReportFormat::kMd})
    sink += site_report(site.doc, f).size();
  return sink == SIZE_MAX ? 1 : 0;
}
