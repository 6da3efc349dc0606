#include "sweep/merge.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "bundle/report.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/time.h"
#include "common/tlp.h"

namespace forage::sweep {
namespace {

std::string short_host(const std::string& h) {
  return h.substr(0, h.find('.'));
}

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// When the node saw the indicator: the finding's own time when it has one (a capture's first
// packet, a journal entry), else the end of the node's sweep.
std::string seen_at(const Json& hit, const std::string& node_utc) {
  std::string t = str(hit, "first_seen");
  if (!t.empty()) return t;
  if (hit.contains("time_usec") && hit["time_usec"].is_number_unsigned()) {
    return utc_iso(static_cast<int64_t>(hit["time_usec"].get<uint64_t>() / 1000000));
  }
  return node_utc;
}

std::string csv_field(const std::string& s) {
  bool quote = s.find_first_of(",\"\n\r") != std::string::npos;
  // A cell starting with = + - @ is a formula to a spreadsheet: the values come from attackers.
  std::string v =
      (!s.empty() && std::string_view("=+-@").find(s[0]) != std::string_view::npos) ? "'" + s : s;
  if (!quote) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Markdown for a node-controlled value (host names, indicators, TLP, errors): the one escaping
// of the Markdown writers (bundle/report.h), capped for a table cell.
std::string md(const std::string& s) {
  return bundle::md_escape(s, 300);
}

std::string j2s(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::vector<std::string> parse_node_list(std::string_view text) {
  std::vector<std::string> out;
  for (auto line : split_lines(text)) {
    auto hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    // An Ansible inventory line "host ansible_host=..." names the host first.
    line = line.substr(0, line.find_first_of(" \t"));
    if (line.empty() || line.front() == '[') continue;
    out.emplace_back(line);
  }
  return out;
}

NodeResult parse_node_result(std::string_view text, const std::string& file) {
  NodeResult r;
  r.file = file;
  size_t n = 0;
  bool have_summary = false;
  for (auto line : split_lines(text)) {
    ++n;
    if (trim(line).empty()) continue;
    if (have_summary)
      throw Error(file + ": line " + std::to_string(n) + ": output continues after the summary");
    Json j;
    try {
      j = parse_json_bounded(line);
    } catch (const Error& e) {
      throw Error(file + ": line " + std::to_string(n) + ": " + e.what());
    } catch (const std::exception&) {
      throw Error(file + ": line " + std::to_string(n) +
                  ": not JSON (was the sweep run with --json?)");
    }
    if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string())
      throw Error(file + ": line " + std::to_string(n) + ": not a finding (no \"kind\")");
    std::string kind = j["kind"].get<std::string>();
    if (kind == "summary") {
      if (str(j, "scan") != "sweep")
        throw Error(file + ": line " + std::to_string(n) + ": a summary of \"" + str(j, "scan") +
                    "\", not of a sweep");
      have_summary = true;
      r.summary = j;
      r.host = str(j, "host");
      r.utc = str(j, "utc");
      r.case_id = str(j, "case");
      r.tlp = str(j, "tlp");
      r.digest = str(j, "indicator_digest");
      r.version = str(j, "forage_version");
      r.incomplete = j.value("incomplete", false) == true;
      if (r.host.empty())
        throw Error(file + ": line " + std::to_string(n) + ": summary without host");
    } else if (kind != "notice") {
      r.hits.push_back(std::move(j));
    }
  }
  if (!have_summary)
    throw Error(file +
                ": no sweep summary line (the sweep was cut off, or this is not its output)");
  r.findings = r.hits.size();
  return r;
}

namespace {

// The broadcast the nodes swept for: the strictest TLP, the case (all of them when they differ),
// the indicator digests (a warning when they differ).
void describe_broadcast(Json& d, const std::vector<NodeResult>& nodes) {
  std::string tlp;
  std::set<std::string> cases, digests;
  for (const auto& n : nodes) {
    if (tlp_rank(n.tlp) > tlp_rank(tlp)) tlp = n.tlp;  // short words: parse_tlp reads them too
    if (!n.case_id.empty()) cases.insert(n.case_id);
    if (!n.digest.empty()) digests.insert(n.digest);
  }
  d["tlp"] = tlp.empty() ? "AMBER" : tlp;
  d["case"] = cases.empty() ? "" : *cases.begin();
  if (cases.size() > 1) d["cases"] = cases;
  d["indicator_digests"] = digests;
  if (digests.size() > 1)
    d["warning"] = "nodes swept with different indicator sets (see indicator_digests)";
}

// Nodes by host; the same host twice keeps its latest sweep and is listed in `duplicates`.
std::map<std::string, const NodeResult*> latest_by_host(const std::vector<NodeResult>& nodes,
                                                        Json& duplicates) {
  std::map<std::string, const NodeResult*> by_host;
  for (const auto& n : nodes) {
    auto& slot = by_host[n.host];
    if (slot) {
      duplicates.push_back(n.host);
      if (n.utc < slot->utc) continue;
    }
    slot = &n;
  }
  return by_host;
}

// One indicator (or rule, or finding kind) over every node that reported it.
struct IndicatorSeen {
  std::string type, value;
  std::set<std::string> nodes;
  uint64_t hits = 0;
  std::string first_seen, first_host;
  std::set<std::string> matches;  // phase[:what matched]
};
using Indicators = std::map<std::pair<std::string, std::string>, IndicatorSeen>;

// What a finding line is about: its indicator, else its YARA rule, else its kind.
std::pair<std::string, std::string> matched(const Json& h) {
  if (h.contains("ioc") && h["ioc"].is_object())
    return {str(h["ioc"], "type"), str(h["ioc"], "value")};
  if (h.contains("rule")) return {"yara", j2s(h["rule"])};
  return {str(h, "kind"), ""};
}

// Adds one node's findings to `inds`; returns the pids they name.
std::set<std::string> add_findings(Indicators& inds, const std::string& host, const NodeResult& n) {
  std::set<std::string> pids;
  for (const auto& h : n.hits) {
    if (h.contains("pid") && h["pid"].is_number_integer()) pids.insert(j2s(h["pid"]));
    auto [type, value] = matched(h);
    auto& ind = inds[{type, value}];
    ind.type = type;
    ind.value = value;
    ind.nodes.insert(host);
    ++ind.hits;
    std::string where = str(h, "phase");
    if (!str(h, "match").empty()) where += (where.empty() ? "" : ":") + str(h, "match");
    if (!where.empty()) ind.matches.insert(where);
    std::string t = seen_at(h, n.utc);
    if (ind.first_seen.empty() || (!t.empty() && t < ind.first_seen)) {
      ind.first_seen = t;
      ind.first_host = host;
    }
  }
  return pids;
}

// The job ids of an identity: its "jobs" list (system, id, the variable that named it, role),
// else its batch system and job id. Values are the node's: bounded, never interpreted.
std::string job_ids(const Json& id) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!s.empty() && out.size() < 2000) out += (out.empty() ? "" : "; ") + s;
  };
  const auto jobs = id.find("jobs");
  if (jobs != id.end() && jobs->is_array() && !jobs->empty()) {
    for (const auto& j : *jobs) {
      if (!j.is_object()) continue;
      std::string s = str(j, "system") + " " + str(j, "id");
      std::string why = str(j, "variable");
      if (!str(j, "role").empty()) why += (why.empty() ? "" : ", ") + str(j, "role");
      add(why.empty() ? s : s + " (" + why + ")");
    }
    return out;
  }
  if (!str(id, "job_id").empty()) add(str(id, "batch_system") + " " + str(id, "job_id"));
  return out;
}

// A number or a string as text ("" for anything else): uids and pids from a node.
std::string scalar(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_number_integer()) return it->dump();
  return it->is_string() ? it->get<std::string>() : "";
}

