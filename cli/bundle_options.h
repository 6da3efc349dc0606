// What `forage bundle create` and `forage collect` share: the signing and encryption flags, the
// environment record and the bundle::WriterOptions built from them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bundle/ossl.h"
#include "bundle/signing.h"
#include "bundle/writer.h"

namespace forage::cli {

struct BundleCliOptions {
  std::string out;
  std::string case_id;
  std::string tlp;
  bool compress = false;
  std::string sign_cert, sign_key;
  bool no_sign = false;
  std::vector<std::string> encrypt_to;
};

// Adds --out, --case, --tlp, --compress, --sign-cert, --sign-key, --no-sign, --encrypt-to to a
// subcommand; returns the --out option (required when `out_required`).
CLI::Option* add_bundle_options(CLI::App* cmd, BundleCliOptions& o, bool out_required = true);

// The signer: --sign-key [--sign-cert], else the host certificate of /etc/grid-security, else an
// error telling the operator what to give (or --no-sign). nullopt with --no-sign.
std::optional<bundle::SigningIdentity> signing_identity(const BundleCliOptions& o);

// Everything a BundleWriter needs, with the environment record already collected. Owns the
// signer and recipient certificates the WriterOptions point to: keep it alive while writing.
class BundleSetup {
 public:
  explicit BundleSetup(const BundleCliOptions& o);
  BundleSetup(const BundleSetup&) = delete;
  BundleSetup& operator=(const BundleSetup&) = delete;
  bundle::WriterOptions writer_options() const { return options_; }

 private:
  std::optional<bundle::SigningIdentity> signer_;
  std::vector<bundle::X509Ptr> recipients_;
  bundle::WriterOptions options_;
};

}  // namespace forage::cli
