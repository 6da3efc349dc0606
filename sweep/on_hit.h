// `forage sweep --collect-on-hit [--kill-on-hit]`: after the phases, the processes the findings
// named (and their trees) are collected into one evidence bundle under --out (collector/collect.h)
// and, on request, killed once preserved. What it did becomes the node summary's "collected".
//
// A failed collection never costs the sweep its summary: the findings are already out, so the
// failure is logged and reported as {"error": ...} instead of thrown.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "bundle/writer.h"
#include "collector/profile.h"
#include "scanners/report.h"

namespace forage::sweep {

using Json = scanners::Json;

// One bundle of an on-hit collection: where it is written, for which case, with which label.
struct BundleRequest {
  std::string path;
  std::string case_id;
  std::string tlp;  // --tlp when given, else the sweep's short label (the broadcast's)
};

using WriteBundle = std::function<void(const bundle::WriterOptions&)>;

struct CollectOnHit {
  std::string out_dir;  // an existing directory (checked by the caller before the sweep)
  collector::Profile profile = collector::Profile::kTriage;
  bool kill = false;
  // Sets up the bundle writer for `request` (signer, recipients, environment record: the
  // command line's business, cli/bundle_options.h) and calls `write` with its options while what
  // they point to is alive. Throws forage::Error when the bundle cannot be set up.
  std::function<void(const BundleRequest& request, const WriteBundle& write)> with_writer;
};

// Collects `pids` as above; returns the summary's "collected": bundle, targets, killed, problems
// (and "interrupted"), or "error" when the collection failed.
Json collect_on_hit(const CollectOnHit& options, const std::set<int>& pids,
                    const std::string& case_id, const std::string& tlp);

}  // namespace forage::sweep
