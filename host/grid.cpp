#include "host/grid.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

#include "common/error.h"
#include "common/hash.h"
#include "common/ossl.h"
#include "common/strings.h"
#include "common/time.h"
#include "host/fs.h"
#include "host/identity.h"
#include "host/private_key.h"
#include "host/proc.h"

namespace forage::host {

namespace {

constexpr uint64_t kMaxProxyBytes = 1 << 20;
constexpr uint64_t kMaxJobAdBytes = 4 << 20;
constexpr const char* kVomsAcOid = "1.3.6.1.4.1.8005.100.100.5";
constexpr const char* kVomsAttrOid = "1.3.6.1.4.1.8005.100.100.4";

using Asn1ObjPtr = std::unique_ptr<ASN1_OBJECT, OsslDeleter<ASN1_OBJECT_free>>;
using BnPtr = std::unique_ptr<BIGNUM, OsslDeleter<BN_free>>;

struct OsslStringFree {
  void operator()(char* p) const { OPENSSL_free(p); }
};

std::string asn1_time_iso(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "";
  return utc_iso(tm);
}

std::string name_slash(const X509_NAME* n) {
  char buf[4096];
  if (!X509_NAME_oneline(n, buf, sizeof buf)) return "";
  return buf;
}

std::string name_rfc2253(const X509_NAME* n) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || X509_NAME_print_ex(b.get(), n, 0, XN_FLAG_RFC2253) < 0) return "";
  char* p = nullptr;
  long k = BIO_get_mem_data(b.get(), &p);
  return k > 0 ? std::string(p, static_cast<size_t>(k)) : "";
}

bool legacy_proxy_name(const X509_NAME* n) {
  int count = X509_NAME_entry_count(n);
  if (count <= 0) return false;
  const X509_NAME_ENTRY* e = X509_NAME_get_entry(n, count - 1);
  if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_commonName) return false;
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(e);
  std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                static_cast<size_t>(ASN1_STRING_length(s)));
  return v == "proxy" || v == "limited proxy";
}

// Walks DER with OpenSSL's generic ASN1_get_object and pulls the VOMS attributes out of the
// attribute certificate: the IetfAttrSyntax after the OID ...100.100.4 carries the policy
// authority ("<vo>://host:port") and the FQANs as OCTET STRINGs; the first two GeneralizedTimes of
// the AC are its validity.
struct VomsWalker {
  VomsInfo& out;
  std::string attr_oid_der;
  int times = 0;
  bool in_attr = false;
  int budget = 100000;  // TLVs visited: bounds the work on hostile input

  bool walk(const unsigned char* p, long len, int depth) {
    if (depth > 32) return false;
    bool next_is_attr = false;
    while (len > 0) {
      if (--budget < 0) return false;
      const unsigned char* start = p;
      long content = 0;
      int tag = 0, cls = 0;
      int r = ASN1_get_object(&p, &content, &tag, &cls, len);
      if (r & 0x80) return false;
      if (r & 0x01) return false;  // indefinite length: not DER
      long header = static_cast<long>(p - start);
      if (content < 0 || content > len - header) return false;
      bool constructed = (r & V_ASN1_CONSTRUCTED) != 0;
      bool attr_here = next_is_attr;
      next_is_attr = false;
      if (constructed) {
        bool saved = in_attr;
        in_attr = in_attr || attr_here;
        if (!walk(p, content, depth + 1)) return false;
        in_attr = saved;
      } else if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_OBJECT) {
        next_is_attr = std::string(reinterpret_cast<const char*>(start),
                                   static_cast<size_t>(header + content)) == attr_oid_der;
      } else if (cls == V_ASN1_UNIVERSAL && tag == V_ASN1_GENERALIZEDTIME && times < 2) {
        std::string t(reinterpret_cast<const char*>(p), static_cast<size_t>(content));
        // YYYYMMDDHHMMSSZ
        if (t.size() >= 15) {
          std::string iso = t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2) + "T" +
                            t.substr(8, 2) + ":" + t.substr(10, 2) + ":" + t.substr(12, 2) + "Z";
          (times == 0 ? out.not_before : out.not_after) = utf8_or_escaped(iso);
        }
        ++times;
      } else if (in_attr && cls == V_ASN1_UNIVERSAL && tag == V_ASN1_OCTET_STRING) {
        std::string v(reinterpret_cast<const char*>(p), static_cast<size_t>(content));
        if (!v.empty() && v[0] == '/' && out.fqans.size() < 256)
          out.fqans.push_back(utf8_or_escaped(v));
      } else if (in_attr && cls == V_ASN1_CONTEXT_SPECIFIC && tag == 6 && out.vo.empty()) {
        std::string v(reinterpret_cast<const char*>(p), static_cast<size_t>(content));
        auto k = v.find("://");
        out.vo = utf8_or_escaped(k == std::string::npos ? v : v.substr(0, k));
      }
      p += content;
      len -= header + content;
    }
    return true;
  }
};

