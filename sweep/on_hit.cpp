#include "sweep/on_hit.h"

#include <ctime>

#include <spdlog/spdlog.h>

#include "collector/collect.h"
#include "common/error.h"
#include "host/deadline.h"

namespace forage::sweep {
namespace {

// <out>/<case>-sweep-<unix time>.tar ("forage" without a case).
std::string bundle_path(const std::string& out_dir, const std::string& case_id) {
  return out_dir + (out_dir.back() == '/' ? "" : "/") +
         (case_id.empty() ? std::string("forage") : case_id) + "-sweep-" +
         std::to_string(::time(nullptr)) + ".tar";
}

collector::CollectOptions collect_options(const CollectOnHit& o, const std::set<int>& pids,
                                          const std::string& case_id) {
  collector::CollectOptions co;
  co.pids.assign(pids.begin(), pids.end());
  co.strict_pids = false;
  co.profile = o.profile;
  co.kill = o.kill;
  // Only the processes the findings named (and their trees): not every process the collector's
  // own indicator matching would add, so no indicator index is given.
  co.detected_by = "forage sweep" + (case_id.empty() ? std::string() : " for " + case_id) +
                   ": indicator or rule findings on this node";
  return co;
}

}  // namespace

Json collect_on_hit(const CollectOnHit& o, const std::set<int>& pids, const std::string& case_id,
                    const std::string& tlp) {
  Json c;
  collector::CollectOptions co = collect_options(o, pids, case_id);
  try {
    o.with_writer({bundle_path(o.out_dir, case_id), case_id, tlp},
                  [&](const bundle::WriterOptions& writer_options) {
                    // As in `forage collect`: a signal now seals what is taken and leaves the
                    // targets frozen.
                    host::stop_gracefully();
                    auto r = collector::collect(co, writer_options);
                    c["bundle"] = r.bundle;
                    c["targets"] = r.targets;
                    c["killed"] = r.killed;
                    if (r.interrupted) c["interrupted"] = true;
                    c["problems"] = r.problems;
                    spdlog::info("sweep: collected pids into {}", r.bundle);
                  });
  } catch (const Error& e) {
    // The findings are already out: say what failed rather than lose the summary.
    spdlog::error("sweep: --collect-on-hit failed: {}", e.what());
    c["error"] = e.what();
  }
  return c;
}

}  // namespace forage::sweep
