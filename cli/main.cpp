// forage: incident response for grid/batch worker nodes. See ../shared/DESIGN.md.
#include <csignal>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "common/error.h"
#include "common/log.h"
#include "host/deadline.h"

int main(int argc, char** argv) {
  using forage::Exit;
  // The signal dispositions of the whole process, set here once:
  // - a file-size limit (ulimit -f) or a closed pipe must surface as a write error that names the
  //   output and keeps what was written (the bundle's .partial), not kill forage silently;
  // - SIGINT/SIGTERM end forage as usual, except in the commands that call
  //   host::stop_gracefully() (collect, sweep, scan pcap): there the first one winds the work
  //   down and seals or summarises what is done (host/deadline.h).
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
  forage::host::install_stop_handlers();
  CLI::App app{"forage: find, contain and preserve evidence of a security incident on a node",
               "forage"};
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  std::string log_level = "info";
  bool log_json = false;
  bool version = false;
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
      ->capture_default_str();
  app.add_flag("--log-json", log_json, "Log as JSON lines on stderr");
  app.add_flag("--version", version, "Print tool and library versions");

  forage::cli::Action action;
  forage::cli::register_ioc(app, action);
  forage::cli::register_scan(app, action);
  forage::cli::register_bundle(app, action);
  forage::cli::register_sweep(app, action);
  forage::cli::register_merge(app, action);
  forage::cli::register_collect(app, action);
  forage::cli::register_version(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "forage: %s (see forage --help)\n", e.what());
    return static_cast<int>(Exit::kUsage);
  }

  try {
    forage::init_logging(log_level, log_json);
    if (version) return forage::cli::print_version(false);
    if (!action) {
      std::fputs(app.help().c_str(), stderr);
      return static_cast<int>(Exit::kUsage);
    }
    return action();
  } catch (const forage::Error& e) {
    std::fprintf(stderr, "forage: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "forage: out of memory\n");
    return static_cast<int>(Exit::kUsage);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "forage: internal error: %s\n", e.what());
    return static_cast<int>(Exit::kUsage);
  }
}
