// Streaming zstd layers (libzstd ZSTD_compressStream2 / ZSTD_decompressStream): constant memory
// whatever the size of the bundle.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bundle/stream.h"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;
typedef struct ZSTD_DCtx_s ZSTD_DCtx;

namespace forage::bundle {

bool looks_like_zstd(std::string_view first_bytes);

class ZstdSink : public Sink {
 public:
  // level: 1 (fast) .. 19; the frame carries a content checksum so corruption is detected.
  ZstdSink(Sink& next, int level);
  void write(const void* data, size_t size) override;
  using Sink::write;
  void finish() override;
  void flush() override;

 private:
  struct Free {
    void operator()(ZSTD_CCtx* c) const;
  };
  Sink& next_;
  std::unique_ptr<ZSTD_CCtx, Free> cctx_;
  std::vector<char> out_;
};

class ZstdSource : public Source {
 public:
  ZstdSource(Source& in, std::string name);
  size_t read(void* data, size_t size) override;

 private:
  struct Free {
    void operator()(ZSTD_DCtx* c) const;
  };
  Source& in_;
  std::string name_;
  std::unique_ptr<ZSTD_DCtx, Free> dctx_;
  std::vector<char> in_buf_;
  size_t in_pos_ = 0, in_len_ = 0;
  bool in_eof_ = false;
  bool frame_open_ = false;  // inside a frame: EOF now means a truncated stream
};

}  // namespace forage::bundle
