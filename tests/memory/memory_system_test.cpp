#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "common/rng.h"
#include "memory/memory_system.h"

using namespace stcsim;

namespace {

constexpr std::int64_t kKiB = 1024;
constexpr std::uint64_t kKiBu = 1024;

// 4 SMs at 1000 MHz; DRAM 100 GB/s x 1.0 = 100 B/clk, latency 500; L2 1000 B/clk, 200 near, 400 far.
GpuConfig small_gpu(std::int64_t l2_bytes = 64 * kKiB, int partitions = 2) {
  GpuConfig g;
  g.name = "test";
  g.sms = 4;
  g.clock_mhz = 1000;
  g.l2.bytes = l2_bytes;
  g.l2.bytes_per_clock = 1000;
  g.l2.latency_near_cycles = 200;
  g.l2.latency_far_cycles = 400;
  g.l2.partitions = partitions;
  g.dram.bandwidth_gbps = 100;
  g.dram.latency_cycles = 500;
  g.dram.efficiency = 1.0;
  return g;
}

L2TileKey tile(L2Operand op, std::int64_t row, std::int64_t col) { return {op, 0, row, col, 0, -1}; }

// An SM of partition `part` on small_gpu (SMs 0-1 are partition 0, 2-3 partition 1).
int sm_in(int part) { return part * 2; }

struct Event {
  bool store = false;
  std::int64_t now = 0;
  int sm = 0;
  std::vector<TileRequest> tiles;
};

// A pseudo-random stream of loads (one to three tiles from a pool) and, optionally, stores, at
// nondecreasing cycles.
std::vector<Event> random_events(std::uint64_t seed, int n, int pool, bool stores) {
  Rng rng(seed);
  std::vector<Event> ev;
  ev.reserve(static_cast<std::size_t>(n));
  std::int64_t now = 0;
  for (int i = 0; i < n; ++i) {
    Event e;
    now += static_cast<std::int64_t>(rng.below(40));
    e.now = now;
    e.sm = static_cast<int>(rng.below(4));
    e.store = stores && rng.below(5) == 0;
    const int count = e.store ? 1 : 1 + static_cast<int>(rng.below(3));
    for (int t = 0; t < count; ++t) {
      const auto id = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(pool)));
      const L2Operand op = e.store ? L2Operand::C : (id % 2 ? L2Operand::S : L2Operand::D);
      // A tile's size is a function of its key.
      e.tiles.push_back({tile(op, id, 0), 512 + 256 * (id % 7)});
    }
    ev.push_back(e);
  }
  return ev;
}

std::vector<std::int64_t> play(MemorySystem& m, const std::vector<Event>& ev) {
  std::vector<std::int64_t> done;
  done.reserve(ev.size());
  for (const Event& e : ev) {
    done.push_back(e.store ? m.store(e.now, e.sm, e.tiles[0].key, e.tiles[0].bytes) : m.load(e.now, e.sm, e.tiles));
  }
  return done;
}

std::vector<std::uint64_t> counters(MemorySystem& m) {
  std::vector<std::uint64_t> out;
  auto add = [&](const char*, std::uint64_t v) { out.push_back(v); };
  m.stats().visit(add);
  m.l2().stats().visit(add);
  m.l2_link().stats().visit(add);
  m.dram_link().stats().visit(add);
  return out;
}

}  // namespace

TEST_CASE("memory: rates come from the config", "[memory]") {
  MemorySystem m(small_gpu());
  CHECK(m.dram_rate().num == 100);
  CHECK(m.dram_rate().den == 1);
  CHECK(m.l2_rate().num == 1000);
  GpuConfig h100 = small_gpu();
  h100.clock_mhz = 1830;
  h100.dram.bandwidth_gbps = 3350;
  h100.dram.efficiency = 0.92;
  const ByteRate r = dram_byte_rate(h100);
  CHECK(r.bytes_per_cycle() == Approx(3350e9 * 0.92 / 1830e6).epsilon(1e-12));
  CHECK(r.num * 1830000 == 3082000000ull * r.den);  // exact, not rounded through a double
  CHECK(m.partition_of(0) == 0);
  CHECK(m.partition_of(1) == 0);
  CHECK(m.partition_of(2) == 1);
  CHECK(m.partition_of(3) == 1);
}

