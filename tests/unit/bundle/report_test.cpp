// bundle report: a bundle written by BundleWriter with crafted (and hostile) meta files, read
// back, verified, and rendered; escaping of everything that came from the bundle.
#include "bundle/report.h"

#include <gtest/gtest.h>

#include "bundle/report_internal.h"
#include "bundle/writer.h"
#include "common/file.h"
#include "test_util.h"

namespace forage::bundle {
namespace {

using detail::is_table;
using detail::J;
using detail::str;
using test::TempDir;

const char* kIncident = R"({
  "case_id": "EGI-20261123-01", "tlp": "TLP:RED",
  "detection": {"detected_by": "site monitoring </script><script>alert(1)</script>",
                "detected_utc": {"value": "TO BE COMPLETED BY A HUMAN", "question": "When?"}},
  "affected_host": {"hostname": "wn01<b>"},
  "grid_identities": ["/DC=org/DC=example/CN=Bad User"],
  "processes": [{"pid": 4242, "ppid": 1, "user": "bad", "exe": "/tmp/.x/kswapd0",
                 "cmdline": "kswapd0 <img src=x onerror=alert(1)>", "start_utc": "2026-11-23T10:00:00Z",
                 "remote_endpoints": ["203.0.113.5:4444"]}],
  "evidence": [{"path": "data/volatile/sockets.json", "utc": "2026-11-23T12:00:00Z", "what": "sockets", "sha256": "00", "size": 2}]
})";

std::string make_bundle(const TempDir& t, bool with_incident, const std::string& scans,
                        const std::string& incident = kIncident) {
  WriterOptions o;
  o.out = t / "b.tar";
  o.case_id = "EGI-20261123-01";
  o.host = "wn01";
  o.unsigned_ok = true;
  o.environment = {
      {"clocks", {{"realtime_ns", 2000000000000000000ull}, {"boottime_ns", 1000000000000ull}}}};
  BundleWriter w(std::move(o));
  if (with_incident) w.add_blob("meta/incident.json", incident);
  w.add_blob(
      "data/volatile/sockets.json",
      R"([{"proto":"tcp","local":"10.0.0.1:5555","remote":"203.0.113.5:4444","state":"ESTABLISHED","uid":1000,"pids":[4242]}])");
  w.add_blob(
      "data/volatile/processes.json",
      R"([{"pid":4242,"ppid":1,"uid":1000,"comm":"kswapd0","cmdline":["kswapd0","-o","pool"],"start_seconds_after_boot":100.5}])");
  if (!scans.empty()) w.add_blob("data/scans/sweep.jsonl", scans);
  w.note("operator note");
  return w.finish();
}

VerifyOptions lenient() {
  VerifyOptions v;
  v.allow_unsigned = true;
  return v;
}

TEST(BundleReport, GuidelineSectionsTimelineAndTables) {
  TempDir t;
  std::string scans =
      R"({"kind":"ioc","path":"/var/log/auth.log","line":3,"log":"auth","ioc":{"type":"ipv4","value":"203.0.113.5"},"text":"Nov 23 09:58:01 wn01 sshd[1]: Accepted publickey for bad from 203.0.113.5","phase":"logs"})"
      "\n"
      R"({"kind":"ioc","path":"/var/log/slurmctld.log","line":1,"log":"slurm","ioc":{"type":"x509-dn","value":"/DC=org/DC=example/CN=Bad User"},"text":"[2026-11-23T09:59:00.000] job by DN","phase":"logs"})"
      "\n"
      R"({"kind":"summary","scan":"sweep"})"
      "\n";
  auto b = read_bundle_for_report(make_bundle(t, true, scans), lenient());
  ASSERT_TRUE(b.verify.valid());
  auto r = build_report(b);
  EXPECT_EQ(r["tlp"], "TLP:RED");
  EXPECT_EQ(r["case"], "EGI-20261123-01");
  EXPECT_EQ(r["verification"]["verdict"], "VALID (UNSIGNED: origin not proven)");
  std::vector<std::string> ids;
  for (const auto& s : r["sections"]) ids.push_back(s["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"detection", "hosts", "appliance", "dns", "entry", "ips",
                                           "evidence", "lost", "sites", "vulns", "actions"}));
  // Timeline: sorted; the process start (boot + 100.5 s), the login from the log, the
  // connection at the snapshot time, forage's own actions.
  std::map<std::string, std::string> first;
  std::string prev;
  for (const auto& e : r["timeline"]) {
    std::string utc = e["utc"];
    EXPECT_LE(prev, utc);
    prev = utc;
    if (!first.count(e["kind"])) first[e["kind"]] = utc + " " + std::string(e["what"]);
  }
  EXPECT_EQ(first["process"], "2033-05-18T03:18:20Z pid 4242 started: kswapd0 -o pool");
  EXPECT_EQ(first["login"].substr(0, 21), "2026-11-23T09:58:01Z ");
  EXPECT_EQ(first["log"].substr(0, 21), "2026-11-23T09:59:00Z ");
  EXPECT_EQ(first["connection"].substr(0, 21), "2026-11-23T12:00:00Z ");
  EXPECT_TRUE(first.count("action"));
  EXPECT_EQ(r["tables"]["findings"]["rows"].size(), 2u);
  EXPECT_EQ(r["tables"]["processes"]["rows"][0][0], "4242");
  std::string ips = r["sections"][5]["items"][0]["value"].dump();
  EXPECT_NE(ips.find("203.0.113.5:4444"), std::string::npos);
  EXPECT_NE(ips.find("203.0.113.5 (indicator found in logs)"), std::string::npos);
  EXPECT_EQ(r["sections"][0]["items"][1]["state"], "human");
}

