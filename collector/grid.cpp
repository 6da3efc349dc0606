#include "collector/grid.h"

#include "bundle/writer.h"
#include "common/layout.h"

namespace forage::collector {

void store_grid_context(bundle::BundleWriter& w, const GridContext& g) {
  std::string dir = layout::grid_dir(g.pid);
  w.add_blob(layout::grid_context_path(g.pid), g.to_json().dump(2) + "\n");
  w.record("grid.context", "pid " + std::to_string(g.pid),
           g.batch_system.empty() ? std::string("no batch job found")
                                  : g.batch_system + " job " + g.job_id);
  if (g.proxy && g.proxy->found) {
    const ProxyInfo& p = *g.proxy;
    if (!p.chain_pem.empty()) w.add_blob(dir + "/proxy-chain.pem", p.chain_pem);
    w.record("grid.proxy", p.path,
             std::string("identity ") + p.identity + "; " + std::to_string(p.chain.size()) +
                 " certificates kept; file sha256 " + p.file_sha256 +
                 (p.private_key_present ? "; private key present: NOT copied" : ""));
  }
}

}  // namespace forage::collector
