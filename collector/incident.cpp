#include "collector/incident.h"

#include <algorithm>
#include <set>

#include "bundle/action_log.h"
#include "common/layout.h"
#include "common/strings.h"

namespace forage::collector {
namespace {

using Json = nlohmann::ordered_json;

Json human(std::string_view question) {
  return Json{{"value", kHumanMarker}, {"question", question}};
}

Json human(std::string_view question, const Json& hints) {
  Json j = human(question);
  j["hints"] = hints;
  return j;
}

std::string or_human(const std::string& s) {
  return s.empty() ? kHumanMarker : s;
}

// "203.0.113.5:4444" / "[2001:db8::1]:22" -> the address alone.
std::string address_of(const std::string& endpoint) {
  if (!endpoint.empty() && endpoint[0] == '[') {
    auto k = endpoint.find(']');
    return k == std::string::npos ? endpoint : endpoint.substr(1, k - 1);
  }
  auto colon = endpoint.rfind(':');
  if (colon != std::string::npos && endpoint.find(':') == colon) return endpoint.substr(0, colon);
  return endpoint;
}

bool is_containment(const std::string& action) {
  for (std::string_view k : {"freeze", "kill", "thaw", "stop", "contain"})
    if (action.find(k) != std::string::npos) return true;
  return false;
}

// --- one function per section of the Guideline ---

Json reporting(const IncidentInputs& in) {
  return {{"site", human("Which site (GOC DB name) and which CSIRT contact reports this?")},
          {"operator", in.operator_name.empty() ? Json(human("Who ran the collection?"))
                                                : Json(utf8_or_escaped(in.operator_name))}};
}

Json detection(const IncidentInputs& in) {
  Json d;
  d["detected_by"] = in.detected_by.empty()
                         ? Json(human("How was the incident detected (--detected-by)?"))
                         : Json(utf8_or_escaped(in.detected_by));
  d["detected_utc"] = human("When was it first noticed (UTC)?");
  d["iocs_matched"] = in.iocs_matched;
  return d;
}

Json affected_host(const IncidentInputs& in) {
  Json host;
  host["hostname"] = or_human(utf8_or_escaped(in.host));
  host["identity"] = in.host_identity;
  host["role"] = human("What is this host (worker node, CE, UI, storage, ...)?");
  return host;
}

// Owners of the targets, then users logged in from wtmp.
Json affected_users(const IncidentInputs& in) {
  Json users = Json::array();
  std::set<std::string> seen;
  for (const auto& p : in.processes) {
    std::string u = utf8_or_escaped(p.user.empty() ? std::to_string(p.uid) : p.user);
    if (seen.insert(u).second)
      users.push_back({{"user", u},
                       {"uid", p.uid},
                       {"source", "owner of target pid " + std::to_string(p.pid)}});
  }
  if (in.artifacts)
    for (const auto& u : in.artifacts->login_users)
      if (seen.insert(u).second)
        users.push_back({{"user", u}, {"source", "wtmp login (data/logs/wtmp.json)"}});
  return users;
}

Json grid_identity(const GridContext& g, const IncidentInputs& in) {
  Json d;
  d["pid"] = g.pid;
  for (const auto& p : in.processes)
    if (p.pid == g.pid) {
      d["uid"] = p.uid;
      d["user"] = p.user;
    }
  d["batch_system"] = g.batch_system;
  d["job_id"] = g.job_id;
  d["jobs"] = host::jobs_json(g.jobs);
  if (!g.condor_owner.empty()) d["condor_owner"] = g.condor_owner;
  if (!g.condor_x509_subject.empty()) d["condor_x509_subject"] = g.condor_x509_subject;
  if (!g.proxy || !g.proxy->found) return d;
  const ProxyInfo& px = *g.proxy;
  d["dn"] = px.identity;
  d["proxy"] = px.path;
  if (!px.chain.empty()) {
    d["proxy_subject"] = px.chain.front().subject;
    d["issuer"] = px.chain.front().issuer;
    d["serial"] = px.chain.front().serial;
    d["not_after"] = px.chain.front().not_after;
  }
  for (const auto& c : px.chain) {
    if (c.voms.present) {
      d["vo"] = c.voms.vo;
      d["fqans"] = c.voms.fqans;
      break;
    }
  }
  d["source"] = layout::grid_context_path(g.pid);
  return d;
}

Json grid_identities(const IncidentInputs& in) {
  Json dns = Json::array();
  for (const auto& g : in.grid) {
    Json d = grid_identity(g, in);
    if (d.contains("dn") || !g.job_id.empty() || !g.jobs.empty()) dns.push_back(std::move(d));
  }
  return dns;
}

// Remote addresses, each with where it was seen.
Json remote_ips(const IncidentInputs& in) {
  std::set<std::string> socket_ips(in.remote_ips.begin(), in.remote_ips.end());
  for (const auto& p : in.processes)
    for (const auto& e : p.remote_endpoints) socket_ips.insert(address_of(e));
  Json remote;
  remote["sockets"] = Json(std::vector<std::string>(socket_ips.begin(), socket_ips.end()));
  if (in.artifacts) {
    remote["ssh_logs"] = in.artifacts->ssh_logs.remote_ips;
    remote["logins"] = in.artifacts->login_hosts;
  }
  remote["attacker_addresses"] = human("Which of these addresses belong to the attacker?");
  return remote;
}

Json entry_point(const IncidentInputs& in) {
  Json hints = Json::array();
  if (in.artifacts)
    for (const auto& a : in.artifacts->ssh_logs.accepted) hints.push_back("sshd accepted " + a);
  for (const auto& g : in.grid)
    if (!g.job_id.empty())
      hints.push_back("process " + std::to_string(g.pid) + " belongs to " + g.batch_system +
                      " job " + g.job_id + " (grid job as entry point?)");
  return human("How did the attacker get in (stolen credentials, grid job, vulnerability, ...)?",
               hints);
}

Json root_compromise(const IncidentInputs& in) {
  Json hints = Json::array();
  for (const auto& p : in.processes)
    if (p.uid == 0) hints.push_back("target pid " + std::to_string(p.pid) + " runs as root");
  return hints.empty() ? human("Was root access obtained?", hints)
                       : human("Was root access obtained? A target runs as root.", hints);
}

Json processes(const IncidentInputs& in) {
  Json procs = Json::array();
  for (const auto& p : in.processes) procs.push_back(records::to_json(p));
  return procs;
}

Json evidence(const IncidentInputs& in) {
  Json ev = Json::array();
  for (const auto& e : in.evidence)
    ev.push_back({{"path", utf8_or_escaped(e.path)},
                  {"sha256", e.sha256},
                  {"size", e.size},
                  {"utc", e.utc},
                  {"what", utf8_or_escaped(e.what)}});
  return ev;
}

// What the attacker may have taken: live credentials seen on the host.
Json lost(const IncidentInputs& in) {
  Json creds = Json::array();
  for (const auto& g : in.grid) {
    if (!g.proxy || !g.proxy->found) continue;
    const ProxyInfo& px = *g.proxy;
    std::string until = px.chain.empty() ? "" : px.chain.front().not_after;
    creds.push_back({{"kind", "x509-proxy"},
                     {"dn", px.identity},
                     {"path", utf8_or_escaped(px.path)},
                     {"valid_until", until},
                     {"private_key_present", px.private_key_present},
                     {"advice",
                      "the proxy's key was readable by the process: ask the VO/CA to "
                      "suspend the DN until it expires"}});
  }
  if (in.artifacts)
    for (const auto& k : in.artifacts->private_keys)
      creds.push_back({{"kind", "private-key-file"},
                       {"path", k},
                       {"advice", "hashed, not copied; consider the key exposed"}});
  Json l;
  l["credentials_exposed"] = std::move(creds);
  l["not_collected"] = in.not_collected;
  l["data_lost"] = human("What data or credentials left this host (outside what is listed)?");
  return l;
}

Json containment(const IncidentInputs& in) {
  Json c;
  c["frozen_utc"] = in.frozen_utc.empty() ? Json(nullptr) : Json(in.frozen_utc);
  c["killed_utc"] = in.killed_utc.empty() ? Json(nullptr) : Json(in.killed_utc);
  c["latency_seconds"] =
      in.containment_latency_s < 0
          ? Json(nullptr)
          : Json(static_cast<double>(static_cast<int64_t>(in.containment_latency_s * 1000)) / 1000);
  c["kill"] = in.kill_outcome.empty() ? std::string("not requested") : in.kill_outcome;
  c["order"] =
      "freeze, volatile state, memory, executables and open files, grid context, disk artefacts, "
      "kill, seal: the targets stay frozen while their disk evidence is read";
  return c;
}

Json actions_taken(const IncidentInputs& in) {
  Json timeline = Json::array();
  Json taken = Json::array();
  for (const auto& a : in.actions) {
    Json aj = {{"utc", a.utc},
               {"action", utf8_or_escaped(a.action)},
               {"target", utf8_or_escaped(a.target)},
               {"result", utf8_or_escaped(a.result)}};
    if (is_containment(a.action)) taken.push_back(aj);
    timeline.push_back(std::move(aj));
  }
  return {{"containment", std::move(taken)},
          {"by_forage", std::move(timeline)},
          {"other", human("What else was done (accounts suspended, host isolated, CA/VO told)?")}};
}

}  // namespace

nlohmann::ordered_json incident_json(const IncidentInputs& in) {
  Json j;
  j["schema"] = "forage-incident/1";
  j["guideline"] = "EGI CSIRT Incident Analysis Guideline (procedure SEC01)";
  j["human_marker"] = kHumanMarker;
  j["case_id"] = or_human(in.case_id);
  // The label decides who may see the report: forage does not choose one for the site.
  j["tlp"] = in.tlp.empty()
                 ? human("Which TLP label (--tlp was not given; SEC01 reports are AMBER or RED)?")
                 : Json(in.tlp);
  j["reporting"] = reporting(in);
  j["detection"] = detection(in);
  j["collection"] = {
      {"started_utc", in.started_utc}, {"finished_utc", in.finished_utc}, {"profile", in.profile}};
  j["affected_host"] = affected_host(in);
  j["affected_users"] = affected_users(in);
  j["grid_identities"] = grid_identities(in);
  j["remote_ips"] = remote_ips(in);
  j["entry_point"] = entry_point(in);
  j["root_compromise"] = root_compromise(in);
  j["processes"] = processes(in);
  j["evidence"] = evidence(in);
  j["evidence_index"] = "manifest-sha256.txt lists every data/ file; meta/actions.jsonl says when";
  j["lost"] = lost(in);
  j["containment"] = containment(in);
  j["actions_taken"] = actions_taken(in);
  j["ssh_logs"] = in.artifacts ? in.artifacts->ssh_logs.to_json()
                               : Json{{"note", "no disk artefacts taken (profile process)"}};
  j["other_sites_affected"] = human("Are other sites or hosts affected?");
  j["resolution"] = human("Is the incident resolved? Root cause and lessons learned.");
  return j;
}

}  // namespace forage::collector
