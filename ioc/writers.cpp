#include "ioc/writers.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "forage/version.h"

namespace forage::ioc {
namespace {

using ojson = nlohmann::ordered_json;

ojson source_json(const Source& s) {
  ojson j;
  j["file"] = s.file;
  if (!s.part.empty()) j["part"] = s.part;
  if (s.line > 0) j["line"] = s.line;
  if (!s.json_path.empty()) j["path"] = s.json_path;
  return j;
}

std::string dump(const ojson& j) {
  // Input is untrusted: invalid UTF-8 is replaced, never a reason to fail the output.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// YARA string literal: escape backslash, quote and non-printables.
std::string yara_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      static const char* d = "0123456789abcdef";
      out += "\\x";
      out += d[c >> 4];
      out += d[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string misp_type(Type t) {
  switch (t) {
    case Type::kIpv4:
    case Type::kIpv6:
    case Type::kCidr:
      return "ip-dst";
    case Type::kDomain:
      return "domain";
    case Type::kUrl:
      return "url";
    case Type::kEmail:
      return "email-src";
    case Type::kMd5:
      return "md5";
    case Type::kSha1:
      return "sha1";
    case Type::kSha256:
      return "sha256";
    case Type::kSha512:
      return "sha512";
    case Type::kFilename:
      return "filename";
    case Type::kFilepath:
    case Type::kUsername:
    case Type::kX509Dn:
      return "text";  // written as MISP objects, see to_misp
  }
  return "text";
}

std::string misp_category(Type t) {
  if (is_network(t) || t == Type::kDomain || t == Type::kUrl) return "Network activity";
  if (is_hash(t) || t == Type::kFilename || t == Type::kFilepath) return "Payload delivery";
  if (t == Type::kEmail) return "Payload delivery";
  return "Other";
}

}  // namespace

std::string to_json(const IocSet& set) {
  ojson j;
  j["format"] = "forage-iocs/1";
  j["generator"] = std::string("forage ") + FORAGE_VERSION;
  j["case"] = set.case_tag;
  j["tlp"] = set.tlp;
  j["sources"] = set.sources;
  j["counts"] = ojson::object();
  for (Type t : kAllTypes)
    if (auto n = set.count(t)) j["counts"][std::string(type_name(t))] = n;
  ojson list = ojson::array();
  for (const auto& i : set.indicators) {
    ojson e;
    e["type"] = type_name(i.type);
    e["value"] = i.value;
    e["source"] = source_json(i.source);
    e["context"] = i.context;
    e["tlp"] = i.tlp;
    list.push_back(std::move(e));
  }
  j["indicators"] = std::move(list);
  j["notes"] = set.notes;
  j["errors"] = set.errors;
  return dump(j);
}

std::string to_tsv(const IocSet& set) {
  // Sorted as "type<TAB>value" strings would sort: a type name is never a prefix of another, so
  // that is by type name, then by value. The set is unique by (type, value) already.
  std::array<std::string_view, std::size(kAllTypes)> names{};
  for (size_t k = 0; k < names.size(); ++k) names[k] = type_name(kAllTypes[k]);
  std::sort(names.begin(), names.end());
  std::array<size_t, std::size(kAllTypes)> rank_of{};
  for (Type t : kAllTypes)
    rank_of[static_cast<size_t>(t)] =
        static_cast<size_t>(std::find(names.begin(), names.end(), type_name(t)) - names.begin());

  // Rows grouped by type first (a counting sort), then each group sorted by value. A row carries
  // the value's first 8 bytes as a big-endian number: most comparisons end there, without a
  // call to memcmp or a look at the value's own memory.
  struct Row {
    uint64_t prefix;
    const char* data;
    size_t size;
  };
  std::array<size_t, std::size(kAllTypes) + 1> begin{};
  for (const auto& i : set.indicators) ++begin[rank_of[static_cast<size_t>(i.type)] + 1];
  for (size_t k = 1; k < begin.size(); ++k) begin[k] += begin[k - 1];
  auto next = begin;
  std::vector<Row> rows(set.indicators.size());
  size_t bytes = 0;
  for (const auto& i : set.indicators) {
    size_t r = rank_of[static_cast<size_t>(i.type)];
    uint64_t prefix = 0;  // zero-padded: a shorter value still sorts first
    for (size_t k = 0; k < 8; ++k)
      prefix = (prefix << 8) | (k < i.value.size() ? static_cast<unsigned char>(i.value[k]) : 0u);
    rows[next[r]++] = {prefix, i.value.data(), i.value.size()};
    bytes += names[r].size() + i.value.size() + 2;
  }
  auto less = [](const Row& a, const Row& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return std::string_view(a.data, a.size) < std::string_view(b.data, b.size);
  };
  std::string out;
  out.reserve(bytes);
  for (size_t r = 0; r < names.size(); ++r) {
    auto first = rows.begin() + static_cast<std::ptrdiff_t>(begin[r]);
    auto last = rows.begin() + static_cast<std::ptrdiff_t>(begin[r + 1]);
    std::sort(first, last, less);
    for (auto it = first; it != last; ++it) {
      out += names[r];
      out += '\t';
      out.append(it->data, it->size);
      out += '\n';
    }
  }
  return out;
}

std::string to_bpf(const IocSet& set) {
  std::vector<std::string> terms;
  std::set<std::string> seen;
  for (const auto& i : set.indicators) {
    std::string term;
    if (i.type == Type::kIpv4 || i.type == Type::kIpv6)
      term = "host " + i.value;
    else if (i.type == Type::kCidr)
      term = "net " + i.value;
    else
      continue;
    if (seen.insert(term).second) terms.push_back(std::move(term));
  }
  std::sort(terms.begin(), terms.end());
  std::string out;
  for (const auto& t : terms) out += (out.empty() ? "" : " or ") + t;
  // An empty filter would match everything: say "nothing" explicitly instead.
  if (out.empty()) out = "less 0";
  return out + "\n";
}

std::string to_yara(const IocSet& set) {
  std::vector<std::string> hashes;
  std::vector<std::string> names;
  for (const auto& i : set.indicators) {
    switch (i.type) {
      case Type::kMd5:
        hashes.push_back("hash.md5(0, filesize) == " + yara_quote(i.value));
        break;
      case Type::kSha1:
        hashes.push_back("hash.sha1(0, filesize) == " + yara_quote(i.value));
        break;
      case Type::kSha256:
        hashes.push_back("hash.sha256(0, filesize) == " + yara_quote(i.value));
        break;
      case Type::kFilename:
        names.push_back("filename == " + yara_quote(i.value));
        break;
      case Type::kFilepath:
        names.push_back("filepath == " + yara_quote(i.value));
        break;
      default:
        break;  // SHA-512 is not in YARA's hash module; others are not file properties
    }
  }
  std::string meta =
      "  meta:\n    generator = " + yara_quote(std::string("forage ") + FORAGE_VERSION) +
      "\n    case = " + yara_quote(set.case_tag) + "\n    tlp = " + yara_quote(set.tlp) + "\n";
  std::string out =
      "// Generated by forage ioc parse --format yara.\n"
      "// The file-name rule needs the externals `filename` and `filepath`:\n"
      "// forage scan defines them; with the yara CLI pass -d filename=... -d filepath=...\n"
      "import \"hash\"\n\n";
  auto rule = [&](const std::string& name, const std::vector<std::string>& conds) {
    out += "rule " + name + "\n{\n" + meta + "  condition:\n";
    if (conds.empty()) {
      out += "    false\n";
    } else {
      for (size_t k = 0; k < conds.size(); ++k)
        out += "    " + std::string(k ? "or " : "") + conds[k] + "\n";
    }
    out += "}\n\n";
  };
  if (!hashes.empty() || names.empty()) rule("forage_ioc_hashes", hashes);
  if (!names.empty()) rule("forage_ioc_filenames", names);
  return out;
}

std::string to_misp(const IocSet& set) {
  // Attributes for what MISP has a type for; MISP objects for the rest, as MISP models them:
  // user-account/username, x509/subject, file/path. read_json maps them back.
  ojson attrs = ojson::array();
  ojson objects = ojson::array();
  for (const auto& i : set.indicators) {
    ojson a;
    a["category"] = misp_category(i.type);
    a["value"] = i.value;
    a["to_ids"] = true;
    a["comment"] = i.context;
    // An indicator less restricted than the whole set keeps its own label (read_json reads it).
    if (!i.tlp.empty() && i.tlp != set.tlp) a["Tag"] = ojson::array({{{"name", to_lower(i.tlp)}}});
    const char* object = nullptr;
    const char* relation = nullptr;
    if (i.type == Type::kUsername) object = "user-account", relation = "username";
    if (i.type == Type::kX509Dn) object = "x509", relation = "subject";
    if (i.type == Type::kFilepath) object = "file", relation = "path";
    if (object) {
      a["type"] = "text";
      a["object_relation"] = relation;
      objects.push_back({{"name", object},
                         {"meta-category", i.type == Type::kFilepath ? "file" : "misc"},
                         {"Attribute", ojson::array({a})}});
    } else {
      a["type"] = misp_type(i.type);
      attrs.push_back(std::move(a));
    }
  }
  ojson ev;
  ev["info"] = set.case_tag.empty() ? std::string("Indicators extracted by forage")
                                    : "[" + set.case_tag + "] indicators extracted by forage";
  ev["distribution"] = "0";
  ev["threat_level_id"] = "2";
  ev["analysis"] = "1";
  ev["Tag"] = ojson::array();
  if (!set.tlp.empty()) ev["Tag"].push_back({{"name", to_lower(set.tlp)}});
  ev["Attribute"] = std::move(attrs);
  ev["Object"] = std::move(objects);
  return dump(ojson{{"Event", ev}});
}

}  // namespace forage::ioc
