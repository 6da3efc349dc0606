// forage bundle create | verify | extract: thin over bundle/ (see docs/bundle-format.md).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "bundle/bag.h"
#include "bundle/environment.h"
#include "bundle/signing.h"
#include "bundle/verify.h"
#include "bundle/writer.h"
#include "cli/command.h"
#include "common/error.h"
#include "forage/version.h"

namespace forage::cli {

std::string yara_version();
std::string pcap_version();
std::string magic_version_string();
std::string openssl_version();
std::string zstd_version();

namespace {

constexpr const char* kHostCert = "/etc/grid-security/hostcert.pem";
constexpr const char* kHostKey = "/etc/grid-security/hostkey.pem";

struct CreateOptions {
  std::vector<std::string> paths;
  std::string out;
  std::string case_id;
  std::string tlp;
  std::vector<std::string> notes;
  bool compress = false;
  std::string sign_cert, sign_key;
  bool no_sign = false;
  std::vector<std::string> encrypt_to;
};

struct VerifyCliOptions {
  std::string bundle;
  std::string dir;
  bundle::VerifyOptions v;
};

// data/files/<absolute path, lexically normalised>: where an operator's file lands in the bag.
std::string bag_path_for(const std::string& path) {
  std::string abs = path;
  if (abs.empty() || abs[0] != '/') {
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) throw system_error("getcwd", errno);
    abs = std::string(cwd) + "/" + path;
  }
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= abs.size()) {
    size_t slash = abs.find('/', pos);
    if (slash == std::string::npos) slash = abs.size();
    std::string c = abs.substr(pos, slash - pos);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    pos = slash + 1;
  }
  std::string rel = "data/files";
  for (const auto& p : parts) rel += "/" + p;
  if (parts.empty()) rel += "/root";
  return rel;
}

std::optional<bundle::SigningIdentity> signing_identity(const CreateOptions& o) {
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

nlohmann::ordered_json library_versions() {
  nlohmann::ordered_json libs;
  libs["yara"] = yara_version();
  libs["libpcap"] = pcap_version();
  libs["libmagic"] = magic_version_string();
  libs["openssl"] = openssl_version();
  libs["zstd"] = zstd_version();
  return libs;
}

int run_create(const CreateOptions& o) {
  // Inputs that do not exist are the operator's mistake: say so before writing anything.
  for (const auto& p : o.paths) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) throw system_error(p, errno);
  }
  auto signer = signing_identity(o);
  std::vector<bundle::X509Ptr> recipients;
  std::vector<X509*> recipient_ptrs;
  for (const auto& r : o.encrypt_to) {
    recipients.push_back(bundle::load_certificate(r));
    recipient_ptrs.push_back(recipients.back().get());
  }

  bundle::EnvironmentInputs env_in;
  env_in.libraries = library_versions();
  if (signer) env_in.signer_certificate = signer->certificate();
  auto env = bundle::collect_environment(env_in);

  bundle::WriterOptions w;
  w.out = o.out;
  w.case_id = o.case_id;
  w.tlp = o.tlp.empty() ? "" : bundle::normalize_tlp(o.tlp);
  w.host = bundle::short_hostname(env);
  w.compress = o.compress;
  w.signer = signer ? &*signer : nullptr;
  w.unsigned_ok = o.no_sign;
  w.encrypt_to = recipient_ptrs;
  w.software_agent =
      std::string("forage ") + FORAGE_VERSION + " (commit " + FORAGE_GIT_COMMIT + ")";
  if (env["user"]["operator"].is_string())
    w.operator_name = env["user"]["operator"].get<std::string>();
  w.environment = std::move(env);

  bundle::BundleWriter writer(std::move(w));
  for (const auto& n : o.notes) writer.note(n);
  bundle::PathSummary total;
  for (const auto& p : o.paths) {
    auto s = writer.add_path(bag_path_for(p), p);
    total.files += s.files;
    total.bytes += s.bytes;
    total.skipped += s.skipped;
    total.problems += s.problems;
  }
  std::string path = writer.finish();
  spdlog::info(
      "bundle {}: {} files, {} bytes{}{}", path == "-" ? "written to stdout" : path, total.files,
      total.bytes,
      total.skipped ? ", " + std::to_string(total.skipped) + " skipped (see action log)" : "",
      o.no_sign ? ", UNSIGNED" : "");
  if (total.problems) {
    spdlog::warn(
        "incomplete: {} file(s) vanished, changed or were unreadable while bundling "
        "(recorded in meta/actions.jsonl)",
        total.problems);
    return static_cast<int>(Exit::kIncomplete);
  }
  return static_cast<int>(Exit::kOk);
}

