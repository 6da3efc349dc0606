#include "bundle/environment.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <map>

#include <openssl/crypto.h>
#include <zstd.h>

#include "bundle/action_log.h"
#include "common/error.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/strings.h"
#include "common/time.h"
#include "forage/version.h"

namespace forage::bundle {
namespace {

using Json = nlohmann::ordered_json;

// First line of a small file, trimmed; "" when unreadable.
std::string first_line(const std::string& path) {
  try {
    std::string s = read_file(path, 1 << 16);
    auto nl = s.find('\n');
    return std::string(trim(s.substr(0, nl)));
  } catch (const Error&) {
    return "";
  }
}

Json str_or_null(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(utf8_or_escaped(s));
}

// /proc/self/exe is a magic link: open_evidence() refuses links, and following this one is the
// point, so it is opened plainly, read-only.
std::string binary_sha256(const std::string& exe) {
  Fd fd(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  Hasher h(HashAlgo::kSha256);
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "";
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
  }
  return h.final_hex();
}

std::string link_target(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::vector<std::string> cmdline(const std::string& proc) {
  std::vector<std::string> out;
  try {
    std::string s = read_file(proc + "/self/cmdline", 1 << 20);
    size_t pos = 0;
    while (pos < s.size()) {
      size_t z = s.find('\0', pos);
      if (z == std::string::npos) z = s.size();
      out.push_back(s.substr(pos, z - pos));
      pos = z + 1;
    }
  } catch (const Error&) {
  }
  return out;
}

// uid -> name from the passwd file (no NSS: the binary is static and the host untrusted).
std::string user_name(const std::string& etc, long uid) {
  if (uid < 0) return "";
  try {
    for (std::string_view line : split_lines(read_file(etc + "/passwd", 8 << 20))) {
      auto c1 = line.find(':');
      if (c1 == std::string_view::npos) continue;
      auto c2 = line.find(':', c1 + 1);
      auto c3 = line.find(':', c2 + 1);
      if (c2 == std::string_view::npos || c3 == std::string_view::npos) continue;
      if (line.substr(c2 + 1, c3 - c2 - 1) == std::to_string(uid))
        return std::string(line.substr(0, c1));
    }
  } catch (const Error&) {
  }
  return "";
}

std::string fqdn_from_hosts(const std::string& etc, const std::string& host) {
  try {
    for (std::string_view line : split_lines(read_file(etc + "/hosts", 8 << 20))) {
      line = line.substr(0, line.find('#'));
      std::vector<std::string> words;
      size_t p = 0;
      std::string l(line);
      for (char& c : l)
        if (c == '\t') c = ' ';
      while (p < l.size()) {
        size_t sp = l.find(' ', p);
        if (sp == std::string::npos) sp = l.size();
        if (sp > p) words.push_back(l.substr(p, sp - p));
        p = sp + 1;
      }
      if (words.size() < 2) continue;
      bool mentions = false;
      for (size_t i = 1; i < words.size(); ++i)
        if (words[i] == host || words[i].rfind(host + ".", 0) == 0) mentions = true;
      if (!mentions) continue;
      for (size_t i = 1; i < words.size(); ++i)
        if (words[i].rfind(host + ".", 0) == 0) return words[i];
    }
  } catch (const Error&) {
  }
  return "";
}

Json interfaces(const std::string& sys) {
  std::map<std::string, Json> ifs;
  for (const auto& name : Dir::open(sys + "/class/net").names()) {
    Json j;
    j["name"] = utf8_or_escaped(name);
    j["mac"] = str_or_null(first_line(sys + "/class/net/" + name + "/address"));
    j["operstate"] = str_or_null(first_line(sys + "/class/net/" + name + "/operstate"));
    j["addresses"] = Json::array();
    ifs[name] = j;
  }
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr || !a->ifa_name) continue;
      char buf[INET6_ADDRSTRLEN] = {};
      int fam = a->ifa_addr->sa_family;
      if (fam == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf,
                    sizeof buf);
      else if (fam == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, buf,
                    sizeof buf);
      else
        continue;
      auto& j = ifs[a->ifa_name];
      if (j.is_null()) {
        j["name"] = utf8_or_escaped(a->ifa_name);
        j["mac"] = nullptr;
        j["operstate"] = nullptr;
        j["addresses"] = Json::array();
      }
      j["addresses"].push_back(buf);
    }
    ::freeifaddrs(list);
  }
  Json out = Json::array();
  for (auto& [name, j] : ifs) out.push_back(j);
  return out;
}

