// forage merge: node results parsed strictly, the site report's sections and formats.
#include "sweep/merge.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/error.h"

namespace forage::sweep {
namespace {

std::string node(const std::string& host, const std::string& utc, bool incomplete,
                 const std::vector<std::string>& finding_lines) {
  std::string out;
  for (const auto& f : finding_lines) out += f + "\n";
  out += R"({"kind":"notice","pid":9,"tlp":"AMBER"})"
         "\n";
  out += R"({"kind":"summary","findings":)" + std::to_string(finding_lines.size()) +
         R"(,"scan":"sweep","host":")" + host + R"(","utc":")" + utc +
         R"(","case":"EGI-1","tlp":"AMBER","indicator_digest":"sha256:ab","skipped":)" +
         (incomplete ? R"({"budget":3})" : "{}") + R"(,"incomplete":)" +
         (incomplete ? "true" : "false") + "}\n";
  return out;
}

const char* kNetHit =
    R"({"kind":"ioc","pid":42,"remote":"203.0.113.5:443","ioc":{"type":"ipv4","value":"203.0.113.5"},"phase":"net","match":"remote","tlp":"AMBER"})";
const char* kPcapHit =
    R"({"kind":"ioc","pcap":"x.pcap","first_seen":"2026-11-20T01:00:00Z","ioc":{"type":"ipv4","value":"203.0.113.5"},"phase":"pcap","tlp":"AMBER"})";
const char* kYara =
    R"({"kind":"yara","path":"/tmp/.x/k","rule":"forage_xmrig_miner","phase":"files","tlp":"AMBER"})";

TEST(Merge, ParsesStrictly) {
  auto n = parse_node_result(node("wn1", "2026-11-23T10:00:00Z", false, {kNetHit}), "a.jsonl");
  EXPECT_EQ(n.host, "wn1");
  EXPECT_EQ(n.findings, 1u);  // the notice is not a finding
  auto err = [](const std::string& text) {
    try {
      parse_node_result(text, "r.jsonl");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("{\"kind\":\"ioc\"\n"),
            "r.jsonl: line 1: not JSON (was the sweep run with --json?)");
  EXPECT_EQ(err("[1]\n"), "r.jsonl: line 1: not a finding (no \"kind\")");
  EXPECT_EQ(err(std::string(kNetHit) + "\n"),
            "r.jsonl: no sweep summary line (the sweep was cut off, or this is not its output)");
  EXPECT_EQ(err("{\"kind\":\"summary\",\"scan\":\"files\"}\n"),
            "r.jsonl: line 1: a summary of \"files\", not of a sweep");
  EXPECT_EQ(err(node("h", "t", false, {}) + std::string(kNetHit) + "\n"),
            "r.jsonl: line 3: output continues after the summary");
  EXPECT_EQ(err(""),
            "r.jsonl: no sweep summary line (the sweep was cut off, or this is not its output)");
  EXPECT_EQ(err(std::string("\xff\xfe\x00", 3)),
            "r.jsonl: line 1: not JSON (was the sweep run with --json?)");
  // A compromised node's summary nested 200,000 deep: one named error, not a stack overflow.
  EXPECT_EQ(err("{\"kind\":\"summary\",\"x\":" + std::string(200000, '[') +
                std::string(200000, ']') + "}\n"),
            "r.jsonl: line 1: JSON nested deeper than 256 levels");
}

TEST(Merge, SiteReportSections) {
  MergeInput in;
  in.nodes.push_back(parse_node_result(
      node("wn1.example.org", "2026-11-23T10:00:00Z", false, {kNetHit, kYara}), "1"));
  in.nodes.push_back(
      parse_node_result(node("wn2.example.org", "2026-11-23T10:05:00Z", true, {kPcapHit}), "2"));
  in.nodes.push_back(
      parse_node_result(node("wn3.example.org", "2026-11-23T10:01:00Z", false, {}), "3"));
  in.nodes.push_back(
      parse_node_result(node("wn4.example.org", "2026-11-23T10:01:00Z", true, {}), "4"));
  in.malformed.push_back({"5", "5: line 1: not JSON"});
  in.expected =
      parse_node_list("wn1\nwn2.example.org  ansible_host=10.0.0.2\n[workers]\n# c\nwn9\n");
  ASSERT_EQ(in.expected, (std::vector<std::string>{"wn1", "wn2.example.org", "wn9"}));
  auto r = merge_results(in);
  const Json& d = r.doc;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(d["counts"]["hit"], 2);
  EXPECT_EQ(d["counts"]["clean"], 1);
  EXPECT_EQ(d["counts"]["incomplete"], 2);
  EXPECT_EQ(d["nodes_clean"], Json::parse(R"(["wn3.example.org"])"));
  EXPECT_EQ(d["nodes_not_reporting"], Json::parse(R"(["wn9"])"));
  // The address was seen on two nodes; first seen is the capture's packet time, on wn2.
  const Json& first = d["by_indicator"][0];
  EXPECT_EQ(first["value"], "203.0.113.5");
  EXPECT_EQ(first["nodes"].size(), 2u);
  EXPECT_EQ(first["first_seen"], "2026-11-20T01:00:00Z");
  EXPECT_EQ(first["first_seen_on"], "wn2.example.org");
  EXPECT_EQ(d["by_indicator"][1]["type"], "yara");
  EXPECT_EQ(d["nodes_hit"][0]["pids"], Json::parse(R"(["42"])"));
  EXPECT_EQ(d["malformed"][0]["error"], "5: line 1: not JSON");

  std::string md = site_report_md(d);
  EXPECT_EQ(md.rfind("**TLP:AMBER**\n", 0), 0u);
  EXPECT_EQ(md.substr(md.size() - 14), "**TLP:AMBER**\n");
  EXPECT_NE(md.find("## Nodes not reporting\n\n- wn9\n"), std::string::npos);
  std::string csv = site_report_csv(d);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "section,host,type,value,count,first_seen,detail,tlp");
  EXPECT_NE(csv.find("\nnot-reporting,wn9,,,,,,AMBER\n"), std::string::npos);
}

