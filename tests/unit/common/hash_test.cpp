// ConcurrentHasher: the digest is the one a plain Hasher gives, whatever the chunk sizes, and a
// failure on either side reaches the caller only after the worker let go of the buffer.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/hash.h"

namespace forage {
namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u;
  for (auto& c : s) {  // xorshift: no two chunks alike, so a skipped or doubled chunk shows
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

TEST(ConcurrentHasher, SameDigestAsInlineForEveryChunkSize) {
  const std::string data = pattern(9u << 20);
  const std::string want = sha256_hex(data);
  for (size_t chunk : {size_t{1000}, ConcurrentHasher::kInline - 1, ConcurrentHasher::kInline,
                       size_t{1} << 20, size_t{3} << 20, data.size()}) {
    Hasher h(HashAlgo::kSha256);
    std::string copy;
    {
      ConcurrentHasher hashing(h);
      for (size_t at = 0; at < data.size(); at += chunk) {
        size_t n = std::min(chunk, data.size() - at);
        hashing.update_while(data.data() + at, n, [&] { copy.append(data, at, n); });
      }
    }
    EXPECT_EQ(h.final_hex(), want) << "chunk " << chunk;
    EXPECT_EQ(copy, data) << "chunk " << chunk;
  }
}

TEST(ConcurrentHasher, AFailingWriterIsRethrownAndTheHasherStaysUsable) {
  const std::string data = pattern(2u << 20);
  Hasher h(HashAlgo::kSha256);
  ConcurrentHasher hashing(h);
  EXPECT_THROW(
      hashing.update_while(data.data(), data.size(), [] { throw std::runtime_error("disk full"); }),
      std::runtime_error);
  // The first chunk was hashed (the worker finished before the throw came through).
  hashing.update_while(data.data(), data.size(), [] {});
  EXPECT_EQ(h.final_hex(), sha256_hex(data + data));
}

}  // namespace
}  // namespace forage