TEST(BundleReport, MissingFilesAreNotCollected) {
  TempDir t;
  auto b = read_bundle_for_report(make_bundle(t, false, ""), lenient());
  auto r = build_report(b);
  EXPECT_EQ(r["tlp"], "TLP:AMBER");  // nothing said: handled as AMBER
  std::string nc = r["not_collected"].dump();
  EXPECT_NE(nc.find("meta/incident.json: not collected"), std::string::npos);
  EXPECT_NE(nc.find("data/scans/"), std::string::npos);
  EXPECT_EQ(r["sections"][0]["items"][0]["state"], "not collected");
  // Still renders in every form.
  EXPECT_NE(report_markdown(r).find("not collected"), std::string::npos);
  EXPECT_NE(report_html(r).find("</html>"), std::string::npos);
}

TEST(BundleReport, HostileTextIsEscapedInEveryForm) {
  TempDir t;
  auto r = build_report(read_bundle_for_report(make_bundle(t, true, ""), lenient()));
  std::string html = report_html(r);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  // Exactly the two scripts of the report: the data block and the code.
  size_t scripts = 0;
  for (size_t p = html.find("<script"); p != std::string::npos; p = html.find("<script", p + 1))
    ++scripts;
  EXPECT_EQ(scripts, 2u);
  std::string md = report_markdown(r);
  EXPECT_EQ(md.find("<img"), std::string::npos);
  EXPECT_EQ(md.rfind("**TLP:RED**", 0), 0u);
  EXPECT_EQ(md.substr(md.size() - 12), "**TLP:RED**\n");
}

// The code spans of one line, read as CommonMark reads them (6.1): an opening run of n backticks
// ends at the next run of exactly n; one space is stripped from each end when both ends are
// spaces and the content is not all spaces. An opening run with no closing run is
// "<unmatched>".
std::vector<std::string> code_spans(const std::string& line) {
  std::vector<std::string> spans;
  auto run_at = [&](size_t i) {
    size_t n = 0;
    while (i + n < line.size() && line[i + n] == '`') ++n;
    return n;
  };
  for (size_t i = 0; i < line.size();) {
    if (line[i] == '\\') {  // a backslash-escaped backtick opens nothing
      i += 2;
      continue;
    }
    size_t open = run_at(i);
    if (open == 0) {
      ++i;
      continue;
    }
    size_t j = i + open;
    while (j < line.size()) {
      size_t n = run_at(j);
      if (n == open) break;
      j += n ? n : 1;
    }
    if (j >= line.size()) {
      spans.push_back("<unmatched>");
      i += open;
      continue;
    }
    std::string c = line.substr(i + open, j - i - open);
    if (c.size() >= 2 && c.front() == ' ' && c.back() == ' ' &&
        c.find_first_not_of(' ') != std::string::npos)
      c = c.substr(1, c.size() - 2);
    spans.push_back(c);
    i = j + open;
  }
  return spans;
}

std::string line_starting(const std::string& text, const std::string& prefix) {
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return "";
  at += 1;
  return text.substr(at, text.find('\n', at) - at);
}

TEST(BundleReport, MarkdownEscapeAndCodeSpans) {
  // Ordinary values are left as they were.
  EXPECT_EQ(md_escape("TLP:AMBER"), "TLP:AMBER");
  EXPECT_EQ(md_escape("203.0.113.5:4444 (indicator found in logs) -o pool"),
            "203.0.113.5:4444 (indicator found in logs) -o pool");
  EXPECT_EQ(md_escape("-bash"), "-bash");
  EXPECT_EQ(md_code("/tmp/b.tar"), "`/tmp/b.tar`");
  // HTML, entities, Markdown punctuation, table cells, line breaks.
  EXPECT_EQ(md_escape("<img src=x onerror=alert(1)>"), "&lt;img src=x onerror=alert(1)&gt;");
  EXPECT_EQ(md_escape("&lt;b&gt; & x"), "&amp;lt;b&amp;gt; &amp; x");
  EXPECT_EQ(md_escape("a|b\nc\r"), "a\\|b\\\\nc\\\\x0d");
  EXPECT_EQ(md_escape("*x* _y_ `z` [l](u) ~~s~~ # \\"),
            "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\~\\~s\\~\\~ \\# \\\\");
  // Block markers at the start: a value is never a list, a rule or indented code.
  EXPECT_EQ(md_escape("- x"), "\\- x");
  EXPECT_EQ(md_escape("+"), "\\+");
  EXPECT_EQ(md_escape("12. x"), "12\\. x");
  EXPECT_EQ(md_escape("1) x"), "1\\) x");
  EXPECT_EQ(md_escape("---"), "\\---");
  EXPECT_EQ(md_escape("    code"), "&#32;   code");
  EXPECT_EQ(md_escape(std::string(5000, 'a')).size(), 2003u);  // capped: 2000 and "..."
  // Code spans: a longer fence than any run inside, padded next to a backtick.
  EXPECT_EQ(md_code("a`b"), "``a`b``");
  EXPECT_EQ(md_code("a``b`"), "``` a``b` ```");
  EXPECT_EQ(md_code("`x"), "`` `x ``");
  EXPECT_EQ(md_code(" a "), "`  a  `");
  EXPECT_EQ(md_code(""), "` `");
  EXPECT_EQ(md_code("a\nb"), "`a\\nb`");
  for (std::string v : {"a`b", "a``b`", "`x", "x`", "``", " a ", "`", "a ``` b"})
    EXPECT_EQ(code_spans("x " + md_code(v) + " y"), std::vector<std::string>{v}) << v;
}