TEST_CASE("memory: a single miss and a single hit complete at their exact cycles", "[memory]") {
  MemorySystem m(small_gpu());
  const L2TileKey a = tile(L2Operand::S, 0, 0);
  const int home = m.l2().home_partition(a);
  // Miss: 1000 bytes over DRAM at 100 B/clk = 10 cycles, + 500 latency; the L2 side (1 + 400) is shorter.
  CHECK(m.load(1000, sm_in(home), {{a, 1000}}) == 1510);
  // Hit from the near partition: 1 cycle of L2 transfer + 200.
  CHECK(m.load(2000, sm_in(home), {{a, 1000}}) == 2201);
  // Hit from the far partition: + 400.
  CHECK(m.load(3000, sm_in(1 - home), {{a, 1000}}) == 3401);
  CHECK(m.stats().dram_read_bytes == 1000);
  CHECK(m.stats().l2_read_bytes == 3000);
  CHECK(m.stats().l2_fill_bytes == 1000);
  CHECK(m.stats().near_accesses == 2);
  CHECK(m.stats().far_accesses == 1);
  CHECK(m.stats().load_cycles == 510 + 201 + 401);
  CHECK(m.l2().stats().hits == 2);
  CHECK(m.l2().stats().misses == 1);
}

TEST_CASE("memory: a load is done when its last tile arrives", "[memory]") {
  MemorySystem m(small_gpu());
  const L2TileKey a = tile(L2Operand::S, 0, 0), b = tile(L2Operand::D, 0, 0);
  // Both miss: DRAM carries 1000 then 3000 bytes: done at 40 + 500.
  CHECK(m.load(0, 0, {{a, 1000}, {b, 3000}, {tile(L2Operand::S, 9, 9), 0}}) == 540);
  CHECK(m.stats().load_tiles == 2);
  CHECK(m.load(600, 0, {}) == 600);
  CHECK(m.stats().loads == 2);
}

TEST_CASE("memory: a hit on a tile still being filled waits for the fill", "[memory]") {
  MemorySystem m(small_gpu());
  const L2TileKey a = tile(L2Operand::D, 3, 1);
  CHECK(m.load(0, 0, {{a, 2000}}) == 520);
  CHECK(m.load(1, 3, {{a, 2000}}) == 520);  // not 1 + 2 + 200 or 400
  CHECK(m.stats().pending_hits == 1);
  CHECK(m.stats().dram_read_bytes == 2000);
  const std::int64_t later = m.load(1000, 3, {{a, 2000}});
  CHECK(later == 1002 + m.l2().latency(a, 1));
  CHECK(m.stats().pending_hits == 1);
}

TEST_CASE("memory: DRAM bandwidth is shared by the SMs in request order", "[memory]") {
  MemorySystem m(small_gpu(1 << 20));
  // Four SMs miss on distinct 10 kB tiles at cycle 0: 100 cycles each on DRAM, back to back.
  for (int sm = 0; sm < 4; ++sm) {
    CHECK(m.load(0, sm, {{tile(L2Operand::S, sm, 0), 10000}}) == 100 * (sm + 1) + 500);
  }
  CHECK(m.dram_link().stats().queue_cycles == 100 + 200 + 300);
  CHECK(m.dram_drained_at() == 900);
}

TEST_CASE("memory: C stores are counted, allocate in L2 and take DRAM bandwidth", "[memory]") {
  MemorySystem m(small_gpu());
  const L2TileKey c = c_tile_key(0, 2, 3, 0);
  const int home = m.l2().home_partition(c);
  // Done when the L2 has it: 4 cycles of L2 transfer + near latency.
  CHECK(m.store(100, sm_in(home), c, 4000) == 304);
  CHECK(m.stats().stores == 1);
  CHECK(m.stats().l2_write_bytes == 4000);
  CHECK(m.stats().dram_write_bytes == 4000);
  CHECK(m.stats().dram_read_bytes == 0);
  CHECK(m.stats().l2_bytes() == 4000);
  CHECK(m.stats().dram_bytes() == 4000);
  CHECK(m.dram_drained_at() == 100 + 40 + 500);
  // The posted write holds DRAM until 140: a miss issued at 100 queues behind it.
  CHECK(m.load(100, 0, {{tile(L2Operand::S, 0, 0), 1000}}) == 150 + 500);
  // Write-allocate: reading the C tile back hits.
  CHECK(m.load(1000, sm_in(home), {{c, 4000}}) == 1004 + 200);
  CHECK(m.l2().stats().hits == 1);
  CHECK(m.stats().dram_read_bytes == 1000);
  CHECK(m.store(2000, 0, c, 0) == 2000);
  CHECK(m.stats().stores == 2);
  CHECK(m.stats().dram_write_bytes == 4000);
}

