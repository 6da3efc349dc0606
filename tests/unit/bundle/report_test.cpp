// bundle report: a bundle written by BundleWriter with crafted (and hostile) meta files, read
// back, verified, and rendered; escaping of everything that came from the bundle.
#include "bundle/report.h"

#include <gtest/gtest.h>

#include "bundle/writer.h"
#include "common/file.h"
#include "test_util.h"

namespace forage::bundle {
namespace {

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

}  // namespace
}  // namespace forage::bundle
