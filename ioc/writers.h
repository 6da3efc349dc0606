// Output forms of an indicator set (`forage ioc parse --format ...`).
#pragma once

#include <string>

#include "ioc/indicator.h"

namespace forage::ioc {

// One JSON document: {"format":"forage-iocs/1","case","tlp","sources","indicators":[...],
// "notes","errors"}; read back by read_json (so --iocs takes it).
std::string to_json(const IocSet& set);
// "type<TAB>value" lines, sorted and unique: the stable form for scripts and tests.
std::string to_tsv(const IocSet& set);
// A libpcap capture filter over the network indicators ("host a or net b/n ...").
std::string to_bpf(const IocSet& set);
// A YARA rule file: hashes via the "hash" module; file names via the `filename` external.
std::string to_yara(const IocSet& set);
// A MISP event (JSON) to share back: attributes with MISP types, the TLP as a tag.
std::string to_misp(const IocSet& set);

}  // namespace forage::ioc
