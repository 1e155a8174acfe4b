#include "store/zstd_frame.h"

#include <zstd.h>

#include <memory>

namespace leanos::store {

std::string zstd_frame(std::string_view bytes, std::string_view prefix, int level, bool checksum) {
  // One context per thread, reused (as for decompressing, where one per call was a tenth of a
  // checkout); reset between frames, so nothing of the last one carries over.
  thread_local std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> c(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  ZSTD_CCtx_reset(c.get(), ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(c.get(), ZSTD_c_checksumFlag, checksum ? 1 : 0);
  if (!prefix.empty()) {
    int window = 10;
    while ((std::size_t{1} << window) < prefix.size() + bytes.size() && window < 27) ++window;
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_windowLog, window);
    ZSTD_CCtx_refPrefix(c.get(), prefix.data(), prefix.size());
  }
  std::string frame(ZSTD_compressBound(bytes.size()), '\0');
  const std::size_t n = ZSTD_compress2(c.get(), frame.data(), frame.size(), bytes.data(), bytes.size());
  frame.resize(ZSTD_isError(n) ? 0 : n);
  return frame;
}

Status zstd_append(std::string& out, std::string_view frame, std::string_view prefix, std::size_t max_size) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > max_size)
    return Status::corruption("not a zstd frame of at most " + std::to_string(max_size) + " bytes");
  const std::size_t from = out.size();
  out.resize(from + size);
  thread_local std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> d(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  ZSTD_DCtx_reset(d.get(), ZSTD_reset_session_only);
  if (!prefix.empty()) ZSTD_DCtx_refPrefix(d.get(), prefix.data(), prefix.size());
  const std::size_t n = ZSTD_decompressDCtx(d.get(), out.data() + from, size, frame.data(), frame.size());
  if (ZSTD_isError(n) || n != size) {
    out.resize(from);
    return Status::corruption(std::string("does not decompress: ") + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  }
  return Status::success();
}

}  // namespace leanos::store
