// The name of one operand tile as the L2 holds it: which operand, which kernel launch, and where the
// tile sits in that operand's grid of CTA tiles. A key names whole tiles only: the L2 model tracks
// tiles, not addresses or lines (docs/model.md, "Timing").
//
// Grid positions follow each operand's own orientation (docs/model.md, "Orientation"):
//   S  (R x K): row = CTA row block,    col = k-block key
//   D  (K x P): row = k-block key,      col = CTA column block
//   C  (R x P): row = CTA row block,    col = CTA column block
// copy is the batched GEMM's copy, group disambiguates tiles that share a grid position: for D the
// tw/tvw tile whose kept K the tile gathers (-1 for plain D tiles shared by every row block), for C
// the split-k slice (-1 or 0 without split-k), -1 for S.
// Left out: addresses, so two launches never share a tile unless the caller gives them the same
// launch id (a layer's output read as the next layer's input is not modelled as an L2 hit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "scheduler/cta_work.h"

namespace stcsim {

enum class L2Operand : std::uint8_t { S, D, C };

struct L2TileKey {
  L2Operand operand = L2Operand::S;
  std::int64_t launch = 0;
  std::int64_t row = 0;
  std::int64_t col = 0;
  std::int64_t copy = 0;
  std::int64_t group = -1;

  bool operator==(const L2TileKey& o) const {
    return operand == o.operand && launch == o.launch && row == o.row && col == o.col && copy == o.copy &&
           group == o.group;
  }
  bool operator!=(const L2TileKey& o) const { return !(*this == o); }
};

// The L2 key of a scheduler tile (LaunchPlan::s_key / d_key) in launch `launch`.
L2TileKey l2_key(const TileKey& t, std::int64_t launch);
// The L2 key of a CTA's output tile.
L2TileKey c_tile_key(std::int64_t launch, std::int64_t row_block, std::int64_t col_block, std::int64_t copy,
                     std::int64_t split = -1);

// A fixed 64-bit mix of every field (splitmix64 rounds): the same on every platform, unlike
// std::hash, so that the near/far partition of a tile is part of the model, not of the toolchain.
std::uint64_t tile_key_hash(const L2TileKey& k);
// The hash tables' hasher: a cheap multiply-add chain with one final mix, inlined into the table's code
// (4% off the LLaMA decode trace's run on H100 against tile_key_hash's six rounds). Partitions keep
// tile_key_hash, so the choice changes no result (the same bytes out); no table of tiles is iterated.
struct L2TileKeyHash {
  std::size_t operator()(const L2TileKey& k) const noexcept {
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
    std::uint64_t h = static_cast<std::uint64_t>(k.operand);
    for (std::int64_t f : {k.launch, k.row, k.col, k.copy, k.group}) h = h * kMul + static_cast<std::uint64_t>(f);
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    h ^= h >> 32;
    return static_cast<std::size_t>(h);
  }
};

// "S[launch 0, row 3, col 7, copy 0, group -1]" for error messages.
std::string to_string(const L2TileKey& k);

}  // namespace stcsim
