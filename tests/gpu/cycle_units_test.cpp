// Exact-cycle testbenches of the cycle model's SystemC modules (docs/model.md, "The cycle model"):
// each feeds a module through its sc_fifo queues from a test thread and checks, cycle for cycle, when
// what it produces comes out: the register file's ports and bank conflicts, the operand selector's
// width against the tensor core's rate, back-pressure from a full queue, the shared-memory unit's
// bandwidth, latency and round robin, and Volta's two tensor cores per sub-core. Each test case
// elaborates SystemC once (ctest runs each in its own process).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "config/machine_config.h"
#include "gpu/sanitizer_stack.h"
#include "operand_selector/selector_stage.h"
#include "regfile/operand_collector.h"
#include "sm/shared_memory_unit.h"
#include "sm/sm_module.h"
#include "tensor_core/tensor_core_pipe.h"

using namespace stcsim;

namespace {

const sc_core::sc_time kCycle(1, sc_core::SC_NS);

void rethrow(std::exception_ptr e) { std::rethrow_exception(e); }

// Records each completion's cycle.
struct Recorder : SlotSink {
  std::vector<std::int64_t> at;
  std::vector<int> slots;
  void slot_done(int /*warp*/, int slot, std::int64_t cycle) override {
    at.push_back(cycle);
    slots.push_back(slot);
  }
};

// A tensor core's operand collector with nothing attached: TensorCorePipe asks one for
// shared-memory operands, which the MMAs of the testbenches that use this do not have.
struct NoOperands {
  sc_core::sc_fifo<MmaPacket> in{"nowhere_in", 1};
  sc_core::sc_fifo<MmaPacket> out{"nowhere_out", 1};
  sc_core::sc_fifo<SmemRequest> smem{"nowhere_smem", 1};
  OperandCollector collector;
  explicit NoOperands(const RegisterFileConfig& cfg) : collector("unused", cfg, in, out, smem, rethrow) {}
};

RegisterFileConfig rf_config(int read_ports) {
  RegisterFileConfig c;
  c.bytes = 65536;
  c.banks_per_sub_core = 2;
  c.port_width_bits = 1024;
  c.reads_per_cycle_per_bank = read_ports;
  c.writes_per_cycle_per_bank = 1;
  c.reuse_cache_entries = 0;
  return c;
}

// An MMA reading A 4, B 2, C 4 registers and writing D 4 (over C's). Registers are laid out A, B, C
// consecutively, register r in bank r mod 2: A 0-3, B 4-5, C 6-9, each bank holds 5 of the 10 reads.
MmaPacket packet(Recorder* sink, int dst) {
  MmaPacket p;
  p.instr = MmaInstr{DType::fp16, 16, 8, 16, 0, 0};
  p.fragments = MmaFragments{4, 2, 4, 4, 0};
  p.sink = sink;
  p.dst = dst;
  return p;
}

// Pushes `count` MMAs into the collector at cycle 0 and reads them out, recording the cycle each
// leaves; with `hold_until` > 0 the reader waits until then before its first read.
SC_MODULE(CollectorBench) {
  sc_core::sc_fifo<MmaPacket> in{"in", 16};
  sc_core::sc_fifo<MmaPacket> out{"out", 1};
  sc_core::sc_fifo<SmemRequest> smem{"smem", 4};
  OperandCollector collector;
  int count;
  std::int64_t hold_until;
  std::vector<std::int64_t> left;
  std::int64_t first_refused = -1;
  bool trickle;

  SC_HAS_PROCESS(CollectorBench);
  CollectorBench(const sc_core::sc_module_name& n, const RegisterFileConfig& cfg, int count_, std::int64_t hold,
                 bool trickle_, int in_depth)
      : sc_core::sc_module(n),
        in("in_q", in_depth),
        collector("collector", cfg, in, out, smem, rethrow),
        count(count_),
        hold_until(hold),
        trickle(trickle_) {
    SC_THREAD(produce);
    SC_THREAD(consume);
  }
  void produce() {
    for (int i = 0; i < count; ++i) {
      if (trickle) {
        // One MMA per cycle while the queue takes them; note the first cycle it refuses one.
        while (!in.nb_write(packet(nullptr, i))) {
          if (first_refused < 0) first_refused = sim_cycle_now();
          sc_core::wait(kCycle);
        }
        sc_core::wait(kCycle);
      } else {
        in.write(packet(nullptr, i));
      }
    }
  }
  void consume() {
    if (hold_until > 0) sim_wait_until(hold_until);
    for (int i = 0; i < count; ++i) {
      out.read();
      left.push_back(sim_cycle_now());
    }
  }
};

}  // namespace