// One grid identity seen on a node: the DN, VO and job behind the processes that matched.
struct IdentitySeen {
  Json row;  // host, dn, vo, fqans, batch_system, job_ids, uid, user
  std::set<std::string> pids;
};
using Identities = std::map<std::string, IdentitySeen>;  // keyed by the row's text

// Adds the identities of a node's findings (any finding with an "identity" object).
void add_identities(Identities& ids, const std::string& host, const NodeResult& n) {
  for (const auto& h : n.hits) {
    auto it = h.find("identity");
    if (it == h.end() || !it->is_object() || ids.size() >= 5000) continue;
    const Json& id = *it;
    Json row;
    row["host"] = host;
    row["dn"] = str(id, "dn");
    row["vo"] = str(id, "vo");
    std::string fqans;
    if (id.contains("fqans") && id["fqans"].is_array())
      for (const auto& f : id["fqans"])
        if (f.is_string()) fqans += (fqans.empty() ? "" : ", ") + f.get<std::string>();
    row["fqans"] = fqans;
    row["batch_system"] = str(id, "batch_system");
    row["job_ids"] = job_ids(id);
    row["uid"] = scalar(id, "uid").empty() ? scalar(h, "uid") : scalar(id, "uid");
    row["user"] = str(id, "user").empty() ? str(h, "user") : str(id, "user");
    auto& seen = ids[row.dump()];
    seen.row = row;
    if (!scalar(h, "pid").empty()) seen.pids.insert(scalar(h, "pid"));
  }
}

