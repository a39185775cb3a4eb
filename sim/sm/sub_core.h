// One sub-core (SMSP) of an SM in the cycle model (docs/model.md, "The cycle model"): its warp
// scheduler, the warps resident on it, their scoreboards, and the queues it issues into: the math
// queue to its register file's operand collector (MMAs) and the MIO queue to the SM's shared memory
// (ldmatrix, ld/st.shared). Both are bounded sc_fifo queues; an instruction whose queue is full
// does not issue (math-pipe throttle, MIO throttle).
//
// Scheduling: each cycle the scheduler issues up to `issue_width` instructions from different
// ready warps, greedy then oldest (GTO): the warp that issued last goes first while it stays ready,
// then the others in the order they arrived. A warp issues in program order (warp_program.h); an
// instruction is ready when the scoreboard slots it reads are written, its queue has room, and what
// it waits for in its CTA (tiles landed, a buffer freed, the barrier) has happened. The scheduler
// does not tick: with nothing ready it sleeps until the earliest cycle something is known to become
// ready, or until a completion, a CTA event or room in a queue wakes it.
//
// Stall reasons, one per warp per cycle, named as GPU profilers name them:
//   selected            issued this cycle
//   not_selected        ready, another warp issued
//   long_scoreboard     waiting for its k-block's tiles to arrive from global memory
//   short_scoreboard    waiting for a shared-memory load (a fragment, the staged C tile)
//   wait                waiting for a tensor-core result: an accumulator, or wgmma.wait_group
//   barrier             waiting at a CTA barrier, or for the other warps to free a buffer
//   mio_throttle        the MIO queue to shared memory is full
//   math_pipe_throttle  the math queue to the tensor core is full
//   lg_throttle         a copy would issue its k-block's load, and the SM's window of outstanding
//                       global loads (arch.sm.max_outstanding_bytes) has no room for it
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sm/cycle_packets.h"
#include "sm/warp_program.h"

namespace stcsim {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

enum class WarpState : std::uint8_t {
  selected,
  not_selected,
  long_scoreboard,
  short_scoreboard,
  wait,
  barrier,
  mio_throttle,
  math_pipe_throttle,
  lg_throttle,
};
constexpr std::size_t kWarpStates = 9;
std::string_view warp_state_name(WarpState s);

struct Warp;

// What a warp needs of its CTA (the SM keeps the CTA's buffers, arrivals and barrier).
class CtaHooks {
 public:
  virtual ~CtaHooks() = default;
  // Cycle the buffer k-block kb loads into is free; kNever while unknown.
  virtual std::int64_t buffer_free_at(std::int64_t kb) const = 0;
  // Cycle k-block kb's tiles are in shared memory; kNever while unknown.
  virtual std::int64_t tiles_ready_at(std::int64_t kb) const = 0;
  // Cycle a copy of k-block kb may issue as far as the SM's window of outstanding loads goes (the
  // cycle now unless it is the copy that issues the k-block's load).
  virtual std::int64_t copy_admit_at(std::int64_t kb) = 0;
  virtual void copy_issued(std::int64_t kb) = 0;
  virtual void released(std::int64_t kb) = 0;
  virtual void arrive() = 0;
  virtual bool barrier_open() const = 0;
  virtual void warp_finished(const Warp& w) = 0;
  // The lead compute warp began its epilogue.
  virtual void epilogue_began(const Warp& w) = 0;
};

// A resident warp: its instruction stream and scoreboard.
struct Warp {
  Warp(const WarpProgramSpec& spec, const CtaWork& work, int index, CtaHooks& cta_hooks)
      : program(spec, work, index), cta(&cta_hooks) {
    pending.assign(static_cast<std::size_t>(program.slots()), 0);
    ready.assign(pending.size(), 0);
  }
  WarpProgram program;
  CtaHooks* cta;
  const MmaPacket* dense = nullptr;   // prototypes of its MMAs (instruction, fragments)
  const MmaPacket* sparse = nullptr;
  bool counts_mmas = true;            // the warp of a warpgroup that counts the instruction
  MmaValues* values = nullptr;        // functional mode: computes its MMAs (SmHost::Launch::values)
  const CtaPos* pos = nullptr;        // its CTA
  bool lead = false;                  // the CTA's first compute warp: its states describe the CTA
  std::vector<int> pending;           // writes in flight per slot
  std::vector<std::int64_t> ready;    // cycle each slot's last write completed
  int acc_pending = 0;
  std::int64_t acc_ready = 0;
  bool at_barrier = false;
  bool done = false;
  int id = -1;               // set by the sub-core
  std::int64_t joined = 0;   // cycle it became resident
  WarpState state = WarpState::not_selected;
  std::array<std::uint64_t, kWarpStates> state_cycles{};
};

struct SubCoreStats {
  std::uint64_t issued = 0;         // instructions issued
  std::uint64_t active_cycles = 0;  // cycles with a warp resident
  std::uint64_t issue_cycles = 0;   // cycles with an instruction issued
  std::array<std::uint64_t, kWarpStates> warp_cycles{};  // warp-cycles per state

