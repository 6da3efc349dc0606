// Byte budgets, nested: a file's share is bounded by its row's, the row's by the bundle's. What
// does not fit is listed by the caller (path, size, times, owner, hash of its head), never
// silently dropped.
#pragma once

#include <algorithm>
#include <cstdint>

namespace forage::host {

class Budget {
 public:
  explicit Budget(uint64_t limit = UINT64_MAX, Budget* parent = nullptr)
      : limit_(limit), parent_(parent) {}

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }
  // What may still be taken: the least of this budget and every enclosing one.
  uint64_t left() const {
    uint64_t own = used_ >= limit_ ? 0 : limit_ - used_;
    return parent_ ? std::min(own, parent_->left()) : own;
  }
  bool fits(uint64_t n) const { return n <= left(); }
  // Charges this budget and every enclosing one (also past the limit: bytes already written).
  void take(uint64_t n) {
    used_ += n;
    if (parent_) parent_->take(n);
  }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
  Budget* parent_;
};

}  // namespace forage::host
