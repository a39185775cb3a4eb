#include "memory/memory_system.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/checked.h"
#include "common/error.h"

namespace stcsim {

ByteRate dram_byte_rate(const GpuConfig& gpu) {
  const DramConfig& d = gpu.dram;
  if (!(d.bandwidth_gbps > 0) || !std::isfinite(d.bandwidth_gbps)) {
    throw Error("memory: arch.dram.bandwidth_gbps must be > 0 (got " + std::to_string(d.bandwidth_gbps) + ")");
  }
  if (!(d.efficiency > 0) || d.efficiency > 1) {
    throw Error("memory: arch.dram.efficiency must be in (0, 1] (got " + std::to_string(d.efficiency) + ")");
  }
  if (gpu.clock_mhz < 1) throw Error("memory: arch.clock_mhz must be >= 1 (got " + std::to_string(gpu.clock_mhz) + ")");
  // bytes/cycle = (GB/s x 1e9) / (MHz x 1e6) = (kB/s) / (kHz): numerator in kB/s, denominator in kHz.
  const double kb_per_s = d.bandwidth_gbps * d.efficiency * 1e6;
  if (kb_per_s < 0.5 || kb_per_s > 1e18) {
    throw Error("memory: arch.dram bandwidth x efficiency out of range (" + std::to_string(kb_per_s) + " kB/s)");
  }
  return ByteRate::exact(static_cast<std::uint64_t>(std::llround(kb_per_s)),
                         static_cast<std::uint64_t>(gpu.clock_mhz) * 1000);
}

namespace {

ByteRate l2_rate_of(const L2Config& c) {
  if (c.bytes_per_clock < 1) {
    throw Error("memory: arch.l2.bytes_per_clock must be >= 1 (got " + std::to_string(c.bytes_per_clock) + ")");
  }
  return ByteRate::exact(static_cast<std::uint64_t>(c.bytes_per_clock), 1);
}

int checked_sms(int sms) {
  if (sms < 1) throw Error("memory: arch.sms must be >= 1 (got " + std::to_string(sms) + ")");
  return sms;
}

}  // namespace

MemorySystem::MemorySystem(const GpuConfig& gpu)
    : sms_(checked_sms(gpu.sms)),
      l2_(gpu.l2),
      l2_link_(l2_rate_of(gpu.l2), 0),
      dram_link_(dram_byte_rate(gpu), gpu.dram.latency_cycles) {}

int MemorySystem::partition_of(int sm) const {
  return static_cast<int>(std::int64_t{sm} * l2_.config().partitions / sms_);
}

void MemorySystem::check_request(std::int64_t now, int sm) const {
  if (sm < 0 || sm >= sms_) {
    throw Error("memory: SM " + std::to_string(sm) + " outside 0.." + std::to_string(sms_ - 1));
  }
  if (now < 0) throw Error("memory: request at negative cycle " + std::to_string(now));
}

std::int64_t MemorySystem::gather_fetch(const TileRequest& t, bool hit) {
  GatherState& g = gathers_[t.key];
  if (!hit) g = GatherState{};
  if (t.rows != nullptr) {
    if (g.present.empty()) g.present.assign(static_cast<std::size_t>(t.region_rows), 0);
    if (g.present.size() != static_cast<std::size_t>(t.region_rows)) {
      throw Error("memory: tile " + to_string(t.key) + ": gathered as " + std::to_string(g.present.size()) +
                  " rows and as " + std::to_string(t.region_rows));
    }
    std::int64_t fresh = 0;
    for (std::int64_t i = 0; i < t.row_count; ++i) {
      std::uint8_t& here = g.present[static_cast<std::size_t>(t.rows[i])];
      fresh += here == 0 ? 1 : 0;
      here = 1;
    }
    return fresh * (t.bytes / t.region_rows);
  }
  if (!g.served.insert({t.gatherer, t.gather_seq}).second) return 0;  // a repeat of an earlier gather
  double& mine = g.share[t.gatherer];
  const double f = std::min(1.0 - mine, static_cast<double>(t.link()) / static_cast<double>(t.bytes));
  double others_absent = 1.0;
  for (const auto& [r, share] : g.share) {
    if (r != t.gatherer) others_absent *= 1.0 - share;
  }
  mine = std::min(1.0, mine + f);
  return std::llround(static_cast<double>(t.bytes) * f * others_absent);
}

std::int64_t MemorySystem::load(std::int64_t now, int sm, const std::vector<TileRequest>& tiles) {
  check_request(now, sm);
  for (const TileRequest& t : tiles) {
    if (t.bytes < 0) throw Error("memory: tile " + to_string(t.key) + ": " + std::to_string(t.bytes) + " bytes");
    if (t.rows != nullptr &&
        (t.region_rows <= 0 || t.bytes % t.region_rows != 0 || t.row_count < 0 || t.row_count > t.region_rows ||
         t.link() != t.row_count * (t.bytes / t.region_rows) ||
         (t.row_count > 0 && (t.rows[0] < 0 || t.rows[t.row_count - 1] >= t.region_rows)))) {
      throw Error("memory: tile " + to_string(t.key) + ": a gather of " + std::to_string(t.row_count) +
                  " rows does not fit its region of " + std::to_string(t.region_rows) + " rows and " +
                  std::to_string(t.bytes) + " bytes");
    }
    if (t.link() > t.bytes) {
      throw Error("memory: tile " + to_string(t.key) + ": " + std::to_string(t.link()) + " link bytes of a " +
                  std::to_string(t.bytes) + "-byte tile");
    }
  }
  const int part = partition_of(sm);
  std::int64_t done = now;
  for (const TileRequest& t : tiles) {
    if (t.bytes == 0) continue;
    const bool near = l2_.is_near(t.key, part);
    (near ? stats_.near_accesses : stats_.far_accesses) += 1;
    const L2Lookup r = l2_.lookup(t.key, t.bytes);
    const std::int64_t link_bytes = t.link();
    const std::int64_t via_l2 = l2_link_.serve(now, link_bytes) + l2_.latency(t.key, part);
    std::int64_t arrival = via_l2;
    // Bytes this request brings from DRAM: the whole tile on a miss, or for a gather the rows no
    // earlier gather of the tile brought in.
    const std::int64_t fetch = t.gatherer >= 0 ? gather_fetch(t, r.hit) : (r.hit ? 0 : t.bytes);
    if (r.hit && r.ready_at > via_l2) {  // the fill is still under way
      stats_.pending_hits += 1;
      arrival = r.ready_at;
    }
    if (fetch > 0) {
      const std::int64_t from_dram = dram_link_.serve(now, fetch);
      dram_drained_at_ = std::max(dram_drained_at_, from_dram);
      arrival = std::max(arrival, from_dram);
      if (r.allocated || r.hit) {
        if (!r.hit) l2_.set_ready(t.key, arrival);
        stats_.l2_fill_bytes += static_cast<std::uint64_t>(fetch);
      }
      stats_.dram_read_bytes += static_cast<std::uint64_t>(fetch);
    }
    stats_.l2_read_bytes += static_cast<std::uint64_t>(link_bytes);
    stats_.load_tiles += 1;
    done = std::max(done, arrival);
  }
  stats_.loads += 1;
  stats_.load_cycles += static_cast<std::uint64_t>(done - now);
  return done;
}

std::int64_t MemorySystem::store(std::int64_t now, int sm, const L2TileKey& key, std::int64_t bytes) {
  check_request(now, sm);
  if (bytes < 0) throw Error("memory: store of tile " + to_string(key) + ": " + std::to_string(bytes) + " bytes");
  stats_.stores += 1;
  if (bytes == 0) return now;
  const int part = partition_of(sm);
  (l2_.is_near(key, part) ? stats_.near_accesses : stats_.far_accesses) += 1;
  const std::int64_t in_l2 = l2_link_.serve(now, bytes) + l2_.latency(key, part);
  l2_.write(key, bytes, in_l2);
  dram_drained_at_ = std::max(dram_drained_at_, dram_link_.serve(now, bytes));
  stats_.l2_write_bytes += static_cast<std::uint64_t>(bytes);
  stats_.dram_write_bytes += static_cast<std::uint64_t>(bytes);
  // The L2 holds at most its capacity of data DRAM has not taken yet: a store that would leave more
  // queued on the DRAM link waits until the link has drained to that (latency aside: the link's own
  // transfer time is what the queue holds).
  const ByteRate rate = dram_link_.rate();
  const std::int64_t held_cycles = mul_div_floor(static_cast<std::uint64_t>(l2_.capacity()), rate.den, rate.num);
  return std::max(in_l2, dram_link_.free_at() - held_cycles);
}

}  // namespace stcsim