Json certificate_record(X509* cert) {
  Json j;
  j["subject"] = subject_slash(cert);
  char buf[2048];
  X509_NAME_oneline(X509_get_issuer_name(cert), buf, sizeof buf);
  j["issuer"] = buf;
  j["sha256_fingerprint"] = certificate_fingerprint(cert);
  BioPtr b(BIO_new(BIO_s_mem()));
  if (b && ASN1_TIME_print(b.get(), X509_get0_notAfter(cert)) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(b.get(), &data);
    j["not_after"] = std::string(data, static_cast<size_t>(n));
  }
  return j;
}

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

Json ntp_state() {
  timex tx{};
  int state = ::adjtimex(&tx);
  Json j;
  if (state < 0) {
    j["error"] = std::strerror(errno);
    return j;
  }
  const char* names[] = {"TIME_OK", "TIME_INS", "TIME_DEL", "TIME_OOP", "TIME_WAIT", "TIME_ERROR"};
  j["clock_state"] = state >= 0 && state <= 5 ? names[state] : std::to_string(state);
  j["synchronized"] = state != TIME_ERROR && !(tx.status & STA_UNSYNC);
  j["status_flags"] = tx.status;
  // offset is in microseconds unless STA_NANO says nanoseconds.
  j["offset_ns"] = (tx.status & STA_NANO) ? static_cast<int64_t>(tx.offset)
                                          : static_cast<int64_t>(tx.offset) * 1000;
  j["maxerror_us"] = tx.maxerror;
  j["esterror_us"] = tx.esterror;
  return j;
}

// The tool itself: version, commit, the binary's path and hash.
Json tool_record(const EnvironmentInputs& in) {
  Json tool;
  tool["name"] = "forage";
  tool["version"] = FORAGE_VERSION;
  tool["commit"] = FORAGE_GIT_COMMIT;
  tool["binary_path"] = str_or_null(link_target(in.self_exe));
  tool["binary_sha256"] = str_or_null(binary_sha256(in.self_exe));
  return tool;
}

// The caller's list of linked libraries, completed with those the bundle links itself.
Json libraries_record(const EnvironmentInputs& in) {
  Json libs = in.libraries.is_object() ? in.libraries : Json::object();
  if (!libs.contains("openssl")) libs["openssl"] = OpenSSL_version(OPENSSL_VERSION);
  if (!libs.contains("zstd")) libs["zstd"] = ZSTD_versionString();
  if (!libs.contains("nlohmann-json"))
    libs["nlohmann-json"] = std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  return libs;
}

Json command_line_record(const EnvironmentInputs& in) {
  Json argv = Json::array();
  for (const auto& a : in.command_line.empty() ? cmdline(in.proc_root) : in.command_line)
    argv.push_back(utf8_or_escaped(a));
  return argv;
}

// The account the tool runs as, the login behind it, and the operator.
Json user_record(const EnvironmentInputs& in) {
  Json user;
  user["uid"] = ::getuid();
  user["euid"] = ::geteuid();
  user["gid"] = ::getgid();
  user["egid"] = ::getegid();
  user["user"] = str_or_null(user_name(in.etc_root, static_cast<long>(::geteuid())));
  std::string login = first_line(in.proc_root + "/self/loginuid");
  long loginuid = -1;
  if (!login.empty() && login != "4294967295") loginuid = std::strtol(login.c_str(), nullptr, 10);
  user["loginuid"] = loginuid >= 0 ? Json(loginuid) : Json(nullptr);
  user["login_user"] = str_or_null(user_name(in.etc_root, loginuid));
  const char* sudo = ::getenv("SUDO_USER");
  user["sudo_user"] = str_or_null(sudo ? sudo : "");
  // The operator: the person behind the session, not the account the tool runs as.
  std::string op = sudo ? sudo : user_name(in.etc_root, loginuid);
  if (op.empty()) op = user_name(in.etc_root, static_cast<long>(::getuid()));
  user["operator"] = str_or_null(op);
  return user;
}

