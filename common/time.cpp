#include "common/time.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace forage {

std::string utc_iso(int64_t t) {
  if (t == 0) return "";
  return fmt::format("{:%FT%TZ}", fmt::gmtime(static_cast<std::time_t>(t)));
}

std::string utc_iso(int64_t t, int64_t ns, int digits) {
  if (ns < 0) {  // a time before a whole second: borrow one
    ns += 1000000000;
    --t;
  }
  int64_t frac = ns;
  for (int d = 9; d > digits; --d) frac /= 10;
  return fmt::format("{:%FT%T}.{:0{}}Z", fmt::gmtime(static_cast<std::time_t>(t)), frac, digits);
}

std::string utc_iso(const std::tm& utc) {
  return fmt::format("{:%FT%TZ}", utc);
}

std::string utc_date(int64_t t) {
  return fmt::format("{:%F}", fmt::gmtime(static_cast<std::time_t>(t)));
}

std::string utc_compact(int64_t t) {
  return fmt::format("{:%Y%m%dT%H%M%SZ}", fmt::gmtime(static_cast<std::time_t>(t)));
}

std::string utc_now() {
  return utc_iso(static_cast<int64_t>(std::time(nullptr)));
}

std::string utc_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return utc_iso(ts.tv_sec, ts.tv_nsec, 9);
}

}  // namespace forage