// A hostile bundle: its TLP field is HTML, its case and its names hold backticks. The Markdown
// has no raw HTML at all, and every code span holds exactly the name.
TEST(BundleReport, HostileNamesAndTlpInMarkdown) {
  TempDir t;
  std::string incident = kIncident;
  incident.replace(incident.find("\"TLP:RED\""), 9, R"("<img src=x onerror=alert(1)>")");
  incident.replace(incident.find("EGI-20261123-01"), 15, "EGI`1``x | y");
  const std::string path = t / "b`x``y.tar";
  write_output(path, read_file(make_bundle(t, true, "", incident)));
  auto r = build_report(read_bundle_for_report(path, lenient()));
  EXPECT_EQ(r["tlp"], "TLP:<img src=x onerror=alert(1)>");
  r["bag"] = "`bag``x`";  // a crafted tar names its top directory freely
  const std::string md = report_markdown(r);
  EXPECT_EQ(md.find("<img"), std::string::npos);
  EXPECT_EQ(md.find('<'), std::string::npos);  // no HTML of any kind
  const std::string tlp = "**TLP:&lt;img src=x onerror=alert(1)&gt;**\n";
  EXPECT_EQ(md.rfind(tlp, 0), 0u);
  EXPECT_EQ(md.substr(md.size() - tlp.size()), tlp);
  EXPECT_NE(md.find("\n\n" + tlp + "\n"), std::string::npos);  // the closure's too
  EXPECT_NE(md.find("# Incident report — EGI\\`1\\`\\`x \\| y\n"), std::string::npos);
  const std::string bundle_line = line_starting(md, "Bundle: ");
  ASSERT_FALSE(bundle_line.empty());
  EXPECT_EQ(code_spans(bundle_line), (std::vector<std::string>{path, "`bag``x`"}));
  // The HTML report says the same, escaped its own way.
  EXPECT_EQ(report_html(r).find("<img"), std::string::npos);
}

