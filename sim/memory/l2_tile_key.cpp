#include "memory/l2_tile_key.h"

#include "common/rng.h"

namespace stcsim {

L2TileKey l2_key(const TileKey& t, std::int64_t launch) {
  if (t.operand == TileOperand::S) return {L2Operand::S, launch, t.block, t.k, t.copy, t.group};
  return {L2Operand::D, launch, t.k, t.block, t.copy, t.group};
}

L2TileKey c_tile_key(std::int64_t launch, std::int64_t row_block, std::int64_t col_block, std::int64_t copy,
                     std::int64_t split) {
  return {L2Operand::C, launch, row_block, col_block, copy, split};
}

std::uint64_t tile_key_hash(const L2TileKey& k) {
  std::uint64_t h = 0x6a09e667f3bcc909ULL;
  const std::int64_t fields[] = {static_cast<std::int64_t>(k.operand), k.launch, k.row, k.col, k.copy, k.group};
  for (std::int64_t f : fields) {
    std::uint64_t s = h ^ static_cast<std::uint64_t>(f);
    h = splitmix64(s);
  }
  return h;
}

std::string to_string(const L2TileKey& k) {
  static const char* const kNames[] = {"S", "D", "C"};
  return std::string(kNames[static_cast<int>(k.operand)]) + "[launch " + std::to_string(k.launch) + ", row " +
         std::to_string(k.row) + ", col " + std::to_string(k.col) + ", copy " + std::to_string(k.copy) + ", group " +
         std::to_string(k.group) + "]";
}

}  // namespace stcsim
