// The decoding layers in front of a bundle's tar stream, chosen by content, not by file name:
// CMS AuthEnvelopedData (decrypted with --decrypt-key) and zstd. verify, extract and report all
// read bundles through it, so a bundle one of them opens, the others open too.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bundle/cms_stream.h"
#include "bundle/ossl.h"
#include "bundle/stream.h"
#include "bundle/zstd_stream.h"

namespace forage::bundle {

struct VerifyOptions;

struct BundleLayers {
  // Throws forage::Error naming `name` for an encrypted bundle without a key, a key that does
  // not open it, or a broken CMS/zstd header.
  BundleLayers(Source& in, const std::string& name, const VerifyOptions& o);

  Source* top = nullptr;           // the pax tar bytes
  std::vector<std::string> names;  // outermost first: "CMS ...", "zstd", "pax tar"

 private:
  PeekSource outer_;
  PkeyPtr key_;
  X509Ptr cert_;
  std::unique_ptr<CmsDecryptSource> cms_;
  std::unique_ptr<PeekSource> inner_;
  std::unique_ptr<ZstdSource> zstd_;
};

}  // namespace forage::bundle