TEST_CASE("memory: streaming a working set larger than the L2 refetches every tile", "[memory]") {
  MemorySystem fits(small_gpu(16 * kKiB));
  MemorySystem streams(small_gpu(16 * kKiB));
  std::int64_t now = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int k = 0; k < 16; ++k) {
      now = fits.load(now, 0, {{tile(L2Operand::S, 0, k % 12), 1024}});
    }
  }
  now = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int k = 0; k < 20; ++k) now = streams.load(now, 0, {{tile(L2Operand::S, 0, k), 1024}});
  }
  CHECK(fits.stats().dram_read_bytes == 12 * kKiBu);
  CHECK(fits.l2().stats().hits == 20);
  CHECK(streams.stats().dram_read_bytes == 40 * kKiBu);
  CHECK(streams.l2().stats().hits == 0);
}

TEST_CASE("memory: the same request sequence gives the same cycles and counts", "[memory]") {
  const std::vector<Event> ev = random_events(42, 3000, 200, true);
  MemorySystem a(small_gpu(32 * kKiB)), b(small_gpu(32 * kKiB));
  const std::vector<std::int64_t> da = play(a, ev), db = play(b, ev);
  CHECK(da == db);
  CHECK(counters(a) == counters(b));
  CHECK(a.l2().stats().hits > 0);
  CHECK(a.l2().stats().misses > 0);
  CHECK(a.l2().stats().evictions > 0);
}

TEST_CASE("memory: no sequence of loads beats the DRAM or L2 roofline", "[memory]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    for (const bool stores : {false, true}) {
      const std::vector<Event> ev = random_events(seed, 500, 50 + static_cast<int>(seed) * 10, stores);
      MemorySystem m(small_gpu(8 * kKiB + kKiB * static_cast<std::int64_t>(seed)));
      const std::vector<std::int64_t> done = play(m, ev);
      std::int64_t last_load = 0, last = 0;
      for (std::size_t i = 0; i < ev.size(); ++i) {
        REQUIRE(done[i] >= ev[i].now);
        last = std::max(last, done[i]);
        if (!ev[i].store) last_load = std::max(last_load, done[i]);
      }
      const MemoryStats& s = m.stats();
      // From cycle 0, the DRAM bytes need bytes / rate cycles, and the last of them its latency after.
      CHECK(static_cast<double>(m.dram_drained_at()) >= s.dram_bytes() / 100.0 + 500);
      if (!stores) CHECK(static_cast<double>(last_load) >= s.dram_read_bytes / 100.0 + 500);
      CHECK(static_cast<double>(last) >= s.l2_bytes() / 1000.0 + 200);
      // Bytes are conserved between the levels and the links.
      CHECK(m.dram_link().stats().bytes == s.dram_bytes());
      CHECK(m.l2_link().stats().bytes == s.l2_bytes());
      CHECK(s.l2_read_bytes == m.l2().stats().hit_bytes + m.l2().stats().miss_bytes);
      CHECK(s.dram_read_bytes == m.l2().stats().miss_bytes);
    }
  }
}

TEST_CASE("memory: every unique tile is fetched from DRAM at least once", "[memory]") {
  for (const std::int64_t l2_bytes : {std::int64_t{4096}, 64 * kKiB, std::int64_t{1} << 30}) {
    const std::vector<Event> ev = random_events(7, 2000, 100, false);
    MemorySystem m(small_gpu(l2_bytes));
    play(m, ev);
    std::set<std::tuple<int, std::int64_t>> unique;
    std::uint64_t unique_bytes = 0;
    for (const Event& e : ev) {
      for (const TileRequest& t : e.tiles) {
        if (unique.insert({static_cast<int>(t.key.operand), t.key.row}).second) {
          unique_bytes += static_cast<std::uint64_t>(t.bytes);
        }
      }
    }
    CHECK(m.l2().stats().misses >= unique.size());
    CHECK(m.stats().dram_read_bytes >= unique_bytes);
    if (l2_bytes == std::int64_t{1} << 30) {
      // Everything fits: exactly the compulsory traffic.
      CHECK(m.l2().stats().misses == unique.size());
      CHECK(m.stats().dram_read_bytes == unique_bytes);
    }
  }
}

