#include "common/hash.h"

#include <openssl/evp.h>

#include <utility>

#include "common/error.h"
#include "common/strings.h"

namespace forage {

const char* hash_name(HashAlgo a) {
  switch (a) {
    case HashAlgo::kMd5:
      return "md5";
    case HashAlgo::kSha1:
      return "sha1";
    case HashAlgo::kSha256:
      return "sha256";
    case HashAlgo::kSha512:
      return "sha512";
  }
  return "?";
}
namespace {

const EVP_MD* md_for(HashAlgo algo) {
  switch (algo) {
    case HashAlgo::kMd5:
      return EVP_md5();
    case HashAlgo::kSha1:
      return EVP_sha1();
    case HashAlgo::kSha256:
      return EVP_sha256();
    case HashAlgo::kSha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

}  // namespace

void Hasher::Free::operator()(EVP_MD_CTX* c) const {
  EVP_MD_CTX_free(c);
}

Hasher::Hasher(HashAlgo algo) : ctx_(EVP_MD_CTX_new()), algo_(algo) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), md_for(algo), nullptr) != 1)
    throw Error("OpenSSL: cannot initialise digest");
}

void Hasher::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) throw Error("OpenSSL: digest update failed");
}

size_t Hasher::final_raw(unsigned char* out) {
  static_assert(EVP_MAX_MD_SIZE == 64);
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), out, &len) != 1) throw Error("OpenSSL: digest final failed");
  EVP_DigestInit_ex(ctx_.get(), md_for(algo_), nullptr);
  return len;
}

std::string Hasher::final_hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  size_t len = final_raw(md);
  return hex(md, len);
}

std::string sha256_hex(std::string_view data) {
  Hasher h(HashAlgo::kSha256);
  h.update(data);
  return h.final_hex();
}

ConcurrentHasher::~ConcurrentHasher() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard lk(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void ConcurrentHasher::begin(const void* data, size_t size) {
  if (!worker_.joinable()) worker_ = std::thread([this] { run(); });
  {
    std::lock_guard lk(mu_);
    data_ = data;
    size_ = size;
    busy_ = true;
  }
  cv_.notify_all();
}

void ConcurrentHasher::wait() {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [this] { return !busy_; });
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void ConcurrentHasher::run() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [this] { return busy_ || quit_; });
    if (quit_) return;
    lk.unlock();
    std::exception_ptr err;
    try {
      h_.update(data_, size_);
    } catch (...) {
      err = std::current_exception();
    }
    lk.lock();
    error_ = err;
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace forage
