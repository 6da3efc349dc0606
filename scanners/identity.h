// Grid identity of a process for findings: who it runs as (uid, user), the DN of the proxy it
// holds (host/grid.h) and the jobs it belongs to. The matching of x509-dn and username indicators
// against live processes (scan procs, the sweep's procs phase, collect --iocs) and against proxy
// files lying around (scan files, the sweep's files phase) reports it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "host/grid.h"
#include "ioc/indicator.h"
#include "scanners/finding.h"

namespace forage::scanners {

class IocIndex;

// {"uid","user","dn","vo","fqans","proxy","named_by","batch_system","job_id","jobs":[...]}; the
// DN only when a proxy was read (with "proxy_error" when it could not be).
Json identity_json(const host::GridContext& g, uid_t uid, const std::string& user);

// A proxy-like file's certificates (the key, if any, is never kept) against the DN indicators:
// the indicator it matches, else nullptr. `proxy` receives the parsed file.
const ioc::Indicator* proxy_file_dn_hit(const IocIndex& x, std::string_view bytes,
                                        const std::string& path, host::ProxyInfo* proxy);

// Cheap test before parsing: small enough and holds a PEM certificate.
bool looks_like_proxy(std::string_view head, uint64_t size);

}  // namespace forage::scanners