TEST_CASE("memory: errors", "[memory]") {
  MemorySystem m(small_gpu());
  CHECK_THROWS_AS(m.load(0, 4, {}), Error);
  CHECK_THROWS_AS(m.load(0, -1, {}), Error);
  CHECK_THROWS_AS(m.load(-1, 0, {}), Error);
  CHECK_THROWS_AS(m.load(0, 0, {{tile(L2Operand::S, 0, 0), -1}}), Error);
  CHECK(m.stats().loads == 0);
  CHECK_THROWS_AS(m.store(0, 0, c_tile_key(0, 0, 0, 0), -1), Error);
  GpuConfig g = small_gpu();
  g.dram.efficiency = 0;
  CHECK_THROWS_AS(MemorySystem(g), Error);
  g = small_gpu();
  g.sms = 0;
  CHECK_THROWS_AS(MemorySystem(g), Error);
  g = small_gpu();
  g.l2.bytes_per_clock = 0;
  CHECK_THROWS_AS(MemorySystem(g), Error);
}

TEST_CASE("a multicast or gathered tile crosses the L2 link in part but comes from DRAM whole", "[memory]") {
  // 8 KiB tile multicast to 2 CTAs: each SM pulls 4 KiB through the L2 link (4.096 cycles at
  // 1000 B/clk -> 5), the miss brings all 8 KiB from DRAM (82 cycles at 100 B/clk) once.
  MemorySystem mem(small_gpu());
  const L2TileKey key = tile(L2Operand::D, 0, 0);
  const int near_sm = sm_in(mem.l2().home_partition(key));
  const std::int64_t first = mem.load(0, near_sm, {{key, 8 * kKiB, 4 * kKiB}});
  CHECK(first == 500 + (8 * kKiB + 99) / 100);  // DRAM latency + whole tile
  CHECK(mem.stats().dram_read_bytes == 8 * kKiBu);
  CHECK(mem.stats().l2_read_bytes == 4 * kKiBu);
  CHECK(mem.l2_link().stats().bytes == 4 * kKiBu);
  // The partner's slice hits: only its 4 KiB cross the link, nothing more from DRAM.
  const std::int64_t second = mem.load(first, near_sm, {{key, 8 * kKiB, 4 * kKiB}});
  CHECK(second == first + (4 * kKiB + 999) / 1000 + 200);
  CHECK(mem.stats().dram_read_bytes == 8 * kKiBu);
  CHECK(mem.stats().l2_read_bytes == 8 * kKiBu);
  // A gather pulls what it asks for; more than the tile holds is refused.
  MemorySystem odd(small_gpu());
  odd.load(0, 0, {{key, 1001, 501}});
  CHECK(odd.stats().l2_read_bytes == 501);
  CHECK(odd.stats().dram_read_bytes == 1001);
  CHECK_THROWS_AS(odd.load(0, 0, {{key, 1001, 1002}}), Error);
}

TEST_CASE("gathers out of one tile fetch from DRAM only the rows not yet present", "[memory]") {
  // A 10,000-byte region. Gatherer 0 pulls 2,500 bytes twice (disjoint: all new), then repeats its
  // first gather (nothing new). Gatherers 1 and 2 then pull half each: 5,000 x (1 - 1/2) = 2,500 new,
  // then 5,000 x (1 - 1/2)(1 - 1/2) = 1,250. The L2 link carries every gather's bytes.
  MemorySystem mem(small_gpu());
  const L2TileKey key = tile(L2Operand::D, 0, 0);
  std::int64_t now = 0;
  const auto gather = [&](std::int64_t who, std::int64_t seq, std::int64_t bytes) {
    TileRequest g{key, 10000, bytes};
    g.gatherer = who;
    g.gather_seq = seq;
    now = mem.load(now, 0, {g});
    return mem.stats().dram_read_bytes;
  };
  CHECK(gather(0, 0, 2500) == 2500u);
  CHECK(gather(0, 1, 2500) == 5000u);
  CHECK(gather(0, 0, 2500) == 5000u);
  CHECK(gather(1, 0, 5000) == 7500u);
  CHECK(gather(2, 0, 5000) == 8750u);
  CHECK(mem.stats().l2_read_bytes == 17500u);
  // The same bytes as a multicast slice (not a gather): the whole tile once, then hits.
  MemorySystem mc(small_gpu());
  mc.load(0, 0, {{key, 10000, 5000}});
  mc.load(10000, 0, {{key, 10000, 5000}});
  CHECK(mc.stats().dram_read_bytes == 10000u);
}