TEST(Merge, HostileValuesCannotBreakTheFormats) {
  MergeInput in;
  std::string evil =
      R"({"kind":"ioc","path":"x","ioc":{"type":"filename","value":"=cmd|' /C calc'!A0,\"x\"\n| <b>"}})";
  in.nodes.push_back(parse_node_result(node("wn1", "t", false, {evil}), "1"));
  auto d = merge_results(in).doc;
  std::string csv = site_report_csv(d);
  EXPECT_NE(csv.find("\"'=cmd|' /C calc'!A0,\"\"x\"\"\n| <b>\""), std::string::npos);
  std::string md = site_report_md(d);
  EXPECT_EQ(md.find("<b>"), std::string::npos);
  EXPECT_NE(md.find("\\\\n\\| &lt;b&gt;"), std::string::npos);  // printable()'s \n, escaped
}

// Process findings of x509-dn and username indicators carry the identity behind the process:
// the site report lists them as one table (node, DN, VO/FQANs, batch system, job ids, uid, user,
// pids), from any finding that has one; two findings of one identity are one row.
TEST(Merge, IdentityTable) {
  const std::string dn_hit =
      R"({"kind":"ioc","pid":123,"exe":"/usr/bin/python3","user":"alice","uid":1000,"match":"proxy_dn",)"
      R"("ioc":{"type":"x509-dn","value":"/DC=org/DC=example/CN=Alice"},"identity":{"uid":1000,)"
      R"("user":"alice","dn":"/DC=org/DC=example/CN=Alice","vo":"dteam","fqans":["/dteam/Role=NULL",)"
      R"("/dteam"],"proxy":"/tmp/x509up_u1000","named_by":"X509_USER_PROXY","batch_system":"slurm",)"
      R"("job_id":"42","jobs":[{"system":"slurm","id":"42","variable":"SLURM_JOB_ID","role":"batch"},)"
      R"({"system":"dirac","id":"12345","variable":"DIRACJOBID","role":"payload"}]},"phase":"procs"})";
  const std::string owner_hit =
      R"({"kind":"ioc","pid":124,"user":"alice","uid":1000,"match":"owner","ioc":{"type":"username",)"
      R"("value":"alice"},"identity":{"uid":1000,"user":"alice","dn":"/DC=org/DC=example/CN=Alice",)"
      R"("vo":"dteam","fqans":["/dteam/Role=NULL","/dteam"],"batch_system":"slurm","job_id":"42",)"
      R"("jobs":[{"system":"slurm","id":"42","variable":"SLURM_JOB_ID","role":"batch"},)"
      R"({"system":"dirac","id":"12345","variable":"DIRACJOBID","role":"payload"}]},"phase":"procs"})";
  // An older node: batch system and job id only, and a value that is not a string.
  const std::string old_hit =
      R"({"kind":"ioc","pid":7,"match":"owner","ioc":{"type":"username","value":"bob"},)"
      R"("identity":{"uid":"1001","user":"bob|<b>","dn":{"x":1},"batch_system":"htcondor","job_id":"9.0"}})";
  MergeInput in;
  in.nodes.push_back(parse_node_result(node("wn1", "t", false, {dn_hit, owner_hit, kNetHit}), "1"));
  in.nodes.push_back(parse_node_result(node("wn2", "t", false, {old_hit}), "2"));
  const Json d = merge_results(in).doc;
  ASSERT_EQ(d["identities"].size(), 2u) << d["identities"].dump();
  const Json& a = d["identities"][0];
  EXPECT_EQ(a["host"], "wn1");
  EXPECT_EQ(a["dn"], "/DC=org/DC=example/CN=Alice");
  EXPECT_EQ(a["fqans"], "/dteam/Role=NULL, /dteam");
  EXPECT_EQ(a["job_ids"], "slurm 42 (SLURM_JOB_ID, batch); dirac 12345 (DIRACJOBID, payload)");
  EXPECT_EQ(a["uid"], "1000");
  EXPECT_EQ(a["pids"], Json::parse(R"(["123","124"])"));
  EXPECT_EQ(d["identities"][1]["job_ids"], "htcondor 9.0");
  EXPECT_EQ(d["identities"][1]["dn"], "");  // not a string: left out, not dumped

  const std::string md = site_report_md(d);
  EXPECT_NE(md.find("## Grid identities\n\n| node | DN | VO / FQANs | batch system | job id(s) | "
                    "uid | user | pids |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| wn1 | /DC=org/DC=example/CN=Alice | dteam (/dteam/Role=NULL, /dteam) | "
                    "slurm | slurm 42 (SLURM\\_JOB\\_ID, batch); dirac 12345 (DIRACJOBID, "
                    "payload) | 1000 | alice | 123, 124 |\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| wn2 |  |  | htcondor | htcondor 9.0 | 1001 | bob\\|&lt;b&gt; | 7 |\n"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("{\""), std::string::npos) << md;  // no raw JSON in the report
  EXPECT_EQ(md.find("[\""), std::string::npos) << md;
  const std::string csv = site_report_csv(d);
  EXPECT_NE(csv.find("\nidentity,wn1,x509-dn,/DC=org/DC=example/CN=Alice,,,"), std::string::npos)
      << csv;
}

// Old results (no identity anywhere): the table says so instead of vanishing.
TEST(Merge, IdentityTableWithoutIdentities) {
  MergeInput in;
  in.nodes.push_back(parse_node_result(node("wn1", "t", false, {kNetHit}), "1"));
  const Json d = merge_results(in).doc;
  EXPECT_TRUE(d["identities"].empty());
  EXPECT_NE(site_report_md(d).find("| (none reported) |"), std::string::npos);
}

// Pipes, backticks and backslashes that Markdown would read: every one is escaped.
size_t unescaped(const std::string& line, char c) {
  size_t n = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\') {
      ++i;
      continue;
    }
    n += line[i] == c;
  }
  return n;
}

