// forage ioc parse FILE... [--format json|tsv|bpf|yara|misp] [-o OUT] [--keep-going]
#include <map>

#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "common/error.h"
#include "common/file.h"
#include "ioc/reader.h"
#include "ioc/writers.h"

namespace forage::cli {
namespace {

struct IocParseOptions {
  std::vector<std::string> files;
  std::string format = "json";
  std::string output = "-";
  bool keep_going = false;
};

int run_ioc_parse(const IocParseOptions& o) {
  ioc::ReadOptions ro;
  ro.contexts = o.format == "json" || o.format == "misp";
  ro.keep_going = o.keep_going;
  ioc::IocSet set = ioc::read_files(o.files, ro);

  std::string text;
  if (o.format == "json")
    text = ioc::to_json(set);
  else if (o.format == "tsv")
    text = ioc::to_tsv(set);
  else if (o.format == "bpf")
    text = ioc::to_bpf(set);
  else if (o.format == "yara")
    text = ioc::to_yara(set);
  else if (o.format == "misp")
    text = ioc::to_misp(set);
  write_output(o.output, text);

  std::map<std::string, size_t> by_type;
  for (const auto& i : set.indicators) ++by_type[std::string(ioc::type_name(i.type))];
  std::string counts;
  for (const auto& [t, n] : by_type)
    counts += (counts.empty() ? "" : ", ") + t + " " + std::to_string(n);
  spdlog::info("{} indicators ({}){}{}", set.indicators.size(), counts.empty() ? "none" : counts,
               set.tlp.empty() ? "" : ", " + set.tlp,
               set.case_tag.empty() ? "" : ", case " + set.case_tag);
  for (const auto& n : set.notes) spdlog::info("note: {}", n);
  if (!set.errors.empty()) {
    spdlog::warn("incomplete: {} problem(s) skipped with --keep-going", set.errors.size());
    return static_cast<int>(Exit::kIncomplete);
  }
  return static_cast<int>(Exit::kOk);
}

}  // namespace

void register_ioc(CLI::App& app, Action& action) {
  auto* ioc = app.add_subcommand("ioc", "Indicators of compromise: read what a CSIRT sends");
  ioc->require_subcommand(1);
  auto* parse = ioc->add_subcommand(
      "parse",
      "Extract indicators from e-mails, text, CSV, MISP or STIX 2.1 (detected by content)");
  auto o = std::make_shared<IocParseOptions>();
  parse->add_option("files", o->files, "Input files ('-' for stdin)")->required();
  parse->add_option("--format", o->format, "Output format")
      ->check(CLI::IsMember({"json", "tsv", "bpf", "yara", "misp"}))
      ->capture_default_str();
  parse->add_option("-o,--output", o->output, "Output file ('-' for stdout)")
      ->capture_default_str();
  parse->add_flag("--keep-going", o->keep_going,
                  "Report indicators from the good parts of damaged inputs (exit 3)");
  parse->callback([&action, o] { action = [o] { return run_ioc_parse(*o); }; });
}

}  // namespace forage::cli