Json identity_rows(const Identities& ids) {
  Json out = Json::array();
  for (const auto& [key, i] : ids) {
    Json r = i.row;
    r["pids"] = i.pids;
    out.push_back(r);
  }
  return out;
}

// The nodes sorted into the report's sections, and what their findings add up to.
struct NodeSections {
  Json hit = Json::array(), clean = Json::array(), incomplete = Json::array();
  Indicators indicators;
  Identities identities;
};

NodeSections sort_nodes(const std::map<std::string, const NodeResult*>& by_host) {
  NodeSections s;
  for (const auto& [host, n] : by_host) {
    Json node;
    node["host"] = host;
    node["file"] = n->file;
    node["utc"] = n->utc;
    node["findings"] = n->findings;
    node["findings_by_kind"] = n->summary.value("findings_by_kind", Json::object());
    if (n->incomplete) {
      Json ni = node;
      ni["skipped"] = n->summary.value("skipped", Json::object());
      ni["phases_skipped"] = n->summary.value("phases_skipped", Json::object());
      s.incomplete.push_back(ni);
    }
    if (n->findings == 0) {
      if (!n->incomplete) s.clean.push_back(host);
      continue;
    }
    node["pids"] = add_findings(s.indicators, host, *n);
    add_identities(s.identities, host, *n);
    s.hit.push_back(node);
  }
  return s;
}

// The indicators seen, on the most nodes first.
Json by_indicator(const Indicators& inds) {
  std::vector<const IndicatorSeen*> order;
  for (const auto& [k, v] : inds) order.push_back(&v);
  std::stable_sort(order.begin(), order.end(), [](const IndicatorSeen* a, const IndicatorSeen* b) {
    return a->nodes.size() > b->nodes.size();
  });
  Json out = Json::array();
  for (const IndicatorSeen* i : order) {
    Json j;
    j["type"] = i->type;
    j["value"] = i->value;
    j["nodes"] = i->nodes;
    j["hits"] = i->hits;
    j["first_seen"] = i->first_seen;
    j["first_seen_on"] = i->first_host;
    j["matched_in"] = i->matches;
    out.push_back(j);
  }
  return out;
}

// The expected hosts that did not report, by full name, short name or result file name.
Json not_reporting(const std::vector<std::string>& expected,
                   const std::map<std::string, const NodeResult*>& by_host) {
  std::set<std::string> reported;
  for (const auto& [h, n] : by_host) {
    reported.insert(h);
    reported.insert(short_host(h));
    // Ansible's fetch names each file after the inventory name: results/<node>.jsonl.
    std::string stem = n->file.substr(n->file.rfind('/') + 1);
    stem = stem.substr(0, stem.find(".json"));
    if (!stem.empty()) reported.insert(stem);
  }
  Json missing = Json::array();
  for (const auto& e : expected)
    if (!reported.count(e) && !reported.count(short_host(e))) missing.push_back(e);
  return missing;
}

Json malformed_files(const std::vector<std::pair<std::string, std::string>>& malformed) {
  Json out = Json::array();
  for (const auto& [f, e] : malformed) {
    Json m;
    m["file"] = f;
    m["error"] = e;
    out.push_back(m);
  }
  return out;
}

// A directory given stands for the result files in it (sorted).
std::vector<std::string> result_files(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& p : inputs) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      Fd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));  // the operator's: followed
      for (const auto& n : Dir::at(fd.get()).names())                // sorted
        if (n.size() > 5 && (n.ends_with(".jsonl") || n.ends_with(".json")))
          out.push_back(p + "/" + n);
    } else {
      out.push_back(p);
    }
  }
  return out;
}

// A list or an object from the report as readable text: "a, b" and "key: value, ...".
std::string text(const Json& v) {
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : ", ") + text(e);
    return out;
  }
  if (v.is_object()) {
    std::string out;
    for (const auto& [k, e] : v.items()) out += (out.empty() ? "" : ", ") + k + ": " + text(e);
    return out;
  }
  return j2s(v);
}