int run_verify(const VerifyCliOptions& o) {
  auto report = bundle::verify_bundle(o.bundle, o.v);
  std::fputs(report.text().c_str(), stdout);
  return static_cast<int>(report.valid() ? Exit::kOk : Exit::kVerifyFailed);
}

int run_extract(const VerifyCliOptions& o) {
  auto report = bundle::extract_bundle(o.bundle, o.dir, o.v);
  std::fputs(report.text().c_str(), stdout);
  if (!report.valid()) {
    std::fprintf(stderr, "forage: %s: not extracted (verification failed)\n", o.bundle.c_str());
    return static_cast<int>(Exit::kVerifyFailed);
  }
  std::printf("extracted: %s/%s/\n", o.dir.c_str(), report.top.c_str());
  return static_cast<int>(Exit::kOk);
}

void add_verify_options(CLI::App* cmd, VerifyCliOptions& o) {
  auto* ca_file = cmd->add_option("--ca-file", o.v.trust.ca_file, "Trusted CA certificates (PEM)");
  cmd->add_option("--ca-path", o.v.trust.ca_path, "Directory of hashed CA certificates")
      ->excludes(ca_file);
  cmd->add_option("--expect-signer", o.v.expect_signer,
                  "Required signer: DN (/DC=../CN=.. or CN=..,DC=..) or sha256:FINGERPRINT");
  cmd->add_option("--decrypt-key", o.v.decrypt_key,
                  "Private key of a recipient (encrypted bundles)");
  cmd->add_option("--decrypt-cert", o.v.decrypt_cert, "Certificate of that recipient");
  cmd->add_flag(
      "--allow-unsigned", o.v.allow_unsigned,
      "Accept a bundle whose origin is not proven (unsigned, or an unpinned Ed25519 key)");
}

}  // namespace

void register_bundle(CLI::App& app, Action& action) {
  auto* bundle = app.add_subcommand("bundle", "Evidence bundles: create, verify, extract");
  bundle->require_subcommand(1);

  auto c = std::make_shared<CreateOptions>();
  auto* create =
      bundle->add_subcommand("create", "Bundle existing files into a signed evidence bag");
  create->add_option("paths", c->paths, "Files or directories to bundle")->required();
  create->add_option("--out", c->out, "Bundle file, or '-' for stdout")->required();
  create->add_option("--case", c->case_id, "Case identifier (External-Identifier)");
  create->add_option("--tlp", c->tlp, "TLP label: CLEAR, GREEN, AMBER, AMBER+STRICT, RED");
  create->add_option("--note", c->notes, "Operator note for the action log (repeatable)");
  create->add_flag("--compress", c->compress, "zstd-compress the stream");
  create->add_option("--sign-cert", c->sign_cert, "Signer certificate (PEM)");
  create->add_option("--sign-key", c->sign_key, "Signer key (PEM); an Ed25519 key may sign alone");
  create->add_flag("--no-sign", c->no_sign, "Write an unsigned bundle");
  create->add_option("--encrypt-to", c->encrypt_to,
                     "Recipient certificate: CMS AES-256-GCM (repeatable)");
  create->callback([&action, c] { action = [c] { return run_create(*c); }; });

  auto v = std::make_shared<VerifyCliOptions>();
  auto* verify =
      bundle->add_subcommand("verify", "Check a bundle: structure, hashes, signature, log");
  verify->add_option("bundle", v->bundle, "Bundle file ('-' for stdin)")->required();
  add_verify_options(verify, *v);
  verify->callback([&action, v] { action = [v] { return run_verify(*v); }; });

  auto x = std::make_shared<VerifyCliOptions>();
  auto* extract = bundle->add_subcommand("extract", "Verify, then unpack safely under DIR");
  extract->add_option("bundle", x->bundle, "Bundle file")->required();
  extract->add_option("dir", x->dir, "Directory to extract into")->required();
  add_verify_options(extract, *x);
  extract->callback([&action, x] { action = [x] { return run_extract(*x); }; });
}

}  // namespace forage::cli
