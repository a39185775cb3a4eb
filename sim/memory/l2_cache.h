// The L2 as a store of whole operand tiles: an entry per tile (L2TileKey) holding its bytes
// (compressed bytes for sparse operands), replaced in LRU order so that the bytes held never exceed
// the configured capacity. Reuse across the CTAs of a wave, and its loss once the working set
// outgrows the L2, follow from the access order alone.
//
// - Loads (lookup) allocate on a miss. A tile larger than the whole L2 is not allocated (it streams
//   through, counted as a miss and a bypass) and evicts nothing.
// - Stores (write) allocate too (write-allocate): a C tile takes capacity and may evict operand tiles,
//   as a store does in a real L2. Entries are never dirty: the memory system sends C bytes on to DRAM
//   when they are stored (see memory_system.h), so an eviction costs no write-back.
// - Each entry remembers the cycle its bytes are all present (ready_at), so that a hit on a tile
//   whose fill is still under way waits for the fill instead of beating DRAM.
// - Near/far partitions: a tile's home partition is tile_key_hash(key) mod partitions; a hit costs
//   latency_near_cycles when that is the requesting SM's partition, latency_far_cycles otherwise.
//   With one partition every tile is near.
// Left out: sets, ways and lines (the L2 is fully associative over tiles), sectors, partial hits on a
// tile, address interleaving of one tile across partitions, compression, and the L2's own pipeline
// queues (its bandwidth is a BandwidthServer in the memory system).
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>

#include "config/memory_config.h"
#include "memory/l2_tile_key.h"

namespace stcsim {

struct L2CacheStats {
  std::uint64_t hits = 0;    // loads that found their tile
  std::uint64_t misses = 0;  // loads that did not (bypasses included)
  std::uint64_t hit_bytes = 0;
  std::uint64_t miss_bytes = 0;
  std::uint64_t bypasses = 0;  // misses too large to allocate
  std::uint64_t writes = 0;    // stores
  std::uint64_t write_bytes = 0;
  std::uint64_t write_allocations = 0;  // stores that allocated a new entry
  std::uint64_t evictions = 0;
  std::uint64_t evicted_bytes = 0;

  template <class F>
  void visit(F&& f) {
    f("hits", hits);
    f("misses", misses);
    f("hit_bytes", hit_bytes);
    f("miss_bytes", miss_bytes);
    f("bypasses", bypasses);
    f("writes", writes);
    f("write_bytes", write_bytes);
    f("write_allocations", write_allocations);
    f("evictions", evictions);
    f("evicted_bytes", evicted_bytes);
  }
};

struct L2Lookup {
  bool hit = false;
  bool allocated = false;     // a miss that now holds an entry (false for a bypass)
  std::int64_t ready_at = 0;  // on a hit: the cycle the entry's bytes are all present
};

class L2Cache {
 public:
  // Throws Error when bytes < 0, partitions < 1 or a latency is < 0.
  explicit L2Cache(const L2Config& cfg);

  // A load of `bytes` (>= 1) of tile `key`: a hit refreshes the entry to most recently used; a miss
  // allocates it (evicting least recently used entries) with ready_at 0 until set_ready.
  // Throws Error when bytes < 1 or the tile is held with a different size.
  L2Lookup lookup(const L2TileKey& key, std::int64_t bytes);
  // Records when an allocated tile's fill completes; ignored for a tile not held.
  void set_ready(const L2TileKey& key, std::int64_t cycle);
  // A store of `bytes` (>= 1) of tile `key`, present from `ready_at`: refreshes or allocates the entry.
  // Returns whether the tile was already held. Throws Error as lookup does.
  bool write(const L2TileKey& key, std::int64_t bytes, std::int64_t ready_at);

  bool contains(const L2TileKey& key) const { return index_.count(key) != 0; }
  int home_partition(const L2TileKey& key) const;
  bool is_near(const L2TileKey& key, int sm_partition) const { return home_partition(key) == sm_partition; }
  // Hit latency of `key` for an SM in partition `sm_partition`.
  std::int64_t latency(const L2TileKey& key, int sm_partition) const;

  std::int64_t capacity() const { return cfg_.bytes; }
  std::int64_t used_bytes() const { return used_; }
  std::size_t entries() const { return lru_.size(); }
  const L2Config& config() const { return cfg_; }
  L2CacheStats& stats() { return stats_; }
  const L2CacheStats& stats() const { return stats_; }

 private:
  struct Entry {
    L2TileKey key;
    std::int64_t bytes = 0;
    std::int64_t ready_at = 0;
  };
  using Lru = std::list<Entry>;  // front = most recently used

  // The entry of `key` moved to the front, or nullptr; throws on a size mismatch.
  Entry* touch(const L2TileKey& key, std::int64_t bytes);
  // Allocates `key` at the front after evicting down to fit; false (and nothing evicted) if it
  // cannot fit even in an empty L2.
  bool allocate(const L2TileKey& key, std::int64_t bytes, std::int64_t ready_at);

  L2Config cfg_;
  Lru lru_;
  std::unordered_map<L2TileKey, Lru::iterator, L2TileKeyHash> index_;
  std::int64_t used_ = 0;
  L2CacheStats stats_;
};

}  // namespace stcsim