// The grid identities behind the nodes' process findings (x509-dn and username indicators).
std::string identities_md(const Json& d) {
  std::string out =
      "\n## Grid identities\n\n| node | DN | VO / FQANs | batch system | job id(s) | uid | user | "
      "pids |\n|---|---|---|---|---|---|---|---|\n";
  const auto ids = d.find("identities");
  if (ids == d.end() || !ids->is_array() || ids->empty())
    return out + "| (none reported) | | | | | | | |\n";
  for (const auto& i : *ids) {
    std::string vo = j2s(i["vo"]);
    if (!j2s(i["fqans"]).empty()) vo += (vo.empty() ? "" : " ") + ("(" + j2s(i["fqans"]) + ")");
    out += "| " + md(j2s(i["host"])) + " | " + md(j2s(i["dn"])) + " | " + md(vo) + " | " +
           md(j2s(i["batch_system"])) + " | " + md(j2s(i["job_ids"])) + " | " + md(j2s(i["uid"])) +
           " | " + md(j2s(i["user"])) + " | " + md(text(i["pids"])) + " |\n";
  }
  return out;
}

}  // namespace

MergeInput read_merge_input(const std::vector<std::string>& results,
                            const std::string& expect_nodes) {
  MergeInput in;
  if (!expect_nodes.empty()) in.expected = parse_node_list(read_file(expect_nodes, 64ull << 20));
  for (const auto& f : result_files(results)) {
    try {
      in.nodes.push_back(parse_node_result(read_file(f, 1ull << 30), f));
    } catch (const Error& e) {
      spdlog::warn("skipped: {}", e.what());
      in.malformed.emplace_back(f, e.what());
    }
  }
  return in;
}

SiteReport merge_results(const MergeInput& in) {
  SiteReport rep;
  Json& d = rep.doc;
  d["kind"] = "site_report";
  describe_broadcast(d, in.nodes);
  Json duplicates = Json::array();
  const auto by_host = latest_by_host(in.nodes, duplicates);
  const NodeSections nodes = sort_nodes(by_host);
  const Json missing = in.expected.empty() ? Json::array() : not_reporting(in.expected, by_host);
  const Json malformed = malformed_files(in.malformed);

  Json counts;
  counts["reported"] = by_host.size();
  counts["hit"] = nodes.hit.size();
  counts["clean"] = nodes.clean.size();
  counts["incomplete"] = nodes.incomplete.size();
  if (!in.expected.empty()) {
    counts["expected"] = in.expected.size();
    counts["not_reporting"] = missing.size();
  }
  counts["malformed_files"] = malformed.size();
  d["counts"] = counts;
  d["nodes_hit"] = nodes.hit;
  d["by_indicator"] = by_indicator(nodes.indicators);
  d["identities"] = identity_rows(nodes.identities);
  d["nodes_incomplete"] = nodes.incomplete;
  d["nodes_clean"] = nodes.clean;
  if (!in.expected.empty()) d["nodes_not_reporting"] = missing;
  d["malformed"] = malformed;
  if (!duplicates.empty()) d["duplicate_hosts"] = duplicates;
  rep.exit_code = !nodes.hit.empty()                                                      ? 1
                  : (!malformed.empty() || !nodes.incomplete.empty() || !missing.empty()) ? 3
                                                                                          : 0;
  return rep;
}

ReportFormat parse_report_format(std::string_view name) {
  if (name == "json") return ReportFormat::kJson;
  if (name == "csv") return ReportFormat::kCsv;
  if (name == "md") return ReportFormat::kMd;
  throw Error("--format: expected json, csv or md, got '" + std::string(name) + "'");
}

std::string site_report(const Json& doc, ReportFormat format) {
  switch (format) {
    case ReportFormat::kJson:
      return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    case ReportFormat::kCsv:
      return site_report_csv(doc);
    case ReportFormat::kMd:
      break;
  }
  return site_report_md(doc);
}

