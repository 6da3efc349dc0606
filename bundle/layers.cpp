#include "bundle/layers.h"

#include "bundle/verify.h"
#include "common/error.h"

namespace forage::bundle {

BundleLayers::BundleLayers(Source& in, const std::string& name, const VerifyOptions& o)
    : outer_(in) {
  Source* s = &outer_;
  if (looks_like_cms_enveloped(outer_.peek(64))) {
    if (o.decrypt_key.empty())
      throw Error(name +
                  ": the bundle is encrypted (CMS AuthEnvelopedData): give --decrypt-key "
                  "(and --decrypt-cert)");
    key_ = load_private_key(o.decrypt_key);
    if (!o.decrypt_cert.empty()) cert_ = load_certificate(o.decrypt_cert);
    cms_ = std::make_unique<CmsDecryptSource>(outer_, key_.get(), cert_.get(), name);
    names.push_back(cms_->describe());
    s = cms_.get();
  }
  inner_ = std::make_unique<PeekSource>(*s);
  s = inner_.get();
  if (looks_like_zstd(inner_->peek(4))) {
    zstd_ = std::make_unique<ZstdSource>(*s, name);
    names.push_back("zstd");
    s = zstd_.get();
  }
  names.push_back("pax tar");
  top = s;
}

}  // namespace forage::bundle