VomsInfo voms_of(X509* cert) {
  VomsInfo v;
  Asn1ObjPtr oid(OBJ_txt2obj(kVomsAcOid, 1));
  if (!oid) return v;
  int idx = X509_get_ext_by_OBJ(cert, oid.get(), -1);
  if (idx < 0) return v;
  X509_EXTENSION* ext = X509_get_ext(cert, idx);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  v.present = true;
  v.raw_size = static_cast<size_t>(ASN1_STRING_length(data));
  Asn1ObjPtr attr(OBJ_txt2obj(kVomsAttrOid, 1));
  VomsWalker w{v, {}};
  if (attr) {
    unsigned char* der = nullptr;
    int n = i2d_ASN1_OBJECT(attr.get(), &der);
    if (n > 0) w.attr_oid_der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
  }
  if (!w.walk(ASN1_STRING_get0_data(data), ASN1_STRING_length(data), 0))
    v.decode_error = "the extension is not well-formed DER";
  if (v.vo.empty() && !v.fqans.empty()) {
    // "/dteam/Role=NULL/Capability=NULL": the first group is the VO.
    std::string_view f = v.fqans.front();
    auto k = f.find('/', 1);
    v.vo = std::string(f.substr(1, k == std::string_view::npos ? f.npos : k - 1));
  }
  if (v.decode_error.empty() && v.fqans.empty())
    v.decode_error = "no FQAN found in the attribute certificate";
  return v;
}

CertInfo cert_info(X509* x) {
  CertInfo c;
  c.subject = utf8_or_escaped(name_slash(X509_get_subject_name(x)));
  c.subject_rfc2253 = utf8_or_escaped(name_rfc2253(X509_get_subject_name(x)));
  c.issuer = utf8_or_escaped(name_slash(X509_get_issuer_name(x)));
  c.issuer_rfc2253 = utf8_or_escaped(name_rfc2253(X509_get_issuer_name(x)));
  BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  if (bn) {
    std::unique_ptr<char, OsslStringFree> h(BN_bn2hex(bn.get()));
    if (h) c.serial = h.get();
  }
  c.not_before = asn1_time_iso(X509_get0_notBefore(x));
  c.not_after = asn1_time_iso(X509_get0_notAfter(x));
  c.proxy = (X509_get_extension_flags(x) & EXFLAG_PROXY) != 0 ||
            legacy_proxy_name(X509_get_subject_name(x));
  c.sha256 = certificate_fingerprint(x);
  c.voms = voms_of(x);
  return c;
}

std::string cert_pem(X509* x) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), x) != 1) return "";
  char* p = nullptr;
  long k = BIO_get_mem_data(b.get(), &p);
  return k > 0 ? std::string(p, static_cast<size_t>(k)) : "";
}

