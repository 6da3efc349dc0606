#include "bundle/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>
#include <optional>
#include <set>

#include "bundle/bag.h"
#include "bundle/layers.h"
#include "bundle/pax.h"
#include "bundle/report_internal.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/json.h"
#include "common/layout.h"
#include "common/records.h"
#include "common/strings.h"
#include "common/time.h"
#include "common/tlp.h"

namespace forage::bundle {
namespace detail {

std::string str(const J& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const J& at(const J& j, std::initializer_list<const char*> keys) {
  static const J kNull;
  const J* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(k);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string cell(const J& j) {
  return printable(str(j), kMaxCell);
}

J table(std::vector<std::string> columns, std::vector<std::string> formats) {
  J t;
  if (formats.empty())
    for (const auto& c : columns) formats.push_back(column_format(c));
  formats.resize(columns.size(), "text");
  t["columns"] = columns;
  t["formats"] = formats;
  t["rows"] = J::array();
  return t;
}

void add_row(J& t, std::vector<std::string> cells) {
  if (t["rows"].size() >= kMaxRows) {
    t["truncated"] = true;
    return;
  }
  J row = J::array();
  for (auto& c : cells) row.push_back(printable(c, kMaxCell));
  t["rows"].push_back(row);
}

std::string tlp_class(const std::string& tlp) {
  std::string t = to_lower(tlp);
  if (t.find("red") != std::string::npos) return "red";
  if (t.find("amber") != std::string::npos) return "amber";
  if (t.find("green") != std::string::npos) return "green";
  if (t.find("clear") != std::string::npos || t.find("white") != std::string::npos) return "clear";
  return "amber";
}

}  // namespace detail

using namespace detail;

namespace {

// Each member at most 64 MiB, all of them at most 128 MiB: the report reads metadata, never
// payload, and a crafted bundle must not make it hold more than that in memory.
constexpr uint64_t kMaxMember = 64ull << 20;
constexpr uint64_t kMaxTotal = 128ull << 20;

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}
bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// The members the report reads (bag-relative paths).
bool wanted_member(std::string_view rel) {
  using layout::under;
  if (rel == kBagInfo || under(rel, layout::kMetaDir)) return true;
  if (under(rel, layout::kVolatileDir) && ends_with(rel, ".json")) return true;
  if (under(rel, layout::kScansDir) && (ends_with(rel, ".jsonl") || ends_with(rel, ".json")))
    return true;
  // The host's own JSON files, not those in subdirectories.
  if (under(rel, layout::kHostDir) && ends_with(rel, ".json") &&
      rel.find('/', layout::kHostDir.size() + 1) == std::string_view::npos)
    return true;
  if (under(rel, layout::kGridDir) && ends_with(rel, ".json")) return true;
  // The collector's parsed login records (wtmp, btmp) and temp-directory listings: timeline.
  if (under(rel, layout::kLogsDir) && ends_with(rel, ".json") &&
      (rel.find("wtmp") != std::string_view::npos || rel.find("btmp") != std::string_view::npos))
    return true;
  if (under(rel, layout::kListingsDir) && ends_with(rel, ".jsonl")) return true;
  return false;
}

std::string iso_from_ns(long double ns) {
  if (!(ns > 0)) return "";
  return utc_iso(static_cast<int64_t>(ns / 1e9L));
}

J parse_json(const std::map<std::string, std::string>& m, const std::string& rel,
             std::vector<std::string>& problems) {
  auto it = m.find(rel);
  if (it == m.end()) return J();
  try {
    return parse_json_bounded(it->second);
  } catch (const Error& e) {
    problems.push_back(rel + ": " + e.what() + ", not used");
  } catch (const std::exception&) {
    problems.push_back(rel + ": not valid JSON, not used");
  }
  return J();
}

// A Guideline item from a value of incident.json: {"value","question"} objects, strings, lists,
// records. The value is rendered for people (people_value): a list of records is a table, never
// JSON text.
J item(const std::string& label, const J& v, const std::string& source) {
  J i;
  i["label"] = label;
  if (v.is_object() && v.contains("value") && v.contains("question")) {
    i["question"] = cell(v["question"]);
    const J& val = v["value"];
    i["value"] = people_value(val);
    i["state"] = str(val) == kHuman ? "human" : "collected";
    if (v.contains("hints") && v["hints"].is_array() && !v["hints"].empty()) {
      J hints = J::array();
      for (const auto& h : v["hints"]) hints.push_back(flat(h));
      i["hints"] = hints;
    }
  } else if (v.is_null()) {
    i["value"] = kNotCollected;
    i["state"] = "not collected";
  } else if (v.is_array() && v.empty()) {
    i["value"] = "none recorded";
    i["state"] = "collected";
  } else {
    i["value"] = people_value(v);
    i["state"] = str(v) == kHuman ? "human" : "collected";
  }
  i["source"] = source;
  return i;
}

J section(const std::string& id, const std::string& title, J items) {
  J s;
  s["id"] = id;
  s["title"] = title;
  s["items"] = std::move(items);
  return s;
}

// "Nov 23 11:58:01 ..." (syslog, no year) or "2026-11-23T11:58:01..." at the start of a line.
std::string log_time(const std::string& text, const std::string& year) {
  if (text.size() >= 19 && text[4] == '-' && text[10] == 'T') return text.substr(0, 19) + "Z";
  if (text.size() >= 19 && text[0] == '[' && text[5] == '-' && text[11] == 'T')
    return text.substr(1, 19) + "Z";
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() >= 15 && !year.empty() && text[3] == ' ' && text[6] == ' ' && text[9] == ':') {
    for (int m = 0; m < 12; ++m) {
      if (text.compare(0, 3, kMonths[m]) != 0) continue;
      char buf[32];
      int day = (text[4] == ' ' ? 0 : text[4] - '0') * 10 + (text[5] - '0');
      std::snprintf(buf, sizeof buf, "%s-%02d-%02dT%.8sZ", year.c_str(), m + 1, day,
                    text.substr(7, 8).c_str());
      return buf;
    }
  }
  return "";
}

void event(J& tl, const std::string& utc, const std::string& kind, const std::string& what,
           const std::string& source) {
  if (tl.size() >= kMaxRows * 2) return;
  J e;
  e["utc"] = utc;
  e["kind"] = kind;
  e["what"] = printable(what, kMaxCell);
  e["source"] = source;
  tl.push_back(e);
}

// Objects anywhere in `j` with a path and a file time: the file times of the artefacts.
void file_times(const J& j, const std::string& source, J& tl, int depth = 0) {
  if (depth > 8) return;
  if (j.is_object()) {
    if (j.contains("path") && j["path"].is_string()) {
      for (const char* k : {"mtime_utc", "ctime_utc", "birth_utc", "mtime", "ctime"}) {
        if (j.contains(k) && j[k].is_string())
          event(tl, j[k].get<std::string>(), "file",
                std::string(k).substr(0, 5) + " " + str(j["path"]), source);
      }
    }
    for (const auto& [k, v] : j.items()) file_times(v, source, tl, depth + 1);
  } else if (j.is_array()) {
    for (const auto& v : j) file_times(v, source, tl, depth + 1);
  }
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// The position of the character that would make `v`, at the start of a line or of a list item,
// a block marker rather than text: "- " "+ " (bullet), "1. " "1) " (ordered list), "---"
// (thematic break). `#`, `>`, `*`, `_`, backtick and `~` are escaped wherever they are.
size_t block_marker_at(std::string_view v) {
  auto blank_after = [&](size_t i) { return i + 1 >= v.size() || v[i + 1] == ' '; };
  if (v.empty()) return std::string_view::npos;
  if ((v[0] == '-' || v[0] == '+') && blank_after(0)) return 0;
  if (v[0] == '-' && v.find_first_not_of("- ") == std::string_view::npos &&
      std::count(v.begin(), v.end(), '-') >= 3)
    return 0;
  size_t digits = v.find_first_not_of("0123456789");
  if (digits > 0 && digits <= 9 && digits < v.size() && (v[digits] == '.' || v[digits] == ')') &&
      blank_after(digits))
    return digits;
  return std::string_view::npos;
}

}  // namespace

std::string md_escape(std::string_view s, size_t max) {
  const std::string v = printable(s, max);
  const size_t marker = block_marker_at(v);
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == ' ' && i == 0)
      out += "&#32;";  // a leading space would indent: a code block, a nested list
    else if (i == marker || std::string_view("\\`*_[]|#~").find(c) != std::string_view::npos)
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
}

std::string md_code(std::string_view s, size_t max) {
  const std::string v = printable(s, max);
  if (v.empty()) return "` `";
  size_t longest = 0;
  for (size_t i = 0; i < v.size();) {
    size_t run = 0;
    while (i + run < v.size() && v[i + run] == '`') ++run;
    longest = std::max(longest, run);
    i += run ? run : 1;
  }
  const std::string fence(longest + 1, '`');
  // A backtick at either end would join the fence, and CommonMark strips one space from each end
  // when both ends are spaces: pad with a space then, so the content comes back as it is. An
  // empty span is one space.
  const bool all_spaces = v.find_first_not_of(' ') == std::string::npos;
  const bool pad =
      !all_spaces && (v.front() == '`' || v.back() == '`' || (v.front() == ' ' && v.back() == ' '));
  return fence + (pad ? " " + v + " " : v) + fence;
}

std::string json_for_script(const J& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    // Only inside JSON strings can these occur: the escapes keep their meaning for JSON.parse.
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

BundleForReport read_bundle_for_report(const std::string& path, const VerifyOptions& options) {
  BundleForReport b;
  b.verify = verify_bundle(path, options);
  if (b.verify.top.empty()) {
    b.notes.push_back("the archive could not be read: nothing from it is used");
    return b;
  }
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw system_error(path, errno);
  FdSource in(fd.get(), path);
  uint64_t total = 0;
  try {
    BundleLayers layers(in, path, options);
    PaxReader reader(*layers.top, path);
    std::string prefix = b.verify.top + "/";
    while (auto e = reader.next()) {
      if (e->type != EntryType::kFile || !starts_with(e->name, prefix)) continue;
      std::string rel = e->name.substr(prefix.size());
      if (!wanted_member(rel)) continue;
      if (b.verify.is_affected(rel)) {
        b.notes.push_back(printable(rel) + ": failed verification, not used");
        continue;
      }
      if (e->size > kMaxMember || total + e->size > kMaxTotal) {
        b.notes.push_back(printable(rel) + ": too large for the report, not read");
        continue;
      }
      std::string data(e->size, '\0');
      size_t got = 0, n;
      while (got < data.size() && (n = reader.read(data.data() + got, data.size() - got)) > 0)
        got += n;
      data.resize(got);
      auto want = b.verify.files.find(rel);
      if (want == b.verify.files.end() || want->second.sha256_hex() != sha256_hex(data)) {
        b.notes.push_back(printable(rel) + ": differs from the verified bundle, not used");
        continue;
      }
      total += got;
      b.members[rel] = std::move(data);
    }
  } catch (const Error& e) {
    if (e.code() != Exit::kVerifyFailed) throw;
    b.notes.push_back(std::string("reading stopped: ") + e.what());
  }
  return b;
}

namespace {

std::optional<std::vector<records::Target>> targets_of(const J& incident,
                                                       std::vector<std::string>& problems) {
  const J& list = at(incident, {"processes"});
  if (!list.is_array()) return std::nullopt;
  std::vector<records::Target> out;
  for (size_t i = 0; i < list.size(); ++i) {
    try {
      out.push_back(records::target_from_json(list[i]));
    } catch (const Error& e) {
      problems.push_back(std::string(layout::kIncident) + ": processes[" + std::to_string(i) +
                         "]: " + e.what() + "; left out");
    }
  }
  return out;
}

std::vector<J> action_lines(const BundleForReport& b, std::vector<std::string>& problems) {
  std::vector<J> actions;
  auto it = b.members.find(std::string(layout::kActions));
  if (it == b.members.end()) return actions;
  for (auto line : split_lines(it->second)) {
    if (trim(line).empty()) continue;
    try {
      actions.push_back(parse_json_bounded(line));
    } catch (const std::exception&) {
      problems.push_back(std::string(layout::kActions) + ": a line is not JSON");
    }
  }
  return actions;
}

// Every finding of data/scans/*.jsonl, in member order; a file stops at its first bad line.
std::vector<std::pair<std::string, J>> scan_findings(const BundleForReport& b,
                                                     std::vector<std::string>& problems) {
  std::vector<std::pair<std::string, J>> findings;
  for (const auto& [rel, data] : b.members) {
    if (!layout::under(rel, layout::kScansDir)) continue;
    for (auto line : split_lines(data)) {
      if (trim(line).empty()) continue;
      try {
        J f = parse_json_bounded(line);
        if (f.is_object() && f.value("kind", "") != "summary") findings.emplace_back(rel, f);
      } catch (const std::exception&) {
        problems.push_back(rel + ": a line is not JSON");
        break;
      }
    }
  }
  return findings;
}

// The label of incident.json, else bag-info's, else AMBER; always canonical and "TLP:"-prefixed.
std::string report_tlp(const Inputs& in) {
  std::string tlp = str(at(in.incident, {"tlp"}));
  if (tlp.empty()) tlp = in.bag_info.count("TLP") ? in.bag_info.at("TLP") : "";
  if (tlp.empty()) tlp = "TLP:AMBER";
  if (auto t = normalize_tlp(tlp)) tlp = *t;
  if (!starts_with(tlp, "TLP:")) tlp = "TLP:" + tlp;
  return tlp;
}

std::string report_case(const Inputs& in) {
  std::string case_id = str(at(in.incident, {"case_id"}));
  if (case_id.empty() && in.bag_info.count("External-Identifier"))
    case_id = in.bag_info.at("External-Identifier");
  return case_id;
}

// Boot time from the environment's clocks; the collection time and its year.
void collection_times(Inputs& in) {
  const J& clocks = at(in.env, {"clocks"});
  if (clocks.is_object() && clocks.value("realtime_ns", J()).is_number() &&
      clocks.value("boottime_ns", J()).is_number())
    in.boot_ns =
        clocks["realtime_ns"].get<long double>() - clocks["boottime_ns"].get<long double>();
  in.collected_utc = str(at(in.incident, {"collection", "started_utc"}));
  if (in.collected_utc.empty()) in.collected_utc = str(at(clocks, {"utc"}));
  if (in.collected_utc.empty() && in.bag_info.count("Bagging-Date"))
    in.collected_utc = in.bag_info.at("Bagging-Date");
  // Syslog lines carry no year: the year of the collection (a log line is not from the future).
  in.year = in.collected_utc.size() >= 4 ? in.collected_utc.substr(0, 4) : "";
}

Inputs read_inputs(const BundleForReport& b) {
  Inputs in(b);
  in.incident = parse_json(b.members, std::string(layout::kIncident), in.problems);
  in.targets = targets_of(in.incident, in.problems);
  in.env = parse_json(b.members, std::string(layout::kEnvironment), in.problems);
  in.procs = parse_json(b.members, std::string(layout::kProcesses), in.problems);
  in.sockets = parse_json(b.members, std::string(layout::kSockets), in.problems);
  in.utmp = parse_json(b.members, std::string(layout::kUtmp), in.problems);
  in.artifacts = parse_json(b.members, std::string(layout::kArtifacts), in.problems);
  in.actions = action_lines(b, in.problems);
  in.findings = scan_findings(b, in.problems);
  for (const auto& [k, v] : b.verify.bag_info) in.bag_info[k] = v;
  in.tlp = report_tlp(in);
  in.case_id = report_case(in);
  collection_times(in);
  return in;
}

J verification(const VerifyReport& vr) {
  J v;
  v["valid"] = vr.valid();
  v["verdict"] = vr.valid() ? (vr.unsigned_bundle ? "VALID (UNSIGNED: origin not proven)" : "VALID")
                            : "INVALID";
  v["problems"] = vr.problems;
  J sigs = J::array();
  for (const auto& s : vr.signatures) {
    J sj;
    sj["kind"] = s.kind;
    sj["valid"] = s.valid;
    sj["trusted"] = s.trusted;
    sj["signer"] = s.subject_oneline.empty() ? s.fingerprint : s.subject_oneline;
    if (!s.problem.empty()) sj["problem"] = s.problem;
    sigs.push_back(sj);
  }
  v["signatures"] = sigs;
  v["payload_files"] = vr.payload_files;
  v["payload_bytes"] = vr.payload_bytes;
  v["actions"] = vr.actions;
  return v;
}

// Attacker-relevant addresses: the targets' remote endpoints and the indicator addresses the
// scans found.
J attacker_addresses(const Inputs& in) {
  J ips = J::array();
  std::set<std::string> seen_ip;
  auto add_ip = [&](const std::string& ip, const std::string& why) {
    if (ip.empty() || !seen_ip.insert(ip + why).second || ips.size() >= 500) return;
    ips.push_back(ip + " (" + why + ")");
  };
  if (in.targets)
    for (const auto& p : *in.targets)
      for (const auto& ep : p.remote_endpoints)
        add_ip(ep, "socket of target pid " + std::to_string(p.pid));
  for (const auto& [rel, f] : in.findings) {
    const J& ind = at(f, {"ioc"});
    std::string type = str(at(ind, {"type"}));
    if (type == "ipv4" || type == "ipv6" || type == "cidr")
      add_ip(str(at(ind, {"value"})), "indicator found in " + str(f.value("phase", J(rel))));
  }
  return ips;
}

// The DNs the scans found as indicators.
J indicator_dns(const Inputs& in) {
  J dns = J::array();
  std::set<std::string> seen_dn;
  for (const auto& [rel, f] : in.findings) {
    const J& ind = at(f, {"ioc"});
    if (str(at(ind, {"type"})) == "x509-dn" && seen_dn.insert(str(at(ind, {"value"}))).second &&
        dns.size() < 500)
      dns.push_back(cell(at(ind, {"value"})) + " (indicator found in " + rel + ")");
  }
  return dns;
}

// ------------------------------------------------------------ the Guideline sections

// A Guideline item answered by incident.json.
J inc_item(const Inputs& in, const std::string& label, std::initializer_list<const char*> keys) {
  return item(label, in.inc(keys), std::string(layout::kIncident));
}

std::string incident_and_scans() {
  return std::string(layout::kIncident) + ", " + std::string(layout::kScansDir) + "/";
}

J detection_section(const Inputs& in) {
  return section(
      "detection", "Who detected the incident, and how",
      J::array({inc_item(in, "Detected by", {"detection", "detected_by"}),
                inc_item(in, "First noticed (UTC)", {"detection", "detected_utc"}),
                inc_item(in, "Reporting site", {"reporting", "site"}),
                inc_item(in, "Operator", {"reporting", "operator"}),
                inc_item(in, "Indicators that selected targets", {"detection", "iocs_matched"})}));
}

J hosts_section(const Inputs& in) {
  J items = J::array();
  items.push_back(inc_item(in, "Host name", {"affected_host", "hostname"}));
  items.push_back(inc_item(in, "FQDN", {"affected_host", "identity", "fqdn"}));
  const J facts = host_facts(in);
  for (const auto& [label, value] : facts.items())
    items.push_back(item(label, value, std::string(layout::kEnvironment)));
  J addrs = J::array();
  const J& ifs = in.inc({"affected_host", "identity", "interfaces"});
  if (ifs.is_array())
    for (const auto& i : ifs)
      for (const auto& a : i.value("addresses", J::array()))
        addrs.push_back(str(i.value("name", J())) + ": " + str(a));
  items.push_back(item("Addresses", ifs.is_array() ? addrs : J(), std::string(layout::kIncident)));
  items.push_back(inc_item(in, "Affected users", {"affected_users"}));
  return section("hosts", "Affected hosts", items);
}

J appliance_section(const Inputs& in) {
  return section("appliance", "Appliance: what the host is",
                 J::array({inc_item(in, "Role", {"affected_host", "role"}),
                           inc_item(in, "Host certificate",
                                    {"affected_host", "identity", "host_certificate"})}));
}

J dns_section(const Inputs& in) {
  J items = J::array();
  const std::string src(layout::kIncident);
  J ids = grid_identity_table(in);
  if (!in.inc({"grid_identities"}).is_array()) {
    items.push_back(item("DNs and jobs of the targets", J(), src));
  } else {
    J i = item("DNs and jobs of the targets", J("none recorded"), src);
    if (!ids["rows"].empty()) i["value"] = without_empty_columns(ids);
    items.push_back(i);
  }
  J dns = indicator_dns(in);
  items.push_back(item("DNs found as indicators", in.findings.empty() ? J() : dns,
                       std::string(layout::kScansDir) + "/"));
  return section("dns", "Grid identities (DNs) involved", items);
}

J entry_section(const Inputs& in) {
  return section("entry", "Entry points",
                 J::array({inc_item(in, "How the attacker got in", {"entry_point"}),
                           inc_item(in, "SSH and login logs", {"ssh_logs"})}));
}

J ips_section(const Inputs& in) {
  J ips = attacker_addresses(in);
  return section(
      "ips", "Attacker IP addresses",
      J::array({item("Addresses seen", in.incident.is_null() && ips.empty() ? J() : ips,
                     incident_and_scans()),
                inc_item(in, "Which are the attacker's", {"remote_ips", "attacker_addresses"})}));
}

J evidence_section(const Inputs& in) {
  J items = J::array();
  const J& evidence = in.inc({"evidence"});
  J t = table({"taken (UTC)", "bag path", "what", "size", "sha256"});
  if (evidence.is_array())
    for (const auto& e : evidence)
      add_row(t, {str(e.value("utc", J())), str(e.value("path", J())), str(e.value("what", J())),
                  str(e.value("size", J())), str(e.value("sha256", J()))});
  items.push_back(item("Evidence taken",
                       evidence.is_array() ? J(evidence.empty() ? J("none recorded") : t) : J(),
                       std::string(layout::kIncident)));
  J payload = table({"files", "size"}, {"text", "bytes"});
  add_row(payload,
          {std::to_string(in.b.verify.payload_files), std::to_string(in.b.verify.payload_bytes)});
  items.push_back(item("Payload files", payload, std::string(kManifest)));
  return section("evidence", "Evidence, with timestamps", items);
}

J lost_section(const Inputs& in) {
  return section("lost", "What was lost",
                 J::array({inc_item(in, "Data or credentials lost", {"lost", "data_lost"}),
                           inc_item(in, "Credentials exposed", {"lost", "credentials_exposed"}),
                           inc_item(in, "Not collected", {"lost", "not_collected"})}));
}

J sites_section(const Inputs& in) {
  return section("sites", "Other sites affected",
                 J::array({inc_item(in, "Other sites or hosts", {"other_sites_affected"})}));
}

J vulns_section(const Inputs& in) {
  J vuln = in.inc({"vulnerabilities"});
  if (vuln.is_null() && !in.incident.is_null()) {
    vuln = J::object();
    vuln["value"] = kHuman;
    vuln["question"] = "Which vulnerabilities were exploited (CVE, misconfiguration)?";
  }
  return section("vulns", "Vulnerabilities exploited",
                 J::array({item("Vulnerabilities", vuln, std::string(layout::kIncident)),
                           inc_item(in, "Root compromise", {"root_compromise"})}));
}

// The action log summarised, one row per step; the full log is the timeline and the actions
// table.
J actions_section(const Inputs& in) {
  const std::string log(layout::kActions);
  J steps = action_summary(in);
  J summary = in.b.members.count(log) ? (steps["rows"].empty() ? J("none recorded") : steps) : J();
  return section(
      "actions", "Actions taken",
      J::array({item("Actions, by step (" + log + "; every action in the timeline)", summary, log),
                inc_item(in, "Containment", {"containment"}),
                inc_item(in, "Resolution", {"resolution"})}));
}

J guideline_sections(const Inputs& in) {
  return J::array({detection_section(in), hosts_section(in), appliance_section(in), dns_section(in),
                   entry_section(in), ips_section(in), evidence_section(in), lost_section(in),
                   sites_section(in), vulns_section(in), actions_section(in)});
}

// ------------------------------------------------------------ tables and timeline

// The targets (incident.json) as rows, else the host's process table; process start events.
J process_table(const Inputs& in, J& tl) {
  J t = table({"pid", "ppid", "user", "exe", "cmdline", "started (UTC)", "exe sha256", "frozen",
               "killed", "core"});
  if (in.targets)
    for (const auto& p : *in.targets)
      add_row(t, {std::to_string(p.pid), std::to_string(p.ppid), p.user, p.exe, p.cmdline,
                  p.start_utc, p.exe_sha256, p.frozen, p.kill_result, p.core});
  if (in.procs.is_array()) {
    for (const auto& p : in.procs) {
      if (!p.is_object()) continue;
      std::string start;
      const J& sa = p.value("start_seconds_after_boot", J());
      if (sa.is_number() && in.boot_ns > 0)
        start = iso_from_ns(in.boot_ns + sa.get<long double>() * 1e9L);
      std::string cmd;
      if (p.value("cmdline", J()).is_array())
        for (const auto& a : p["cmdline"]) cmd += (cmd.empty() ? "" : " ") + str(a);
      else
        cmd = str(p.value("cmdline", J()));
      if (!in.targets)
        add_row(t, {str(p.value("pid", J())), str(p.value("ppid", J())), str(p.value("uid", J())),
                    str(p.value("exe", J())), cmd, start, "", "", "", ""});
      if (!start.empty())
        event(tl, start, "process",
              "pid " + str(p.value("pid", J())) +
                  " started: " + (cmd.empty() ? str(p.value("comm", J())) : cmd),
              std::string(layout::kProcesses));
    }
  } else if (in.targets) {
    for (const auto& p : *in.targets)
      if (!p.start_utc.empty())
        event(tl, p.start_utc, "process", "pid " + std::to_string(p.pid) + " started: " + p.cmdline,
              std::string(layout::kIncident));
  }
  return t;
}

// When the socket snapshot was taken: its evidence time, else the collection's.
std::string sockets_utc(const Inputs& in) {
  std::string utc = in.collected_utc;
  const J& evidence = in.inc({"evidence"});
  if (evidence.is_array())
    for (const auto& e : evidence)
      if (str(e.value("path", J())) == layout::kSockets) utc = str(e.value("utc", J()));
  return utc;
}

// The host's sockets as rows; established connections (or the targets' own) as events.
J connection_table(const Inputs& in, J& tl) {
  J t = table({"proto", "local", "remote", "state", "uid", "pids"});
  std::string sock_utc = sockets_utc(in);
  // The targets' own connections, as the collector recorded them (also without sockets.json).
  if (in.targets && !in.sockets.is_array())
    for (const auto& p : *in.targets)
      for (const auto& ep : p.remote_endpoints)
        event(tl, sock_utc, "connection", "pid " + std::to_string(p.pid) + " connected to " + ep,
              std::string(layout::kIncident) + " (snapshot time)");
  if (!in.sockets.is_array()) return t;
  for (const auto& s : in.sockets) {
    if (!s.is_object()) continue;
    add_row(t, {str(s.value("proto", J())), str(s.value("local", J())), str(s.value("remote", J())),
                str(s.value("state", J())), str(s.value("uid", J())), str(s.value("pids", J()))});
    std::string state = str(s.value("state", J()));
    if (state == "ESTABLISHED" || state == "SYN_SENT")
      event(tl, sock_utc, "connection",
            str(s.value("proto", J())) + " " + str(s.value("local", J())) + " -> " +
                str(s.value("remote", J())) + " " + state + " (pids " + str(s.value("pids", J())) +
                ")",
            std::string(layout::kSockets) + " (snapshot time)");
  }
  return t;
}

// The scans' findings as rows; log lines among them as events.
J findings_table(const Inputs& in, J& tl) {
  J t = table({"scan", "kind", "target", "indicator / rule", "detail"});
  for (const auto& [rel, f] : in.findings) {
    std::string target = f.contains("path")  ? str(f["path"])
                         : f.contains("pid") ? "pid " + str(f["pid"])
                                             : str(f.value("pcap", J()));
    std::string what = f.contains("ioc")
                           ? str(at(f, {"ioc", "type"})) + " " + str(at(f, {"ioc", "value"}))
                           : str(f.value("rule", J()));
    std::string detail = f.contains("text")     ? str(f["text"])
                         : f.contains("remote") ? str(f["remote"])
                                                : str(f.value("match", J()));
    add_row(t, {rel, str(f.value("kind", J())), target, what, detail});
    if (f.contains("text")) {
      std::string when;
      if (f.value("time_usec", J()).is_number())
        when = iso_from_ns(f["time_usec"].get<long double>() * 1000.0L);
      if (when.empty()) when = log_time(str(f["text"]), in.year);
      if (!when.empty())
        event(tl, when, str(f.value("log", J())) == "auth" ? "login" : "log", str(f["text"]), rel);
    }
  }
  return t;
}

// Login records: the collector writes {"source", "records": [...]} (host/logins.h); earlier
// bundles hold the bare array.
void login_events(const J& doc, const std::string& rel, const std::string& kind, J& tl) {
  const J& recs = doc.is_object() && doc.contains("records") ? doc["records"] : doc;
  if (!recs.is_array()) return;
  for (const auto& u : recs) {
    if (!u.is_object()) continue;
    std::string type = str(u.value("type", J()));
    if (!type.empty() && type != "USER_PROCESS" && type != "LOGIN_PROCESS" &&
        kind != "failed login")
      continue;  // boot, run-level and dead-process records: not logins
    std::string t;
    for (const char* k : {"utc", "login_utc", "time_utc", "time"})
      if (u.contains(k) && u[k].is_string()) {
        t = u[k].get<std::string>();
        break;
      }
    if (!t.empty())
      event(tl, t, "login",
            kind + ": " + str(u.value("user", J())) + " from " + str(u.value("host", J())) +
                " on " + str(u.value("line", J())),
            rel);
  }
}

// The parsed wtmp and btmp files under data/logs/.
void log_login_events(Inputs& in, J& tl) {
  for (const auto& [rel, data] : in.b.members) {
    if (!layout::under(rel, layout::kLogsDir) || !ends_with(rel, ".json")) continue;
    bool failed = rel.find("btmp") != std::string::npos;
    login_events(parse_json(in.b.members, rel, in.problems), rel, failed ? "failed login" : "login",
                 tl);
  }
}

// Temp-directory listings (JSON lines): the times of executables and scripts there (a busy
// /tmp holds thousands of files; those are what an intruder drops), at most kMaxListed.
void listing_events(Inputs& in, J& tl) {
  constexpr size_t kMaxListed = 500;
  size_t listed = 0;
  for (const auto& [rel, data] : in.b.members) {
    if (!layout::under(rel, layout::kListingsDir)) continue;
    size_t pos = 0;
    while (pos < data.size() && listed < kMaxListed) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string::npos) nl = data.size();
      try {
        J entry = parse_json_bounded(std::string_view(data).substr(pos, nl - pos));
        std::string magic = entry.is_object() ? str(entry.value("magic", J())) : "";
        if (magic.find("executable") != std::string::npos ||
            magic.find("script") != std::string::npos) {
          file_times(entry, rel, tl);
          ++listed;
        }
      } catch (const std::exception&) {
        in.problems.push_back(rel + ": a line that is not JSON, not used");
        break;
      }
      pos = nl + 1;
    }
  }
}

// The action log as rows and as events.
J action_table(const Inputs& in, J& tl) {
  J t = table({"seq", "time (UTC)", "actor", "action", "target", "result"});
  for (const auto& a : in.actions) {
    if (!a.is_object()) continue;
    add_row(
        t, {str(a.value("seq", J())), str(a.value("utc", J())), str(a.value("actor", J())),
            str(a.value("action", J())), str(a.value("target", J())), str(a.value("result", J()))});
    event(tl, str(a.value("utc", J())), "action",
          str(a.value("action", J())) + " " + str(a.value("target", J())) + " -> " +
              str(a.value("result", J())),
          std::string(layout::kActions));
  }
  return t;
}

J evidence_table(const Inputs& in) {
  J t = table({"taken (UTC)", "bag path", "what", "size", "sha256"});
  const J& evidence = in.inc({"evidence"});
  if (evidence.is_array())
    for (const auto& e : evidence)
      add_row(t, {str(e.value("utc", J())), str(e.value("path", J())), str(e.value("what", J())),
                  str(e.value("size", J())), str(e.value("sha256", J()))});
  return t;
}

// What the bundle does not have.
J not_collected(const Inputs& in) {
  J missing = J::array();
  for (std::string_view m : {layout::kIncident, layout::kEnvironment, layout::kActions,
                             layout::kProcesses, layout::kSockets})
    if (!in.b.members.count(std::string(m)))
      missing.push_back(std::string(m) + ": " + kNotCollected);
  if (in.findings.empty()) missing.push_back(std::string(layout::kScansDir) + "/: no scan results");
  // What the collector itself could not take (incident.json lost.not_collected).
  const J& lost = in.inc({"lost", "not_collected"});
  if (lost.is_array())
    for (const auto& m : lost)
      if (missing.size() < 500) missing.push_back(flat(m));
  if (in.targets)
    for (const auto& p : *in.targets)
      if (p.core.empty() && missing.size() < 500)
        missing.push_back("memory of pid " + std::to_string(p.pid) + ": not dumped");
  return missing;
}

J report_notes(const Inputs& in) {
  J notes = J::array();
  for (const auto& n : in.b.notes) notes.push_back(n);
  for (const auto& p : in.problems) notes.push_back(p);
  return notes;
}

// Closure report skeleton (sent to the CSIRT, labelled like the incident).
J closure(const Inputs& in, const std::string& verdict) {
  J c;
  c["title"] = "Closure report" + (in.case_id.empty() ? std::string() : " " + in.case_id);
  c["tlp"] = in.tlp;
  c["fields"] = J::array();
  auto cf = [&](const std::string& label, const std::string& value) {
    J f;
    f["label"] = label;
    f["value"] = value.empty() ? std::string(kHuman) : value;
    c["fields"].push_back(f);
  };
  std::string site = str(at(in.inc({"reporting", "site"}), {"value"}));
  cf("Incident", in.case_id);
  cf("Site", site == kHuman ? "" : site);
  cf("Affected hosts", str(in.inc({"affected_host", "hostname"})));
  cf("Detected (UTC)", "");
  cf("Evidence preserved", in.b.verify.top + " (" + verdict + ")");
  cf("Summary of what happened", "");
  cf("Root cause / entry point", "");
  cf("Attacker IP addresses", "");
  cf("Compromised credentials / DNs (revoked?)", "");
  cf("Data lost", "");
  cf("Actions taken (containment, cleanup, reinstall)", "");
  cf("Lessons learned", "");
  cf("Status (resolved / open)", "");
  return c;
}

}  // namespace

