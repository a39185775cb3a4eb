// One sequential random stream, filled in parallel. Element i of the output is make(rng) for the
// stream advanced by i * draws draws, exactly as a loop over the elements in order would give it, so
// the bytes are the same on one thread or many. A single thread first walks the stream (discard, a
// few nanoseconds per draw) to the start of each chunk; the chunks are then generated on all threads.
#pragma once

#include <cstdint>
#include <vector>

#include "common/parallel.h"
#include "common/rng.h"

namespace stcsim {

// `make` must draw exactly `draws` next_u64() per call (Rng::normal draws 2, uniform and below(2^k) 1).
template <class T, class Make>
void fill_from_stream(T* out, std::int64_t n, std::uint64_t seed, std::uint64_t draws, const Make& make) {
  constexpr std::int64_t kChunk = std::int64_t{1} << 16;
  const std::int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<Rng> starts;
  starts.reserve(static_cast<std::size_t>(chunks));
  Rng walk(seed);
  for (std::int64_t c = 0; c < chunks; ++c) {
    starts.push_back(walk);
    if (c + 1 < chunks) walk.discard(static_cast<std::uint64_t>(kChunk) * draws);
  }
  parallel_for(chunks, 1, [&](std::int64_t c0, std::int64_t c1) {
    for (std::int64_t c = c0; c < c1; ++c) {
      Rng rng = starts[static_cast<std::size_t>(c)];
      const std::int64_t end = std::min(n, (c + 1) * kChunk);
      for (std::int64_t i = c * kChunk; i < end; ++i) out[i] = make(rng);
    }
  });
}

}  // namespace stcsim
