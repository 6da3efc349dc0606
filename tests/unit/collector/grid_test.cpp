// Grid context: batch job ids from cgroup paths and environments, HTCondor job ads, and X.509
// proxies generated here with the real openssl (a CA, an end-entity certificate with a grid DN, a
// proxy with a VOMS-like extension, the private key appended as in a real proxy file). The key must
// never reach the output; openssl itself judges serials, dates and the kept chain.
#include "collector/grid.h"

#include "host/grid.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "../bundle/test_util.h"
#include "bundle/writer.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/strings.h"

namespace forage::collector {
namespace {

using namespace forage::host;  // the readers under test; store_grid_context is the collector's

using bundle::test::run;
using bundle::test::slurp;
using bundle::test::spit;
using bundle::test::TempDir;

// --- DER by hand, for the VOMS attribute certificate extension ---------------------------------
std::string tlv(unsigned char tag, const std::string& content) {
  std::string out(1, static_cast<char>(tag));
  size_t n = content.size();
  if (n < 128) {
    out += static_cast<char>(n);
  } else if (n < 256) {
    out += '\x81';
    out += static_cast<char>(n);
  } else {
    out += '\x82';
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  }
  return out + content;
}
std::string seq(const std::string& c) {
  return tlv(0x30, c);
}

// SEQUENCE { SEQUENCE { AttributeCertificate } } with the VOMS attribute (OID ...8005.100.100.4):
// policy authority "dteam://voms.example.org:15004" and two FQANs.
std::string voms_extension_der() {
  const std::string attr_oid =
      tlv(0x06, std::string("\x2b\x06\x01\x04\x01\xbe\x45\x64\x64\x04", 10));
  const std::string alg = seq(tlv(0x06, std::string("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b", 9)));
  std::string ietf = seq(tlv(0xa0, tlv(0x86, "dteam://voms.example.org:15004")) +
                         seq(tlv(0x04, "/dteam/Role=NULL/Capability=NULL") +
                             tlv(0x04, "/dteam/analysis/Role=NULL/Capability=NULL")));
  std::string attributes = seq(seq(attr_oid + tlv(0x31, ietf)));
  std::string acinfo =
      seq(tlv(0x02, "\x01") + seq("") + tlv(0xa0, seq("")) + alg + tlv(0x02, "\x2a") +
          seq(tlv(0x18, "20261120000000Z") + tlv(0x18, "20261121000000Z")) + attributes);
  std::string ac = seq(acinfo + alg + tlv(0x03, std::string("\x00\x00", 2)));
  return seq(seq(ac));
}

std::string hex_of(const std::string& s) {
  return hex(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

struct Proxy {
  std::string file;      // proxy cert + key + EEC cert
  std::string key_body;  // a base64 line of the private key, to search for
  std::string dir;
};

// Builds a proxy-like file with openssl; returns false (and why) if openssl fails.
bool make_proxy(const TempDir& t, Proxy* p, std::string* why, bool with_voms = true) {
  std::string d = t.path();
  std::string ext =
      "[v3_proxy]\nproxyCertInfo=critical,language:id-ppl-inheritAll\n"
      "keyUsage=critical,digitalSignature,keyEncipherment\n";
  if (with_voms) ext += "1.3.6.1.4.1.8005.100.100.5=DER:" + hex_of(voms_extension_der()) + "\n";
  spit(d + "/ext.cnf", ext);
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
  std::string cmd =
      "cd " + d + " && openssl req -x509 " + ec +
      "-keyout ca.key -out ca.pem -days 30 -subj '/DC=org/DC=example/CN=Example Grid CA' && "
      "openssl req " +
      ec +
      "-keyout eec.key -out eec.csr "
      "-subj '/DC=org/DC=example/OU=People/CN=Alice Grid' && "
      "openssl x509 -req -in eec.csr -CA ca.pem -CAkey ca.key -set_serial 0x1A2B3C -days 20 "
      "-out eec.pem && "
      "openssl req " +
      ec +
      "-keyout proxy.key -out proxy.csr "
      "-subj '/DC=org/DC=example/OU=People/CN=Alice Grid/CN=123456789' && "
      "openssl x509 -req -in proxy.csr -CA eec.pem -CAkey eec.key -set_serial 123456789 -days 1 "
      "-extfile ext.cnf -extensions v3_proxy -out proxy.pem && "
      "cat proxy.pem proxy.key eec.pem > x509up_test";
  if (run(cmd, why) != 0) return false;
  p->dir = d;
  p->file = d + "/x509up_test";
  std::string key = slurp(d + "/proxy.key");
  auto lines = split_lines(key);
  if (lines.size() < 3) return false;
  p->key_body = std::string(lines[1]);
  return true;
}

std::string openssl_field(const std::string& pem, const std::string& opt) {
  std::string out;
  run("openssl x509 -in " + pem + " -noout " + opt + " -dateopt iso_8601 -nameopt RFC2253", &out);
  auto eq = out.find('=');
  std::string v = eq == std::string::npos ? out : out.substr(eq + 1);
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

// "2026-11-23 13:12:49Z" (openssl -dateopt iso_8601) -> "2026-11-23T13:12:49Z"
std::string iso_t(std::string s) {
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  return s;
}

TEST(Cgroup, BatchSystemsAndJobIds) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(batch_job_from_cgroup("4:memory:/slurm/uid_1000/job_4242/step_0/task_0\n"),
            P("slurm", "4242"));
  EXPECT_EQ(
      batch_job_from_cgroup("0::/system.slice/slurmstepd.scope/job_77/step_batch/user/task_0\n"),
      P("slurm", "77"));
  EXPECT_EQ(batch_job_from_cgroup("0::/system.slice/condor.service/htcondor/"
                                  "condor_var_lib_condor_execute_slot1_3@wn01.example.org\n"),
            P("htcondor", "condor_var_lib_condor_execute_slot1_3@wn01.example.org"));
  EXPECT_EQ(batch_job_from_cgroup("7:cpuset:/torque/1234.pbs.example.org\n"),
            P("pbs", "1234.pbs.example.org"));
  EXPECT_EQ(batch_job_from_cgroup("0::/pbspro.service/jobid/5678.server\n"),
            P("pbs", "5678.server"));
  EXPECT_EQ(batch_job_from_cgroup("0::/lsf/cluster1/job.999.wn01.1700000000\n"), P("lsf", "999"));
  EXPECT_EQ(batch_job_from_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n"), P("", ""));
  // A job_ component outside a Slurm hierarchy is not a Slurm job.
  EXPECT_EQ(batch_job_from_cgroup("0::/user.slice/job_5\n"), P("", ""));
  EXPECT_EQ(batch_job_from_cgroup(""), P("", ""));
  EXPECT_EQ(batch_job_from_cgroup("garbage without colons\n::\n:::\n"), P("", ""));
}

TEST(Cgroup, RandomTextNeverCrashes) {
  std::mt19937 rng(3);
  const std::string alphabet = "/:_.job0123slurmtorquecondorlsf\n\0";
  for (int i = 0; i < 3000; ++i) {
    std::string s(rng() % 200, ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    EXPECT_NO_THROW(batch_job_from_cgroup(s));
  }
}

// A fake /proc: pid 100 in Slurm job 42 by cgroup, 101 by environment only, 102 in another job,
// 103 without a cgroup file.
void fake_proc(const TempDir& t) {
  auto mk = [&](int pid, const std::string& cgroup, const std::string& env) {
    std::string d = t / ("proc/" + std::to_string(pid));
    ::mkdir((t / "proc").c_str(), 0755);
    ::mkdir(d.c_str(), 0755);
    if (!cgroup.empty()) spit(d + "/cgroup", cgroup);
    spit(d + "/environ", env);
    spit(d + "/status", "Name:\tjob\nUid:\t1000\t1000\t1000\t1000\n");
  };
  mk(100, "0::/system.slice/slurmstepd.scope/job_42/step_0/user/task_0\n", std::string("A=1\0", 4));
  mk(101, "0::/user.slice\n", std::string("HOME=/h\0SLURM_JOB_ID=42\0", 24));
  mk(102, "0::/slurm/uid_1000/job_43/step_0\n", std::string("SLURM_JOB_ID=43\0", 16));
  mk(103, "", std::string("PBS_JOBID=42.server\0", 20));
  ::mkdir((t / "proc/self").c_str(), 0755);  // not a pid
}

TEST(Grid, PidsOfABatchJobFromCgroupsAndEnvironment) {
  TempDir t;
  fake_proc(t);
  EXPECT_EQ(pids_of_batch_job("42", t / "proc"), (std::vector<int>{100, 101, 103}));
  EXPECT_EQ(pids_of_batch_job("43", t / "proc"), (std::vector<int>{102}));
  EXPECT_TRUE(pids_of_batch_job("4", t / "proc").empty());
  EXPECT_THROW(pids_of_batch_job("42", t / "no-such-proc"), Error);
}

TEST(Grid, RealProcessFoundByItsJobIdAndItsProxyReadThroughProcRoot) {
  TempDir t;
  Proxy px;
  std::string why;
  ASSERT_TRUE(make_proxy(t, &px, &why)) << why;
  std::string job = std::to_string(900000 + ::getpid());
  std::string e1 = "SLURM_JOB_ID=" + job, e2 = "X509_USER_PROXY=" + px.file;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char* argv[] = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
    char* envp[] = {e1.data(), e2.data(), nullptr};
    ::execve("/bin/sleep", argv, envp);
    ::_exit(127);
  }
  // The environment is readable once exec has happened.
  std::vector<std::string> env;
  for (int i = 0; i < 100 && env.size() < 2; ++i) {
    ::usleep(20000);
    env.clear();
    std::string raw = slurp("/proc/" + std::to_string(child) + "/environ");
    size_t a = 0;
    while (a < raw.size()) {
      size_t b = raw.find('\0', a);
      if (b == std::string::npos) b = raw.size();
      if (b > a) env.push_back(raw.substr(a, b - a));
      a = b + 1;
    }
  }
  EXPECT_EQ(pids_of_batch_job(job), std::vector<int>{child});
  GridContext g = grid_context(child, env);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(g.batch_system, "slurm");
  EXPECT_EQ(g.job_id, job);
  ASSERT_TRUE(g.proxy.has_value());
  EXPECT_TRUE(g.proxy->found) << g.proxy->error;
  EXPECT_EQ(g.proxy->named_by, "X509_USER_PROXY");
  EXPECT_EQ(g.proxy->read_from, "/proc/" + std::to_string(child) + "/root" + px.file);
  EXPECT_EQ(g.proxy->identity, "/DC=org/DC=example/OU=People/CN=Alice Grid");
}

TEST(Proxy, DnsSerialValidityAndVomsMatchOpenssl) {
  TempDir t;
  Proxy px;
  std::string why;
  ASSERT_TRUE(make_proxy(t, &px, &why)) << why;
  ProxyInfo p = read_proxy(px.file);
  ASSERT_TRUE(p.found);
  EXPECT_EQ(p.error, "");
  EXPECT_TRUE(p.private_key_present);
  ASSERT_EQ(p.chain.size(), 2u);
  const CertInfo& proxy = p.chain[0];
  const CertInfo& eec = p.chain[1];
  EXPECT_EQ(proxy.subject, "/DC=org/DC=example/OU=People/CN=Alice Grid/CN=123456789");
  EXPECT_EQ(proxy.issuer, "/DC=org/DC=example/OU=People/CN=Alice Grid");
  EXPECT_EQ(proxy.subject_rfc2253, "CN=123456789,CN=Alice Grid,OU=People,DC=example,DC=org");
  EXPECT_EQ(proxy.subject_rfc2253, openssl_field(px.dir + "/proxy.pem", "-subject"));
  EXPECT_EQ(proxy.issuer_rfc2253, openssl_field(px.dir + "/proxy.pem", "-issuer"));
  EXPECT_TRUE(proxy.proxy);
  EXPECT_FALSE(eec.proxy);
  EXPECT_EQ(eec.issuer, "/DC=org/DC=example/CN=Example Grid CA");
  EXPECT_EQ(p.identity, "/DC=org/DC=example/OU=People/CN=Alice Grid");
  EXPECT_EQ(proxy.serial, openssl_field(px.dir + "/proxy.pem", "-serial"));
  EXPECT_EQ(proxy.serial, "075BCD15");  // 123456789
  EXPECT_EQ(eec.serial, openssl_field(px.dir + "/eec.pem", "-serial"));
  EXPECT_EQ(proxy.not_before, iso_t(openssl_field(px.dir + "/proxy.pem", "-startdate")));
  EXPECT_EQ(proxy.not_after, iso_t(openssl_field(px.dir + "/proxy.pem", "-enddate")));
  EXPECT_EQ(eec.not_after, iso_t(openssl_field(px.dir + "/eec.pem", "-enddate")));
  ASSERT_TRUE(proxy.voms.present);
  EXPECT_EQ(proxy.voms.raw_size, voms_extension_der().size());
  EXPECT_EQ(proxy.voms.vo, "dteam");
  EXPECT_EQ(proxy.voms.fqans,
            (std::vector<std::string>{"/dteam/Role=NULL/Capability=NULL",
                                      "/dteam/analysis/Role=NULL/Capability=NULL"}));
  EXPECT_EQ(proxy.voms.not_before, "2026-11-20T00:00:00Z");
  EXPECT_EQ(proxy.voms.not_after, "2026-11-21T00:00:00Z");
  EXPECT_EQ(proxy.voms.decode_error, "");
  EXPECT_FALSE(eec.voms.present);

  // The kept chain is certificates only, and openssl reads it back.
  EXPECT_EQ(p.chain_pem.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(p.chain_pem.find(px.key_body), std::string::npos);
  spit(t / "chain.pem", p.chain_pem);
  EXPECT_EQ(openssl_field(t / "chain.pem", "-subject"), proxy.subject_rfc2253);
  std::string out;
  EXPECT_EQ(run("openssl crl2pkcs7 -nocrl -certfile " + (t / "chain.pem") +
                    " | openssl pkcs7 -print_certs -noout | grep -c subject=",
                &out),
            0);
  EXPECT_EQ(trim(out), "2");
  EXPECT_EQ(p.file_sha256, sha256_hex(slurp(px.file)));
}

TEST(Proxy, HostileAndBrokenFilesGiveAnErrorNotACrash) {
  TempDir t;
  ProxyInfo none = read_proxy(t / "missing");
  EXPECT_FALSE(none.found);
  EXPECT_NE(none.error.find("missing"), std::string::npos);
  ::symlink("/etc/hostname", (t / "link").c_str());
  ProxyInfo link = read_proxy(t / "link");
  EXPECT_FALSE(link.found);
  ::mkfifo((t / "fifo").c_str(), 0600);
  ProxyInfo fifo = read_proxy(t / "fifo");  // must not block
  EXPECT_FALSE(fifo.found);
  EXPECT_NE(fifo.error.find("not a regular file"), std::string::npos);

  ProxyInfo junk = parse_proxy(
      "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
      "-----BEGIN PRIVATE "
      "KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
      "-----END PRIVATE KEY-----\n",
      "junk");
  EXPECT_TRUE(junk.chain.empty());
  EXPECT_TRUE(junk.private_key_present);
  EXPECT_NE(junk.error.find("junk: no PEM certificate"), std::string::npos);

  // A real proxy cut at every 97th byte, and with random bytes flipped.
  Proxy px;
  std::string why;
  ASSERT_TRUE(make_proxy(t, &px, &why)) << why;
  std::string good = slurp(px.file);
  for (size_t cut = 0; cut < good.size(); cut += 97) {
    ProxyInfo p = parse_proxy(std::string_view(good).substr(0, cut), "cut");
    EXPECT_EQ(p.chain_pem.find("PRIVATE KEY"), std::string::npos);
  }
  std::mt19937 rng(11);
  for (int i = 0; i < 300; ++i) {
    std::string bad = good;
    for (int k = 0; k < 5; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
    ProxyInfo p = parse_proxy(bad, "flipped");
    EXPECT_EQ(p.chain_pem.find(px.key_body), std::string::npos);
    GridContext g;
    g.proxy = p;
    EXPECT_NO_THROW(g.to_json().dump());
  }
}

TEST(Proxy, CorruptVomsExtensionIsRecordedAsPresentButUndecoded) {
  TempDir t;
  // An extension whose DER lies about its lengths.
  std::string bad = "\x30\x82\x7f\xff\x30\x05\x06\x03\x2b\x06\x01";
  spit(t / "req.cnf", "[req]\ndistinguished_name=dn\n[dn]\n[v3]\n1.3.6.1.4.1.8005.100.100.5=DER:" +
                          hex_of(bad) + "\n");
  std::string out;
  ASSERT_EQ(run("cd " + t.path() +
                    " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-keyout k.pem -out c.pem -days 1 -subj '/CN=x' -extensions v3 -config req.cnf",
                &out),
            0)
      << out;
  ProxyInfo p = read_proxy(t / "c.pem");
  ASSERT_EQ(p.chain.size(), 1u);
  EXPECT_TRUE(p.chain[0].voms.present);
  EXPECT_EQ(p.chain[0].voms.raw_size, bad.size());
  EXPECT_TRUE(p.chain[0].voms.fqans.empty());
  EXPECT_NE(p.chain[0].voms.decode_error, "");
}

TEST(Grid, FakeProcWithCondorAdDefaultProxyAndNoKeyInTheBundle) {
  TempDir t;
  fake_proc(t);
  Proxy px;
  std::string why;
  ASSERT_TRUE(make_proxy(t, &px, &why)) << why;
  spit(t / "job.ad",
       "ClusterId = 4711\nProcId = 3\nGlobalJobId = \"schedd.example.org#4711.3#1763633700\"\n"
       "Owner = \"alice\"\nx509userproxysubject = \"/DC=org/DC=example/OU=People/CN=Alice "
       "Grid\"\n");
  std::vector<std::string> env = {"_CONDOR_JOB_AD=" + (t / "job.ad"), "X509_USER_PROXY=" + px.file,
                                  "GLITE_WMS_JOBID=https://wms:9000/x"};
  // Files a process names are read with its rights (uid 1000 in the fake status): they are its.
  if (::geteuid() == 0) {
    ::chmod(t.path().c_str(), 0755);
    ASSERT_EQ(::chown((t / "job.ad").c_str(), 1000, 1000), 0);
    ASSERT_EQ(::chown(px.file.c_str(), 1000, 1000), 0);
  }
  GridContext g = grid_context(103, env, t / "proc");  // pid 103: no cgroup file
  // No cgroup: the job ad (the local batch system) wins over the grid-level gLite id.
  EXPECT_EQ(g.batch_system, "htcondor");
  EXPECT_EQ(g.job_id, "4711.3");
  EXPECT_FALSE(g.problems.empty());  // the missing cgroup file is said
  // pid 100 has a Slurm cgroup: the cgroup decides, the environment ids are kept as evidence.
  GridContext s = grid_context(100, env, t / "proc");
  EXPECT_EQ(s.batch_system, "slurm");
  EXPECT_EQ(s.job_id, "42");
  EXPECT_EQ(s.env_ids["GLITE_WMS_JOBID"], "https://wms:9000/x");
  EXPECT_EQ(s.condor_global_job_id, "schedd.example.org#4711.3#1763633700");
  EXPECT_EQ(s.condor_owner, "alice");
  EXPECT_EQ(s.condor_x509_subject, "/DC=org/DC=example/OU=People/CN=Alice Grid");
  ASSERT_TRUE(s.proxy && s.proxy->found);
  EXPECT_EQ(s.proxy->read_from, px.file);  // the fake /proc has no root link: host view

  std::string out_path = t / "b.tar";
  {
    bundle::WriterOptions o;
    o.out = out_path;
    o.case_id = "CASE-GRID";
    o.host = "wn01";
    o.unsigned_ok = true;
    bundle::BundleWriter w(o);
    store_grid_context(w, s);
    w.finish();
  }
  ASSERT_EQ(run("mkdir " + (t / "x") + " && tar -xf " + out_path + " -C " + (t / "x")), 0);
  std::string found;
  run("grep -rl -e 'PRIVATE KEY' -e '" + px.key_body + "' " + (t / "x"), &found);
  EXPECT_EQ(found, "") << "private key material in the bundle";
  std::string grid_json;
  ASSERT_EQ(run("cat " + (t / "x") + "/*/data/grid/100/grid.json", &grid_json), 0);
  auto j = nlohmann::json::parse(grid_json);
  EXPECT_EQ(j["x509_proxy"]["private_key_present"], true);
  EXPECT_EQ(j["x509_proxy"]["private_key_copied"], false);
  EXPECT_EQ(j["x509_proxy"]["identity"], "/DC=org/DC=example/OU=People/CN=Alice Grid");
  EXPECT_EQ(j["x509_proxy"]["chain"][0]["voms"]["vo"], "dteam");
  std::string subj;
  ASSERT_EQ(run("openssl x509 -noout -subject -nameopt RFC2253 -in " + (t / "x") +
                    "/*/data/grid/100/proxy-chain.pem",
                &subj),
            0);
  EXPECT_NE(subj.find("CN=123456789,CN=Alice Grid"), std::string::npos);
  std::string log;
  ASSERT_EQ(run("cat " + (t / "x") + "/*/meta/actions.jsonl", &log), 0);
  EXPECT_NE(log.find("private key present: NOT copied"), std::string::npos);
}

// A DIRAC payload inside a gLite pilot on Slurm, with its PanDA and CRAB ids: every id is kept
// with the variable it came from and its role; the primary job stays the site's batch job.
TEST(Grid, EveryJobIdWithItsVariable) {
  TempDir t;
  fake_proc(t);
  std::vector<std::string> env = {"SLURM_JOB_ID=42",
                                  "SLURM_JOBID=42",
                                  "GLITE_WMS_JOBID=https://wms.example.org:9000/abc",
                                  "DIRACJOBID=123",
                                  "DIRAC_PILOT_STAMP=f00d",
                                  "PANDAID=987",
                                  "TASKID=55",
                                  "CRAB_ReqName=user_task_1"};
  GridContext g = grid_context(101, env, t / "proc");
  EXPECT_EQ(g.batch_system, "slurm");
  EXPECT_EQ(g.job_id, "42");
  std::vector<std::string> got;
  for (const auto& j : g.jobs)
    got.push_back(j.system + " " + j.id + " " + j.variable + " " + j.role);
  EXPECT_EQ(got, (std::vector<std::string>{
                     "slurm 42 SLURM_JOB_ID, SLURM_JOBID batch",
                     "glite https://wms.example.org:9000/abc GLITE_WMS_JOBID grid",
                     "dirac f00d DIRAC_PILOT_STAMP pilot", "dirac 123 DIRACJOBID payload",
                     "panda 987 PANDAID payload", "crab user_task_1 CRAB_ReqName task",
                     "panda 55 TASKID task"}));
  auto j = g.to_json();
  ASSERT_TRUE(j["jobs"].is_array());
  EXPECT_EQ(j["jobs"][3]["variable"], "DIRACJOBID");
  // Without a local batch system the grid-level job is the primary one, the payload kept too.
  GridContext p = grid_context(101, {"GLITE_WMS_JOBID=https://wms/x", "DIRACJOBID=9"}, t / "proc");
  EXPECT_EQ(p.batch_system, "glite");
  EXPECT_EQ(p.jobs.size(), 2u);
  // A bare TASKID is nobody's.
  EXPECT_TRUE(grid_context(101, {"TASKID=1"}, t / "proc").jobs.empty());
}

TEST(Grid, DefaultProxyPathFromTheUidAndEnvironmentOnlyJobs) {
  TempDir t;
  fake_proc(t);
  // pid 101: uid 1000 from status, no X509_USER_PROXY: /tmp/x509up_u1000 is looked up, and a
  // missing default proxy is no finding.
  std::vector<std::string> env = {"SLURM_JOB_ID=42", "DIRACJOBID=123"};
  GridContext g = grid_context(101, env, t / "proc");
  EXPECT_EQ(g.batch_system, "slurm");
  EXPECT_EQ(g.job_id, "42");
  EXPECT_EQ(g.env_ids["DIRACJOBID"], "123");
  if (::access("/tmp/x509up_u1000", F_OK) != 0) {
    EXPECT_FALSE(g.proxy.has_value());
  }
  GridContext d = grid_context(101, {"JOBID=77", "DIRACSITE=LCG.Example.org"}, t / "proc");
  EXPECT_EQ(d.batch_system, "dirac");
  EXPECT_EQ(d.job_id, "77");
  GridContext n = grid_context(101, {"JOBID=77"}, t / "proc");
  EXPECT_EQ(n.batch_system, "");  // a bare JOBID is no DIRAC evidence on its own
  EXPECT_EQ(n.env_ids["JOBID"], "77");
  GridContext missing = grid_context(101, {"X509_USER_PROXY=/nonexistent/x509up"}, t / "proc");
  ASSERT_TRUE(missing.proxy.has_value());  // named but absent: reported
  EXPECT_FALSE(missing.proxy->found);
  EXPECT_NE(missing.proxy->error, "");
  GridContext gone = grid_context(99999, {}, t / "proc");
  EXPECT_FALSE(gone.problems.empty());
}

}  // namespace
}  // namespace forage::collector
