#include "scanners/finding.h"

namespace forage::scanners {

const char* kind_name(Finding::Kind k) {
  switch (k) {
    case Finding::Kind::kIoc:
      return "ioc";
    case Finding::Kind::kYara:
      return "yara";
    case Finding::Kind::kNotice:
      return "notice";
  }
  return "?";
}

Json Finding::to_json() const {
  Json j;
  j["kind"] = kind_name(kind);
  for (const auto& [k, v] : target.items()) j[k] = v;
  if (rule.is_object())
    for (const auto& [k, v] : rule.items()) j[k] = v;
  if (kind == Kind::kNotice) j["notice"] = notice;
  if (!match.empty()) j["match"] = match;
  if (!ioc.is_null()) j["ioc"] = ioc;
  for (const auto& [k, v] : details.items()) j[k] = v;
  if (tlp) j["tlp"] = *tlp;
  if (!phase.empty()) j["phase"] = phase;
  return j;
}

}  // namespace forage::scanners
