#include "memory/l2_cache.h"

#include <string>

#include "common/error.h"

namespace stcsim {

L2Cache::L2Cache(const L2Config& cfg) : cfg_(cfg) {
  if (cfg_.bytes < 0) throw Error("l2: bytes must be >= 0 (got " + std::to_string(cfg_.bytes) + ")");
  if (cfg_.partitions < 1) throw Error("l2: partitions must be >= 1 (got " + std::to_string(cfg_.partitions) + ")");
  if (cfg_.latency_near_cycles < 0 || cfg_.latency_far_cycles < 0) throw Error("l2: latencies must be >= 0");
}

L2Cache::Entry* L2Cache::touch(const L2TileKey& key, std::int64_t bytes) {
  if (bytes < 1) throw Error("l2: tile " + to_string(key) + ": " + std::to_string(bytes) + " bytes (must be >= 1)");
  const auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  if (it->second->bytes != bytes) {
    // A tile's size is a function of its key; a mismatch means two different tiles share a key.
    throw Error("l2: tile " + to_string(key) + " accessed with " + std::to_string(bytes) + " bytes but held with " +
                std::to_string(it->second->bytes));
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return &lru_.front();
}

bool L2Cache::allocate(const L2TileKey& key, std::int64_t bytes, std::int64_t ready_at) {
  if (bytes > cfg_.bytes) return false;
  while (used_ + bytes > cfg_.bytes) {
    const Entry& victim = lru_.back();
    used_ -= victim.bytes;
    stats_.evictions += 1;
    stats_.evicted_bytes += static_cast<std::uint64_t>(victim.bytes);
    index_.erase(victim.key);
    lru_.pop_back();
  }
  lru_.push_front({key, bytes, ready_at});
  index_.emplace(key, lru_.begin());
  used_ += bytes;
  return true;
}

L2Lookup L2Cache::lookup(const L2TileKey& key, std::int64_t bytes) {
  L2Lookup r;
  if (const Entry* e = touch(key, bytes)) {
    r.hit = true;
    r.ready_at = e->ready_at;
    stats_.hits += 1;
    stats_.hit_bytes += static_cast<std::uint64_t>(bytes);
    return r;
  }
  stats_.misses += 1;
  stats_.miss_bytes += static_cast<std::uint64_t>(bytes);
  r.allocated = allocate(key, bytes, 0);
  if (!r.allocated) stats_.bypasses += 1;
  return r;
}

void L2Cache::set_ready(const L2TileKey& key, std::int64_t cycle) {
  const auto it = index_.find(key);
  if (it != index_.end()) it->second->ready_at = cycle;
}

bool L2Cache::write(const L2TileKey& key, std::int64_t bytes, std::int64_t ready_at) {
  Entry* e = touch(key, bytes);  // validates bytes first
  stats_.writes += 1;
  stats_.write_bytes += static_cast<std::uint64_t>(bytes);
  if (e) {
    e->ready_at = ready_at;
    return true;
  }
  if (allocate(key, bytes, ready_at)) stats_.write_allocations += 1;
  return false;
}

int L2Cache::home_partition(const L2TileKey& key) const {
  return static_cast<int>(tile_key_hash(key) % static_cast<std::uint64_t>(cfg_.partitions));
}

std::int64_t L2Cache::latency(const L2TileKey& key, int sm_partition) const {
  return is_near(key, sm_partition) ? cfg_.latency_near_cycles : cfg_.latency_far_cycles;
}

}  // namespace stcsim
