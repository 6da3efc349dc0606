// The parts of `forage bundle report` an expert reads first: the first screen (host, targets,
// indicator hits, SSH-log coverage), the action log summarised by step, and every Guideline value
// turned from records into tables (report_internal.h). Decisions:
//   - values stay exact in the document (ISO UTC, byte counts, full hashes); the column's format
//     says how a renderer shows them, so the JSON form loses nothing;
//   - a target's DN, VO and jobs come from incident.json grid_identities matched by pid; jobs
//     from its "jobs" list when present (every variable that named one), else batch_system and
//     job_id (older bundles);
//   - a remote socket is flagged when its address is an indicator the scans found;
//   - an action belongs to the step of the last step-naming action before it; artefact rows are
//     logged when a row ends, so what was logged since the previous row belongs to the row;
//   - nothing here prints JSON: flat() writes nested values as "key: value; ...".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include "bundle/report_internal.h"
#include "common/layout.h"
#include "common/strings.h"
#include "common/time.h"

namespace forage::bundle::detail {
namespace {

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

std::string flat_into(const J& j, size_t max, int depth) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  if (j.is_boolean()) return j.get<bool>() ? "yes" : "no";
  if (depth > 4) return "…";
  std::string out;
  if (j.is_array()) {
    for (const auto& e : j) {
      if (out.size() > max) break;
      std::string v = flat_into(e, max, depth + 1);
      if (!v.empty()) out += (out.empty() ? "" : ", ") + v;
    }
    return out;
  }
  if (j.is_object()) {
    for (const auto& [k, e] : j.items()) {
      if (out.size() > max) break;
      std::string v = flat_into(e, max, depth + 1);
      if (!v.empty()) out += (out.empty() ? "" : "; ") + k + ": " + v;
    }
    return out;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // a number
}

// A record key as a column header: "valid_until" -> "valid until".
std::string header_of(std::string key) {
  std::replace(key.begin(), key.end(), '_', ' ');
  return key;
}

// A list that holds records: one column per key (at most 12, in order of first appearance).
J records_table(const J& list) {
  std::vector<std::string> keys;
  for (const auto& e : list)
    if (e.is_object())
      for (const auto& [k, v] : e.items())
        if (keys.size() < 12 && std::find(keys.begin(), keys.end(), k) == keys.end())
          keys.push_back(k);
  std::vector<std::string> headers, formats;
  for (const auto& k : keys) {
    headers.push_back(header_of(printable(k, 60)));
    formats.push_back(column_format(k));
  }
  J t = table(headers, formats);
  for (const auto& e : list) {
    std::vector<std::string> row;
    for (const auto& k : keys)
      row.push_back(e.is_object() && e.contains(k) ? flat(e[k]) : (row.empty() ? flat(e) : ""));
    add_row(t, row);
  }
  return t;
}

// "2026-12-07T09:30:22.497Z" (or without the fraction) as seconds since the epoch; NAN otherwise.
double utc_seconds(std::string_view iso) {
  std::tm tm{};
  const std::string s(iso.substr(0, 19));
  if (iso.size() < 20 || std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return NAN;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double frac = 0;
  if (iso[19] == '.')
    frac = std::strtod(std::string("0").append(iso.substr(19, 10)).c_str(), nullptr);
  return static_cast<double>(timegm(&tm)) + frac;
}

// When an action happened, in seconds: its boottime_ns (exact, monotonic), else its UTC.
double action_seconds(const J& a) {
  const J& b = at(a, {"boottime_ns"});
  if (b.is_number()) return b.get<double>() / 1e9;
  return utc_seconds(str(at(a, {"utc"})));
}

// The step an action names: "freeze", "volatile", "memory", "recover", "grid", "kill", ...
// bundle.add and bundle.skip name none (they belong to the step that added the file).
std::string step_of(const std::string& action) {
  if (action == "bundle.add" || action == "bundle.skip" || action == "note") return "";
  if (action == "bundle.begin" || action == "collect.begin" || action == "target") return "begin";
  if (action == "bundle.seal" || action == "bundle.abort") return "seal";
  return action.substr(0, action.find('.'));
}

struct Step {
  std::string name, target, result;
  size_t actions = 0, files = 0, problems = 0;
  uint64_t bytes = 0;
  double first = NAN, last = NAN;
  void add(const J& a) {
    ++actions;
    const double t = action_seconds(a);
    if (!std::isnan(t)) {
      if (std::isnan(first)) first = t;
      last = t;
    }
    const std::string action = str(at(a, {"action"}));
    const std::string res = str(at(a, {"result"}));
    if (action == "bundle.add") {
      ++files;
      // "data/volatile/host.json 1937 bytes sha256 ..."
      const size_t sp = res.find(' '), by = res.find(" bytes", sp == std::string::npos ? 0 : sp);
      if (sp != std::string::npos && by != std::string::npos && by > sp)
        bytes += std::strtoull(res.substr(sp + 1, by - sp - 1).c_str(), nullptr, 10);
    }
    if (contains(action, "skip") || contains(action, "over-budget") || contains(action, "error") ||
        contains(action, "fail") || res.rfind("failed", 0) == 0 || res.rfind("error", 0) == 0)
      ++problems;
  }
  void merge(const Step& o) {
    actions += o.actions;
    files += o.files;
    bytes += o.bytes;
    problems += o.problems;
    if (std::isnan(first) || o.first < first) first = o.first;
    if (std::isnan(last) || o.last > last) last = o.last;
  }
};

// The step a file added to the bag belongs to, by where it went: a step logs its own line
// after its files (volatile.host after data/volatile/*), so its files cannot go by order.
std::string owner_of_file(const std::string& add_result) {
  static const std::pair<const char*, const char*> kDirs[] = {{"data/volatile/", "volatile"},
                                                              {"data/memory/", "memory"},
                                                              {"data/exe/", "recover"},
                                                              {"data/grid/", "grid"}};
  for (const auto& [dir, step] : kDirs)
    if (add_result.rfind(dir, 0) == 0) return step;
  return "";
}

// An artefact row's own count of problems ("..., 3 problems; budget ...").
size_t row_problems(const std::string& result) {
  const size_t p = result.find(" problems");
  if (p == std::string::npos) return 0;
  size_t b = p;
  while (b > 0 && std::isdigit(static_cast<unsigned char>(result[b - 1]))) --b;
  return std::strtoull(result.substr(b, p - b).c_str(), nullptr, 10);
}

void add_step_row(J& t, const Step& s) {
  std::string seconds;
  if (!std::isnan(s.first) && !std::isnan(s.last)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", std::max(0.0, s.last - s.first));
    seconds = buf;
  }
  add_row(t, {s.name, s.target, std::to_string(s.actions), std::to_string(s.files),
              std::to_string(s.bytes), std::to_string(s.problems), seconds, s.result});
}

}  // namespace

std::string flat(const J& j, size_t max) {
  return printable(flat_into(j, max, 0), max);
}

std::string column_format(std::string_view key) {
  const std::string k = to_lower(key);
  if (contains(k, "sha256") || contains(k, "sha1") || contains(k, "md5") ||
      contains(k, "fingerprint"))
    return "hash";
  if (k == "size" || k == "bytes" || contains(k, "size") || contains(k, "_bytes") ||
      contains(k, " bytes"))
    return "bytes";
  if (contains(k, "utc") || contains(k, "not_after") || contains(k, "not after") ||
      contains(k, "valid_until") || contains(k, "valid until") || k == "oldest" || k == "newest")
    return "utc";
  if (contains(k, "seconds") || contains(k, "duration")) return "seconds";
  return "text";
}

bool is_table(const J& v) {
  return v.is_object() && v.contains("columns") && v.contains("rows") && v["rows"].is_array();
}

J without_empty_columns(const J& t) {
  const J& rows = t["rows"];
  if (rows.empty()) return t;
  J out = t;
  out["columns"] = J::array();
  out["formats"] = J::array();
  out["rows"] = J::array();
  std::vector<size_t> keep;
  for (size_t c = 0; c < t["columns"].size(); ++c)
    if (std::any_of(rows.begin(), rows.end(),
                    [&](const J& r) { return c < r.size() && !str(r[c]).empty(); }))
      keep.push_back(c);
  for (size_t c : keep) {
    out["columns"].push_back(t["columns"][c]);
    out["formats"].push_back(c < t["formats"].size() ? t["formats"][c] : J("text"));
  }
  for (const auto& r : rows) {
    J row = J::array();
    for (size_t c : keep) row.push_back(c < r.size() ? r[c] : J(""));
    out["rows"].push_back(row);
  }
  return out;
}

J people_value(const J& v) {
  if (is_table(v)) return v;
  if (v.is_array()) {
    const bool records = std::any_of(v.begin(), v.end(), [](const J& e) { return e.is_object(); });
    if (records) return without_empty_columns(records_table(v));
    J list = J::array();
    for (const auto& e : v)
      if (list.size() < 500) list.push_back(flat(e));
    return list;
  }
  if (v.is_object()) {
    J t = table({"field", "value"}, {"text", "text"});
    for (const auto& [k, e] : v.items()) {
      const std::string f = column_format(k);
      add_row(t, {header_of(printable(k, 60)), f == "hash" ? flat(e) : shown(flat(e), f)});
    }
    return t;
  }
  return flat(v);
}

std::string utc_text(std::string_view iso) {
  if (iso.size() < 20 || iso[4] != '-' || iso[7] != '-' || iso[10] != 'T' || iso[13] != ':' ||
      iso[16] != ':' || iso.back() != 'Z' || std::isnan(utc_seconds(iso)))
    return std::string(iso);
  return std::string(iso.substr(0, 10)) + " " + std::string(iso.substr(11, 8)) + " UTC";
}

std::string bytes_text(std::string_view n) {
  if (n.empty() || n.size() > 19 || n.find_first_not_of("0123456789") != std::string_view::npos)
    return std::string(n);
  const double v = std::strtod(std::string(n).c_str(), nullptr);
  if (v < 1024) return std::string(n) + (n == "1" ? " byte" : " bytes");
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double x = v / 1024;
  int u = 0;
  while (x >= 1024 && u < 4) {
    x /= 1024;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, x < 10 ? "%.1f %s" : "%.0f %s", x, kUnits[u]);
  return buf;
}

std::string seconds_text(std::string_view s) {
  char* end = nullptr;
  const std::string t(s);
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !(v >= 0) || v > 1e12) return t;
  char buf[64];
  const auto n = static_cast<long long>(v);
  if (v < 10)
    std::snprintf(buf, sizeof buf, "%.2f s", v);
  else if (v < 60)
    std::snprintf(buf, sizeof buf, "%.0f s", v);
  else if (v < 3600)
    std::snprintf(buf, sizeof buf, "%lld min %02lld s", n / 60, n % 60);
  else if (v < 86400)
    std::snprintf(buf, sizeof buf, "%lld h %02lld min", n / 3600, n % 3600 / 60);
  else
    std::snprintf(buf, sizeof buf, "%lld d %02lld h", n / 86400, n % 86400 / 3600);
  return buf;
}

std::string short_hash(std::string_view h) {
  if (h.size() <= 16) return std::string(h);
  return std::string(h.substr(0, 12)) + "…";
}

std::string shown(const std::string& value, const std::string& format) {
  if (format == "utc") return utc_text(value);
  if (format == "bytes") return bytes_text(value);
  if (format == "seconds") return seconds_text(value);
  return value;
}

J grid_identity_table(const Inputs& in) {
  J t = table({"pid", "DN", "VO", "FQANs", "batch system", "job id(s)", "uid", "user",
               "proxy valid until", "source"});
  const J& grid = in.inc({"grid_identities"});
  if (!grid.is_array()) return t;
  for (const auto& g : grid) {
    if (!g.is_object()) {  // older bundles: a DN as a string
      add_row(t, {"", flat(g), "", "", "", "", "", "", "", ""});
      continue;
    }
    std::string jobs;
    const J& list = at(g, {"jobs"});
    if (list.is_array() && !list.empty()) {
      for (const auto& j : list) {
        std::string why = flat(at(j, {"variable"}));
        if (!flat(at(j, {"role"})).empty())
          why += (why.empty() ? "" : ", ") + flat(at(j, {"role"}));
        jobs += (jobs.empty() ? "" : "; ") + flat(at(j, {"system"})) + " " + flat(at(j, {"id"})) +
                (why.empty() ? "" : " (" + why + ")");
      }
    } else if (!flat(at(g, {"job_id"})).empty()) {
      jobs = flat(at(g, {"batch_system"})) + " " + flat(at(g, {"job_id"}));
    }
    add_row(t, {flat(at(g, {"pid"})), flat(at(g, {"dn"})), flat(at(g, {"vo"})),
                flat(at(g, {"fqans"})), flat(at(g, {"batch_system"})), jobs, flat(at(g, {"uid"})),
                flat(at(g, {"user"})), flat(at(g, {"not_after"})), flat(at(g, {"source"}))});
  }
  return t;
}

J host_facts(const Inputs& in) {
  const J& host = at(in.env, {"host"});
  const J& osr = at(host, {"os_release"});
  const J& clocks = at(in.env, {"clocks"});
  auto first = [](std::initializer_list<std::string> v) {
    for (const auto& s : v)
      if (!s.empty()) return J(s);
    return J();
  };
  std::string os_name = flat(at(osr, {"name"}));
  if (!os_name.empty() && !flat(at(osr, {"version"})).empty())
    os_name += " " + flat(at(osr, {"version"}));
  std::string boot = flat(at(osr, {"boot_utc"})), uptime = flat(at(osr, {"uptime_seconds"}));
  const J& real = at(clocks, {"realtime_ns"});
  const J& since = at(clocks, {"boottime_ns"});
  if (real.is_number() && since.is_number() && since.get<double>() > 0) {
    if (boot.empty())
      boot = utc_iso(static_cast<int64_t>((real.get<double>() - since.get<double>()) / 1e9));
    if (uptime.empty()) uptime = std::to_string(static_cast<int64_t>(since.get<double>() / 1e9));
  }
  J f = J::object();
  f["OS"] = first({flat(at(osr, {"pretty_name"})), os_name, flat(at(host, {"os"})),
                   flat(in.inc({"affected_host", "identity", "os"}))});
  f["Kernel"] = first({flat(at(osr, {"kernel_release"})), flat(at(host, {"kernel", "release"})),
                       flat(in.inc({"affected_host", "identity", "kernel", "release"}))});
  f["Booted"] = boot.empty() ? J() : J(utc_text(boot));
  f["Uptime at collection"] = uptime.empty() ? J() : J(seconds_text(uptime));
  return f;
}

namespace {

// The identities of incident.json by pid.
std::map<int, const J*> identities_by_pid(const Inputs& in) {
  std::map<int, const J*> by_pid;
  const J& grid = in.inc({"grid_identities"});
  if (grid.is_array())
    for (const auto& g : grid)
      if (g.is_object() && g.contains("pid") && g["pid"].is_number_integer())
        by_pid.emplace(g["pid"].get<int>(), &g);
  return by_pid;
}

// Addresses the scans found as indicators (to flag a target's sockets).
std::set<std::string> indicator_addresses(const Inputs& in) {
  std::set<std::string> out;
  for (const auto& [rel, f] : in.findings) {
    const std::string type = str(at(f, {"ioc", "type"}));
    if (type == "ipv4" || type == "ipv6") out.insert(str(at(f, {"ioc", "value"})));
  }
  return out;
}

std::string endpoint_address(const std::string& ep) {
  if (!ep.empty() && ep[0] == '[') return ep.substr(1, ep.find(']') - 1);
  const size_t c = ep.rfind(':');
  return c != std::string::npos && ep.find(':') == c ? ep.substr(0, c) : ep;
}

std::string core_size(const Inputs& in, const std::string& core) {
  const J& evidence = in.inc({"evidence"});
  if (!core.empty() && evidence.is_array())
    for (const auto& e : evidence)
      if (str(at(e, {"path"})) == core) return flat(at(e, {"size"}));
  return "";
}

J target_table(const Inputs& in) {
  J t = table({"pid", "user", "DN", "VO / FQANs", "batch job", "executable", "exe sha256",
               "started (UTC)", "remote sockets", "frozen", "memory", "killed", "core size"});
  const auto ids = identities_by_pid(in);
  const auto bad = indicator_addresses(in);
  const J grid = grid_identity_table(in);
  for (const auto& p : *in.targets) {
    std::string dn, vo, job;
    if (auto it = ids.find(p.pid); it != ids.end()) {
      const J& g = *it->second;
      dn = flat(at(g, {"dn"}));
      vo = flat(at(g, {"vo"}));
      if (!flat(at(g, {"fqans"})).empty())
        vo += (vo.empty() ? "" : " ") + ("(" + flat(at(g, {"fqans"})) + ")");
      for (const auto& row : grid["rows"])
        if (str(row[0]) == std::to_string(p.pid)) job = str(row[5]);
    }
    std::string sockets;
    for (const auto& ep : p.remote_endpoints)
      sockets += (sockets.empty() ? "" : ", ") + ep +
                 (bad.count(endpoint_address(ep)) ? " ⚠ indicator" : "");
    add_row(t, {std::to_string(p.pid),
                p.user.empty() ? "uid " + std::to_string(p.uid)
                               : p.user + " (uid " + std::to_string(p.uid) + ")",
                dn, vo, job, p.exe + (p.exe_deleted ? " (deleted)" : ""), p.exe_sha256, p.start_utc,
                sockets.empty() ? "none" : sockets, p.frozen.empty() ? "not frozen" : p.frozen,
                p.core.empty() ? "not dumped" : "dumped: " + p.core,
                p.kill_result.empty() ? "not killed" : p.kill_result, core_size(in, p.core)});
  }
  return t;
}

J hits_table(const Inputs& in, size_t max) {
  J t = table({"indicator", "value", "where", "detail", "scan"});
  for (const auto& [rel, f] : in.findings) {
    if (t["rows"].size() >= max) {
      t["more"] = in.findings.size() - max;
      break;
    }
    const std::string where = f.contains("path")  ? flat(f["path"])
                              : f.contains("pid") ? "pid " + flat(f["pid"])
                                                  : flat(f.value("pcap", J()));
    const bool ioc = f.contains("ioc");
    const std::string type =
        ioc ? flat(at(f, {"ioc", "type"})) : "yara " + flat(f.value("rule", J()));
    const std::string detail = f.contains("text")     ? flat(f["text"])
                               : f.contains("remote") ? flat(f["remote"])
                                                      : flat(f.value("match", J()));
    add_row(t, {type, ioc ? flat(at(f, {"ioc", "value"})) : "", where, detail, rel});
  }
  return t;
}

// The SSH-log coverage against SEC01's six months (incident.json ssh_logs).
J ssh_block(const Inputs& in) {
  J b;
  const J& ssh = in.inc({"ssh_logs"});
  if (!ssh.is_object()) {
    b["text"] = kNotCollected;
    return b;
  }
  if (!ssh.contains("days")) {
    b["text"] = flat(ssh.value("note", J(kNotCollected)));
    return b;
  }
  const std::string days = flat(ssh["days"]);
  const J& lines = at(ssh, {"sshd_lines"});
  std::string verdict;
  if (lines.is_number() && lines.get<double>() == 0)
    verdict = "No sshd line in the logs copied: SEC01's six months are not covered.";
  else if (at(ssh, {"sec01_six_months"}) == J(true))
    verdict = "The sshd lines reach back " + days + " days: SEC01's six months are covered.";
  else
    verdict = "The sshd lines reach back " + days +
              " days only: less than the six months SEC01 asks (ask for older logs, e.g. a "
              "central syslog).";
  if (ssh.contains("journal_note")) verdict += " " + flat(ssh["journal_note"]);
  if (ssh.contains("note")) verdict += " " + flat(ssh["note"]);
  b["text"] = printable(verdict, 1000);
  J t = table({"oldest sshd line (UTC)", "newest (UTC)", "days back", "span (days)", "sshd lines",
               "files read"});
  add_row(t, {flat(ssh.value("oldest", J())), flat(ssh.value("newest", J())), days,
              flat(ssh.value("span_days", J())), flat(lines), flat(ssh.value("files", J()))});
  b["table"] = t;
  return b;
}

J block(const std::string& id, const std::string& title) {
  J b;
  b["id"] = id;
  b["title"] = title;
  return b;
}

}  // namespace

J first_screen(const Inputs& in) {
  J out = J::array();
  J host = block("host", "Host");
  J ht = table({"host", "OS", "kernel", "booted (UTC)", "uptime", "collected (UTC)"},
               {"text", "text", "text", "text", "text", "utc"});
  const J facts = host_facts(in);
  auto or_nc = [](const J& v) { return v.is_null() ? std::string(kNotCollected) : str(v); };
  std::string name = flat(in.inc({"affected_host", "hostname"}));
  if (name.empty() || name == kHuman) name = flat(at(in.env, {"host", "hostname"}));
  add_row(ht, {name.empty() ? kNotCollected : name, or_nc(facts["OS"]), or_nc(facts["Kernel"]),
               or_nc(facts["Booted"]), or_nc(facts["Uptime at collection"]), in.collected_utc});
  host["table"] = ht;
  out.push_back(host);

  J targets = block("targets", "Targets");
  if (!in.targets)
    targets["text"] =
        std::string(kNotCollected) + " (" + std::string(layout::kIncident) + " lists no processes)";
  else if (in.targets->empty())
    targets["text"] = "no target process (a collection of the host only)";
  else
    targets["table"] = target_table(in);
  out.push_back(targets);

  J hits = block("hits", "Indicator hits");
  if (in.findings.empty())
    hits["text"] =
        "none: no scan findings in this bundle (" + std::string(layout::kScansDir) + "/)";
  else
    hits["table"] = hits_table(in, 50);
  if (hits.contains("table") && hits["table"].contains("more"))
    hits["text"] = flat(hits["table"]["more"]) + " more in the findings table";
  out.push_back(hits);

  J ssh = ssh_block(in);
  J s = block("ssh", "SSH-log coverage (SEC01: six months)");
  for (auto& [k, v] : ssh.items()) s[k] = v;
  out.push_back(s);
  return out;
}

namespace {

// Walks the action log into steps. Artefact rows are logged when a row ends: the actions since
// the previous row (or artifacts.begin) belong to the row, and the row's time starts there; the
// artefact step's own lines (begin, end, the summary) make one "artifacts (all rows)" step that
// also adds up the rows.
class StepWalk {
 public:
  void feed(const J& a) {
    const std::string action = str(at(a, {"action"}));
    if (action == "artifacts.begin") {
      close_total();
      total_ = Step();
      total_.name = "artifacts (all rows)";
      total_.target = str(at(a, {"target"}));
      total_.add(a);
      total_open_ = in_rows_ = true;
      row_start_ = action_seconds(a);
    } else if (action == "artifacts.row") {
      row_.add(a);
      if (!std::isnan(row_start_)) row_.first = row_start_;
      row_start_ = action_seconds(a);
      row_.name = "artifacts";
      row_.target = str(at(a, {"target"}));
      row_.result = str(at(a, {"result"}));
      row_.problems = std::max(row_.problems, row_problems(row_.result));
      total_.files += row_.files;
      total_.bytes += row_.bytes;
      total_.problems += row_.problems;
      steps_.push_back(row_);
      row_ = Step();
    } else if (action == "artifacts.end" || action == "artifacts") {
      absorb_row();
      total_.add(a);
      append_result(total_, str(at(a, {"result"})));
      in_rows_ = false;
    } else if (in_rows_) {
      row_.add(a);
    } else {
      other(a, action);
    }
  }
  std::vector<Step> finish() {
    absorb_row();
    close_total();
    for (auto& [name, e] : early_) {  // files whose step never logged its own line
      e.name = name;
      steps_.push_back(e);
    }
    return std::move(steps_);
  }

