// What a scanning engine finds, as a value: the engines hand Findings to a FindingSink (the
// Reporter prints them; the sweep stamps and counts them; target selection keeps their pids), and
// to_json() is the one place a finding becomes the JSON line of DESIGN.md "CLI surface".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace forage::scanners {

using Json = nlohmann::ordered_json;

struct Finding {
  enum class Kind { kIoc, kYara, kNotice };
  Kind kind = Kind::kIoc;

  // The processes it names (the first is "pid"; a socket shared by several names them all) and
  // the file it names: typed, for the code that acts on findings.
  std::vector<int> pids;
  std::string path;

  // How it is printed, in this order after "kind": the target as the engine names it ("pid",
  // "path" or "pcap" first), the YARA rule (rule, namespace, tags, meta, strings), the notice's
  // text, the property that matched an indicator and the indicator, then the engine's details.
  Json target = Json::object();
  Json rule;           // yara only
  std::string notice;  // notices only
  std::string match;   // ioc: "exe", "filename", "sha256", "remote", "log", ...
  Json ioc;            // ioc: {"type", "value", "source", "tlp", "context"}
  Json details = Json::object();

  // Stamped by the sweep: the broadcast's label and the phase that found it.
  std::optional<std::string> tlp;
  std::string phase;

  Json to_json() const;
};

const char* kind_name(Finding::Kind k);

// Where engines put findings. Engines call add() from several scan threads at once: every sink
// is thread-safe.
class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual void add(Finding f) = 0;
};

}  // namespace forage::scanners
