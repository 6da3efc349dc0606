// File type identification with libmagic, whose compiled database is embedded in the binary:
// a compromised or minimal host may have no magic.mgc, or a tampered one.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct magic_set;

namespace forage {

// One libmagic handle (not thread-safe: use one per thread).
class FileTyper {
 public:
  // flags: libmagic MAGIC_* flags, e.g. MAGIC_NONE for a description, MAGIC_MIME_TYPE.
  explicit FileTyper(int flags = 0);
  FileTyper(FileTyper&&) noexcept = default;
  FileTyper& operator=(FileTyper&&) noexcept = default;

  // Describes a buffer (usually the first bytes of a file).
  std::string describe(std::string_view bytes);

  static size_t embedded_database_size();

 private:
  struct Close {
    void operator()(magic_set* m) const;
  };
  std::unique_ptr<magic_set, Close> magic_;
};

}  // namespace forage
