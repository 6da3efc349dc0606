// Streaming message digests over OpenSSL EVP, in a move-only RAII wrapper.
#pragma once

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace forage {

enum class HashAlgo { kMd5, kSha1, kSha256, kSha512 };

// "md5", "sha1", "sha256", "sha512": the indicator types and the JSON keys of digests.
const char* hash_name(HashAlgo a);

class Hasher {
 public:
  explicit Hasher(HashAlgo algo);
  Hasher(Hasher&&) noexcept = default;
  Hasher& operator=(Hasher&&) noexcept = default;

  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Lower-case hex digest; the hasher is reset and can be reused afterwards.
  std::string final_hex();
  // The digest itself into `out` (room for the longest, 64 bytes); returns its length. Resets too.
  size_t final_raw(unsigned char* out);

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const;
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  HashAlgo algo_;
};

std::string sha256_hex(std::string_view data);

// Feeds large buffers to a Hasher on a worker thread while the caller writes the same bytes
// elsewhere: SHA-256 (about 1.6 GB/s with SHA-NI) and copying into the page cache then overlap
// instead of adding up. Small buffers are hashed inline (a hand-off costs more than it saves).
// The Hasher must not be touched by anyone else while a ConcurrentHasher holds it.
class ConcurrentHasher {
 public:
  explicit ConcurrentHasher(Hasher& h) : h_(h) {}
  ~ConcurrentHasher();
  ConcurrentHasher(const ConcurrentHasher&) = delete;
  ConcurrentHasher& operator=(const ConcurrentHasher&) = delete;

  // Hashes data[0, size) while `also()` runs on this thread; returns (or rethrows what `also`
  // threw) only once both are done, so the caller may reuse the buffer right after.
  template <class F>
  void update_while(const void* data, size_t size, F&& also) {
    if (size < kInline) {
      h_.update(data, size);
      also();
      return;
    }
    begin(data, size);
    try {
      also();
    } catch (...) {
      wait();
      throw;
    }
    wait();
  }

  static constexpr size_t kInline = 256 << 10;

 private:
  void begin(const void* data, size_t size);
  void wait();  // rethrows a failure of the worker's update()
  void run();

  Hasher& h_;
  std::thread worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  const void* data_ = nullptr;
  size_t size_ = 0;
  bool busy_ = false, quit_ = false;
  std::exception_ptr error_;
};

}  // namespace forage
