// forage version / --version: the tool, its commit and every linked library, so an evidence
// record or a sweep result says exactly which code produced it.
#include <cstdio>
#include <string>

#include <fmt/core.h>

#include <spdlog/version.h>
#include <CLI/Version.hpp>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/lib_versions.h"
#include "common/filetype.h"
#include "forage/version.h"

namespace forage::cli {

nlohmann::ordered_json library_versions() {
  nlohmann::ordered_json libs;
  libs["yara"] = yara_version();
  libs["libpcap"] = pcap_version();
  libs["libmagic"] = magic_version_string() + " (database embedded, " +
                     std::to_string(FileTyper::embedded_database_size()) + " bytes)";
  libs["openssl"] = openssl_version();
  libs["zstd"] = zstd_version();
  libs["spdlog"] = std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) + "." +
                   std::to_string(SPDLOG_VER_PATCH);
  libs["fmt"] = std::to_string(FMT_VERSION / 10000) + "." +
                std::to_string(FMT_VERSION / 100 % 100) + "." + std::to_string(FMT_VERSION % 100);
  libs["nlohmann-json"] = std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                          std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                          std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  libs["cli11"] = CLI11_VERSION;
  return libs;
}

namespace {

nlohmann::ordered_json versions() {
  nlohmann::ordered_json j;
  j["tool"] = "forage";
  j["version"] = FORAGE_VERSION;
  j["commit"] = FORAGE_GIT_COMMIT;
  j["compiler"] = "gcc " __VERSION__;
  j["libraries"] = library_versions();
  return j;
}

}  // namespace

int print_version(bool json) {
  auto v = versions();
  std::string out;
  if (json) {
    out = v.dump() + "\n";
  } else {
    out = "forage " + v["version"].get<std::string>() + " (commit " +
          v["commit"].get<std::string>() + ", " + v["compiler"].get<std::string>() + ")\n";
    for (const auto& [name, value] : v["libraries"].items()) {
      char line[512];
      std::snprintf(line, sizeof line, "  %-14s %s\n", name.c_str(),
                    value.get<std::string>().c_str());
      out += line;
    }
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

void register_version(CLI::App& app, Action& action) {
  auto* cmd = app.add_subcommand("version", "Print tool, commit and linked library versions");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "One JSON object");
  cmd->callback([&action, json] { action = [json] { return print_version(*json); }; });
}

}  // namespace forage::cli