TEST(BundleReport, JsonForScriptCannotCloseTheScript) {
  ReportJson j;
  j["x"] = "</script><!-- & -->";
  std::string s = json_for_script(j);
  EXPECT_EQ(s.find('<'), std::string::npos);
  EXPECT_EQ(s.find('&'), std::string::npos);
  EXPECT_EQ(ReportJson::parse(s)["x"], "</script><!-- & -->");
  EXPECT_EQ(html_escape("<a href=\"x\">'&"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;");
}

TEST(BundleReport, DamagedBundleIsReportedNotThrown) {
  TempDir t;
  std::string path = make_bundle(t, true, "");
  std::string data = read_file(path);
  // Flip a byte inside meta/incident.json's data: verification fails, the member is not used.
  size_t at = data.find("site monitoring");
  ASSERT_NE(at, std::string::npos);
  data[at] = 'S';
  write_output(t / "bad.tar", data);
  auto b = read_bundle_for_report(t / "bad.tar", lenient());
  EXPECT_FALSE(b.verify.valid());
  auto r = build_report(b);
  EXPECT_EQ(r["verification"]["verdict"], "INVALID");
  EXPECT_FALSE(b.members.count("meta/incident.json"));
  EXPECT_NE(report_html(r).find("class=\"invalid\""), std::string::npos);
  // Not a tar at all.
  write_output(t / "junk.tar", std::string(3000, 'x'));
  auto j = read_bundle_for_report(t / "junk.tar", lenient());
  EXPECT_FALSE(j.verify.valid());
  EXPECT_NO_THROW(build_report(j));
}

// A compromised node's incident.json: nested 200,000 deep, or with targets of the wrong shape. The
// report is built and names what it left out (before: a stack overflow, an internal type_error).
TEST(BundleReport, HostileIncidentJsonIsNamedNotFatal) {
  TempDir t;
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  auto r = build_report(read_bundle_for_report(make_bundle(t, true, "", deep), lenient()));
  EXPECT_NE(r["notes"].dump().find("meta/incident.json: JSON nested deeper than 256 levels"),
            std::string::npos);
  TempDir t2;
  auto r2 = build_report(read_bundle_for_report(
      make_bundle(t2, true, "", R"({"processes":[1,{"pid":"x"},{"pid":7,"user":"u"}]})"),
      lenient()));
  std::string notes = r2["notes"].dump();
  EXPECT_NE(notes.find("processes[0]: expected an object; left out"), std::string::npos);
  EXPECT_NE(notes.find("processes[1]: pid: expected an integer; left out"), std::string::npos);
  EXPECT_NE(report_markdown(r2).find("| 7 |"), std::string::npos);  // the good one is a row
}

// ------------------------------------------------------------ issue 15: reports for people

// A collection of today: a target with a grid identity (DN, VO, jobs), a deleted executable, a
// socket to an indicator address, a core; the environment's os_release; SSH-log coverage; the
// credentials exposed as records.
const char* kIncidentNow = R"J({
  "case_id": "EGI-20261207-01", "tlp": "TLP:AMBER",
  "collection": {"started_utc": "2026-12-07T09:30:22Z"},
  "affected_host": {"hostname": "wn042"},
  "affected_users": [{"user": "alice", "uid": 1000, "source": "owner of target pid 4903"}],
  "grid_identities": [{"pid": 4903, "batch_system": "slurm", "job_id": "777",
    "dn": "/DC=org/DC=example/CN=Alice <script>|x", "vo": "dteam", "fqans": ["/dteam/Role=NULL"],
    "not_after": "2027-01-06T09:30:21Z", "source": "data/grid/4903/grid.json",
    "jobs": [{"system": "slurm", "id": "777", "variable": "SLURM_JOB_ID", "role": "batch"},
             {"system": "dirac", "id": "12345", "variable": "DIRACJOBID", "role": "payload"}]}],
  "processes": [{"pid": 4903, "ppid": 1, "uid": 1000, "user": "alice", "exe": "/tmp/.x/kswapd0",
    "exe_deleted": true, "exe_sha256": "f1ee188b790e43cac8701a497db3c780abc4557ec9c5f55b0d11a49de3958347",
    "cmdline": "kswapd0", "start_utc": "2026-12-07T09:00:00Z",
    "remote_endpoints": ["203.0.113.5:4444", "198.51.100.7:80"], "frozen": "cgroup freezer",
    "core": "data/memory/4903/core", "killed": "killed"}],
  "evidence": [{"path": "data/memory/4903/core", "utc": "2026-12-07T09:30:23Z", "what": "core",
                "sha256": "709d831fc728117bb03af7e8f7433c2587f61e35b067d0c724ff58fffda6d124", "size": 16953344}],
  "lost": {"credentials_exposed": [{"kind": "x509-proxy", "dn": "/DC=org/CN=Alice", "path": "/tmp/x509up_u1000",
             "valid_until": "2027-01-06T09:30:21Z", "private_key_present": true}],
           "not_collected": ["/home/alice: permission denied"]},
  "ssh_logs": {"oldest": "2026-11-01T00:00:00Z", "newest": "2026-12-07T09:00:00Z", "days": 36.4,
               "span_days": 36.4, "sec01_six_months": false, "sshd_lines": 120,
               "files": ["/var/log/auth.log"], "remote_ips": [], "accepted": []}
})J";

std::string make_bundle_now(const TempDir& t, const std::string& scans) {
  WriterOptions o;
  o.out = t / "now.tar";
  o.case_id = "EGI-20261207-01";
  o.host = "wn042";
  o.unsigned_ok = true;
  o.environment = ReportJson::parse(R"J({
    "host": {"hostname": "wn042", "kernel": {"release": "6.1.0-28-amd64"},
             "os_release": {"name": "Debian GNU/Linux", "version": "12 (bookworm)", "id": "debian",
                            "pretty_name": "Debian GNU/Linux 12 (bookworm)",
                            "kernel_release": "6.1.0-28-amd64", "uptime_seconds": 90061.5,
                            "boot_utc": "2026-12-06T08:29:21Z"}},
    "clocks": {"realtime_ns": 1796635822000000000, "boottime_ns": 90061500000000}})J");
  BundleWriter w(std::move(o));
  w.add_blob("meta/incident.json", kIncidentNow);
  if (!scans.empty()) w.add_blob("data/scans/sweep.jsonl", scans);
  return w.finish();
}