TEST_CASE("operand collector: each MMA holds the ports for its busiest bank's reads, one read port or two",
          "[gpu][cycle]") {
  // One read port per bank: 5 reads on each bank take 5 cycles; the 4 D writes (C's registers 6-9,
  // 2 per bank) take 2. So MMAs leave every 5 cycles. With two read ports: ceil(5 / 2) = 3 cycles.
  CollectorBench one("one", rf_config(1), 4, 0, false, 16);
  CollectorBench two("two", rf_config(2), 4, 0, false, 16);
  sc_core::sc_start(1000, sc_core::SC_NS);
  sanitizer_back_on_thread_stack();  // the thread\'s own stack again, for ASan (see the header)
  CHECK(one.left == std::vector<std::int64_t>{5, 10, 15, 20});
  CHECK(two.left == std::vector<std::int64_t>{3, 6, 9, 12});
  CHECK(one.collector.stats().busy_cycles == 20);
  CHECK(one.collector.register_file().stats().reads == 4 * 10 * 32);
  CHECK(one.collector.register_file().stats().writes == 4 * 4 * 32);
}

TEST_CASE("back-pressure: a full output queue holds the collector, and its full input queue refuses the producer",
          "[gpu][cycle]") {
  // Input queue of 2, output queue of 1 not read until cycle 100. The collector takes MMA 0 at cycle 0
  // and passes it on at 5 (the output queue takes it), takes MMA 1 and is done with it at 10, and then
  // waits, blocked, until the reader frees the output queue at 100: 90 cycles. The producer, one MMA
  // per cycle, wrote MMA 0 at cycle 0 (taken at once), 1 at cycle 1, 2 at cycle 2 (the queue holds 1
  // and 2: full) and is refused at cycle 3, the cycle after the queue filled.
  CollectorBench b("b", rf_config(1), 6, 100, true, 2);
  sc_core::sc_start(1000, sc_core::SC_NS);
  sanitizer_back_on_thread_stack();  // the thread\'s own stack again, for ASan (see the header)
  CHECK(b.first_refused == 3);
  REQUIRE(b.left.size() == 6);
  CHECK(b.left[0] == 100);
  CHECK(b.left[1] == 100);
  CHECK(b.collector.stats().blocked_cycles >= 90);
}

namespace {

// Sparse MMAs through the operand selector into a tensor core: completions recorded.
SC_MODULE(SelectorBench) {
  sc_core::sc_fifo<MmaPacket> in{"in", 64};
  sc_core::sc_fifo<MmaPacket> mid{"mid", 1};
  NoOperands unused;
  SelectorStage selector;
  TensorCorePipe pipe;
  TensorCore tc;
  Recorder rec;
  int count;
  MmaInstr instr;

  SC_HAS_PROCESS(SelectorBench);
  SelectorBench(const sc_core::sc_module_name& n, const MachineConfig& mc, int count_)
      : sc_core::sc_module(n),
        unused(mc.arch.sm.register_file),
        selector("selector", in, mid, rethrow),
        pipe("pipe", mid, unused.collector, rethrow),
        tc(mc.arch.tensor_core, MmaFamily::mma_sp_sync, 1),
        count(count_) {
    instr = tc.instruction_for(DType::fp16, MmaShape{16, 8, 16, 32}, 2, 4);
    selector.set_tensor_core(&tc);
    pipe.set_tensor_core(&tc);
    SC_THREAD(produce);
  }
  void produce() {
    for (int i = 0; i < count; ++i) {
      MmaPacket p;
      p.instr = instr;
      p.sink = &rec;
      p.dst = i;
      in.write(p);
    }
  }
};

MachineConfig h100(const std::vector<std::string>& sets) {
  return load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/h100_mma_sp.yaml", sets);
}

}  // namespace

TEST_CASE("operand selector: at half the width the datapath needs, sparse MMAs complete at half the rate",
          "[gpu][cycle]") {
  // H100 mma.sp m16n8k32 fp16 2:4: 16 x 8 x 32 = 4096 dense-equivalent MACs at 1024 per clock: 4 cycles
  // of datapath, and 2048 kept products to select. At 512 selections per clock the selector keeps
  // pace (4 cycles each); at 256 it takes 8 and the tensor core waits 4 cycles per MMA for it.
  // Completions: start + 4 + latency 20.
  SelectorBench full("full", h100({"arch.tensor_core.operand_selector.selections_per_clock=512"}), 6);
  SelectorBench half("half", h100({"arch.tensor_core.operand_selector.selections_per_clock=256"}), 6);
  sc_core::sc_start(1000, sc_core::SC_NS);
  sanitizer_back_on_thread_stack();  // the thread\'s own stack again, for ASan (see the header)
  REQUIRE(full.rec.at.size() == 6);
  REQUIRE(half.rec.at.size() == 6);
  for (std::size_t i = 1; i < 6; ++i) {
    CHECK(full.rec.at[i] - full.rec.at[i - 1] == 4);
    CHECK(half.rec.at[i] - half.rec.at[i - 1] == 8);
  }
  // The first MMA: selected in 4 (or 8) cycles, then 4 in the datapath and 20 of latency.
  CHECK(full.rec.at[0] == 4 + 4 + 20);
  CHECK(half.rec.at[0] == 8 + 4 + 20);
  CHECK(half.pipe.stats().selector_stall_cycles == 5 * 4 + 8);
  CHECK(full.pipe.stats().busy_cycles == half.pipe.stats().busy_cycles);
}

