// Reads of a mapped file that another process may truncate: without a guard, touching a page past
// the new end raises SIGBUS and kills the run. While a MapGuard is armed on a thread, such a
// fault inside its mapping replaces the pages from the faulting one to the end with zero pages
// and lets the read go on; the caller then sees faulted() and drops what it computed. Nothing
// unwinds (no longjmp out of libyara, OpenSSL or libmagic), so their state stays consistent.
// A SIGBUS anywhere else goes to the handler installed before ours (or the default action).
#pragma once

#include "common/file.h"

namespace forage {

class MapGuard {
 public:
  // Arms the guard for `map` on the calling thread; one armed guard per thread at a time.
  explicit MapGuard(const MappedFile& map);
  ~MapGuard();
  MapGuard(const MapGuard&) = delete;
  MapGuard& operator=(const MapGuard&) = delete;

  // True once a read of the mapping faulted (the file shrank, or the device failed): the bytes
  // from the faulting page on read as zeros and any result computed from them is wrong.
  bool faulted() const;
};

}  // namespace forage
