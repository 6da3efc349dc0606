#include "cli/bundle_options.h"

#include <unistd.h>

#include "bundle/bag.h"
#include "bundle/environment.h"
#include "cli/lib_versions.h"
#include "common/error.h"
#include "forage/version.h"
#include "host/os_info.h"

namespace forage::cli {

namespace {

constexpr const char* kHostCert = "/etc/grid-security/hostcert.pem";
constexpr const char* kHostKey = "/etc/grid-security/hostkey.pem";

}  // namespace

CLI::Option* add_bundle_options(CLI::App* cmd, BundleCliOptions& o, bool out_required) {
  auto* out = cmd->add_option("--out", o.out, "Bundle file, or '-' for stdout");
  if (out_required) out->required();
  cmd->add_option("--case", o.case_id, "Case identifier (External-Identifier)");
  cmd->add_option("--tlp", o.tlp, "TLP label: CLEAR, GREEN, AMBER, AMBER+STRICT, RED");
  cmd->add_flag("--compress", o.compress, "zstd-compress the stream");
  cmd->add_option("--sign-cert", o.sign_cert, "Signer certificate (PEM)");
  cmd->add_option("--sign-key", o.sign_key, "Signer key (PEM); an Ed25519 key may sign alone");
  cmd->add_flag("--no-sign", o.no_sign, "Write an unsigned bundle");
  cmd->add_option("--encrypt-to", o.encrypt_to,
                  "Recipient certificate: CMS AES-256-GCM (repeatable)");
  return out;
}

std::optional<bundle::SigningIdentity> signing_identity(const BundleCliOptions& o) {
  if (o.no_sign) {
    if (!o.sign_cert.empty() || !o.sign_key.empty())
      throw Error("--no-sign contradicts --sign-cert/--sign-key");
    return std::nullopt;
  }
  if (!o.sign_key.empty()) return bundle::SigningIdentity::load(o.sign_cert, o.sign_key);
  if (!o.sign_cert.empty()) throw Error("--sign-cert needs --sign-key");
  if (::access(kHostCert, R_OK) == 0 && ::access(kHostKey, R_OK) == 0)
    return bundle::SigningIdentity::load(kHostCert, kHostKey);
  throw Error(std::string("no signing identity: ") + kHostCert + " and " + kHostKey +
              " are not both readable (not root?); give --sign-cert C --sign-key K, "
              "--sign-key ED25519.pem, or --no-sign for an unsigned bundle");
}

BundleSetup::BundleSetup(const BundleCliOptions& o) : signer_(signing_identity(o)) {
  std::vector<X509*> recipient_ptrs;
  for (const auto& r : o.encrypt_to) {
    recipients_.push_back(bundle::load_certificate(r));
    recipient_ptrs.push_back(recipients_.back().get());
  }

  bundle::EnvironmentInputs env_in;
  env_in.libraries = library_versions();
  env_in.os_release = host::to_json(host::read_os_info());
  if (signer_) env_in.signer_certificate = signer_->certificate();
  auto env = bundle::collect_environment(env_in);

  bundle::WriterOptions& w = options_;
  w.out = o.out;
  w.case_id = o.case_id;
  w.tlp = o.tlp.empty() ? "" : bundle::checked_tlp(o.tlp);
  w.host = bundle::short_hostname(env);
  w.compress = o.compress;
  w.signer = signer_ ? &*signer_ : nullptr;
  w.unsigned_ok = o.no_sign;
  w.encrypt_to = recipient_ptrs;
  w.software_agent =
      std::string("forage ") + FORAGE_VERSION + " (commit " + FORAGE_GIT_COMMIT + ")";
  if (env["user"]["operator"].is_string())
    w.operator_name = env["user"]["operator"].get<std::string>();
  w.environment = std::move(env);
}

}  // namespace forage::cli
