// Streaming message digests over OpenSSL EVP, in a move-only RAII wrapper.
#pragma once

#include <memory>
#include <string>
#include <string_view>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace forage {

enum class HashAlgo { kMd5, kSha1, kSha256, kSha512 };

class Hasher {
 public:
  explicit Hasher(HashAlgo algo);
  Hasher(Hasher&&) noexcept = default;
  Hasher& operator=(Hasher&&) noexcept = default;

  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Lower-case hex digest; the hasher is reset and can be reused afterwards.
  std::string final_hex();

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const;
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  HashAlgo algo_;
};

std::string sha256_hex(std::string_view data);

}  // namespace forage
