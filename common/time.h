// UTC times as text: the one formatter of forage (ISO 8601 / RFC 3339 with "Z"), over fmt's
// chrono support. Every record, log line and report writes times through here.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace forage {

// "2026-11-20T10:15:00Z"; "" for 0 (a record that holds no time).
std::string utc_iso(int64_t epoch_seconds);
// With a fraction of `digits` digits (3, 6 or 9): "2026-11-20T10:15:00.123456Z".
std::string utc_iso(int64_t epoch_seconds, int64_t nanoseconds, int digits);
// A broken-down UTC time (an ASN.1 time, say).
std::string utc_iso(const std::tm& utc);
// "2026-11-20".
std::string utc_date(int64_t epoch_seconds);
// "20261120T101500Z" (names: bundle directories).
std::string utc_compact(int64_t epoch_seconds);
// Now, to the second and to the nanosecond.
std::string utc_now();
std::string utc_now_ns();

}  // namespace forage
