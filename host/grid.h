// Grid context of a process (read by scanners to match DNs and by the collector to record it):
// which batch system runs it and under which job id (from the cgroup paths of /proc/PID/cgroup and
// from its environment), and the X.509 proxy it holds (named by X509_USER_PROXY, the HTCondor job
// ad's x509userproxy, a proxy in the job's directory, or the default /tmp/x509up_u<uid>).
//
// A proxy file holds a live private key. It is never copied: only the certificates of the chain
// (re-encoded as PEM from the parsed certificates, so no byte of the key can slip through) and the
// sha256 of the whole file are kept, with a note that a key was present.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace forage::host {

struct VomsInfo {
  bool present = false;
  size_t raw_size = 0;                // bytes of the extension value (DER)
  std::string vo;                     // decoded when the ASN.1 has the expected shape
  std::vector<std::string> fqans;     // "/dteam/Role=NULL/Capability=NULL"
  std::string issuer;                 // DN of the VOMS server's attribute certificate issuer
  std::string not_before, not_after;  // validity of the attribute certificate
  std::string decode_error;           // why VO/FQANs could not be decoded
};

struct CertInfo {
  std::string subject;          // grid form: /DC=org/DC=example/CN=Alice
  std::string subject_rfc2253;  // CN=Alice,DC=example,DC=org
  std::string issuer;
  std::string issuer_rfc2253;
  std::string serial;                 // hex, upper case
  std::string not_before, not_after;  // ISO 8601 UTC
  bool proxy = false;                 // RFC 3820 proxy certificate or legacy "CN=proxy"
  std::string sha256;                 // of the DER certificate
  VomsInfo voms;
};

struct ProxyInfo {
  std::string path;       // as named (X509_USER_PROXY or /tmp/x509up_u<uid>)
  std::string read_from;  // the path actually opened (through /proc/PID/root when possible)
  std::string named_by;   // "X509_USER_PROXY" | "default /tmp/x509up_u<uid>"
  bool found = false;
  std::string file_sha256;
  uint64_t file_size = 0;
  bool private_key_present = false;
  std::vector<CertInfo> chain;  // in file order (the proxy first)
  std::string chain_pem;        // certificates only, re-encoded
  std::string identity;         // subject of the end-entity certificate (first non-proxy)
  std::string error;            // why it could not be read or parsed
};

// One job id of a process and where it came from.
struct JobId {
  std::string
      system;  // slurm | pbs | lsf | htcondor | glite | arc | cream | dirac | panda | crab ...
  std::string id;
  std::string variable;  // "SLURM_JOB_ID", "cgroup /slurm/uid_1000/job_42", "_CONDOR_JOB_AD ..."
  std::string role;      // batch | grid | pilot | payload | task
};

struct GridContext {
  int pid = 0;
  // The primary job: the local batch system's when there is one, else the grid-level or payload
  // one ("" when none found).
  std::string batch_system;  // slurm | htcondor | pbs | lsf | glite | arc | dirac | ...
  std::string job_id;
  std::vector<JobId> jobs;  // every job id present (pilot and payload too), each with its source
  std::vector<std::string>
      evidence;  // "cgroup: /slurm/uid_1000/job_42/step_0", "env: SLURM_JOB_ID=42"
  nlohmann::ordered_json env_ids = nlohmann::ordered_json::object();  // every job-id variable seen
  // HTCondor job ad (_CONDOR_JOB_AD), when readable.
  std::string condor_global_job_id, condor_owner, condor_x509_subject, condor_x509_proxy;
  std::optional<ProxyInfo> proxy;
  std::vector<std::string> problems;  // what could not be read

  nlohmann::ordered_json to_json() const;
};

nlohmann::ordered_json jobs_json(const std::vector<JobId>& jobs);

// `environ`: the process's environment as "NAME=value" strings (from /proc/PID/environ).
GridContext grid_context(int pid, const std::vector<std::string>& environ,
                         const std::string& proc_root = "/proc");

// Batch system and job id from the text of /proc/PID/cgroup ("" when none).
std::pair<std::string, std::string> batch_job_from_cgroup(std::string_view cgroup_text);

// Parses a proxy-like PEM file. Never throws; problems go to ProxyInfo::error.
ProxyInfo parse_proxy(std::string_view bytes, const std::string& name);
// Reads (O_NOFOLLOW|O_NOATIME, at most 1 MiB) and parses a proxy file.
ProxyInfo read_proxy(const std::string& path);

// Every pid whose cgroup path or environment names the batch job `job_id` ("42" matches Slurm
// job_42, PBS 42.server, SLURM_JOB_ID=42, ...). Unreadable processes are skipped.
std::vector<int> pids_of_batch_job(const std::string& job_id,
                                   const std::string& proc_root = "/proc");

}  // namespace forage::host
