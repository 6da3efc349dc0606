#include "common/error.h"

#include <cstring>

namespace forage {

Error system_error(const std::string& context, int err) {
  return Error(context + ": " + std::strerror(err));
}

}  // namespace forage
