// zstd frames, whole or against a prefix (zstd's --patch-from): the files layer's contents
// and the projection snapshots' deltas.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "events/result.h"

namespace leanos::store {

// One zstd frame of `bytes`; with a prefix, compressed against it (the window spans the
// prefix, at most 2^27 bytes in all: what a decoder accepts by default). With `checksum`, the
// frame carries its content's checksum, which decompressing checks. Empty on an error.
std::string zstd_frame(std::string_view bytes, std::string_view prefix = {}, int level = 3, bool checksum = false);

// Appends the content of one zstd frame, decompressed against `prefix` (the one it was
// compressed with), to `out`: at most `max_size` bytes. Status::corruption saying why
// ("not a zstd frame of at most N bytes", "does not decompress: …") when it cannot.
Status zstd_append(std::string& out, std::string_view frame, std::string_view prefix, std::size_t max_size);

}  // namespace leanos::store