// The visible text of an HTML page: tags, scripts and styles left out, entities decoded for the
// characters the tests look for.
std::string visible_text(const std::string& html) {
  std::string out;
  size_t i = 0;
  while (i < html.size()) {
    if (html.compare(i, 7, "<script") == 0 || html.compare(i, 6, "<style") == 0) {
      const std::string end = html.compare(i, 7, "<script") == 0 ? "</script>" : "</style>";
      size_t e = html.find(end, i);
      i = e == std::string::npos ? html.size() : e + end.size();
    } else if (html[i] == '<') {
      size_t e = html.find('>', i);
      i = e == std::string::npos ? html.size() : e + 1;
      out += ' ';
    } else {
      out += html[i++];
    }
  }
  for (auto [from, to] : {std::pair<std::string, std::string>{"&quot;", "\""},
                          {"&lt;", "<"},
                          {"&gt;", ">"},
                          {"&#39;", "'"},
                          {"&amp;", "&"}})
    for (size_t p = out.find(from); p != std::string::npos; p = out.find(from, p + to.size()))
      out.replace(p, from.size(), to);
  return out;
}

// Markdown outside code spans and code blocks.
std::string outside_code(const std::string& md) {
  std::string out;
  bool in_code = false;
  for (size_t i = 0; i < md.size(); ++i) {
    if (md[i] == '\\' && i + 1 < md.size()) {
      out += md.substr(i, 2);
      ++i;
      continue;
    }
    if (md[i] == '`') {
      in_code = !in_code;
      continue;
    }
    if (!in_code) out += md[i];
  }
  return out;
}

