// The shared memory of one SM as a module of the cycle model (docs/model.md, "The cycle model"): it
// serves requests from bounded queues, one per source (each sub-core's MIO queue, each operand
// collector's shared-memory operand queue, and the queue of tiles landing from global memory), taking
// them round robin in chunks of at most kChunkBytes at the configured bytes per clock, so that
// fragment reads, wgmma operand reads, epilogue staging and tile writes share the bandwidth at a fine
// grain (a tile landing does not hold the banks for hundreds of cycles while an MMA's operands wait).
// A read's data is back `latency_cycles` after its last chunk; a write is done when transferred. A
// request with a k-way bank conflict (SmemRequest::ways) takes k times its share of the bandwidth.
// A request leaves its queue when its service begins: a full queue stalls its source.
#pragma once

#include <systemc>

#include <cstdint>
#include <exception>
#include <functional>
#include <vector>

#include "common/error.h"

#include "sm/cycle_packets.h"
#include "sm/shared_memory.h"

namespace stcsim {

class SharedMemoryUnit : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(SharedMemoryUnit);
  SharedMemoryUnit(const sc_core::sc_module_name& name, const SharedMemoryConfig& cfg,
                   std::vector<sc_core::sc_fifo<SmemRequest>*> inputs, std::function<void(std::exception_ptr)> fail);

  // Largest piece of one request served before the next queue's turn: eight wavefronts of 32 banks
  // x 4 bytes.
  static constexpr std::int64_t kChunkBytes = 1024;

  SharedMemory& memory() { return smem_; }
  const SharedMemory& memory() const { return smem_; }

 private:
  void run();

  SharedMemory smem_;
  std::vector<sc_core::sc_fifo<SmemRequest>*> inputs_;
  std::function<void(std::exception_ptr)> fail_;
  std::size_t next_ = 0;  // round-robin pointer
  sc_core::sc_event_or_list any_;  // what it sleeps on (a member: a SystemC thread's stack is never unwound)
  // Per input: the request being served and the bytes it has left (0: none).
  std::vector<SmemRequest> current_;
  std::vector<std::int64_t> left_;
};

}  // namespace stcsim
