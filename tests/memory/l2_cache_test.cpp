#include <catch2/catch.hpp>

#include <cstdint>

#include "common/error.h"
#include "memory/l2_cache.h"
#include "memory/l2_tile_key.h"

using namespace stcsim;

namespace {

constexpr std::int64_t kKiB = 1024;
constexpr std::uint64_t kKiBu = 1024;

L2Config l2_of(std::int64_t bytes, int partitions = 1) {
  L2Config c;
  c.bytes = bytes;
  c.bytes_per_clock = 1000;
  c.latency_near_cycles = 200;
  c.latency_far_cycles = 400;
  c.partitions = partitions;
  return c;
}

L2TileKey s_tile(std::int64_t k) { return {L2Operand::S, 0, 0, k, 0, -1}; }

// Two passes over `tiles` tiles of 1 KiB; returns the cache.
L2Cache two_passes(std::int64_t capacity, int tiles) {
  L2Cache l2(l2_of(capacity));
  for (int pass = 0; pass < 2; ++pass) {
    for (int k = 0; k < tiles; ++k) l2.lookup(s_tile(k), 1024);
  }
  return l2;
}

}  // namespace

TEST_CASE("L2: a working set smaller than the L2 hits on the second pass", "[memory][l2]") {
  const L2Cache l2 = two_passes(10 * kKiB, 8);
  CHECK(l2.stats().misses == 8);
  CHECK(l2.stats().hits == 8);
  CHECK(l2.stats().hit_bytes == 8 * kKiBu);
  CHECK(l2.stats().miss_bytes == 8 * kKiBu);
  CHECK(l2.stats().evictions == 0);
  CHECK(l2.used_bytes() == 8 * kKiB);
}

TEST_CASE("L2: a working set exactly the L2's size still fits", "[memory][l2]") {
  const L2Cache l2 = two_passes(10 * kKiB, 10);
  CHECK(l2.stats().misses == 10);
  CHECK(l2.stats().hits == 10);
  CHECK(l2.stats().evictions == 0);
}

TEST_CASE("L2: a cyclic working set larger than the L2 misses on every access under LRU", "[memory][l2]") {
  const L2Cache l2 = two_passes(10 * kKiB, 12);
  CHECK(l2.stats().misses == 24);
  CHECK(l2.stats().hits == 0);
  CHECK(l2.stats().evictions == 14);  // 2 in the first pass, one per miss in the second
  CHECK(l2.stats().evicted_bytes == 14 * kKiBu);
  CHECK(l2.used_bytes() == 10 * kKiB);
  CHECK(l2.entries() == 10);
}

TEST_CASE("L2: a hit refreshes a tile, so the least recently used one is evicted", "[memory][l2]") {
  L2Cache l2(l2_of(3000));
  l2.lookup(s_tile(0), 1000);
  l2.lookup(s_tile(1), 1000);
  l2.lookup(s_tile(2), 1000);
  CHECK(l2.lookup(s_tile(0), 1000).hit);
  l2.lookup(s_tile(3), 1000);  // evicts tile 1
  CHECK(l2.contains(s_tile(0)));
  CHECK_FALSE(l2.contains(s_tile(1)));
  CHECK(l2.contains(s_tile(2)));
  CHECK(l2.contains(s_tile(3)));
  // A large tile evicts as many of the oldest as it needs: 2, then 0.
  l2.lookup(s_tile(4), 2000);
  CHECK_FALSE(l2.contains(s_tile(2)));
  CHECK_FALSE(l2.contains(s_tile(0)));
  CHECK(l2.contains(s_tile(3)));
  CHECK(l2.used_bytes() == 3000);
  CHECK(l2.stats().evictions == 3);
}

TEST_CASE("L2: a tile larger than the L2 streams through without evicting", "[memory][l2]") {
  L2Cache l2(l2_of(3000));
  l2.lookup(s_tile(0), 1000);
  const L2Lookup r = l2.lookup(s_tile(1), 3001);
  CHECK_FALSE(r.hit);
  CHECK_FALSE(r.allocated);
  CHECK(l2.contains(s_tile(0)));
  CHECK_FALSE(l2.contains(s_tile(1)));
  CHECK(l2.stats().bypasses == 1);
  CHECK(l2.stats().misses == 2);
  CHECK(l2.stats().evictions == 0);
  l2.set_ready(s_tile(1), 5);  // not held: ignored
  L2Cache none(l2_of(0));
  CHECK_FALSE(none.lookup(s_tile(0), 1).allocated);
}