// Components of a cgroup path, e.g. "/slurm/uid_1000/job_42/step_0".
std::vector<std::string_view> components(std::string_view path) {
  return split_nonempty(path, '/');
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::pair<std::string, std::string> batch_of_path(std::string_view path) {
  auto parts = components(path);
  bool slurm = false, pbs = false, lsf = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view c = parts[i];
    if (c.find("slurm") != std::string_view::npos) slurm = true;
    if (c == "torque" || c.rfind("pbspro", 0) == 0 || c == "pbs") pbs = true;
    if (c == "lsf") lsf = true;
    if (slurm && c.rfind("job_", 0) == 0 && all_digits(c.substr(4)))
      return {"slurm", std::string(c.substr(4))};
    if (c.rfind("condor_", 0) == 0 || c.rfind("htcondor_", 0) == 0) {
      // condor_var_lib_condor_execute_slot1_1@host: the slot names the job's sandbox.
      return {"htcondor", std::string(c)};
    }
    if (pbs && c != "torque" && c.rfind("pbspro", 0) != 0 && c != "pbs" && c != "jobid" &&
        !c.empty() && c[0] >= '0' && c[0] <= '9')
      return {"pbs", std::string(c)};
    if (lsf && c.rfind("job.", 0) == 0) {
      std::string_view rest = c.substr(4);
      auto dot = rest.find('.');
      return {"lsf", std::string(rest.substr(0, dot))};
    }
  }
  return {"", ""};
}

std::string proc_file(const std::string& proc_root, int pid, const std::string& name) {
  return proc_root + "/" + std::to_string(pid) + "/" + name;
}

// The file-system identity of a process (its real uid, gid and groups): files it names are read
// with its rights, so naming /root/.ssh/id_rsa in X509_USER_PROXY reveals nothing.
Identity identity_of_process(const std::string& proc_root, int pid) {
  Identity who;
  who.name = "owner of pid " + std::to_string(pid);
  if (auto ids = read_ids(proc_root, pid)) {
    who.uid = ids->uid;
    who.gid = ids->gid;
    who.groups = ids->groups;
  } else {
    who.uid = who.gid = 65534;  // unknown: nobody's rights, never root's
  }
  return who;
}

// Reads a file the process names, as the process sees it (its root, its cwd) and with its rights,
// falling back to the host's view when /proc/PID/root is not there (a fake /proc in tests, a
// process gone). Never blocks (a FIFO, /proc/kmsg, trace_pipe: refused), never follows a last
// link, never reads a pseudo or FUSE file system.
std::string read_as_process(const std::string& proc_root, int pid, const std::string& path,
                            uint64_t max, std::string* used) {
  std::vector<std::string> tries;
  if (!path.empty() && path[0] == '/') {
    tries.push_back(proc_file(proc_root, pid, "root") + path);
    tries.push_back(path);
  } else {  // relative to the process's cwd, never to forage's
    tries.push_back(proc_file(proc_root, pid, "cwd") + "/" + path);
  }
  static const Mounts mounts = Mounts::load();
  ActAs as(identity_of_process(proc_root, pid));
  if (!as.ok()) throw Error(path + ": cannot take the process owner's rights: " + as.error());
  std::string first_error;
  for (const auto& t : tries) {
    try {
      std::string s = read_named_file(t, max, &mounts);
      *used = t;
      return s;
    } catch (const Error& e) {
      if (first_error.empty()) first_error = e.what();
    }
  }
  throw Error(first_error);
}

std::string ad_value(std::string_view ad, std::string_view key) {
  for (std::string_view line : split_lines(ad)) {
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    if (!iequals(trim(line.substr(0, eq)), key)) continue;
    std::string_view v = trim(line.substr(eq + 1));
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return utf8_or_escaped(v);
  }
  return "";
}

