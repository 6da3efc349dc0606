// How subcommands plug into main.cpp: each cmd_*.cpp registers its CLI11 subcommand and sets
// `action` when chosen; main.cpp runs it inside the one error boundary.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace forage::cli {

using Action = std::function<int()>;

void register_ioc(CLI::App& app, Action& action);
void register_version(CLI::App& app, Action& action);
void register_scan(CLI::App& app, Action& action);
void register_bundle(CLI::App& app, Action& action);
void register_sweep(CLI::App& app, Action& action);
void register_merge(CLI::App& app, Action& action);
void register_collect(CLI::App& app, Action& action);

// `forage --version` prints the same as `forage version`.
int print_version(bool json);

}  // namespace forage::cli
