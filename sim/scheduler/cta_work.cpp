// CtaWork: run-length k-block lists and their totals (see cta_work.h).
#include "scheduler/cta_work.h"

#include <algorithm>
#include <tuple>

#include "common/error.h"

namespace stcsim {

void CtaWork::add(const KBlock& b, std::int64_t key) {
  if (!runs_.empty()) {
    KBlockRun& last = runs_.back();
    if (last.block == b && last.key_begin + last.repeat == key) {
      ++last.repeat;
    } else {
      run_start_.push_back(k_blocks_);
      runs_.push_back({b, 1, key});
    }
  } else {
    run_start_.push_back(0);
    runs_.push_back({b, 1, key});
  }
  ++k_blocks_;
  kept_macs_ += b.kept_macs;
  s_bytes_ += b.s_bytes;
  d_bytes_ += b.d_bytes;
  dense_mmas_ += b.dense_mmas;
  sparse_mmas_ += b.sparse_mmas;
  k_work_ += b.k;
}

std::size_t CtaWork::run_of(std::int64_t i) const {
  if (i < 0 || i >= k_blocks_) throw Error("CtaWork: k-block index out of range");
  const auto it = std::upper_bound(run_start_.begin(), run_start_.end(), i);
  return static_cast<std::size_t>(it - run_start_.begin()) - 1;
}

const KBlock& CtaWork::kblock(std::int64_t i) const { return runs_[run_of(i)].block; }

std::int64_t CtaWork::kblock_key(std::int64_t i) const {
  const std::size_t r = run_of(i);
  return runs_[r].key_begin + (i - run_start_[r]);
}

std::vector<KBlock> CtaWork::expanded() const {
  std::vector<KBlock> out;
  out.reserve(static_cast<std::size_t>(k_blocks_));
  for (const auto& r : runs_) out.insert(out.end(), static_cast<std::size_t>(r.repeat), r.block);
  return out;
}

bool TileKey::operator<(const TileKey& o) const {
  return std::tie(operand, block, k, copy, group) < std::tie(o.operand, o.block, o.k, o.copy, o.group);
}

}  // namespace stcsim