// The first name with a dot: kernel host name, /etc/hostname, /etc/hosts, host name + domain.
std::string fqdn_of(const EnvironmentInputs& in, const std::string& hostname,
                    const std::string& etc_hostname, const std::string& domain) {
  std::string fqdn;
  if (hostname.find('.') != std::string::npos)
    fqdn = hostname;
  else if (etc_hostname.find('.') != std::string::npos)
    fqdn = etc_hostname;
  else if (!hostname.empty())
    fqdn = fqdn_from_hosts(in.etc_root, hostname);
  if (fqdn.empty() && !hostname.empty() && !domain.empty() && domain != "(none)")
    fqdn = hostname + "." + domain;
  return fqdn;
}

Json kernel_record(const EnvironmentInputs& in) {
  utsname u{};
  Json kernel;
  if (::uname(&u) == 0) {
    kernel["sysname"] = u.sysname;
    kernel["release"] = u.release;
    kernel["version"] = u.version;
    kernel["machine"] = u.machine;
  }
  kernel["osrelease"] = str_or_null(first_line(in.proc_root + "/sys/kernel/osrelease"));
  return kernel;
}

// host.os_release: as the caller read it (host/os_info.h); null when not given.
Json os_release_record(const EnvironmentInputs& in) {
  return in.os_release.is_object() ? in.os_release : Json(nullptr);
}

// Host identity: names, machine and boot ids, kernel, OS, interfaces, certificates.
Json host_record(const EnvironmentInputs& in) {
  Json host;
  std::string hostname = first_line(in.proc_root + "/sys/kernel/hostname");
  std::string domain = first_line(in.proc_root + "/sys/kernel/domainname");
  std::string etc_hostname = first_line(in.etc_root + "/hostname");
  host["hostname"] = str_or_null(hostname);
  host["etc_hostname"] = str_or_null(etc_hostname);
  host["domainname"] = str_or_null(domain == "(none)" ? "" : domain);
  host["fqdn"] = str_or_null(fqdn_of(in, hostname, etc_hostname, domain));
  host["machine_id"] = str_or_null(first_line(in.etc_root + "/machine-id"));
  host["boot_id"] = str_or_null(first_line(in.proc_root + "/sys/kernel/random/boot_id"));
  host["kernel"] = kernel_record(in);
  host["os_release"] = os_release_record(in);
  host["os"] = host["os_release"].value("pretty_name", Json(nullptr));
  host["interfaces"] = interfaces(in.sys_root);
  host["host_certificate"] = nullptr;
  try {
    X509Ptr hc = load_certificate(in.host_certificate);
    host["host_certificate"] = certificate_record(hc.get());
  } catch (const Error&) {
  }
  if (in.signer_certificate) host["signer_certificate"] = certificate_record(in.signer_certificate);
  return host;
}

// The clocks, read together: UTC, realtime, boottime, monotonic, time zone, NTP state.
Json clocks_record(const EnvironmentInputs& in) {
  Json clocks;
  clocks["utc"] = utc_now_ns();
  clocks["realtime_ns"] = clock_ns(CLOCK_REALTIME);
  clocks["boottime_ns"] = clock_ns(CLOCK_BOOTTIME);
  clocks["monotonic_ns"] = clock_ns(CLOCK_MONOTONIC);
  const char* tz = ::getenv("TZ");
  std::string zone = tz ? tz : first_line(in.etc_root + "/timezone");
  if (zone.empty()) {
    std::string lt = link_target(in.etc_root + "/localtime");
    auto p = lt.find("zoneinfo/");
    zone = p == std::string::npos ? lt : lt.substr(p + 9);
  }
  clocks["timezone"] = str_or_null(zone);
  clocks["ntp"] = ntp_state();
  return clocks;
}

}  // namespace

Json collect_environment(const EnvironmentInputs& in) {
  Json env;
  env["tool"] = tool_record(in);
  env["libraries"] = libraries_record(in);
  env["command_line"] = command_line_record(in);
  env["user"] = user_record(in);
  env["host"] = host_record(in);
  env["clocks"] = clocks_record(in);
  return env;
}

std::string short_hostname(const Json& env) {
  std::string h;
  if (env.contains("host") && env["host"].contains("hostname") &&
      env["host"]["hostname"].is_string())
    h = env["host"]["hostname"].get<std::string>();
  return h.substr(0, h.find('.'));
}

}  // namespace forage::bundle
