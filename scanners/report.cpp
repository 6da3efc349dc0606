#include "scanners/report.h"

#include "common/file.h"

namespace forage::scanners {

std::string plain(const Json& v) {
  if (v.is_string()) {
    std::string out;
    for (unsigned char c : v.get_ref<const std::string&>()) {
      if (c < 0x20 || c == 0x7f) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out;
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Reporter::add(Finding f) {
  Json line = f.to_json();
  std::lock_guard<std::mutex> lock(mu_);
  ++(f.kind == Finding::Kind::kNotice ? notices_ : findings_);
  write(line);
}

// Under mu_.
void Reporter::write(const Json& f) {
  std::string line;
  if (json_) {
    line = f.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else if (f.value("kind", "") == "summary") {
    line = "summary";
    for (const auto& [k, v] : f.items())
      if (k != "kind") line += "\t" + k + "=" + plain(v);
    line += "\n";
  } else {
    // kind, target, then every other field as key=value.
    std::string target;
    for (const char* k : {"path", "pid", "pcap"})
      if (f.contains(k)) target += (target.empty() ? "" : " ") + std::string(k) + "=" + plain(f[k]);
    line = plain(f.value("kind", Json("?"))) + "\t" + target;
    for (const auto& [k, v] : f.items()) {
      if (k == "kind" || k == "path" || k == "pid" || k == "pcap") continue;
      line += "\t" + k + "=" + plain(v);
    }
    line += "\n";
  }
  if (lost_) return;  // the output is already broken: summary() says so
  try {
    write_all_or_throw(out_, line, name_);
  } catch (const Error& e) {
    lost_ = e;
  }
}

void Reporter::summary(Json s, const std::optional<std::string>& tlp) {
  std::lock_guard<std::mutex> lock(mu_);
  Json line;
  line["kind"] = "summary";
  line["findings"] = findings_;
  line["notices"] = notices_;
  for (auto& [k, v] : s.items())
    if (k != "kind" && k != "findings" && k != "notices") line[k] = v;
  if (tlp) line["tlp"] = *tlp;
  write(line);
  if (lost_) throw *lost_;
}

size_t Reporter::findings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return findings_;
}

void Reporter::check_output() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (lost_) throw *lost_;
}

Exit Reporter::exit_code(bool incomplete) const {
  check_output();
  if (findings() > 0) return Exit::kFindings;
  return incomplete ? Exit::kIncomplete : Exit::kOk;
}

}  // namespace forage::scanners
