// Helpers shared by the scanner unit tests: a temporary directory, file writing, indicators.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "ioc/indicator.h"

namespace forage::scanners::test {

// A fresh directory under /tmp, removed with everything in it (even what a test made unreadable).
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(std::string prefix = "forage-scan-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path, ec);
  }
};

inline void write(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

inline ioc::Indicator ind(ioc::Type t, std::string v) {
  ioc::Indicator i;
  i.type = t;
  i.value = std::move(v);
  i.source.file = "unit";
  i.tlp = "TLP:AMBER";
  return i;
}

}  // namespace forage::scanners::test
