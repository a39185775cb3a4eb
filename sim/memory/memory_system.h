// The chip's memory below shared memory: the L2 (tile store, chip-wide bandwidth, near/far hit
// latency) and DRAM (bandwidth x efficiency, latency), serving the SMs' tile loads and C stores.
// Plain C++: the SystemC memory module calls it from the SM threads in simulated-time order, so the
// requests of all SMs contend for the two bandwidths in the order they happen.
//
// Paths, per tile of a request (tiles of 0 bytes are skipped; "serve" is a BandwidthServer):
//   L2 hit   arrival = max(L2.serve(now, bytes) + L2 latency (near/far), tile's ready_at)
//   L2 miss  arrival = max(DRAM.serve(now, bytes) + DRAM latency, L2.serve(now, bytes) + L2 latency)
//            the tile is allocated in L2 with ready_at = that arrival
// A load is done when its last tile arrives. A miss's bytes cross both links: DRAM's, and the L2's
// on their way to the SM, so they use L2 bandwidth as hits do. Both are reserved at `now` and overlap
// (the L2 forwards data as DRAM delivers it) rather than the L2 transfer starting at DRAM arrival:
// reserving a link at a future cycle would leave an idle hole before it that requests issued later
// in simulated time but earlier on the link could not use. The DRAM latency is the measured latency
// of an L2 miss (arch.dram.latency_cycles), which already includes the trip through L2, so an
// unloaded miss costs DRAM latency + bytes / DRAM rate, not the sum of both latencies.
//
// Stores (the epilogue's C tiles): write-allocate in L2 (the tile takes capacity), and the bytes are
// sent on to DRAM at once (write-through timing: C tiles are never re-read within a launch, so a
// write-back L2 would write all of them to DRAM too; sending them at store time keeps DRAM requests
// in time order and makes them contend with the loads that follow). A store is done when the L2 has
// the tile: L2.serve(now, bytes) + L2 latency; the DRAM write is posted (dram_drained_at says when
// DRAM has it all), but the L2 holds at most its capacity of data the DRAM link has not yet taken:
// a store that would leave more queued is done only once the link has drained to that, at the
// earliest (the DRAM link done transferring this store) - capacity / DRAM rate.
//
// A request may pull less through the L2 link than the tile holds (TileRequest::link_bytes): the
// slice an SM loads for its cluster under multicast, or the rows a V:N:M gather picks out of a D
// region. The L2 lookup and a miss's DRAM transfer are for the whole tile, and l2_read_bytes counts
// the link bytes. A gather (TileRequest::gatherer >= 0) fetches from DRAM only rows not yet present.
// When the gather names its rows (TileRequest::rows: a tw/tvw k-block's kept K positions, which the
// plan knows), the tile keeps the set of rows present and DRAM brings exactly the new ones: the union
// of every gather is fetched once. Otherwise (a V:N:M row block, whose column choice the plan does
// not hold) gatherers are the parties that choose their rows independently; one gatherer's gathers
// from a tile are disjoint, and a gather it repeats (same gather_seq) brings nothing new. A new
// gather of a share f of the tile by gatherer r brings f x prod over the other gatherers s of
// (1 - F_s), F_s being the share s has gathered so far: exactly its own rows while it is alone, and
// the expected new rows when the others' rows fall independently. The tile fills as
// 1 - prod_s (1 - F_s). Either state restarts when the tile is evicted.
// Rates: L2 arch.l2.bytes_per_clock; DRAM bandwidth_gbps x 1e9 x efficiency / (clock_mhz x 1e6)
// bytes per cycle, kept as the exact ratio (bandwidth_gbps x efficiency x 1e6) / (clock_mhz x 1e3)
// with the numerator rounded to a whole kB/s. SM s sits in L2 partition s x partitions / sms
// (contiguous halves on a two-partition chip).
// Left out: L1, request coalescing between SMs beyond the L2's pending-fill wait, DRAM
// read/write turnaround, banks and refresh, and queue limits inside the L2 (an SM's own limit on
// outstanding loads is memory/request_window.h, applied by the SM before it calls load()).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/gpu_config.h"
#include "memory/bandwidth_server.h"
#include "memory/l2_cache.h"
#include "memory/l2_tile_key.h"