// "42" matches "42", "42.server", "42.0"; HTCondor GlobalJobId "schedd#42.0#..." too.
bool job_matches(const std::string& seen, const std::string& wanted) {
  if (seen.empty() || wanted.empty()) return false;
  if (seen == wanted) return true;
  if (seen.size() > wanted.size() && seen.compare(0, wanted.size(), wanted) == 0 &&
      seen[wanted.size()] == '.')
    return true;
  if (wanted.size() > seen.size() && wanted.compare(0, seen.size(), seen) == 0 &&
      wanted[seen.size()] == '.')
    return true;
  return false;
}

// Every job id a process may carry, with the system that set it and the role of that job: the
// site's batch system ("batch"), the grid-level job that reached the CE ("grid"), a pilot
// framework's pilot ("pilot"), the user's payload the pilot runs ("payload"), and the task or
// workflow it belongs to ("task").
struct JobVar {
  const char* name;
  const char* system;
  const char* role;
};
constexpr JobVar kJobVars[] = {
    {"SLURM_JOB_ID", "slurm", "batch"},
    {"SLURM_JOBID", "slurm", "batch"},
    {"PBS_JOBID", "pbs", "batch"},
    {"LSB_JOBID", "lsf", "batch"},
    {"CONDOR_JOBID", "htcondor", "batch"},
    {"GLITE_WMS_JOBID", "glite", "grid"},
    {"GRID_GLOBAL_JOBID", "arc", "grid"},
    {"CREAM_JOBID", "cream", "grid"},
    {"DIRAC_PILOT_STAMP", "dirac", "pilot"},
    {"APFCID", "autopyfactory", "pilot"},
    {"GLIDEIN_Entry_Name", "glideinwms", "pilot"},
    {"DIRACJOBID", "dirac", "payload"},
    {"DIRAC_JOBID", "dirac", "payload"},
    {"JOBID", "dirac", "payload"},
    {"PANDAID", "panda", "payload"},
    {"PandaID", "panda", "payload"},
    {"CRAB_Id", "crab", "task"},
    {"CRAB_ReqName", "crab", "task"},
    {"CRAB_Workflow", "crab", "task"},
    {"TASKID", "panda", "task"},
};

bool dirac_env(const std::vector<std::string>& env) {
  return !env_value(env, "DIRACROOT").empty() || !env_value(env, "DIRACSITE").empty() ||
         !env_value(env, "DIRAC_PROCESSORS").empty();
}

// A bare JOBID is DIRAC's, and TASKID PanDA's, only when that framework's other variables are
// around.
bool var_applies(const JobVar& v, const std::vector<std::string>& env) {
  std::string_view name = v.name;
  if (name == "JOBID") return dirac_env(env);
  if (name == "TASKID") return !env_value(env, "PANDAID").empty();
  return true;
}

bool local_batch(std::string_view system) {
  return system == "slurm" || system == "pbs" || system == "lsf" || system == "htcondor";
}

void add_job(GridContext& g, std::string system, std::string id, std::string variable,
             std::string role) {
  for (auto& j : g.jobs) {
    if (j.system == system && j.id == id && j.role == role) {
      j.variable += ", " + variable;
      return;
    }
  }
  g.jobs.push_back({std::move(system), std::move(id), std::move(variable), std::move(role)});
}

}  // namespace

std::pair<std::string, std::string> batch_job_from_cgroup(std::string_view text) {
  for (std::string_view line : split_lines(text)) {
    // hierarchy-id:controllers:path
    auto c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    auto r = batch_of_path(line.substr(c2 + 1));
    if (!r.first.empty()) return r;
  }
  return {"", ""};
}

