// Certificates and keys for the bundle code: loading, fingerprints, subject forms. The handle
// owners and openssl_errors() are common/ossl.h.
#pragma once

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/ossl.h"

namespace forage::bundle {

using forage::BioPtr;
using forage::certificate_fingerprint;
using forage::CmsPtr;
using forage::MdCtxPtr;
using forage::openssl_errors;
using forage::OsslDeleter;
using forage::PkeyPtr;
using forage::StoreCtxPtr;
using forage::StorePtr;
using forage::X509Ptr;
using forage::X509StackPtr;
using forage::X509StackRef;

// Reads a PEM (or DER) certificate; throws forage::Error("<path>: <reason>").
X509Ptr load_certificate(const std::string& path);
// Reads a PEM private key without ever prompting for a pass phrase.
PkeyPtr load_private_key(const std::string& path);

std::string public_key_fingerprint(EVP_PKEY* key);
// Subject in the slash form grid tools print: /DC=org/DC=example/CN=host.example.org
std::string subject_slash(X509* cert);
// Subject in RFC 2253 form: CN=host.example.org,DC=example,DC=org
std::string subject_rfc2253(X509* cert);
// Subject as `openssl x509 -subject` shows it: CN = host.example.org, ...
std::string subject_oneline(X509* cert);

}  // namespace forage::bundle