namespace stcsim {

struct TileRequest {
  L2TileKey key;
  std::int64_t bytes = 0;  // bytes as they move: compressed values + metadata for sparse operands
  // Bytes this SM pulls through the L2 link, 0..bytes; -1: all of them. Less for a multicast slice
  // (its cluster partners pull the rest) or a gather out of the tile; a miss still brings the whole
  // tile from DRAM once.
  std::int64_t link_bytes = -1;
  // >= 0: the link bytes are a gather of rows out of the tile by this gatherer, not a multicast
  // slice, and gather_seq numbers its gathers of the tile (see the header comment).
  std::int64_t gatherer = -1;
  std::int64_t gather_seq = 0;
  // A gather that names its rows: row_count indices into the tile's region_rows equal rows (each
  // bytes / region_rows bytes), increasing; null for the share model above.
  const std::int32_t* rows = nullptr;
  std::int64_t row_count = 0;
  std::int64_t region_rows = 0;
  std::int64_t link() const { return link_bytes < 0 ? bytes : link_bytes; }
};

// Bytes per level, for energy, and request counts.
struct MemoryStats {
  std::uint64_t loads = 0;           // load() calls
  std::uint64_t load_tiles = 0;      // tiles loaded (0-byte tiles not counted)
  std::uint64_t stores = 0;          // store() calls
  std::uint64_t l2_read_bytes = 0;   // bytes the L2 delivered to SMs, hits and misses
  std::uint64_t l2_write_bytes = 0;  // bytes SMs stored into the L2
  std::uint64_t l2_fill_bytes = 0;   // bytes written into the L2 from DRAM (allocated misses)
  std::uint64_t dram_read_bytes = 0;
  std::uint64_t dram_write_bytes = 0;
  std::uint64_t near_accesses = 0;  // tile loads and stores served by the SM's own partition
  std::uint64_t far_accesses = 0;
  std::uint64_t pending_hits = 0;  // hits that waited for the tile's fill to complete
  std::uint64_t load_cycles = 0;   // sum over loads of (done - now)

  // Bytes through the L2 from the SMs' side, both directions.
  std::uint64_t l2_bytes() const { return l2_read_bytes + l2_write_bytes; }
  std::uint64_t dram_bytes() const { return dram_read_bytes + dram_write_bytes; }

  template <class F>
  void visit(F&& f) {
    f("loads", loads);
    f("load_tiles", load_tiles);
    f("stores", stores);
    f("l2_read_bytes", l2_read_bytes);
    f("l2_write_bytes", l2_write_bytes);
    f("l2_fill_bytes", l2_fill_bytes);
    f("dram_read_bytes", dram_read_bytes);
    f("dram_write_bytes", dram_write_bytes);
    f("near_accesses", near_accesses);
    f("far_accesses", far_accesses);
    f("pending_hits", pending_hits);
    f("load_cycles", load_cycles);
  }
};

class MemorySystem {
 public:
  // Uses gpu.sms, gpu.clock_mhz, gpu.l2 and gpu.dram. Throws Error on values the rates cannot be
  // built from (the config parser rejects them first).
  explicit MemorySystem(const GpuConfig& gpu);

  // Cycle all `tiles` are in SM `sm`'s shared memory, for a load issued at `now` (see the header
  // comment). Returns `now` for an empty list. Throws Error for an SM outside 0..sms-1, a negative
  // `now` or a negative tile size.
  std::int64_t load(std::int64_t now, int sm, const std::vector<TileRequest>& tiles);
  // Cycle the L2 holds C tile `key` stored by SM `sm` at `now`; the DRAM write is posted.
  std::int64_t store(std::int64_t now, int sm, const L2TileKey& key, std::int64_t bytes);

  // L2 partition of SM `sm`.
  int partition_of(int sm) const;
  // Cycle every DRAM transfer issued so far (reads and posted writes) has completed.
  std::int64_t dram_drained_at() const { return dram_drained_at_; }
  // Bytes per cycle of the two links.
  ByteRate l2_rate() const { return l2_link_.rate(); }
  ByteRate dram_rate() const { return dram_link_.rate(); }

  const L2Cache& l2() const { return l2_; }
  L2Cache& l2() { return l2_; }
  const BandwidthServer& l2_link() const { return l2_link_; }
  BandwidthServer& l2_link() { return l2_link_; }
  const BandwidthServer& dram_link() const { return dram_link_; }
  BandwidthServer& dram_link() { return dram_link_; }
  MemoryStats& stats() { return stats_; }
  const MemoryStats& stats() const { return stats_; }

 private:
  void check_request(std::int64_t now, int sm) const;

  int sms_;
  L2Cache l2_;
  BandwidthServer l2_link_;    // latency 0: the near/far hit latency is added per tile
  BandwidthServer dram_link_;  // latency arch.dram.latency_cycles
  std::int64_t dram_drained_at_ = 0;
  MemoryStats stats_;
  // What gatherers have brought into a gathered tile since it was last fetched afresh.
  struct GatherState {
    std::map<std::int64_t, double> share;                     // F_r per gatherer
    std::set<std::pair<std::int64_t, std::int64_t>> served;   // (gatherer, gather_seq) seen
    std::vector<std::uint8_t> present;                         // rows present, for gathers naming them
  };
  // Bytes a gather brings from DRAM (see the header comment), updating the tile's state.
  std::int64_t gather_fetch(const TileRequest& t, bool hit);
  std::unordered_map<L2TileKey, GatherState, L2TileKeyHash> gathers_;
};

// DRAM bytes per core cycle after efficiency, as the exact ratio MemorySystem uses.
ByteRate dram_byte_rate(const GpuConfig& gpu);

}  // namespace stcsim
