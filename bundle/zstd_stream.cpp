#include "bundle/zstd_stream.h"

#include <zstd.h>

#include "common/error.h"

namespace forage::bundle {

bool looks_like_zstd(std::string_view b) {
  return b.size() >= 4 && static_cast<unsigned char>(b[0]) == 0x28 &&
         static_cast<unsigned char>(b[1]) == 0xb5 && static_cast<unsigned char>(b[2]) == 0x2f &&
         static_cast<unsigned char>(b[3]) == 0xfd;
}

void ZstdSink::Free::operator()(ZSTD_CCtx* c) const {
  ZSTD_freeCCtx(c);
}
void ZstdSource::Free::operator()(ZSTD_DCtx* c) const {
  ZSTD_freeDCtx(c);
}

ZstdSink::ZstdSink(Sink& next, int level)
    : next_(next), cctx_(ZSTD_createCCtx()), out_(ZSTD_CStreamOutSize()) {
  if (!cctx_) throw Error("zstd: cannot create a compression context");
  ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_checksumFlag, 1);
}

void ZstdSink::write(const void* data, size_t size) {
  ZSTD_inBuffer in{data, size, 0};
  while (in.pos < in.size) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t r = ZSTD_compressStream2(cctx_.get(), &out, &in, ZSTD_e_continue);
    if (ZSTD_isError(r)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(r));
    if (out.pos) next_.write(out_.data(), out.pos);
  }
}

void ZstdSink::flush() {
  ZSTD_inBuffer in{nullptr, 0, 0};
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t r = ZSTD_compressStream2(cctx_.get(), &out, &in, ZSTD_e_flush);
    if (ZSTD_isError(r)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(r));
    if (out.pos) next_.write(out_.data(), out.pos);
    if (r == 0) break;
  }
  next_.flush();
}

void ZstdSink::finish() {
  ZSTD_inBuffer in{nullptr, 0, 0};
  for (;;) {
    ZSTD_outBuffer out{out_.data(), out_.size(), 0};
    size_t r = ZSTD_compressStream2(cctx_.get(), &out, &in, ZSTD_e_end);
    if (ZSTD_isError(r)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(r));
    if (out.pos) next_.write(out_.data(), out.pos);
    if (r == 0) break;
  }
  next_.finish();
}

ZstdSource::ZstdSource(Source& in, std::string name)
    : in_(in), name_(std::move(name)), dctx_(ZSTD_createDCtx()), in_buf_(ZSTD_DStreamInSize()) {
  if (!dctx_) throw Error("zstd: cannot create a decompression context");
  // Refuse absurd window sizes from hostile frames (default limit is 128 MiB already).
  ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_windowLogMax, 27);
}

size_t ZstdSource::read(void* data, size_t size) {
  if (size == 0) return 0;
  for (;;) {
    if (in_pos_ == in_len_ && !in_eof_) {
      in_len_ = in_.read(in_buf_.data(), in_buf_.size());
      in_pos_ = 0;
      if (in_len_ == 0) in_eof_ = true;
    }
    bool no_input = in_pos_ == in_len_ && in_eof_;
    if (no_input && !frame_open_) return 0;
    ZSTD_inBuffer in{in_buf_.data(), in_len_, in_pos_};
    ZSTD_outBuffer out{data, size, 0};
    size_t r = ZSTD_decompressStream(dctx_.get(), &out, &in);
    in_pos_ = in.pos;
    if (ZSTD_isError(r))
      throw Error(name_ + ": corrupt zstd stream: " + ZSTD_getErrorName(r), Exit::kVerifyFailed);
    frame_open_ = r != 0;
    if (out.pos > 0) return out.pos;
    // At the end of the input, a frame still expecting bytes is a cut-short bundle.
    if (no_input && frame_open_)
      throw Error(name_ + ": truncated zstd stream (the compressed bundle is cut short)",
                  Exit::kVerifyFailed);
  }
}

}  // namespace forage::bundle