// A node names itself: its host name holds a table pipe, backticks and a script. The site report
// keeps it text, in its one table cell, in the lists, and in the TLP label it stamps.
TEST(Merge, HostileHostNameInTheMarkdownReport) {
  const std::string evil = "wn1|`x``<script>alert(1)</script>";
  MergeInput in;
  in.nodes.push_back(parse_node_result(node(evil, "t", false, {kYara}), "1"));
  in.nodes.push_back(parse_node_result(node("wn2`|<b>", "t", false, {}), "2"));
  in.expected = {evil, "wn2`|<b>", "- wn9 <i>"};
  Json d = merge_results(in).doc;
  d["tlp"] = "<img src=x onerror=alert(1)>";
  const std::string md = site_report_md(d);
  EXPECT_EQ(md.find("<script"), std::string::npos);
  EXPECT_EQ(md.find('<'), std::string::npos);  // no HTML of any kind
  const std::string host = "wn1\\|\\`x\\`\\`&lt;script&gt;alert(1)&lt;/script&gt;";
  const size_t row = md.find("\n| " + host + " | 1 | ");
  ASSERT_NE(row, std::string::npos) << md;
  const std::string line = md.substr(row + 1, md.find('\n', row + 1) - row - 1);
  EXPECT_EQ(unescaped(line, '|'), 6u) << line;  // five cells, as the header says
  std::istringstream lines(md);
  for (std::string l; std::getline(lines, l);) EXPECT_EQ(unescaped(l, '`'), 0u) << l;
  EXPECT_NE(md.find("\n- \\- wn9 &lt;i&gt;\n"), std::string::npos);  // not a nested list
  EXPECT_NE(md.find("\nwn2\\`\\|&lt;b&gt;\n"), std::string::npos);   // nodes clean
  const std::string tlp = "**TLP:&lt;img src=x onerror=alert(1)&gt;**\n";
  EXPECT_EQ(md.rfind(tlp, 0), 0u);
  EXPECT_EQ(md.substr(md.size() - tlp.size()), tlp);
}

