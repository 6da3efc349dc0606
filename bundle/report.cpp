#include "bundle/report.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>
#include <set>

#include "bundle/layers.h"
#include "bundle/pax.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/strings.h"
#include "common/time.h"
#include "common/tlp.h"

namespace forage::bundle {
namespace {

using J = ReportJson;

constexpr uint64_t kMaxMember = 64ull << 20;
constexpr uint64_t kMaxTotal = 512ull << 20;
constexpr size_t kMaxRows = 5000;
constexpr size_t kMaxCell = 400;
constexpr const char* kHuman = "TO BE COMPLETED BY A HUMAN";
constexpr const char* kNotCollected = "not collected";

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}
bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// The members the report reads (bag-relative paths).
bool wanted_member(std::string_view rel) {
  if (rel == "bag-info.txt" || starts_with(rel, "meta/")) return true;
  if (starts_with(rel, "data/volatile/") && ends_with(rel, ".json")) return true;
  if (starts_with(rel, "data/scans/") && (ends_with(rel, ".jsonl") || ends_with(rel, ".json")))
    return true;
  if (starts_with(rel, "data/host/") && ends_with(rel, ".json") &&
      rel.find('/', 10) == std::string_view::npos)
    return true;
  if (starts_with(rel, "data/grid/") && ends_with(rel, ".json")) return true;
  // The collector's parsed login records (wtmp, btmp) and temp-directory listings: timeline.
  if (starts_with(rel, "data/logs/") && ends_with(rel, ".json") &&
      (rel.find("wtmp") != std::string_view::npos || rel.find("btmp") != std::string_view::npos))
    return true;
  if (starts_with(rel, "data/host/listings/") && ends_with(rel, ".jsonl")) return true;
  return false;
}

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

std::string iso_from_ns(long double ns) {
  if (!(ns > 0)) return "";
  return utc_iso(static_cast<int64_t>(ns / 1e9L));
}

J parse_json(const std::map<std::string, std::string>& m, const std::string& rel,
             std::vector<std::string>& problems) {
  auto it = m.find(rel);
  if (it == m.end()) return J();
  try {
    return J::parse(it->second);
  } catch (const std::exception&) {
    problems.push_back(rel + ": not valid JSON, not used");
    return J();
  }
}

// A Guideline item from a value of incident.json: {"value","question"} objects, strings, lists.
J item(const std::string& label, const J& v, const std::string& source) {
  J i;
  i["label"] = label;
  if (v.is_object() && v.contains("value") && v.contains("question")) {
    i["question"] = str(v["question"]);
    const J& val = v["value"];
    i["value"] = val.is_string() ? val : J(str(val));
    i["state"] = str(val) == kHuman ? "human" : "collected";
    if (v.contains("hints") && v["hints"].is_array() && !v["hints"].empty()) {
      J hints = J::array();
      for (const auto& h : v["hints"]) hints.push_back(cell(h));
      i["hints"] = hints;
    }
  } else if (v.is_null()) {
    i["value"] = kNotCollected;
    i["state"] = "not collected";
  } else if (v.is_array()) {
    J list = J::array();
    for (const auto& e : v) list.push_back(cell(e));
    i["value"] = list.empty() ? J("none recorded") : list;
    i["state"] = "collected";
  } else {
    i["value"] = cell(v);
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

J table(std::vector<std::string> columns) {
  J t;
  t["columns"] = columns;
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

std::string tlp_class(const std::string& tlp) {
  std::string t = to_lower(tlp);
  if (t.find("red") != std::string::npos) return "red";
  if (t.find("amber") != std::string::npos) return "amber";
  if (t.find("green") != std::string::npos) return "green";
  if (t.find("clear") != std::string::npos || t.find("white") != std::string::npos) return "clear";
  return "amber";
}

std::string md_escape(std::string_view s) {
  std::string out;
  for (char c : printable(s, 2000)) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (std::string_view("\\`*_[]|#").find(c) != std::string_view::npos)
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
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
      if (b.verify.affected.count(rel)) {
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
      if (want == b.verify.files.end() || want->second.sha256 != sha256_hex(data)) {
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

J build_report(const BundleForReport& b) {
  std::vector<std::string> problems;
  J incident = parse_json(b.members, "meta/incident.json", problems);
  J env = parse_json(b.members, "meta/environment.json", problems);
  J procs = parse_json(b.members, "data/volatile/processes.json", problems);
  J sockets = parse_json(b.members, "data/volatile/sockets.json", problems);
  J utmp = parse_json(b.members, "data/volatile/utmp.json", problems);
  J artifacts = parse_json(b.members, "data/host/artifacts.json", problems);
  std::vector<J> actions;
  if (auto it = b.members.find("meta/actions.jsonl"); it != b.members.end()) {
    for (auto line : split_lines(it->second)) {
      if (trim(line).empty()) continue;
      try {
        actions.push_back(J::parse(line));
      } catch (const std::exception&) {
        problems.push_back("meta/actions.jsonl: a line is not JSON");
      }
    }
  }
  std::vector<std::pair<std::string, J>> findings;
  for (const auto& [rel, data] : b.members) {
    if (!starts_with(rel, "data/scans/")) continue;
    for (auto line : split_lines(data)) {
      if (trim(line).empty()) continue;
      try {
        J f = J::parse(line);
        if (f.is_object() && f.value("kind", "") != "summary") findings.emplace_back(rel, f);
      } catch (const std::exception&) {
        problems.push_back(rel + ": a line is not JSON");
        break;
      }
    }
  }
  std::map<std::string, std::string> bag_info;
  for (const auto& [k, v] : b.verify.bag_info) bag_info[k] = v;

  J r;
  r["schema"] = "forage-report/1";
  r["bundle"] = b.verify.input;
  std::string tlp = str(at(incident, {"tlp"}));
  if (tlp.empty()) tlp = bag_info.count("TLP") ? bag_info["TLP"] : "";
  if (tlp.empty()) tlp = "TLP:AMBER";
  if (auto t = normalize_tlp(tlp)) tlp = *t;
  if (!starts_with(tlp, "TLP:")) tlp = "TLP:" + tlp;
  r["tlp"] = tlp;
  std::string case_id = str(at(incident, {"case_id"}));
  if (case_id.empty() && bag_info.count("External-Identifier"))
    case_id = bag_info["External-Identifier"];
  r["case"] = case_id;
  r["bag"] = b.verify.top;

  // Verification.
  J v;
  v["valid"] = b.verify.valid();
  v["verdict"] = b.verify.valid()
                     ? (b.verify.unsigned_bundle ? "VALID (UNSIGNED: origin not proven)" : "VALID")
                     : "INVALID";
  v["problems"] = b.verify.problems;
  J sigs = J::array();
  for (const auto& s : b.verify.signatures) {
    J sj;
    sj["kind"] = s.kind;
    sj["valid"] = s.valid;
    sj["trusted"] = s.trusted;
    sj["signer"] = s.subject_oneline.empty() ? s.fingerprint : s.subject_oneline;
    if (!s.problem.empty()) sj["problem"] = s.problem;
    sigs.push_back(sj);
  }
  v["signatures"] = sigs;
  v["payload_files"] = b.verify.payload_files;
  v["payload_bytes"] = b.verify.payload_bytes;
  v["actions"] = b.verify.actions;
  r["verification"] = v;

  // Boot time, for process start times given in seconds after boot.
  long double boot_ns = 0;
  const J& clocks = at(env, {"clocks"});
  if (clocks.is_object() && clocks.value("realtime_ns", J()).is_number() &&
      clocks.value("boottime_ns", J()).is_number())
    boot_ns = clocks["realtime_ns"].get<long double>() - clocks["boottime_ns"].get<long double>();
  std::string collected_utc = str(at(incident, {"collection", "started_utc"}));
  if (collected_utc.empty()) collected_utc = str(at(clocks, {"utc"}));
  if (collected_utc.empty() && bag_info.count("Bagging-Date"))
    collected_utc = bag_info["Bagging-Date"];
  // Syslog lines carry no year: the year of the collection (a log line is not from the future).
  std::string year = collected_utc.size() >= 4 ? collected_utc.substr(0, 4) : "";

  // Attacker-relevant addresses: the hosts' sockets' remote ends, the targets' endpoints and the
  // indicator addresses the scans found.
  J ips = J::array();
  std::set<std::string> seen_ip;
  auto add_ip = [&](const std::string& ip, const std::string& why) {
    if (ip.empty() || !seen_ip.insert(ip + why).second || ips.size() >= 500) return;
    ips.push_back(ip + " (" + why + ")");
  };
  for (const auto& p :
       at(incident, {"processes"}).is_array() ? at(incident, {"processes"}) : J::array())
    for (const auto& ep : p.value("remote_endpoints", J::array()))
      add_ip(str(ep), "socket of target pid " + str(p.value("pid", J())));
  J dns = J::array();
  std::set<std::string> seen_dn;
  for (const auto& [rel, f] : findings) {
    const J& ind = at(f, {"ioc"});
    std::string type = str(at(ind, {"type"}));
    if (type == "ipv4" || type == "ipv6" || type == "cidr")
      add_ip(str(at(ind, {"value"})), "indicator found in " + str(f.value("phase", J(rel))));
    if (type == "x509-dn" && seen_dn.insert(str(at(ind, {"value"}))).second)
      dns.push_back(str(at(ind, {"value"})) + " (indicator found in " + rel + ")");
  }
  const J& grid = at(incident, {"grid_identities"});
  if (grid.is_array())
    for (const auto& g : grid) dns.push_back(cell(g));

  // The Guideline sections.
  J sections = J::array();
  auto inc = [&](std::initializer_list<const char*> keys) -> const J& {
    return at(incident, keys);
  };
  sections.push_back(section(
      "detection", "Who detected the incident, and how",
      J::array(
          {item("Detected by", inc({"detection", "detected_by"}), "meta/incident.json"),
           item("First noticed (UTC)", inc({"detection", "detected_utc"}), "meta/incident.json"),
           item("Reporting site", inc({"reporting", "site"}), "meta/incident.json"),
           item("Operator", inc({"reporting", "operator"}), "meta/incident.json"),
           item("Indicators that selected targets", inc({"detection", "iocs_matched"}),
                "meta/incident.json")})));
  J host_items = J::array();
  host_items.push_back(item("Host name", inc({"affected_host", "hostname"}), "meta/incident.json"));
  host_items.push_back(
      item("FQDN", inc({"affected_host", "identity", "fqdn"}), "meta/incident.json"));
  host_items.push_back(item("Kernel", inc({"affected_host", "identity", "kernel", "release"}),
                            "meta/incident.json"));
  host_items.push_back(item("OS", inc({"affected_host", "identity", "os"}), "meta/incident.json"));
  J addrs = J::array();
  const J& ifs = inc({"affected_host", "identity", "interfaces"});
  if (ifs.is_array())
    for (const auto& i : ifs)
      for (const auto& a : i.value("addresses", J::array()))
        addrs.push_back(str(i.value("name", J())) + ": " + str(a));
  host_items.push_back(item("Addresses", ifs.is_array() ? addrs : J(), "meta/incident.json"));
  host_items.push_back(item("Affected users", inc({"affected_users"}), "meta/incident.json"));
  sections.push_back(section("hosts", "Affected hosts", host_items));
  sections.push_back(section(
      "appliance", "Appliance: what the host is",
      J::array({item("Role", inc({"affected_host", "role"}), "meta/incident.json"),
                item("Host certificate", inc({"affected_host", "identity", "host_certificate"}),
                     "meta/incident.json")})));
  sections.push_back(section("dns", "Grid identities (DNs) involved",
                             J::array({item("DNs", incident.is_null() && dns.empty() ? J() : dns,
                                            "meta/incident.json, data/scans/")})));
  sections.push_back(
      section("entry", "Entry points",
              J::array({item("How the attacker got in", inc({"entry_point"}), "meta/incident.json"),
                        item("SSH and login logs", inc({"ssh_logs"}), "meta/incident.json")})));
  sections.push_back(
      section("ips", "Attacker IP addresses",
              J::array({item("Addresses seen", incident.is_null() && ips.empty() ? J() : ips,
                             "meta/incident.json, data/scans/"),
                        item("Which are the attacker's", inc({"remote_ips", "attacker_addresses"}),
                             "meta/incident.json")})));
  J ev_items = J::array();
  const J& evidence = inc({"evidence"});
  J ev_list = J::array();
  if (evidence.is_array())
    for (const auto& e : evidence)
      ev_list.push_back(str(e.value("utc", J())) + "  " + str(e.value("path", J())) + "  " +
                        str(e.value("what", J())) + "  sha256:" + str(e.value("sha256", J())));
  ev_items.push_back(item("Evidence taken (UTC, bag path, what, hash)",
                          evidence.is_array() ? ev_list : J(), "meta/incident.json"));
  ev_items.push_back(item("Payload files",
                          J(std::to_string(b.verify.payload_files) + " files, " +
                            std::to_string(b.verify.payload_bytes) + " bytes"),
                          "manifest-sha256.txt"));
  sections.push_back(section("evidence", "Evidence, with timestamps", ev_items));
  sections.push_back(section(
      "lost", "What was lost",
      J::array(
          {item("Data or credentials lost", inc({"lost", "data_lost"}), "meta/incident.json"),
           item("Credentials exposed", inc({"lost", "credentials_exposed"}), "meta/incident.json"),
           item("Not collected", inc({"lost", "not_collected"}), "meta/incident.json")})));
  sections.push_back(section("sites", "Other sites affected",
                             J::array({item("Other sites or hosts", inc({"other_sites_affected"}),
                                            "meta/incident.json")})));
  J vuln = inc({"vulnerabilities"});
  if (vuln.is_null() && !incident.is_null()) {
    vuln = J::object();
    vuln["value"] = kHuman;
    vuln["question"] = "Which vulnerabilities were exploited (CVE, misconfiguration)?";
  }
  sections.push_back(
      section("vulns", "Vulnerabilities exploited",
              J::array({item("Vulnerabilities", vuln, "meta/incident.json"),
                        item("Root compromise", inc({"root_compromise"}), "meta/incident.json")})));
  J act_list = J::array();
  for (const auto& a : actions)
    if (str(a.value("actor", J())) != "forage" || act_list.size() < 200)
      act_list.push_back(str(a.value("utc", J())) + "  " + str(a.value("action", J())) + "  " +
                         str(a.value("target", J())) + " -> " + str(a.value("result", J())));
  sections.push_back(section(
      "actions", "Actions taken",
      J::array({item("Actions (meta/actions.jsonl)",
                     b.members.count("meta/actions.jsonl") ? act_list : J(), "meta/actions.jsonl"),
                item("Resolution", inc({"resolution"}), "meta/incident.json")})));
  r["sections"] = sections;

  // Tables and timeline.
  J tl = J::array();
  J t_procs = table({"pid", "ppid", "user", "exe", "cmdline", "started (UTC)", "exe sha256",
                     "frozen", "killed", "core"});
  const J& iprocs = inc({"processes"});
  if (iprocs.is_array()) {
    for (const auto& p : iprocs) {
      add_row(t_procs, {str(p.value("pid", J())), str(p.value("ppid", J())),
                        str(p.value("user", J())), str(p.value("exe", J())),
                        str(p.value("cmdline", J())), str(p.value("start_utc", J())),
                        str(p.value("exe_sha256", J())), str(p.value("frozen", J())),
                        str(p.value("killed", J())), str(p.value("core", J()))});
    }
  }
  if (procs.is_array()) {
    for (const auto& p : procs) {
      if (!p.is_object()) continue;
      std::string start;
      const J& sa = p.value("start_seconds_after_boot", J());
      if (sa.is_number() && boot_ns > 0)
        start = iso_from_ns(boot_ns + sa.get<long double>() * 1e9L);
      std::string cmd;
      if (p.value("cmdline", J()).is_array())
        for (const auto& a : p["cmdline"]) cmd += (cmd.empty() ? "" : " ") + str(a);
      else
        cmd = str(p.value("cmdline", J()));
      if (!iprocs.is_array())
        add_row(t_procs,
                {str(p.value("pid", J())), str(p.value("ppid", J())), str(p.value("uid", J())),
                 str(p.value("exe", J())), cmd, start, "", "", "", ""});
      if (!start.empty())
        event(tl, start, "process",
              "pid " + str(p.value("pid", J())) +
                  " started: " + (cmd.empty() ? str(p.value("comm", J())) : cmd),
              "data/volatile/processes.json");
    }
  } else if (iprocs.is_array()) {
    for (const auto& p : iprocs)
      if (!str(p.value("start_utc", J())).empty())
        event(tl, str(p["start_utc"]), "process",
              "pid " + str(p.value("pid", J())) + " started: " + str(p.value("cmdline", J())),
              "meta/incident.json");
  }
  J t_conn = table({"proto", "local", "remote", "state", "uid", "pids"});
  std::string sock_utc = collected_utc;
  if (evidence.is_array())
    for (const auto& e : evidence)
      if (str(e.value("path", J())) == "data/volatile/sockets.json")
        sock_utc = str(e.value("utc", J()));
  // The targets' own connections, as the collector recorded them (also without sockets.json).
  if (iprocs.is_array() && !sockets.is_array())
    for (const auto& p : iprocs)
      for (const auto& ep : p.value("remote_endpoints", J::array()))
        event(tl, sock_utc, "connection",
              "pid " + str(p.value("pid", J())) + " connected to " + str(ep),
              "meta/incident.json (snapshot time)");
  if (sockets.is_array()) {
    for (const auto& s : sockets) {
      if (!s.is_object()) continue;
      add_row(t_conn,
              {str(s.value("proto", J())), str(s.value("local", J())), str(s.value("remote", J())),
               str(s.value("state", J())), str(s.value("uid", J())), str(s.value("pids", J()))});
      std::string state = str(s.value("state", J()));
      if (state == "ESTABLISHED" || state == "SYN_SENT")
        event(tl, sock_utc, "connection",
              str(s.value("proto", J())) + " " + str(s.value("local", J())) + " -> " +
                  str(s.value("remote", J())) + " " + state + " (pids " +
                  str(s.value("pids", J())) + ")",
              "data/volatile/sockets.json (snapshot time)");
    }
  }
  J t_find = table({"scan", "kind", "target", "indicator / rule", "detail"});
  for (const auto& [rel, f] : findings) {
    std::string target = f.contains("path")  ? str(f["path"])
                         : f.contains("pid") ? "pid " + str(f["pid"])
                                             : str(f.value("pcap", J()));
    std::string what = f.contains("ioc")
                           ? str(at(f, {"ioc", "type"})) + " " + str(at(f, {"ioc", "value"}))
                           : str(f.value("rule", J()));
    std::string detail = f.contains("text")     ? str(f["text"])
                         : f.contains("remote") ? str(f["remote"])
                                                : str(f.value("match", J()));
    add_row(t_find, {rel, str(f.value("kind", J())), target, what, detail});
    if (f.contains("text")) {
      std::string t;
      if (f.value("time_usec", J()).is_number())
        t = iso_from_ns(f["time_usec"].get<long double>() * 1000.0L);
      if (t.empty()) t = log_time(str(f["text"]), year);
      if (!t.empty())
        event(tl, t, str(f.value("log", J())) == "auth" ? "login" : "log", str(f["text"]), rel);
    }
  }
  // Login records: the collector writes {"source", "records": [...]} (collector/logins.cpp).
  auto logins = [&](const J& doc, const std::string& rel, const std::string& kind) {
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
  };
  for (const auto& [rel, data] : b.members) {
    if (!starts_with(rel, "data/logs/") || !ends_with(rel, ".json")) continue;
    bool failed = rel.find("btmp") != std::string::npos;
    logins(parse_json(b.members, rel, problems), rel, failed ? "failed login" : "login");
  }
  // Temp-directory listings (JSON lines): the times of executables and scripts there (a busy
  // /tmp holds thousands of files; those are what an intruder drops), at most kMaxListed.
  constexpr size_t kMaxListed = 500;
  size_t listed = 0;
  for (const auto& [rel, data] : b.members) {
    if (!starts_with(rel, "data/host/listings/")) continue;
    size_t pos = 0;
    while (pos < data.size() && listed < kMaxListed) {
      size_t nl = data.find('\n', pos);
      if (nl == std::string::npos) nl = data.size();
      try {
        J entry = J::parse(data.substr(pos, nl - pos));
        std::string magic = entry.is_object() ? str(entry.value("magic", J())) : "";
        if (magic.find("executable") != std::string::npos ||
            magic.find("script") != std::string::npos) {
          file_times(entry, rel, tl);
          ++listed;
        }
      } catch (const std::exception&) {
        problems.push_back(rel + ": a line that is not JSON, not used");
        break;
      }
      pos = nl + 1;
    }
  }
  // Also the bare array of records that earlier bundles hold: logins() takes either.
  logins(utmp, "data/volatile/utmp.json", "logged in");
  file_times(artifacts, "data/host/artifacts.json", tl);
  J t_act = table({"seq", "utc", "actor", "action", "target", "result"});
  for (const auto& a : actions) {
    if (!a.is_object()) continue;
    add_row(t_act, {str(a.value("seq", J())), str(a.value("utc", J())), str(a.value("actor", J())),
                    str(a.value("action", J())), str(a.value("target", J())),
                    str(a.value("result", J()))});
    event(tl, str(a.value("utc", J())), "action",
          str(a.value("action", J())) + " " + str(a.value("target", J())) + " -> " +
              str(a.value("result", J())),
          "meta/actions.jsonl");
  }
  J t_ev = table({"utc", "path", "what", "size", "sha256"});
  if (evidence.is_array())
    for (const auto& e : evidence)
      add_row(t_ev, {str(e.value("utc", J())), str(e.value("path", J())), str(e.value("what", J())),
                     str(e.value("size", J())), str(e.value("sha256", J()))});
  std::stable_sort(tl.begin(), tl.end(), [](const J& a, const J& b) {
    return a["utc"].get<std::string>() < b["utc"].get<std::string>();
  });
  r["timeline"] = tl;
  J tables;
  tables["processes"] = t_procs;
  tables["connections"] = t_conn;
  tables["findings"] = t_find;
  tables["evidence"] = t_ev;
  tables["actions"] = t_act;
  r["tables"] = tables;

  // What the bundle does not have.
  J missing = J::array();
  for (const char* m : {"meta/incident.json", "meta/environment.json", "meta/actions.jsonl",
                        "data/volatile/processes.json", "data/volatile/sockets.json"})
    if (!b.members.count(m)) missing.push_back(std::string(m) + ": " + kNotCollected);
  if (findings.empty()) missing.push_back(std::string("data/scans/: no scan results"));
  r["not_collected"] = missing;
  J notes = J::array();
  for (const auto& n : b.notes) notes.push_back(n);
  for (const auto& p : problems) notes.push_back(p);
  r["notes"] = notes;

  // Closure report skeleton (sent to the CSIRT, labelled like the incident).
  J c;
  c["title"] = "Closure report" + (case_id.empty() ? std::string() : " " + case_id);
  c["tlp"] = tlp;
  c["fields"] = J::array();
  auto cf = [&](const std::string& label, const std::string& value) {
    J f;
    f["label"] = label;
    f["value"] = value.empty() ? std::string(kHuman) : value;
    c["fields"].push_back(f);
  };
  cf("Incident", case_id);
  cf("Site", str(at(inc({"reporting", "site"}), {"value"})) == kHuman
                 ? ""
                 : str(at(inc({"reporting", "site"}), {"value"})));
  cf("Affected hosts", str(inc({"affected_host", "hostname"})));
  cf("Detected (UTC)", "");
  cf("Evidence preserved", b.verify.top + " (" + str(v["verdict"]) + ")");
  cf("Summary of what happened", "");
  cf("Root cause / entry point", "");
  cf("Attacker IP addresses", "");
  cf("Compromised credentials / DNs (revoked?)", "");
  cf("Data lost", "");
  cf("Actions taken (containment, cleanup, reinstall)", "");
  cf("Lessons learned", "");
  cf("Status (resolved / open)", "");
  r["closure"] = c;
  return r;
}

std::string report_markdown(const J& r) {
  std::string tlp = str(r["tlp"]);
  std::string o = "**" + tlp + "**\n\n# Incident report";
  if (!str(r["case"]).empty()) o += " — " + md_escape(str(r["case"]));
  o += "\n\nBundle: `" + printable(str(r["bundle"]), 300) + "` — bag `" +
       printable(str(r["bag"]), 300) + "`\n\n";
  const J& v = r["verification"];
  o += "## Verification\n\n**" + str(v["verdict"]) + "**";
  o += " — " + str(v["payload_files"]) + " payload files, " + str(v["payload_bytes"]) + " bytes, " +
       str(v["actions"]) + " actions\n\n";
  for (const auto& p : v["problems"]) o += "- problem: " + md_escape(str(p)) + "\n";
  for (const auto& s : v["signatures"])
    o += "- signature " + str(s["kind"]) + ": " + (s["valid"].get<bool>() ? "valid" : "NOT valid") +
         (s["trusted"].get<bool>() ? ", trusted" : ", not trusted") + ", signer " +
         md_escape(str(s["signer"])) + "\n";
  o += "\n";
  for (const auto& s : r["sections"]) {
    o += "## " + str(s["title"]) + "\n\n";
    for (const auto& i : s["items"]) {
      std::string state = str(i["state"]);
      o += "- **" + md_escape(str(i["label"])) + "**";
      if (state == "human") o += " *(to be completed)*";
      if (state == "not collected") o += " *(not collected)*";
      o += ": ";
      if (i.contains("question")) o += "_" + md_escape(str(i["question"])) + "_ ";
      if (i["value"].is_array()) {
        o += "\n";
        for (const auto& e : i["value"]) o += "  - " + md_escape(str(e)) + "\n";
      } else {
        o += md_escape(str(i["value"])) + "\n";
      }
      if (i.contains("hints"))
        for (const auto& h : i["hints"]) o += "  - hint: " + md_escape(str(h)) + "\n";
    }
    o += "\n";
  }
  o += "## Timeline (UTC)\n\n| time | kind | what | source |\n|---|---|---|---|\n";
  for (const auto& e : r["timeline"])
    o += "| " + md_escape(str(e["utc"])) + " | " + str(e["kind"]) + " | " +
         md_escape(str(e["what"])) + " | " + md_escape(str(e["source"])) + " |\n";
  for (const auto& [name, t] : r["tables"].items()) {
    o += "\n## Table: " + name + "\n\n|";
    for (const auto& c : t["columns"]) o += " " + str(c) + " |";
    o += "\n|";
    for (size_t i = 0; i < t["columns"].size(); ++i) o += "---|";
    o += "\n";
    for (const auto& row : t["rows"]) {
      o += "|";
      for (const auto& c : row) o += " " + md_escape(str(c)) + " |";
      o += "\n";
    }
  }
  o += "\n## Not collected\n\n";
  for (const auto& m : r["not_collected"]) o += "- " + md_escape(str(m)) + "\n";
  if (!r["notes"].empty()) {
    o += "\n## Notes\n\n";
    for (const auto& n : r["notes"]) o += "- " + md_escape(str(n)) + "\n";
  }
  o += "\n## " + md_escape(str(r["closure"]["title"])) + " (skeleton)\n\n**" + tlp + "**\n\n";
  for (const auto& f : r["closure"]["fields"])
    o += "- **" + md_escape(str(f["label"])) + "**: " + md_escape(str(f["value"])) + "\n";
  o += "\n**" + tlp + "**\n";
  return o;
}

std::string report_html(const J& r) {
  std::string tlp = html_escape(str(r["tlp"]));
  std::string cls = tlp_class(str(r["tlp"]));
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  // Nothing may be fetched: no network, no external fonts or scripts.
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n";
  h +=
      "<title>" + tlp + " — incident report " + html_escape(str(r["case"])) + "</title>\n<style>\n";
  h +=
      R"CSS(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 2em 3em;color:#111;background:#fff}
.tlp{font-weight:bold;padding:.3em .8em;margin:.5em 0;display:inline-block;border-radius:3px;background:#000}
.tlp-red{color:#FF2B2B}.tlp-amber{color:#FFC000}.tlp-green{color:#33FF00}.tlp-clear{color:#fff}
header,footer{text-align:right}
h1{margin-top:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.5em}
.valid{color:#060}.invalid{color:#b00;font-weight:bold}
dl{display:grid;grid-template-columns:18em 1fr;gap:.3em 1em}dt{font-weight:bold}dd{margin:0;white-space:pre-wrap;word-break:break-all}
.human{background:#fff4cc}.missing{color:#888;font-style:italic}.q{color:#555;font-style:italic}
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.2em .4em;text-align:left;vertical-align:top;word-break:break-all}
th{background:#eee;cursor:pointer;user-select:none}th.asc::after{content:" \25B2"}th.desc::after{content:" \25BC"}
input.filter{margin:.3em 0;padding:.2em;width:20em}
#timeline{list-style:none;padding:0;border-left:3px solid #888;margin-left:.5em}
#timeline li{padding:.15em .6em;margin:.1em 0;font-size:.85em}
#timeline time{font-family:monospace;margin-right:.8em}
#timeline .kind{display:inline-block;min-width:6em;font-weight:bold}
.ev-process .kind{color:#06c}.ev-login .kind{color:#b00}.ev-file .kind{color:#960}.ev-connection .kind{color:#909}.ev-action .kind{color:#555}.ev-log .kind{color:#c60}
#timeline .src{color:#888;margin-left:.8em}
@media print{header.tlp{position:fixed;top:0;right:0}footer.tlp{position:fixed;bottom:0;right:0}input.filter,#tl-filters{display:none}}
)CSS";
  h += "</style></head>\n<body>\n";
  h += "<header class=\"tlp tlp-" + cls + "\" id=\"tlp-top\">" + tlp + "</header>\n";
  h += "<h1>Incident report " + html_escape(str(r["case"])) + "</h1>\n";
  h += "<p>Bundle <code>" + html_escape(printable(str(r["bundle"]), 300)) + "</code>, bag <code>" +
       html_escape(printable(str(r["bag"]), 300)) + "</code></p>\n";
  const J& v = r["verification"];
  h += "<h2 id=\"verification\">Verification</h2>\n<p class=\"" +
       std::string(v["valid"].get<bool>() ? "valid" : "invalid") + "\" id=\"verdict\">" +
       html_escape(str(v["verdict"])) + "</p>\n<ul>\n";
  for (const auto& p : v["problems"])
    h += "<li class=\"invalid\">" + html_escape(str(p)) + "</li>\n";
  for (const auto& s : v["signatures"])
    h += "<li>signature " + html_escape(str(s["kind"])) + ": " +
         (s["valid"].get<bool>() ? "valid" : "NOT valid") +
         (s["trusted"].get<bool>() ? ", trusted" : ", not trusted") + ", signer " +
         html_escape(str(s["signer"])) + "</li>\n";
  h += "</ul>\n";
  for (const auto& s : r["sections"]) {
    h += "<h2 id=\"s-" + html_escape(str(s["id"])) + "\">" + html_escape(str(s["title"])) +
         "</h2>\n<dl>\n";
    for (const auto& i : s["items"]) {
      std::string state = str(i["state"]);
      std::string c = state == "human"           ? " class=\"human\""
                      : state == "not collected" ? " class=\"missing\""
                                                 : "";
      h += "<dt>" + html_escape(str(i["label"])) + "</dt><dd" + c + ">";
      if (i.contains("question"))
        h += "<span class=\"q\">" + html_escape(str(i["question"])) + "</span>\n";
      if (i["value"].is_array()) {
        h += "<ul>";
        for (const auto& e : i["value"]) h += "<li>" + html_escape(str(e)) + "</li>";
        h += "</ul>";
      } else {
        h += html_escape(str(i["value"]));
      }
      if (i.contains("hints"))
        for (const auto& x : i["hints"])
          h += "\n<span class=\"q\">hint: " + html_escape(str(x)) + "</span>";
      h += "</dd>\n";
    }
    h += "</dl>\n";
  }
  h += "<h2 id=\"s-timeline\">Timeline (UTC)</h2>\n<div id=\"tl-filters\"></div>\n"
       "<noscript><p>The timeline needs JavaScript; the same events are in the Markdown and JSON "
       "forms of this report.</p></noscript>\n<ol id=\"timeline\"></ol>\n";
  for (const auto& [name, t] : r["tables"].items()) {
    std::string id = "t-" + name;
    h += "<h2 id=\"h-" + id + "\">" + html_escape(name) + " (" + std::to_string(t["rows"].size()) +
         ")</h2>\n<input class=\"filter\" type=\"search\" placeholder=\"filter rows\" "
         "data-table=\"" +
         id + "\">\n<table class=\"sortable\" id=\"" + id + "\"><thead><tr>";
    for (const auto& c : t["columns"]) h += "<th>" + html_escape(str(c)) + "</th>";
    h += "</tr></thead><tbody>\n";
    for (const auto& row : t["rows"]) {
      h += "<tr>";
      for (const auto& c : row) h += "<td>" + html_escape(str(c)) + "</td>";
      h += "</tr>\n";
    }
    h += "</tbody></table>\n";
  }
  h += "<h2>Not collected</h2>\n<ul>\n";
  for (const auto& m : r["not_collected"])
    h += "<li class=\"missing\">" + html_escape(str(m)) + "</li>\n";
  h += "</ul>\n";
  if (!r["notes"].empty()) {
    h += "<h2>Notes</h2>\n<ul>\n";
    for (const auto& n : r["notes"]) h += "<li>" + html_escape(str(n)) + "</li>\n";
    h += "</ul>\n";
  }
  h += "<h2 id=\"closure\">" + html_escape(str(r["closure"]["title"])) + " (skeleton)</h2>\n";
  h += "<p class=\"tlp tlp-" + cls + "\">" + tlp + "</p>\n<dl>\n";
  for (const auto& f : r["closure"]["fields"]) {
    std::string val = str(f["value"]);
    h += "<dt>" + html_escape(str(f["label"])) + "</dt><dd" +
         (val == kHuman ? " class=\"human\"" : "") + ">" + html_escape(val) + "</dd>\n";
  }
  h += "</dl>\n<footer class=\"tlp tlp-" + cls + "\" id=\"tlp-bottom\">" + tlp + "</footer>\n";
  J data;
  data["timeline"] = r["timeline"];
  h += "<script type=\"application/json\" id=\"report-data\">" + json_for_script(data) +
       "</script>\n";
  // Built with textContent only: nothing from the bundle is ever parsed as HTML.
  h += R"JS(<script>
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var ol = document.getElementById('timeline');
  var kinds = {};
  data.timeline.forEach(function (e) {
    var li = document.createElement('li');
    li.className = 'ev ev-' + String(e.kind).replace(/[^a-z]/g, '');
    li.setAttribute('data-kind', e.kind);
    var t = document.createElement('time'); t.textContent = e.utc || '?'; li.appendChild(t);
    var k = document.createElement('span'); k.className = 'kind'; k.textContent = e.kind; li.appendChild(k);
    var w = document.createElement('span'); w.className = 'what'; w.textContent = e.what; li.appendChild(w);
    if (e.source) { var s = document.createElement('span'); s.className = 'src'; s.textContent = e.source; li.appendChild(s); }
    ol.appendChild(li);
    kinds[e.kind] = (kinds[e.kind] || 0) + 1;
  });
  var filters = document.getElementById('tl-filters');
  Object.keys(kinds).sort().forEach(function (kind) {
    var label = document.createElement('label');
    var box = document.createElement('input');
    box.type = 'checkbox'; box.checked = true;
    box.addEventListener('change', function () {
      Array.prototype.forEach.call(ol.children, function (li) {
        if (li.getAttribute('data-kind') === kind) li.style.display = box.checked ? '' : 'none';
      });
    });
    label.appendChild(box);
    label.appendChild(document.createTextNode(' ' + kind + ' (' + kinds[kind] + ')  '));
    filters.appendChild(label);
  });
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var ths = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(ths, function (th, col) {
      th.addEventListener('click', function () {
        var asc = !th.classList.contains('asc');
        Array.prototype.forEach.call(ths, function (o) { o.classList.remove('asc', 'desc'); });
        th.classList.add(asc ? 'asc' : 'desc');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent, y = b.cells[col].textContent;
          var nx = Number(x), ny = Number(y);
          var c = (x !== '' && y !== '' && !isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('input.filter'), function (input) {
    var table = document.getElementById(input.getAttribute('data-table'));
    input.addEventListener('input', function () {
      var q = input.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
      });
    });
  });
  document.body.setAttribute('data-timeline-events', String(ol.children.length));
})();
</script>
)JS";
  h += "</body></html>\n";
  return h;
}

}  // namespace forage::bundle
