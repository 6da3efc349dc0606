// meta/environment.json: what ran, where, by whom and when, recorded at the start of a bundle.
// Read from /proc, /sys, /etc and a few system calls only (no host program is run). The roots
// are parameters so tests feed saved samples.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bundle/ossl.h"

namespace forage::bundle {

struct EnvironmentInputs {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string etc_root = "/etc";
  std::string self_exe = "/proc/self/exe";
  std::vector<std::string> command_line;  // empty: read /proc/self/cmdline
  nlohmann::ordered_json libraries = nlohmann::ordered_json::object();  // caller's extra libs
  std::string host_certificate = "/etc/grid-security/hostcert.pem";
  X509* signer_certificate = nullptr;  // recorded too when it is not the host certificate
  // host.os_release: the operating system as host/os_info.h reads it (to_json(read_os_info()):
  // name, version, id, pretty name, kernel release, uptime, boot time); null when not given.
  nlohmann::ordered_json os_release = nullptr;
};

nlohmann::ordered_json collect_environment(const EnvironmentInputs& in);

// Short host name for the bundle's top directory ("wn042" of "wn042.example.org").
std::string short_hostname(const nlohmann::ordered_json& environment);

}  // namespace forage::bundle
