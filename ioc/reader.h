// Reading indicators from any input a CSIRT sends, detected by content (DESIGN.md "IoC model"):
// e-mail (MIME), free text, one-per-line lists, CSV, MISP JSON, STIX 2.1, forage's own JSON.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ioc/indicator.h"

namespace forage::ioc {

enum class Format { kAuto, kEmail, kText, kList, kCsv, kMisp, kStix, kForageJson, kJson };
std::string_view format_name(Format f);

struct ReadOptions {
  // Problems in one unit of an input (a MIME part, a STIX pattern, a MISP attribute, a CSV row)
  // are recorded in IocSet::errors and reading goes on; without it the first one is fatal.
  bool keep_going = false;
  // Whether indicators keep their context sentence. Outputs that never print it (tsv, bpf,
  // yara) skip the copy of one line per indicator.
  bool contexts = true;
};

// Guesses the format of a whole input from its bytes. Throws forage::Error for binary data.
Format detect_format(std::string_view data, const std::string& name);

// Reads one input (a file's bytes, or a MIME attachment) into `out`. `src` names it (file and
// part); `hint` kAuto means detect. Throws forage::Error("<file>[!part]: <reason>") on bad input
// unless opts.keep_going allows going on.
void read_input(std::string_view data, const Source& src, const ReadOptions& opts, IocSet& out,
                Format hint = Format::kAuto);

// Reads files ("-" is stdin) and returns the merged set.
IocSet read_files(const std::vector<std::string>& paths, const ReadOptions& opts);

// The indicators of a command's --iocs: read_files(), and an error naming the inputs when they
// hold none (a wrong file, an empty or undecryptable broadcast): an empty set would make a node
// look clean. `allow_empty`: the command has YARA rules to run anyway (--allow-empty-iocs).
IocSet read_iocs_option(const std::vector<std::string>& paths, bool allow_empty = false);

// A recoverable problem in one unit of an input: throws forage::Error(message) unless
// opts.keep_going, in which case the message is kept in out.errors (and logged as a warning).
// The message must name the input: "<src.display()>: <reason>".
void input_problem(const ReadOptions& opts, IocSet& out, const std::string& message);

// --- the readers behind read_input (one file each) ---

// Free text (text.cpp): every indicator type, refanged; context = the line.
// Loopback/unspecified addresses and version-like strings are dropped (heuristics).
void read_text(std::string_view text, const Source& src, IocSet& out, bool contexts = true);
// One indicator per line (text.cpp): each line classified whole, nothing dropped.
bool looks_like_list(std::string_view text);
void read_list(std::string_view text, const Source& src, IocSet& out);
// RFC 5322 / MIME e-mail (mime.cpp).
void read_email(std::string_view data, const Source& src, const ReadOptions& opts, IocSet& out);

// The one-line error for ciphertext found where indicators were expected: the file, the part,
// the scheme ("OpenPGP (PGP/MIME)", "S/MIME") and the command that decrypts it.
std::string encrypted_message(const Source& where, const std::string& scheme);
// CSV with a header naming type/value/comment columns (csv.cpp).
bool looks_like_csv(std::string_view text);
void read_csv(std::string_view text, const Source& src, const ReadOptions& opts, IocSet& out);
// JSON documents (json_inputs.cpp): MISP events, STIX 2.1 bundles, forage's own output.
void read_json(std::string_view data, const Source& src, const ReadOptions& opts, IocSet& out,
               Format hint);

}  // namespace forage::ioc