 private:
  static void append_result(Step& s, const std::string& r) {
    if (!r.empty() && s.result.find(r) == std::string::npos && s.result.size() < 300)
      s.result += (s.result.empty() ? "" : "; ") + r;
  }
  // What was logged after the last row: part of the artefact step, not of a row.
  void absorb_row() {
    if (!row_.actions) return;
    total_.actions += row_.actions;
    total_.files += row_.files;
    total_.bytes += row_.bytes;
    total_.problems += row_.problems;
    row_ = Step();
  }
  void close_total() {
    if (total_open_) steps_.push_back(total_);
    total_open_ = false;
  }
  void other(const J& a, const std::string& action) {
    const std::string step = step_of(action);
    if (!step.empty()) close_total();
    if (action == "bundle.add") {
      const std::string owner = owner_of_file(str(at(a, {"result"})));
      if (!owner.empty() && (steps_.empty() || steps_.back().name != owner)) {
        early_[owner].add(a);  // before its step's own line
        return;
      }
    }
    if (!step.empty() && (steps_.empty() || steps_.back().name != step)) {
      steps_.push_back(Step());
      steps_.back().name = step;
      steps_.back().target = str(at(a, {"target"}));
      if (auto e = early_.find(step); e != early_.end()) {
        steps_.back().merge(e->second);
        early_.erase(e);
      }
    }
    if (total_open_) {  // a file added after the artefact step's end
      total_.add(a);
      return;
    }
    if (steps_.empty()) steps_.push_back(Step());
    steps_.back().add(a);
    if (!step.empty()) append_result(steps_.back(), str(at(a, {"result"})));
  }

  std::vector<Step> steps_;
  std::map<std::string, Step> early_;  // files of a step not begun yet, by step
  Step row_, total_;
  bool in_rows_ = false, total_open_ = false;
  double row_start_ = NAN;
};

}  // namespace

J action_summary(const Inputs& in) {
  J t = table({"step", "target", "actions", "files", "bytes", "problems", "duration", "result"},
              {"text", "text", "text", "text", "bytes", "text", "seconds", "text"});
  StepWalk walk;
  for (const auto& a : in.actions)
    if (a.is_object()) walk.feed(a);
  for (const auto& s : walk.finish()) add_step_row(t, s);
  return t;
}

}  // namespace forage::bundle::detail
