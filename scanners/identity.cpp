#include "scanners/identity.h"

#include "scanners/ioc_match.h"

namespace forage::scanners {

Json identity_json(const host::GridContext& g, uid_t uid, const std::string& user) {
  Json id;
  id["uid"] = uid;
  id["user"] = user;
  if (g.proxy && g.proxy->found) {
    const host::ProxyInfo& px = *g.proxy;
    id["dn"] = px.identity;
    for (const auto& c : px.chain)
      if (c.voms.present) {
        id["vo"] = c.voms.vo;
        id["fqans"] = c.voms.fqans;
        break;
      }
  } else if (!g.condor_x509_subject.empty()) {
    id["dn"] = g.condor_x509_subject;
  }
  if (g.proxy) {
    id["proxy"] = g.proxy->path;
    id["named_by"] = g.proxy->named_by;
    if (!g.proxy->error.empty()) id["proxy_error"] = g.proxy->error;
    if (g.proxy->found) id["proxy_sha256"] = g.proxy->file_sha256;
  }
  id["batch_system"] = g.batch_system;
  id["job_id"] = g.job_id;
  id["jobs"] = host::jobs_json(g.jobs);
  return id;
}

bool looks_like_proxy(std::string_view head, uint64_t size) {
  return size > 0 && size <= (1u << 20) &&
         head.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos;
}

const ioc::Indicator* proxy_file_dn_hit(const IocIndex& x, std::string_view bytes,
                                        const std::string& path, host::ProxyInfo* proxy) {
  *proxy = host::parse_proxy(bytes, path);
  if (!proxy->found || proxy->chain.empty()) return nullptr;
  if (const auto* hit = x.x509_dn(proxy->identity)) return hit;
  // A plain user certificate (no proxy in the chain) names its subject too.
  for (const auto& c : proxy->chain)
    if (const auto* hit = x.x509_dn(c.subject)) return hit;
  return nullptr;
}

}  // namespace forage::scanners