TEST(BundleReport, FirstScreenTargetsHitsSshAndMissing) {
  TempDir t;
  const std::string scans =
      R"J({"kind":"ioc","pid":4903,"remote":"203.0.113.5:4444","ioc":{"type":"ipv4","value":"203.0.113.5"},"phase":"net","match":"remote"})J"
      "\n";
  auto r = build_report(read_bundle_for_report(make_bundle_now(t, scans), lenient()));
  std::vector<std::string> ids;
  for (const auto& b : r["summary"]) ids.push_back(b["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"host", "targets", "hits", "ssh"}));
  // JSON order: the first screen, then what is missing, then the Guideline.
  std::vector<std::string> keys;
  for (const auto& [k, v] : r.items()) keys.push_back(k);
  auto pos = [&](const std::string& k) {
    return std::find(keys.begin(), keys.end(), k) - keys.begin();
  };
  EXPECT_LT(pos("summary"), pos("not_collected"));
  EXPECT_LT(pos("not_collected"), pos("sections"));

  const J& host = r["summary"][0]["table"]["rows"][0];
  EXPECT_EQ(host[0], "wn042");
  EXPECT_EQ(host[1], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(host[2], "6.1.0-28-amd64");
  EXPECT_EQ(host[3], "2026-12-06 08:29:21 UTC");
  EXPECT_EQ(host[4], "1 d 01 h");

  const J& tt = r["summary"][1]["table"];
  EXPECT_EQ(tt["columns"][0], "pid");
  const J& row = tt["rows"][0];
  EXPECT_EQ(row[0], "4903");
  EXPECT_EQ(row[1], "alice (uid 1000)");
  EXPECT_EQ(row[2], "/DC=org/DC=example/CN=Alice <script>|x");
  EXPECT_EQ(row[3], "dteam (/dteam/Role=NULL)");
  EXPECT_EQ(row[4], "slurm 777 (SLURM_JOB_ID, batch); dirac 12345 (DIRACJOBID, payload)");
  EXPECT_EQ(row[5], "/tmp/.x/kswapd0 (deleted)");
  EXPECT_EQ(row[6], "f1ee188b790e43cac8701a497db3c780abc4557ec9c5f55b0d11a49de3958347");
  EXPECT_EQ(tt["formats"][6], "hash");
  EXPECT_EQ(row[7], "2026-12-07T09:00:00Z");
  EXPECT_EQ(row[8], "203.0.113.5:4444 ⚠ indicator, 198.51.100.7:80");
  EXPECT_EQ(row[9], "cgroup freezer");
  EXPECT_EQ(row[10], "dumped: data/memory/4903/core");
  EXPECT_EQ(row[11], "killed");
  EXPECT_EQ(row[12], "16953344");
  EXPECT_EQ(tt["formats"][12], "bytes");

  EXPECT_EQ(r["summary"][2]["table"]["rows"][0][1], "203.0.113.5");
  const std::string ssh = r["summary"][3]["text"];
  EXPECT_NE(ssh.find("reach back 36.4 days only: less than the six months SEC01 asks"),
            std::string::npos)
      << ssh;
  EXPECT_NE(r["not_collected"].dump().find("/home/alice: permission denied"), std::string::npos);

  // Markdown: the first screen comes before the Guideline; units, zones, short hashes with the
  // full value in a footnote; no JSON outside code.
  const std::string md = report_markdown(r);
  const size_t targets = md.find("## Targets\n");
  ASSERT_NE(targets, std::string::npos);
  EXPECT_LT(md.find("## Host\n"), targets);
  EXPECT_LT(targets, md.find("## Indicator hits\n"));
  EXPECT_LT(md.find("## Indicator hits\n"), md.find("## SSH-log coverage"));
  EXPECT_LT(md.find("## SSH-log coverage"), md.find("## Not collected\n"));
  EXPECT_LT(md.find("## Not collected\n"), md.find("## Who detected"));
  EXPECT_NE(md.find("| 4903 | alice (uid 1000) | /DC=org/DC=example/CN=Alice &lt;script&gt;\\|x | "
                    "dteam (/dteam/Role=NULL) | slurm 777 (SLURM\\_JOB\\_ID, batch); dirac 12345 "
                    "(DIRACJOBID, payload) | /tmp/.x/kswapd0 (deleted) | f1ee188b790e…¹ | "
                    "2026-12-07 09:00:00 UTC | 203.0.113.5:4444 ⚠ indicator, 198.51.100.7:80 | "
                    "cgroup freezer | dumped: data/memory/4903/core | killed | 16 MiB |\n"),
            std::string::npos)
      << md.substr(targets, 1200);
  EXPECT_NE(md.find("- ¹ `f1ee188b790e43cac8701a497db3c780abc4557ec9c5f55b0d11a49de3958347`\n"),
            std::string::npos);
  EXPECT_EQ(outside_code(md).find("{\""), std::string::npos);
  EXPECT_EQ(md.find("<script>"), std::string::npos);

  // HTML: the same table, the full hash on hover, no JSON in the visible text.
  const std::string html = report_html(r);
  EXPECT_NE(html.find("<td class=\"nw\" "
                      "title=\"f1ee188b790e43cac8701a497db3c780abc4557ec9c5f55b0d11a49de3958347\""),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"nw\" data-sort=\"16953344\">16 MiB</td>"), std::string::npos);
  EXPECT_NE(html.find("CN=Alice &lt;script&gt;|x"), std::string::npos);
  const std::string text = visible_text(html);
  EXPECT_EQ(text.find("{\""), std::string::npos) << text.substr(text.find("{\""), 200);
  EXPECT_LT(html.find("id=\"first-targets\""), html.find("id=\"s-detection\""));
  EXPECT_NE(html.find("<details id=\"d-timeline\">"), std::string::npos);       // collapsed
  EXPECT_NE(html.find("@top-right{content:\"TLP:AMBER\""), std::string::npos);  // every page
}

// Guideline answers are tables with headers, not JSON: affected users, grid identities, the
// credentials exposed, the SSH-log coverage.
TEST(BundleReport, GuidelineRecordsAreTables) {
  TempDir t;
  auto r = build_report(read_bundle_for_report(make_bundle_now(t, ""), lenient()));
  auto find_item = [&](const std::string& label) -> const J& {
    for (const auto& s : r["sections"])
      for (const auto& i : s["items"])
        if (str(i["label"]) == label) return i;
    static const J none;
    return none;
  };
  const J& users = find_item("Affected users")["value"];
  ASSERT_TRUE(is_table(users)) << users.dump();
  EXPECT_EQ(users["columns"], J::parse(R"J(["user","uid","source"])J"));
  EXPECT_EQ(users["rows"][0], J::parse(R"J(["alice","1000","owner of target pid 4903"])J"));
  const J& dns = find_item("DNs and jobs of the targets")["value"];
  ASSERT_TRUE(is_table(dns));
  // Columns no identity has (uid and user: older collectors) are left out.
  EXPECT_EQ(
      dns["columns"],
      J::parse(
          R"J(["pid","DN","VO","FQANs","batch system","job id(s)","proxy valid until","source"])J"));
  EXPECT_EQ(dns["rows"][0][5],
            "slurm 777 (SLURM_JOB_ID, batch); dirac 12345 (DIRACJOBID, payload)");
  const J& creds = find_item("Credentials exposed")["value"];
  ASSERT_TRUE(is_table(creds));
  EXPECT_EQ(creds["columns"][3], "valid until");
  EXPECT_EQ(creds["formats"][3], "utc");
  EXPECT_EQ(creds["rows"][0][4], "yes");
  const J& os = find_item("OS");
  EXPECT_EQ(os["value"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(find_item("Booted")["value"], "2026-12-06 08:29:21 UTC");
  const J& ssh = find_item("SSH and login logs")["value"];
  ASSERT_TRUE(is_table(ssh));
  EXPECT_EQ(ssh["columns"], J::parse(R"J(["field","value"])J"));
  EXPECT_EQ(ssh["rows"][0], J::parse(R"J(["oldest","2026-11-01 00:00:00 UTC"])J"));
  const std::string md = report_markdown(r);
  EXPECT_NE(
      md.find(
          "| user | uid | source |\n|---|---|---|\n| alice | 1000 | owner of target pid 4903 |"),
      std::string::npos);
  EXPECT_NE(md.find("| x509-proxy | /DC=org/CN=Alice | /tmp/x509up\\_u1000 | 2027-01-06 09:30:21 "
                    "UTC | yes |"),
            std::string::npos);
}

// An old bundle: grid identities as strings, no os_release, no ssh_logs, no jobs: every new field
// is "not collected", nothing throws, no JSON appears.
TEST(BundleReport, OldBundlesWithoutTheNewFields) {
  TempDir t;
  auto r = build_report(read_bundle_for_report(make_bundle(t, true, ""), lenient()));
  EXPECT_EQ(r["summary"][0]["table"]["rows"][0][1], "not collected");  // OS
  EXPECT_EQ(r["summary"][0]["table"]["rows"][0][2], "not collected");  // kernel
  EXPECT_EQ(r["summary"][3]["text"], "not collected");                 // ssh
  const J& row = r["summary"][1]["table"]["rows"][0];
  EXPECT_EQ(row[0], "4242");
  EXPECT_EQ(row[2], "");  // no identity for the pid
  EXPECT_EQ(row[10], "not dumped");
  EXPECT_EQ(row[12], "");
  EXPECT_NE(r["not_collected"].dump().find("memory of pid 4242: not dumped"), std::string::npos);
  const std::string md = report_markdown(r);
  EXPECT_NE(md.find("| /DC=org/DC=example/CN=Bad User |"), std::string::npos);
  EXPECT_EQ(outside_code(md).find("{\""), std::string::npos);
  EXPECT_EQ(visible_text(report_html(r)).find("{\""), std::string::npos);
  // Nothing at all: still a first screen.
  TempDir t2;
  auto r2 = build_report(read_bundle_for_report(make_bundle(t2, false, ""), lenient()));
  EXPECT_EQ(r2["summary"][1]["text"], "not collected (meta/incident.json lists no processes)");
  EXPECT_NO_THROW(report_html(r2));
}

TEST(BundleReport, UnitsTimesAndHashesForPeople) {
  EXPECT_EQ(detail::utc_text("2026-12-07T09:30:22.497351724Z"), "2026-12-07 09:30:22 UTC");
  EXPECT_EQ(detail::utc_text("2026-12-07T09:30:22Z"), "2026-12-07 09:30:22 UTC");
  EXPECT_EQ(detail::utc_text("Jan  6 09:30:21 2027 GMT"), "Jan  6 09:30:21 2027 GMT");
  EXPECT_EQ(detail::utc_text(""), "");
  EXPECT_EQ(detail::utc_text("2026-99-07T09:30:22Z<b>"), "2026-99-07T09:30:22Z<b>");
  EXPECT_EQ(detail::bytes_text("0"), "0 bytes");
  EXPECT_EQ(detail::bytes_text("1"), "1 byte");
  EXPECT_EQ(detail::bytes_text("1023"), "1023 bytes");
  EXPECT_EQ(detail::bytes_text("1536"), "1.5 KiB");
  EXPECT_EQ(detail::bytes_text("16953344"), "16 MiB");
  EXPECT_EQ(detail::bytes_text("153743489"), "147 MiB");
  EXPECT_EQ(detail::bytes_text("5368709120"), "5.0 GiB");
  EXPECT_EQ(detail::bytes_text("12x"), "12x");
  EXPECT_EQ(detail::bytes_text("99999999999999999999999"), "99999999999999999999999");
  EXPECT_EQ(detail::seconds_text("0.046"), "0.05 s");
  EXPECT_EQ(detail::seconds_text("42"), "42 s");
  EXPECT_EQ(detail::seconds_text("185"), "3 min 05 s");
  EXPECT_EQ(detail::seconds_text("90061.5"), "1 d 01 h");
  EXPECT_EQ(detail::seconds_text("-1"), "-1");
  EXPECT_EQ(detail::seconds_text("nan"), "nan");
  EXPECT_EQ(detail::short_hash("00"), "00");
  EXPECT_EQ(detail::short_hash(std::string(64, 'a')), "aaaaaaaaaaaa…");
  EXPECT_EQ(detail::column_format("exe sha256"), "hash");
  EXPECT_EQ(detail::column_format("core size"), "bytes");
  EXPECT_EQ(detail::column_format("started (UTC)"), "utc");
  EXPECT_EQ(detail::column_format("user"), "text");
  // Nested values flattened for people, never JSON.
  EXPECT_EQ(detail::flat(J::parse(R"J({"user":"root","uid":0,"ok":true,"l":[1,"a"],"n":null})J")),
            "user: root; uid: 0; ok: yes; l: 1, a");
  J deep = J::parse(R"J([[[[[[[["x"]]]]]]]])J");
  EXPECT_EQ(detail::flat(deep).find("{\""), std::string::npos);
}

// The action log summarised: one row per step, an artefact row per row, counts, bytes, problems
// and durations from the log itself.
TEST(BundleReport, ActionSummaryByStep) {
  BundleForReport b;
  detail::Inputs in(b);
  const char* lines[] = {
      R"J({"seq":1,"utc":"2026-12-07T09:30:22.4Z","boottime_ns":1000000000,"action":"bundle.begin","target":"bag","result":"output x"})J",
      R"J({"seq":2,"utc":"2026-12-07T09:30:22.5Z","boottime_ns":1100000000,"action":"freeze","target":"pid 7","result":"SIGSTOP, verified stopped"})J",
      R"J({"seq":3,"utc":"2026-12-07T09:30:22.6Z","boottime_ns":1200000000,"action":"bundle.add","target":"(generated)","result":"data/volatile/host.json 1937 bytes sha256 14"})J",
      R"J({"seq":4,"utc":"2026-12-07T09:30:22.7Z","boottime_ns":1300000000,"action":"volatile.host","target":"/proc","result":"process table"})J",
      R"J({"seq":5,"utc":"2026-12-07T09:30:23.7Z","boottime_ns":2300000000,"action":"memory.plan","target":"pid 7","result":"106 segments"})J",
      R"J({"seq":6,"utc":"2026-12-07T09:30:24.7Z","boottime_ns":3300000000,"action":"bundle.add","target":"(generated)","result":"data/memory/7/core 16953344 bytes sha256 70"})J",
      R"J({"seq":7,"utc":"2026-12-07T09:30:24.8Z","boottime_ns":3400000000,"action":"memory.core","target":"pid 7","result":"complete"})J",
      R"J({"seq":8,"utc":"2026-12-07T09:30:25Z","action":"artifacts.begin","target":"/","result":"profile triage"})J",
      R"J({"seq":9,"utc":"2026-12-07T09:30:25.5Z","action":"artifacts.skip","target":"/etc/x","result":"symbolic link"})J",
      R"J({"seq":10,"utc":"2026-12-07T09:30:26Z","action":"bundle.add","target":"/etc/crontab","result":"data/host/etc/crontab 100 bytes sha256 aa"})J",
      R"J({"seq":11,"utc":"2026-12-07T09:30:27Z","action":"artifacts.row","target":"cron","result":"1 files copied, 100 bytes, 0 hashed only, 2 problems"})J",
      R"J({"seq":12,"utc":"2026-12-07T09:30:28Z","action":"artifacts.row","target":"wtmp","result":"0 files copied"})J",
      R"J({"seq":13,"utc":"2026-12-07T09:30:29Z","action":"artifacts.end","target":"/","result":"1 files"})J",
      R"J({"seq":14,"utc":"2026-12-07T09:30:30Z","action":"kill","target":"pid 7","result":"killed"})J",
      R"J(["not an object"])J"};
  for (const char* l : lines) in.actions.push_back(J::parse(l));
  const J t = detail::action_summary(in);
  EXPECT_EQ(
      t["columns"],
      J::parse(R"J(["step","target","actions","files","bytes","problems","duration","result"])J"));
  std::vector<std::string> steps;
  for (const auto& r : t["rows"]) steps.push_back(str(r[0]) + " " + str(r[1]));
  EXPECT_EQ(steps, (std::vector<std::string>{"begin bag", "freeze pid 7", "volatile /proc",
                                             "memory pid 7", "artifacts cron", "artifacts wtmp",
                                             "artifacts (all rows) /", "kill pid 7"}));
  // host.json was logged before volatile.host, after the freeze: it is the volatile step's
  // file (by its bag path), and the step's time starts with it.
  const J& freeze = t["rows"][1];
  EXPECT_EQ(freeze[3], "0");
  const J& vol = t["rows"][2];
  EXPECT_EQ(vol[2], "2");
  EXPECT_EQ(vol[3], "1");
  EXPECT_EQ(vol[4], "1937");
  EXPECT_EQ(vol[6], "0.100");
  const J& memory = t["rows"][3];
  EXPECT_EQ(memory[2], "3");
  EXPECT_EQ(memory[4], "16953344");
  EXPECT_EQ(memory[6], "1.100");  // boottime, not the UTC text
  EXPECT_EQ(memory[7], "106 segments; complete");
  const J& cron = t["rows"][4];
  EXPECT_EQ(cron[2], "3");  // skip, add, row
  EXPECT_EQ(cron[4], "100");
  EXPECT_EQ(cron[5], "2");      // the row's own count
  EXPECT_EQ(cron[6], "2.000");  // from artifacts.begin to the row's line
  const J& total = t["rows"][6];
  EXPECT_EQ(total[2], "2");  // begin, end
  EXPECT_EQ(total[3], "1");
  EXPECT_EQ(total[5], "2");
  EXPECT_EQ(total[6], "4.000");
  EXPECT_EQ(total[7], "1 files");
  const std::string md = report_markdown(
      J{{"tlp", "TLP:AMBER"},
        {"case", ""},
        {"bundle", ""},
        {"bag", ""},
        {"verification",
         {{"verdict", "VALID"},
          {"valid", true},
          {"problems", J::array()},
          {"signatures", J::array()},
          {"payload_files", 1},
          {"payload_bytes", 1},
          {"actions", 1}}},
        {"summary", J::array()},
        {"not_collected", J::array()},
        {"sections",
         J::array({{{"title", "Actions taken"},
                    {"items",
                     J::array({{{"label", "Actions"}, {"state", "collected"}, {"value", t}}})}}})},
        {"timeline", J::array()},
        {"tables", J::object()},
        {"notes", J::array()},
        {"closure", {{"title", "Closure"}, {"fields", J::array()}}}});
  EXPECT_NE(md.find("| memory | pid 7 | 3 | 1 | 16 MiB | 0 | 1.10 s | 106 segments; complete |"),
            std::string::npos)
      << md;
}

}  // namespace
}  // namespace forage::bundle