J build_report(const BundleForReport& b) {
  Inputs in = read_inputs(b);
  J r;
  r["schema"] = "forage-report/1";
  r["bundle"] = b.verify.input;
  r["tlp"] = in.tlp;
  r["case"] = in.case_id;
  r["bag"] = b.verify.top;
  r["verification"] = verification(b.verify);
  // The first screen, in the order an expert asks: the targets, the indicator hits, the SSH-log
  // coverage, and what could not be collected; then the Guideline.
  r["summary"] = first_screen(in);
  r["not_collected"] = not_collected(in);
  r["sections"] = guideline_sections(in);

  // Tables and timeline (events in this order, then stably sorted by time).
  J tl = J::array();
  J tables;
  tables["processes"] = process_table(in, tl);
  tables["connections"] = connection_table(in, tl);
  tables["findings"] = findings_table(in, tl);
  log_login_events(in, tl);
  listing_events(in, tl);
  login_events(in.utmp, std::string(layout::kUtmp), "logged in", tl);
  file_times(in.artifacts, std::string(layout::kArtifacts), tl);
  J t_act = action_table(in, tl);
  tables["evidence"] = evidence_table(in);
  tables["actions"] = t_act;
  std::stable_sort(tl.begin(), tl.end(), [](const J& x, const J& y) {
    return x["utc"].get<std::string>() < y["utc"].get<std::string>();
  });
  r["timeline"] = tl;
  r["tables"] = tables;

  r["notes"] = report_notes(in);
  r["closure"] = closure(in, str(r["verification"]["verdict"]));
  return r;
}

}  // namespace forage::bundle