TEST(Merge, ExitCodes) {
  MergeInput clean;
  clean.nodes.push_back(parse_node_result(node("a", "t", false, {}), "1"));
  EXPECT_EQ(merge_results(clean).exit_code, 0);
  clean.malformed.push_back({"x", "x: bad"});
  EXPECT_EQ(merge_results(clean).exit_code, 3);
  MergeInput missing;
  missing.nodes.push_back(parse_node_result(node("a", "t", false, {}), "1"));
  missing.expected = {"a", "b"};
  EXPECT_EQ(merge_results(missing).exit_code, 3);
}

TEST(Merge, ReadsDirectoriesOfResultsAndListsWhatIsNotOne) {
  std::string tmpl = "/tmp/forage-merge-test-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl.data());
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
  };
  write("wn2.jsonl", node("wn2", "2026-11-23T10:00:00Z", false, {}));
  write("wn1.json", node("wn1", "2026-11-23T10:00:00Z", false, {kNetHit}));
  write("bad.jsonl", "not json\n");
  write("notes.txt", "ignored: not a result file\n");
  write("nodes", "wn1\nwn2\nwn3\n");
  MergeInput in =
      read_merge_input({dir.string(), (dir / "missing.jsonl").string()}, (dir / "nodes").string());
  EXPECT_EQ(in.expected, (std::vector<std::string>{"wn1", "wn2", "wn3"}));
  ASSERT_EQ(in.nodes.size(), 2u);  // sorted by file name
  EXPECT_EQ(in.nodes[0].host, "wn1");
  EXPECT_EQ(in.nodes[1].host, "wn2");
  ASSERT_EQ(in.malformed.size(), 2u);
  EXPECT_EQ(in.malformed[0].first, dir.string() + "/bad.jsonl");
  EXPECT_EQ(in.malformed[1].first, (dir / "missing.jsonl").string());
  EXPECT_THROW(read_merge_input({}, (dir / "no-such-list").string()), Error);
  std::filesystem::remove_all(dir);
}

TEST(Merge, ReportFormats) {
  MergeInput in;
  in.nodes.push_back(parse_node_result(node("wn1", "t", false, {kYara}), "1"));
  const Json d = merge_results(in).doc;
  EXPECT_EQ(site_report(d, parse_report_format("md")), site_report_md(d));
  EXPECT_EQ(site_report(d, parse_report_format("csv")), site_report_csv(d));
  EXPECT_EQ(Json::parse(site_report(d, parse_report_format("json"))), d);
  try {
    parse_report_format("html");
    ADD_FAILURE() << "html accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--format: expected json, csv or md, got 'html'");
  }
}

}  // namespace
}  // namespace forage::sweep