std::string site_report_csv(const Json& d) {
  // One table: section,host,type,value,count,first_seen,detail,tlp.
  std::string tlp = j2s(d.value("tlp", Json("AMBER")));
  std::string out = "section,host,type,value,count,first_seen,detail,tlp\n";
  auto row = [&](std::initializer_list<std::string> cells) {
    std::string line;
    for (const auto& c : cells) line += (line.empty() ? "" : ",") + csv_field(c);
    out += line + "," + csv_field(tlp) + "\n";
  };
  for (const auto& n : d["nodes_hit"])
    row({"hit", j2s(n["host"]), "", "", j2s(n["findings"]), j2s(n["utc"]),
         "pids " + j2s(n["pids"])});
  for (const auto& i : d["by_indicator"])
    for (const auto& h : i["nodes"])
      row({"indicator", j2s(h), j2s(i["type"]), j2s(i["value"]), j2s(i["hits"]),
           j2s(i["first_seen"]), j2s(i["matched_in"])});
  if (d.contains("identities"))
    for (const auto& i : d["identities"])
      row({"identity", j2s(i["host"]), "x509-dn", j2s(i["dn"]), "", "",
           "vo " + j2s(i["vo"]) + "; fqans " + j2s(i["fqans"]) + "; job " + j2s(i["job_ids"]) +
               "; uid " + j2s(i["uid"]) + "; user " + j2s(i["user"]) + "; pids " +
               text(i["pids"])});
  for (const auto& n : d["nodes_incomplete"])
    row({"incomplete", j2s(n["host"]), "", "", "", j2s(n["utc"]), j2s(n["skipped"])});
  for (const auto& n : d["nodes_clean"]) row({"clean", j2s(n), "", "", "0", "", ""});
  if (d.contains("nodes_not_reporting"))
    for (const auto& n : d["nodes_not_reporting"])
      row({"not-reporting", j2s(n), "", "", "", "", ""});
  for (const auto& m : d["malformed"])
    row({"malformed", "", "", j2s(m["file"]), "", "", j2s(m["error"])});
  return out;
}

std::string site_report_md(const Json& d) {
  const std::string tlp = md("TLP:" + j2s(d.value("tlp", Json("AMBER"))));
  std::string out = "**" + tlp + "**\n\n# Site report";
  if (!j2s(d["case"]).empty()) out += " — " + md(j2s(d["case"]));
  out += "\n\n";
  const Json& c = d["counts"];
  out += "Nodes reporting: " + md(j2s(c["reported"])) + " · hit: " + md(j2s(c["hit"])) +
         " · clean: " + md(j2s(c["clean"])) + " · incomplete: " + md(j2s(c["incomplete"]));
  if (c.contains("not_reporting")) out += " · not reporting: " + md(j2s(c["not_reporting"]));
  out += " · malformed result files: " + md(j2s(c["malformed_files"])) + "\n\n";
  if (d.contains("warning")) out += "> **Warning:** " + md(j2s(d["warning"])) + "\n\n";
  out +=
      "## Nodes hit\n\n| host | findings | by kind | pids | swept (UTC) |\n|---|---|---|---|---|\n";
  for (const auto& n : d["nodes_hit"])
    out += "| " + md(j2s(n["host"])) + " | " + md(j2s(n["findings"])) + " | " +
           md(text(n["findings_by_kind"])) + " | " + md(text(n["pids"])) + " | " +
           md(j2s(n["utc"])) + " |\n";
  out +=
      "\n## By indicator\n\n| type | value | nodes | hits | first seen | on | matched in |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& i : d["by_indicator"]) {
    std::string nodes;
    for (const auto& h : i["nodes"]) nodes += (nodes.empty() ? "" : ", ") + j2s(h);
    out += "| " + md(j2s(i["type"])) + " | " + md(j2s(i["value"])) + " | " + md(nodes) + " | " +
           md(j2s(i["hits"])) + " | " + md(j2s(i["first_seen"])) + " | " +
           md(j2s(i["first_seen_on"])) + " | " + md(text(i["matched_in"])) + " |\n";
  }
  out += identities_md(d);
  out += "\n## Nodes incomplete\n\n| host | skipped | phases skipped |\n|---|---|---|\n";
  for (const auto& n : d["nodes_incomplete"])
    out += "| " + md(j2s(n["host"])) + " | " + md(text(n["skipped"])) + " | " +
           md(text(n["phases_skipped"])) + " |\n";
  if (d.contains("nodes_not_reporting")) {
    out += "\n## Nodes not reporting\n\n";
    for (const auto& n : d["nodes_not_reporting"]) out += "- " + md(j2s(n)) + "\n";
  }
  out += "\n## Nodes clean\n\n";
  std::string clean;
  for (const auto& n : d["nodes_clean"]) clean += (clean.empty() ? "" : ", ") + md(j2s(n));
  out += (clean.empty() ? "(none)" : clean) + "\n";
  if (!d["malformed"].empty()) {
    out += "\n## Result files not read\n\n";
    for (const auto& m : d["malformed"]) out += "- " + md(j2s(m["error"])) + "\n";
  }
  out += "\n**" + tlp + "**\n";
  return out;
}

}  // namespace forage::sweep