  template <class F>
  void visit(F&& f) {
    f("issued", issued);
    f("active_cycles", active_cycles);
    f("issue_cycles", issue_cycles);
    f("warp_cycles_selected", warp_cycles[0]);
    f("warp_cycles_not_selected", warp_cycles[1]);
    f("warp_cycles_long_scoreboard", warp_cycles[2]);
    f("warp_cycles_short_scoreboard", warp_cycles[3]);
    f("warp_cycles_wait", warp_cycles[4]);
    f("warp_cycles_barrier", warp_cycles[5]);
    f("warp_cycles_mio_throttle", warp_cycles[6]);
    f("warp_cycles_math_pipe_throttle", warp_cycles[7]);
    f("warp_cycles_lg_throttle", warp_cycles[8]);
  }
};

class SubCore : public sc_core::sc_module, public SlotSink {
 public:
  SC_HAS_PROCESS(SubCore);
  // Issues into `math` (MMAs) and `mio` (shared-memory accesses); `issue_width` >= 1.
  SubCore(const sc_core::sc_module_name& name, int issue_width, sc_core::sc_fifo<MmaPacket>& math,
          sc_core::sc_fifo<SmemRequest>& mio, std::function<void(std::exception_ptr)> fail);

  // A warp becomes resident (it starts issuing at the next scheduling decision).
  void add_warp(std::unique_ptr<Warp> w);
  // Something a warp may wait for changed (its CTA's tiles, buffers, barrier): re-evaluate.
  void wake() { wake_.notify(sc_core::SC_ZERO_TIME); }
  void slot_done(int warp, int slot, std::int64_t at) override;

  int resident() const { return static_cast<int>(warps_.size()); }
  const SubCoreStats& stats() const { return stats_; }
  // Waveform: warps resident, instructions issued.
  void add_to_waveform(sc_core::sc_trace_file* tf) const;

 private:
  void run();
  void schedule();
  // The state of warp w at `now` if it cannot issue, selected if it can; `when` gets the cycle it is
  // known to become ready (kNever when that waits on an event).
  WarpState evaluate(Warp& w, std::int64_t now, std::int64_t& when);
  void issue(Warp& w);
  void charge(std::int64_t now);

  int issue_width_;
  sc_core::sc_fifo<MmaPacket>& math_;
  sc_core::sc_fifo<SmemRequest>& mio_;
  std::function<void(std::exception_ptr)> fail_;
  std::vector<std::unique_ptr<Warp>> warps_;  // in arrival order
  std::unordered_map<int, Warp*> by_id_;
  int next_id_ = 0;
  int greedy_ = -1;                           // id of the warp that issued last
  std::uint64_t seq_ = 0;
  std::int64_t last_eval_ = 0;
  // The cycle the scheduler's timed sleep ends (kNever: it waits for an event; -1: it is running). A
  // completion due no earlier than that need not wake it: it re-evaluates then anyway.
  std::int64_t sleep_until_ = -1;
  sc_core::sc_event wake_;
  // What the scheduler sleeps on (a member: a SystemC thread's stack is never unwound).
  sc_core::sc_event_or_list any_;
  SubCoreStats stats_;
  std::int64_t issued_total_ = 0;  // traced
};

}  // namespace stcsim
