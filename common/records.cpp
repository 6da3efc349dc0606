#include "common/records.h"

#include <algorithm>

#include "common/error.h"
#include "common/strings.h"

namespace forage::records {
namespace {

using Json = nlohmann::ordered_json;

// The field `key` of `j` into `out` when present; a value of another type is an error naming it.
template <typename T>
void field(const Json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  bool ok;
  if constexpr (std::is_same_v<T, bool>)
    ok = it->is_boolean();
  else if constexpr (std::is_integral_v<T>)
    ok = it->is_number_integer();
  else if constexpr (std::is_same_v<T, std::string>)
    ok = it->is_string();
  else
    ok = it->is_array() &&
         std::all_of(it->begin(), it->end(), [](const Json& e) { return e.is_string(); });
  if (!ok)
    throw Error(std::string(key) + ": expected " +
                (std::is_same_v<T, bool>          ? "true or false"
                 : std::is_integral_v<T>          ? "an integer"
                 : std::is_same_v<T, std::string> ? "a string"
                                                  : "a list of strings"));
  out = it->get<T>();
}

}  // namespace

Json to_json(const Target& t) {
  Json j;
  j["pid"] = t.pid;
  j["ppid"] = t.ppid;
  j["uid"] = t.uid;
  j["user"] = utf8_or_escaped(t.user);
  j["exe"] = utf8_or_escaped(t.exe);
  j["exe_deleted"] = t.exe_deleted;
  j["exe_sha256"] = t.exe_sha256;
  j["cmdline"] = utf8_or_escaped(t.cmdline);
  j["cwd"] = utf8_or_escaped(t.cwd);
  j["start_utc"] = t.start_utc;
  j["remote_endpoints"] = t.remote_endpoints;
  j["frozen"] = t.frozen;
  j["core"] = t.core;
  j["killed"] = t.kill_result;
  return j;
}

Target target_from_json(const Json& j) {
  if (!j.is_object()) throw Error("expected an object");
  Target t;
  field(j, "pid", t.pid);
  field(j, "ppid", t.ppid);
  field(j, "uid", t.uid);
  field(j, "user", t.user);
  field(j, "exe", t.exe);
  field(j, "exe_deleted", t.exe_deleted);
  field(j, "exe_sha256", t.exe_sha256);
  field(j, "cmdline", t.cmdline);
  field(j, "cwd", t.cwd);
  field(j, "start_utc", t.start_utc);
  field(j, "remote_endpoints", t.remote_endpoints);
  field(j, "frozen", t.frozen);
  field(j, "core", t.core);
  field(j, "killed", t.kill_result);
  return t;
}

}  // namespace forage::records
