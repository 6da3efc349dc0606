// forage bundle report B [--format md|json|html] [-o OUT]: thin over bundle/report.h
// (docs/reports.md). Registered in cmd_bundle.cpp with the other bundle subcommands.
#include <spdlog/spdlog.h>

#include "bundle/report.h"
#include "common/error.h"
#include "common/file.h"

namespace forage::cli {

int run_bundle_report(const std::string& bundle, const std::string& format, const std::string& out,
                      const bundle::VerifyOptions& v) {
  if (format != "md" && format != "json" && format != "html")
    throw Error("--format: expected md, json or html, got '" + format + "'");
  auto b = bundle::read_bundle_for_report(bundle, v);
  auto r = bundle::build_report(b);
  std::string text;
  if (format == "json")
    text = r.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  else if (format == "html")
    text = bundle::report_html(r);
  else
    text = bundle::report_markdown(r);
  write_output(out, text);
  if (!b.verify.valid()) {
    // The report is written (it says INVALID at the top); the exit code says it too.
    spdlog::error("{}: verification failed: {}", bundle,
                  b.verify.problems.empty() ? "" : b.verify.problems.front());
    return static_cast<int>(Exit::kVerifyFailed);
  }
  return static_cast<int>(Exit::kOk);
}

}  // namespace forage::cli