TEST_CASE("gathers that name their rows fetch exactly the rows no earlier gather brought", "[memory]") {
  // A region of 10 rows of 100 bytes. Rows {0,1,2} are all new (300 B); {2,3} brings row 3 only; a
  // gather of rows already present brings nothing, whoever asks; {0..9} brings the 6 left. The L2
  // link carries every gather's rows. The state restarts when the region is evicted (a fresh memory
  // system here).
  MemorySystem mem(small_gpu());
  const L2TileKey key = tile(L2Operand::D, 0, 0);
  std::int64_t now = 0;
  const auto gather = [&](std::int64_t who, const std::vector<std::int32_t>& rows) {
    TileRequest g{key, 1000, static_cast<std::int64_t>(rows.size()) * 100};
    g.gatherer = who;
    g.rows = rows.data();
    g.row_count = static_cast<std::int64_t>(rows.size());
    g.region_rows = 10;
    now = mem.load(now, 0, {g});
    return mem.stats().dram_read_bytes;
  };
  CHECK(gather(0, {0, 1, 2}) == 300u);
  CHECK(gather(1, {2, 3}) == 400u);
  CHECK(gather(2, {0, 3}) == 400u);
  CHECK(gather(0, {0, 1, 2}) == 400u);
  CHECK(gather(3, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) == 1000u);
  CHECK(mem.stats().l2_read_bytes == 2000u);
  // Rows past the region, link bytes that are not the rows', and a region of another row count are
  // refused.
  const std::vector<std::int32_t> past{9, 10};
  TileRequest bad{key, 1000, 200};
  bad.gatherer = 0;
  bad.rows = past.data();
  bad.row_count = 2;
  bad.region_rows = 10;
  CHECK_THROWS_AS(mem.load(now, 0, {bad}), Error);
  const std::vector<std::int32_t> two{1, 2};
  bad.rows = two.data();
  bad.link_bytes = 300;
  CHECK_THROWS_AS(mem.load(now, 0, {bad}), Error);
  bad.link_bytes = 40;
  bad.region_rows = 50;
  CHECK_THROWS_AS(mem.load(now, 0, {bad}), Error);
}

TEST_CASE("stores wait for DRAM once the L2 would hold more than its capacity of unwritten data", "[memory]") {
  // L2 of 8 KiB, DRAM 100 B/clk: the L2 may hold 8192 B the DRAM link has not taken, 81 whole cycles
  // of its transfer. Ten stores of 4 KiB at cycle 0: the link has the i-th (1-based) by
  // ceil(i x 4096 / 100); the i-th store is done when the L2 has it (ceil(i x 4096 / 1000) + latency)
  // or, once more than 8 KiB would stay queued, when the link is 81 cycles from done with it.
  MemorySystem mem(small_gpu(8 * kKiB));
  for (std::int64_t i = 1; i <= 10; ++i) {
    const L2TileKey c = tile(L2Operand::C, 0, i);
    const std::int64_t latency = mem.l2().is_near(c, mem.partition_of(0)) ? 200 : 400;
    const std::int64_t in_l2 = (i * 4 * kKiB + 999) / 1000 + latency;
    const std::int64_t drained = (i * 4 * kKiB + 99) / 100 - 81;
    INFO("store " << i);
    CHECK(mem.store(0, 0, c, 4 * kKiB) == std::max(in_l2, drained));
  }
  // The last ones were held back by DRAM: 410 - 81 = 329 > 41 + latency.
  CHECK((10 * 4 * kKiB + 99) / 100 - 81 == 329);
  CHECK(mem.dram_drained_at() == 410 + 500);
}