ProxyInfo parse_proxy(std::string_view bytes, const std::string& name) {
  ProxyInfo info;
  info.path = name;
  info.found = true;
  info.file_size = bytes.size();
  info.file_sha256 = sha256_hex(bytes);
  info.private_key_present = holds_private_key(bytes);
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    info.error = name + ": too large for a proxy";
    return info;
  }
  BioPtr b(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  if (!b) {
    info.error = name + ": out of memory";
    return info;
  }
  // PEM_read_bio_X509 skips anything that is not a CERTIFICATE block, keys included; the chain
  // is re-encoded from the parsed certificates, so the key's bytes never reach the output.
  for (int i = 0; i < 64; ++i) {
    X509Ptr x(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
    if (!x) break;
    info.chain.push_back(cert_info(x.get()));
    info.chain_pem += cert_pem(x.get());
  }
  ERR_clear_error();
  if (info.chain.empty()) {
    info.error = name + ": no PEM certificate found";
    return info;
  }
  for (const auto& c : info.chain) {
    if (!c.proxy) {
      info.identity = c.subject;
      break;
    }
  }
  if (info.identity.empty()) info.identity = info.chain.back().issuer;
  return info;
}

ProxyInfo read_proxy(const std::string& path) {
  try {
    ProxyInfo p = parse_proxy(read_named_file(path, kMaxProxyBytes), path);
    p.read_from = path;
    return p;
  } catch (const Error& e) {
    ProxyInfo p;
    p.path = p.read_from = path;
    p.error = e.what();
    return p;
  }
}

namespace {

void jobs_from_cgroup(GridContext& g, const std::string& proc_root, int pid) {
  auto cgroup = read_proc_file(proc_file(proc_root, pid, "cgroup"), 1 << 20);
  if (!cgroup) throw Error(proc_file(proc_root, pid, "cgroup") + ": unreadable");
  for (std::string_view line : split_lines(*cgroup)) {
    // hierarchy-id:controllers:path
    auto c1 = line.find(':');
    auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view path = line.substr(c2 + 1);
    auto r = batch_of_path(path);
    if (r.first.empty()) continue;
    g.evidence.push_back("cgroup: " + utf8_or_escaped(path));
    add_job(g, r.first, utf8_or_escaped(r.second), "cgroup " + utf8_or_escaped(path), "batch");
    if (g.batch_system.empty()) {
      g.batch_system = r.first;
      g.job_id = utf8_or_escaped(r.second);
    }
  }
}

// Every job variable of the environment; the primary job (batch_system, job_id) is the local
// batch system's when there is one (the job as the site sees it), else the grid-level one.
void jobs_from_environment(GridContext& g, const std::vector<std::string>& environ, bool local) {
  for (const JobVar& v : kJobVars) {
    std::string value = env_value(environ, v.name);
    if (value.empty()) continue;
    const bool applies = var_applies(v, environ);
    if (local) {  // every variable is recorded; a job only where its framework is evident
      g.env_ids[v.name] = utf8_or_escaped(value);
      g.evidence.push_back(std::string("env: ") + v.name + "=" + utf8_or_escaped(value));
      if (applies) add_job(g, v.system, utf8_or_escaped(value), v.name, v.role);
    }
    if (!applies) continue;
    std::string_view role = v.role;
    if (!g.batch_system.empty() || (role != "batch" && role != "grid" && role != "payload"))
      continue;
    if (local_batch(v.system) == local) {
      g.batch_system = v.system;
      g.job_id = utf8_or_escaped(value);
    }
  }
}

void job_ad(GridContext& g, const std::string& proc_root, int pid, const std::string& ad_path) {
  try {
    std::string used;
    std::string ad = read_as_process(proc_root, pid, ad_path, kMaxJobAdBytes, &used);
    g.condor_global_job_id = ad_value(ad, "GlobalJobId");
    g.condor_owner = ad_value(ad, "Owner");
    g.condor_x509_subject = ad_value(ad, "x509userproxysubject");
    g.condor_x509_proxy = ad_value(ad, "x509userproxy");
    g.evidence.push_back("job ad: " + utf8_or_escaped(used));
    std::string cluster = ad_value(ad, "ClusterId"), proc = ad_value(ad, "ProcId");
    std::string id =
        !cluster.empty() ? cluster + "." + (proc.empty() ? "0" : proc) : g.condor_global_job_id;
    if (!id.empty())
      add_job(g, "htcondor", id,
              !cluster.empty() ? "_CONDOR_JOB_AD ClusterId.ProcId" : "_CONDOR_JOB_AD GlobalJobId",
              "batch");
    if ((g.batch_system.empty() || g.batch_system == "htcondor") && !id.empty()) {
      g.batch_system = "htcondor";
      g.job_id = id;
    }
  } catch (const Error& e) {
    g.problems.push_back("_CONDOR_JOB_AD: " + std::string(e.what()));
  }
}

// Where the proxy of a process is, in the order grid middleware looks: X509_USER_PROXY, the
// HTCondor job ad's x509userproxy, a proxy file in the job's directory (ARC session, HTCondor
// scratch, DIRAC job directory: the cwd), the default /tmp/x509up_u<uid>.
std::vector<std::pair<std::string, std::string>> proxy_candidates(
    const GridContext& g, const std::vector<std::string>& environ, const std::string& proc_root,
    int pid) {
  std::vector<std::pair<std::string, std::string>> out;
  if (auto p = env_value(environ, "X509_USER_PROXY"); !p.empty()) return {{p, "X509_USER_PROXY"}};
  auto ids = read_ids(proc_root, pid);
  if (!g.condor_x509_proxy.empty()) {
    std::string p = g.condor_x509_proxy;
    std::string scratch = env_value(environ, "_CONDOR_SCRATCH_DIR");
    if (p[0] != '/' && !scratch.empty()) p = scratch + "/" + p;
    out.push_back({p, "HTCondor job ad x509userproxy"});
  }
  std::vector<std::string> names = {"user.proxy", "proxy", "x509_proxy", "userproxy.pem"};
  if (ids) names.push_back("x509up_u" + std::to_string(ids->uid));
  for (const char* var : {"RUNTIME_JOB_DIR", "_CONDOR_SCRATCH_DIR"}) {
    std::string dir = env_value(environ, var);
    if (dir.empty() || dir[0] != '/') continue;
    for (const auto& n : names) out.push_back({dir + "/" + n, std::string("job directory ") + var});
  }
  if (!g.jobs.empty())  // a job's processes run in their job directory
    for (const auto& n : names) out.push_back({n, "job directory (cwd)"});
  if (ids)
    out.push_back({"/tmp/x509up_u" + std::to_string(ids->uid), "default /tmp/x509up_u<uid>"});
  return out;
}

void locate_proxy(GridContext& g, const std::vector<std::string>& environ,
                  const std::string& proc_root, int pid) {
  for (const auto& [path, named_by] : proxy_candidates(g, environ, proc_root, pid)) {
    std::string used;
    ProxyInfo p;
    try {
      std::string bytes = read_as_process(proc_root, pid, path, kMaxProxyBytes, &used);
      p = parse_proxy(bytes, path);
      p.read_from = used;
    } catch (const Error& e) {
      p.path = path;
      p.error = e.what();
    }
    p.named_by = named_by;
    // A proxy that is named and missing is worth saying; a place merely looked at is not.
    bool named = named_by == "X509_USER_PROXY" || named_by == "HTCondor job ad x509userproxy";
    if (p.found || named) {
      g.proxy = std::move(p);
      if (g.proxy->found || named) return;
    }
  }
}

}  // namespace

GridContext grid_context(int pid, const std::vector<std::string>& environ,
                         const std::string& proc_root) {
  GridContext g;
  g.pid = pid;
  try {
    jobs_from_cgroup(g, proc_root, pid);
  } catch (const Error& e) {
    g.problems.push_back(e.what());
  }
  jobs_from_environment(g, environ, true);
  if (std::string ad_path = env_value(environ, "_CONDOR_JOB_AD"); !ad_path.empty()) {
    g.env_ids["_CONDOR_JOB_AD"] = utf8_or_escaped(ad_path);
    g.evidence.push_back("env: _CONDOR_JOB_AD=" + utf8_or_escaped(ad_path));
    job_ad(g, proc_root, pid, ad_path);
  }
  jobs_from_environment(g, environ, false);
  locate_proxy(g, environ, proc_root, pid);
  return g;
}

std::vector<int> pids_of_batch_job(const std::string& job_id, const std::string& proc_root) {
  std::vector<int> out;
  if (Dir d = Dir::open(proc_root); !d) throw system_error(proc_root, d.error());
  for (int pid : list_pids(proc_root)) {
    bool hit = false;
    if (auto cg = read_proc_file(proc_file(proc_root, pid, "cgroup"), 1 << 20))
      hit = job_matches(batch_job_from_cgroup(*cg).second, job_id);
    if (!hit) {
      if (auto e = read_proc_file(proc_file(proc_root, pid, "environ"), 4 << 20)) {
        auto env = split_nul(*e);
        for (const JobVar& v : kJobVars) {
          if (std::string_view(v.name) == "JOBID" || std::string_view(v.role) == "task") continue;
          if (job_matches(env_value(env, v.name), job_id)) {
            hit = true;
            break;
          }
        }
      }
    }
    if (hit) out.push_back(pid);
  }
  return out;
}

nlohmann::ordered_json jobs_json(const std::vector<JobId>& jobs) {
  auto out = nlohmann::ordered_json::array();
  for (const auto& j : jobs)
    out.push_back({{"system", j.system}, {"id", j.id}, {"variable", j.variable}, {"role", j.role}});
  return out;
}

nlohmann::ordered_json GridContext::to_json() const {
  nlohmann::ordered_json j;
  j["pid"] = pid;
  j["batch_system"] = batch_system;
  j["job_id"] = job_id;
  j["jobs"] = jobs_json(jobs);
  j["evidence"] = evidence;
  j["env_ids"] = env_ids;
  if (!condor_global_job_id.empty() || !condor_owner.empty() || !condor_x509_subject.empty()) {
    j["condor_job_ad"] = {{"GlobalJobId", condor_global_job_id},
                          {"Owner", condor_owner},
                          {"x509userproxysubject", condor_x509_subject},
                          {"x509userproxy", condor_x509_proxy}};
  }
  if (proxy) {
    const ProxyInfo& p = *proxy;
    nlohmann::ordered_json pj;
    pj["path"] = utf8_or_escaped(p.path);
    pj["named_by"] = p.named_by;
    pj["read_from"] = utf8_or_escaped(p.read_from);
    pj["found"] = p.found;
    if (p.found) {
      pj["file_sha256"] = p.file_sha256;
      pj["file_size"] = p.file_size;
      pj["private_key_present"] = p.private_key_present;
      pj["private_key_copied"] = false;
      pj["identity"] = p.identity;
      auto& chain = pj["chain"] = nlohmann::ordered_json::array();
      for (const auto& c : p.chain) {
        nlohmann::ordered_json cj;
        cj["subject"] = c.subject;
        cj["subject_rfc2253"] = c.subject_rfc2253;
        cj["issuer"] = c.issuer;
        cj["issuer_rfc2253"] = c.issuer_rfc2253;
        cj["serial"] = c.serial;
        cj["not_before"] = c.not_before;
        cj["not_after"] = c.not_after;
        cj["proxy"] = c.proxy;
        cj["sha256"] = c.sha256;
        if (c.voms.present) {
          cj["voms"] = {{"present", true},
                        {"raw_size", c.voms.raw_size},
                        {"vo", c.voms.vo},
                        {"fqans", c.voms.fqans},
                        {"not_before", c.voms.not_before},
                        {"not_after", c.voms.not_after},
                        {"decode_error", c.voms.decode_error}};
        }
        chain.push_back(std::move(cj));
      }
    }
    if (!p.error.empty()) pj["error"] = utf8_or_escaped(p.error);
    j["x509_proxy"] = std::move(pj);
  }
  j["problems"] = problems;
  return j;
}

}  // namespace forage::host
