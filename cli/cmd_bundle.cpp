// forage bundle create | verify | extract: thin over bundle/ (see docs/bundle-format.md).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "bundle/verify.h"
#include "bundle/writer.h"
#include "cli/bundle_options.h"
#include "cli/command.h"
#include "common/error.h"

namespace forage::cli {

// cmd_bundle_report.cpp
int run_bundle_report(const std::string& bundle, const std::string& format, const std::string& out,
                      const bundle::VerifyOptions& v);

namespace {

struct CreateOptions {
  std::vector<std::string> paths;
  std::vector<std::string> notes;
  BundleCliOptions bundle;
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

int run_create(const CreateOptions& o) {
  // Inputs that do not exist are the operator's mistake: say so before writing anything.
  for (const auto& p : o.paths) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) throw system_error(p, errno);
  }
  BundleSetup setup(o.bundle);
  bundle::BundleWriter writer(setup.writer_options());
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
      o.bundle.no_sign ? ", UNSIGNED" : "");
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
  add_bundle_options(create, c->bundle);
  create->add_option("--note", c->notes, "Operator note for the action log (repeatable)");
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

  auto r = std::make_shared<VerifyCliOptions>();
  auto report_format = std::make_shared<std::string>("md");
  auto* report = bundle->add_subcommand(
      "report", "Verify, then fill the Incident Analysis Guideline from the bundle");
  report->add_option("bundle", r->bundle, "Bundle file")->required();
  report->add_option("--format", *report_format, "md, json or html")->capture_default_str();
  report->add_option("-o,--output", r->dir, "Write the report here (default: stdout)");
  add_verify_options(report, *r);
  report->callback([&action, r, report_format] {
    action = [r, report_format] {
      return run_bundle_report(r->bundle, *report_format, r->dir.empty() ? "-" : r->dir, r->v);
    };
  });
}

}  // namespace forage::cli
