// The tensor-core MMA instruction families a kernel can be written with, and the shapes PTX defines
// for each. Shared by the arch config (which families a GPU executes, at what latency) and the kernel
// config (which family a kernel uses). Left out: integer sub-byte types (s4/u4, b1), the m8n8k4 Volta
// form of mma.sync, and wgmma's transposition and scale operands, which do not change timing here.
//
// K convention: every K below is counted in 16-bit elements (fp16/bf16). For the other types the
// instructions keep the K extent in bytes, so K halves for 4-byte tf32 and doubles for 1-byte
// int8/fp8 (PTX: mma m16n8k16 f16, m16n8k8 tf32, m16n8k32 s8); mma_k() applies that scaling.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/dtype.h"

namespace stcsim {

enum class MmaFamily {
  wmma,         // Volta: wmma 16x16x16, executed as HMMA.884 steps
  mma_sync,     // Ampere and later: mma.sync.aligned, one warp
  mma_sp_sync,  // mma.sync for dense operands, mma.sp.sync for N:M-sparse A (sm_80+)
  wgmma,        // Hopper: wgmma.mma_async, a warpgroup of 4 warps, B from shared memory
  wgmma_sp,     // wgmma for dense operands, wgmma.mma_async.sp for sparse A (sm_90a)
};

inline constexpr MmaFamily kAllMmaFamilies[] = {MmaFamily::wmma, MmaFamily::mma_sync, MmaFamily::mma_sp_sync,
                                                MmaFamily::wgmma, MmaFamily::wgmma_sp};

// PTX spelling, as written in kernel.instruction: "wmma", "mma.sync", "mma.sp.sync", "wgmma", "wgmma.sp".
std::string_view family_name(MmaFamily f);
std::optional<MmaFamily> parse_family(std::string_view name);
// Key in arch.tensor_core.instructions: the PTX name with '.' written '_' ("mma_sp_sync"), so that
// `--set arch.tensor_core.instructions.mma_sp_sync.latency_cycles=...` can reach it.
std::string_view family_key(MmaFamily f);
std::optional<MmaFamily> parse_family_key(std::string_view key);
// "wmma, mma.sync, ..." for messages.
std::string family_choices();

// True for the families that issue a sparse instruction for N:M operands.
bool family_is_sparse(MmaFamily f);
// True for wgmma and wgmma.sp: issued by a warpgroup of 4 warps, B always from shared memory.
bool family_is_warpgroup(MmaFamily f);
// The instruction a family issues for dense operands (mma.sp.sync -> mma.sync, wgmma.sp -> wgmma).
MmaFamily dense_family(MmaFamily f);

// Instruction shape: M x N x K dense; k_sparse is the K (dense-equivalent, skipped products
// included) of the sparse instruction, 0 for families without one. K values in 16-bit elements.
struct MmaShape {
  int m = 0;
  int n = 0;
  int k = 0;
  int k_sparse = 0;
  bool operator==(const MmaShape& o) const { return m == o.m && n == o.n && k == o.k && k_sparse == o.k_sparse; }
  bool operator!=(const MmaShape& o) const { return !(*this == o); }
};

// Empty if PTX defines this shape for the family; otherwise why not, listing the legal shapes.
std::string check_mma_shape(MmaFamily f, const MmaShape& s);

// A K extent written in 16-bit elements, expressed in elements of `t` (same bytes).
int k_for_dtype(int k16, DType t);

}  // namespace stcsim
