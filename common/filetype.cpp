#include "common/filetype.h"

#include <magic.h>

#include "common/embedded.h"
#include "common/error.h"

FORAGE_EMBEDDED_DECLARE(magic_mgc)

namespace forage {

void FileTyper::Close::operator()(magic_set* m) const { magic_close(m); }

FileTyper::FileTyper(int flags) : magic_(magic_open(flags | MAGIC_NO_CHECK_COMPRESS)) {
  if (!magic_) throw Error("libmagic: cannot create handle");
  auto db = FORAGE_EMBEDDED(magic_mgc);
  void* buffers[1] = {const_cast<char*>(db.data())};
  size_t sizes[1] = {db.size()};
  if (magic_load_buffers(magic_.get(), buffers, sizes, 1) != 0)
    throw Error(std::string("libmagic: embedded database rejected: ") + magic_error(magic_.get()));
}

std::string FileTyper::describe(std::string_view bytes) {
  const char* r = magic_buffer(magic_.get(), bytes.data(), bytes.size());
  if (!r) {
    const char* err = magic_error(magic_.get());
    return std::string("unknown (") + (err ? err : "libmagic failed") + ")";
  }
  return r;
}

size_t FileTyper::embedded_database_size() { return FORAGE_EMBEDDED(magic_mgc).size(); }

}  // namespace forage
