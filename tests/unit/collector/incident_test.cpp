// meta/incident.json: filled from what the collection saw, and explicit where only a human can
// answer. Hostile strings (file names, command lines) must not break the JSON.
#include "collector/incident.h"

#include <gtest/gtest.h>

namespace forage::collector {
namespace {

using Json = nlohmann::ordered_json;

// Every {"value": marker} object anywhere in the document.
void human_fields(const Json& j, const std::string& at, std::vector<std::string>& out) {
  if (j.is_object()) {
    if (j.contains("value") && j["value"] == kHumanMarker) out.push_back(at);
    for (auto it = j.begin(); it != j.end(); ++it)
      human_fields(it.value(), at + "/" + it.key(), out);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) human_fields(j[i], at + "/" + std::to_string(i), out);
  }
}

TEST(Incident, EmptyInputsMarkEverythingOnlyAHumanKnows) {
  IncidentInputs in;
  Json j = incident_json(in);
  std::vector<std::string> h;
  human_fields(j, "", h);
  for (const char* f : {"/tlp", "/reporting/site", "/reporting/operator", "/detection/detected_by",
                        "/detection/detected_utc", "/affected_host/role", "/entry_point",
                        "/root_compromise", "/lost/data_lost", "/actions_taken/other",
                        "/remote_ips/attacker_addresses", "/other_sites_affected", "/resolution"})
    EXPECT_NE(std::find(h.begin(), h.end(), f), h.end()) << f;
  EXPECT_EQ(j["case_id"], kHumanMarker);
  EXPECT_EQ(j["affected_host"]["hostname"], kHumanMarker);
  EXPECT_TRUE(j["processes"].empty());
  EXPECT_EQ(j["ssh_logs"]["note"], "no disk artefacts taken (profile process)");
  EXPECT_NO_THROW(j.dump());
}

TEST(Incident, FilledFromTheCollection) {
  IncidentInputs in;
  in.case_id = "EGI-20261120-01";
  in.tlp = "AMBER";
  in.detected_by = "EGI CSIRT broadcast EGI-2026-11";
  in.operator_name = "site-admin";
  in.host = "wn01.example.org";
  in.host_identity = {{"hostname", "wn01.example.org"}, {"boot_id", "abc"}};
  in.profile = "triage";
  in.started_utc = "2026-11-20T10:00:00Z";
  in.finished_utc = "2026-11-20T10:05:00Z";
  IncidentProcess p;
  p.pid = 4242;
  p.ppid = 1;
  p.uid = 1000;
  p.user = "alice";
  p.exe = "/tmp/.x/miner (deleted)";
  p.exe_deleted = true;
  p.cmdline = std::string("miner --pool \xff\xfe", 15);
  p.remote_endpoints = {"203.0.113.5:4444", "[2001:db8::9]:443"};
  p.frozen = "cgroup freezer";
  p.core = "data/memory/4242/core";
  p.kill_result = "SIGKILL: gone";
  in.processes.push_back(p);
  IncidentProcess r;
  r.pid = 7;
  r.uid = 0;
  r.user = "root";
  in.processes.push_back(r);
  GridContext g;
  g.pid = 4242;
  g.batch_system = "slurm";
  g.job_id = "42";
  ProxyInfo px;
  px.found = true;
  px.path = "/tmp/x509up_u1000";
  px.private_key_present = true;
  px.identity = "/DC=org/DC=example/CN=Alice Grid";
  host::CertInfo c;
  c.subject = "/DC=org/DC=example/CN=Alice Grid/CN=123";
  c.issuer = px.identity;
  c.serial = "7B";
  c.not_after = "2026-11-21T10:00:00Z";
  c.voms.present = true;
  c.voms.vo = "dteam";
  c.voms.fqans = {"/dteam/Role=NULL/Capability=NULL"};
  px.chain.push_back(c);
  g.proxy = px;
  in.grid.push_back(g);
  ArtifactReport art;
  art.login_users = {"alice", "bob"};
  art.login_hosts = {"198.51.100.7"};
  art.private_keys = {"/home/alice/.ssh/id_ed25519"};
  art.ssh_logs.remote_ips = {"198.51.100.7"};
  art.ssh_logs.accepted = {"alice from 198.51.100.7"};
  art.ssh_logs.oldest = "2026-01-01T00:00:00Z";
  art.ssh_logs.sec01_six_months = true;
  in.artifacts = &art;
  in.evidence.push_back(
      {"data/memory/4242/core", "ab12", 4096, "2026-11-20T10:01:00Z", "ELF core of pid 4242"});
  in.actions.push_back({"2026-11-20T10:00:01Z", "freeze", "pid 4242", "cgroup freezer"});
  in.actions.push_back({"2026-11-20T10:01:00Z", "memory.core", "pid 4242", "dumped"});
  in.actions.push_back({"2026-11-20T10:02:00Z", "kill", "pid 4242", "gone"});
  in.not_collected = {"pid 7 memory: permission denied"};

  Json j = incident_json(in);
  std::string text;
  ASSERT_NO_THROW(text = j.dump(2));
  EXPECT_EQ(j["case_id"], "EGI-20261120-01");
  EXPECT_EQ(j["tlp"], "AMBER");
  EXPECT_EQ(j["detection"]["detected_by"], "EGI CSIRT broadcast EGI-2026-11");
  EXPECT_EQ(j["reporting"]["operator"], "site-admin");
  EXPECT_EQ(j["affected_host"]["hostname"], "wn01.example.org");
  EXPECT_EQ(j["affected_host"]["identity"]["boot_id"], "abc");
  ASSERT_EQ(j["affected_users"].size(), 3u);  // alice (owner), root (owner), bob (wtmp)
  EXPECT_EQ(j["affected_users"][0]["user"], "alice");
  EXPECT_EQ(j["affected_users"][2]["user"], "bob");
  ASSERT_EQ(j["grid_identities"].size(), 1u);
  EXPECT_EQ(j["grid_identities"][0]["dn"], "/DC=org/DC=example/CN=Alice Grid");
  EXPECT_EQ(j["grid_identities"][0]["vo"], "dteam");
  EXPECT_EQ(j["grid_identities"][0]["job_id"], "42");
  EXPECT_EQ(j["remote_ips"]["sockets"], Json({"2001:db8::9", "203.0.113.5"}));
  EXPECT_EQ(j["remote_ips"]["ssh_logs"], Json({"198.51.100.7"}));
  EXPECT_EQ(j["entry_point"]["value"], kHumanMarker);
  EXPECT_EQ(j["entry_point"]["hints"][0], "sshd accepted alice from 198.51.100.7");
  EXPECT_EQ(j["root_compromise"]["hints"][0], "target pid 7 runs as root");
  EXPECT_EQ(j["processes"][0]["cmdline"], "miner --pool \\xff\\xfe");
  EXPECT_EQ(j["processes"][0]["killed"], "SIGKILL: gone");
  EXPECT_EQ(j["evidence"][0]["path"], "data/memory/4242/core");
  ASSERT_EQ(j["lost"]["credentials_exposed"].size(), 2u);
  EXPECT_EQ(j["lost"]["credentials_exposed"][0]["kind"], "x509-proxy");
  EXPECT_EQ(j["lost"]["credentials_exposed"][0]["valid_until"], "2026-11-21T10:00:00Z");
  EXPECT_EQ(j["lost"]["credentials_exposed"][1]["path"], "/home/alice/.ssh/id_ed25519");
  EXPECT_EQ(j["lost"]["not_collected"][0], "pid 7 memory: permission denied");
  // Containment actions are picked out of the timeline, in order.
  ASSERT_EQ(j["actions_taken"]["containment"].size(), 2u);
  EXPECT_EQ(j["actions_taken"]["containment"][0]["action"], "freeze");
  EXPECT_EQ(j["actions_taken"]["containment"][1]["action"], "kill");
  EXPECT_EQ(j["actions_taken"]["by_forage"].size(), 3u);
  EXPECT_EQ(j["ssh_logs"]["sec01_six_months"], true);
  std::vector<std::string> h;
  human_fields(j, "", h);
  EXPECT_EQ(std::find(h.begin(), h.end(), "/detection/detected_by"), h.end());
}

}  // namespace
}  // namespace forage::collector