TEST_CASE("L2: a fill's ready cycle is what a later hit sees", "[memory][l2]") {
  L2Cache l2(l2_of(3000));
  const L2Lookup miss = l2.lookup(s_tile(0), 1000);
  CHECK_FALSE(miss.hit);
  CHECK(miss.allocated);
  l2.set_ready(s_tile(0), 777);
  const L2Lookup hit = l2.lookup(s_tile(0), 1000);
  CHECK(hit.hit);
  CHECK(hit.ready_at == 777);
}

TEST_CASE("L2: stores allocate (write-allocate) and are counted", "[memory][l2]") {
  L2Cache l2(l2_of(3000));
  const L2TileKey c = c_tile_key(0, 1, 2, 0);
  CHECK_FALSE(l2.write(c, 1500, 50));
  CHECK(l2.write(c, 1500, 60));
  CHECK(l2.stats().writes == 2);
  CHECK(l2.stats().write_bytes == 3000);
  CHECK(l2.stats().write_allocations == 1);
  const L2Lookup r = l2.lookup(c, 1500);
  CHECK(r.hit);
  CHECK(r.ready_at == 60);
  // C tiles take capacity from operand tiles.
  l2.lookup(s_tile(0), 1500);
  l2.lookup(s_tile(1), 1500);
  CHECK_FALSE(l2.contains(c));
}

TEST_CASE("L2: errors", "[memory][l2]") {
  L2Cache l2(l2_of(3000));
  l2.lookup(s_tile(0), 1000);
  CHECK_THROWS_AS(l2.lookup(s_tile(0), 999), Error);
  CHECK_THROWS_AS(l2.lookup(s_tile(1), 0), Error);
  CHECK_THROWS_AS(l2.write(s_tile(2), -5, 0), Error);
  CHECK(l2.stats().writes == 0);
  CHECK_THROWS_AS(L2Cache(l2_of(-1)), Error);
  CHECK_THROWS_AS(L2Cache(l2_of(100, 0)), Error);
}

TEST_CASE("L2: near and far partitions follow a fixed hash of the tile key", "[memory][l2]") {
  SECTION("one partition: every tile is near") {
    L2Cache l2(l2_of(1 << 20, 1));
    for (int k = 0; k < 100; ++k) {
      CHECK(l2.home_partition(s_tile(k)) == 0);
      CHECK(l2.latency(s_tile(k), 0) == 200);
    }
  }
  SECTION("two partitions: tiles spread over both, latency by the SM's partition") {
    L2Cache l2(l2_of(1 << 20, 2));
    int in_zero = 0;
    for (int k = 0; k < 1000; ++k) {
      const int home = l2.home_partition(s_tile(k));
      REQUIRE((home == 0 || home == 1));
      in_zero += home == 0;
      CHECK(l2.latency(s_tile(k), home) == 200);
      CHECK(l2.latency(s_tile(k), 1 - home) == 400);
    }
    CHECK(in_zero > 400);
    CHECK(in_zero < 600);
  }
  SECTION("the hash is fixed, not the toolchain's") {
    // Pinned so that a change of the rule (which changes every timing) is a visible decision.
    const L2TileKey k{L2Operand::D, 3, 5, 7, 1, -1};
    CHECK(tile_key_hash(k) == 16403959880936483438ull);
    CHECK(tile_key_hash(k) != tile_key_hash(L2TileKey{L2Operand::S, 3, 5, 7, 1, -1}));
  }
}

TEST_CASE("L2 keys from the scheduler's tiles follow each operand's orientation", "[memory][l2]") {
  const L2TileKey s = l2_key(TileKey{TileOperand::S, 4, 9, 2, -1}, 7);
  CHECK(s == L2TileKey{L2Operand::S, 7, 4, 9, 2, -1});
  const L2TileKey d = l2_key(TileKey{TileOperand::D, 4, 9, 2, 3}, 7);
  CHECK(d == L2TileKey{L2Operand::D, 7, 9, 4, 2, 3});
  CHECK(c_tile_key(7, 4, 5, 2, 1) == L2TileKey{L2Operand::C, 7, 4, 5, 2, 1});
  CHECK(l2_key(TileKey{TileOperand::S, 4, 9, 2, -1}, 8) != s);
  CHECK(to_string(d) == "D[launch 7, row 9, col 4, copy 2, group 3]");
}