namespace {

SC_MODULE(SmemBench) {
  sc_core::sc_fifo<SmemRequest> a{"a", 8};
  sc_core::sc_fifo<SmemRequest> b{"b", 8};
  SharedMemoryUnit unit;
  Recorder rec;

  SC_HAS_PROCESS(SmemBench);
  int ways;  // bank-conflict degree of b's reads
  SmemBench(const sc_core::sc_module_name& n, const SharedMemoryConfig& cfg, int read_ways = 1)
      : sc_core::sc_module(n), unit("unit", cfg, {&a, &b}, rethrow), ways(read_ways) {
    SC_THREAD(produce);
  }
  void produce() {
    // Queue a: a 4096-byte tile write (4 chunks); queue b: two 512-byte reads.
    a.write({4096, true, &rec, 0, 1});
    b.write({512, false, &rec, 0, 2, ways});
    b.write({512, false, &rec, 0, 3, ways});
  }
};

}  // namespace

TEST_CASE("shared memory: bandwidth per clock, latency of reads, and round robin between queues in 1 KiB chunks",
          "[gpu][cycle]") {
  SharedMemoryConfig cfg;
  cfg.bytes = 65536;
  cfg.bytes_per_cta = 65536;
  cfg.bytes_per_clock = 128;
  cfg.latency_cycles = 30;
  SmemBench s("s", cfg);
  sc_core::sc_start(1000, sc_core::SC_NS);
  sanitizer_back_on_thread_stack();  // the thread\'s own stack again, for ASan (see the header)
  // At 128 B/clk: a's first 1 KiB chunk [0, 8), b's first read [8, 12) back at 12 + 30, a's second
  // chunk [12, 20), b's second read [20, 24) back at 54, then a's last two chunks [24, 40): the write
  // is done at 40.
  REQUIRE(s.rec.slots == std::vector<int>{2, 3, 1});
  CHECK(s.rec.at == std::vector<std::int64_t>{42, 54, 40});
  CHECK(s.unit.memory().stats().read_bytes == 1024);
  CHECK(s.unit.memory().stats().write_bytes == 4096);
}

TEST_CASE("shared memory: a 2-way bank conflict doubles a read's time on the banks", "[gpu][cycle]") {
  SharedMemoryConfig cfg;
  cfg.bytes = 65536;
  cfg.bytes_per_cta = 65536;
  cfg.bytes_per_clock = 128;
  cfg.latency_cycles = 30;
  SmemBench s("s", cfg, 2);
  sc_core::sc_start(1000, sc_core::SC_NS);
  sanitizer_back_on_thread_stack();  // the thread\'s own stack again, for ASan (see the header)
  // As above, but each 512-byte read holds the banks 8 cycles, not 4: a [0, 8), b [8, 16) back at 46,
  // a [16, 24), b [24, 32) back at 62, a [32, 48).
  REQUIRE(s.rec.slots == std::vector<int>{2, 3, 1});
  CHECK(s.rec.at == std::vector<std::int64_t>{46, 62, 48});
  CHECK(s.unit.memory().stats().conflict_cycles == 8);
}

namespace {

SC_MODULE(TwoUnitBench) {
  sc_core::sc_fifo<MmaPacket> in{"in", 8};
  NoOperands unused;
  TensorCorePipe pipe;
  TensorCore tc;
  Recorder rec;

  SC_HAS_PROCESS(TwoUnitBench);
  TwoUnitBench(const sc_core::sc_module_name& n, const MachineConfig& mc)
      : sc_core::sc_module(n),
        unused(mc.arch.sm.register_file),
        pipe("pipe", in, unused.collector, rethrow, mc.arch.sm.tensor_cores_per_sub_core()),
        tc(mc.arch.tensor_core, mc.kernel.instruction, 1) {
    pipe.set_tensor_core(&tc);
    SC_THREAD(produce);
  }
  void produce() {
    const MmaInstr in_ = tc.instruction_for(DType::fp16, MmaShape{16, 16, 16, 0}, 0, 0);
    for (int i = 0; i < 4; ++i) {
      MmaPacket p;
      p.instr = in_;
      p.sink = &rec;
      p.dst = i;
      in.write(p);
    }
  }
};

}  // namespace

TEST_CASE("Volta: a sub-core's two tensor cores each take an MMA, so two run at once", "[gpu][cycle]") {
  const MachineConfig mc = load_machine_config(std::string(STCSIM_SOURCE_DIR) + "/configs/v100.yaml");
  REQUIRE(mc.arch.sm.tensor_cores_per_sub_core() == 2);
  TwoUnitBench b("b", mc);
  sc_core::sc_start(10000, sc_core::SC_NS);
  sanitizer_back_on_thread_stack();  // the thread\'s own stack again, for ASan (see the header)
  REQUIRE(b.rec.at.size() == 4);
  const std::int64_t occupancy = b.tc.datapath_cycles(b.tc.instruction_for(DType::fp16, MmaShape{16, 16, 16, 0}, 0, 0));
  // MMAs 0 and 1 start together at 0, MMAs 2 and 3 when those units free.
  CHECK(b.rec.at[0] == b.rec.at[1]);
  CHECK(b.rec.at[2] == b.rec.at[3]);
  CHECK(b.rec.at[2] - b.rec.at[0] == occupancy);
}
