#include "scanners/report.h"

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

void Reporter::finding(const Json& f) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++findings_;
  }
  write(f);
}

void Reporter::notice(const Json& f) {
  Json n = f;
  n["kind"] = "notice";
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++notices_;
  }
  write(n);
}

void Reporter::write(const Json& finding) {
  std::lock_guard<std::mutex> lock(mu_);
  Json stamped;
  if (hook_) {
    stamped = finding;
    if (!hook_(stamped)) return;
  }
  const Json& f = hook_ ? stamped : finding;
  std::string line;
  if (json_) {
    line = f.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
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
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

void Reporter::summary(Json s) {
  std::lock_guard<std::mutex> lock(mu_);
  Json line;
  line["kind"] = "summary";
  line["findings"] = findings_;
  line["notices"] = notices_;
  for (auto& [k, v] : s.items())
    if (k != "kind" && k != "findings" && k != "notices") line[k] = v;
  if (hook_ && !hook_(line)) return;
  std::string text;
  if (json_) {
    text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    text = "summary";
    for (const auto& [k, v] : line.items())
      if (k != "kind") text += "\t" + k + "=" + plain(v);
    text += "\n";
  }
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

size_t Reporter::findings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return findings_;
}

Exit Reporter::exit_code(bool incomplete) const {
  if (findings() > 0) return Exit::kFindings;
  return incomplete ? Exit::kIncomplete : Exit::kOk;
}

}  // namespace forage::scanners
