// Stores the grid context of a target process (host/grid.h) in the bundle:
// data/grid/<pid>/grid.json and the proxy's certificate chain (certificates only: the private key
// is never copied).
#pragma once

#include "host/grid.h"

namespace forage::bundle {
class BundleWriter;
}

namespace forage::collector {

using host::GridContext;
using host::ProxyInfo;

// Stores data/grid/<pid>/grid.json and, if a proxy was found, data/grid/<pid>/proxy-chain.pem
// (certificates only) and records the private key's presence in the action log.
void store_grid_context(bundle::BundleWriter& w, const GridContext& g);

}  // namespace forage::collector
