// The project's own tensor-core GEMM kernel: C = S x D (cuda/host/replay_layout.h), S dense or 2:4
// compressed, D's rows read in order or gathered (tile-wise sparsity), C's rows written in order or
// scattered. One template covers the four own paths (dense, 2:4, tw, tvw); its tiling comes from the
// kernel config (cuda/host/replay_layout.h KernelTiling), as the simulator models it.
//
// Structure (the Ampere-style multistage GEMM):
//   - a CTA of (BM / WM) x (BN / WN) warps computes one CtaItem's BM rows against BN columns of D;
//   - STAGES shared-memory buffers filled by cp.async (16-byte copies, zero-filled past the edges),
//     the k-block kb + STAGES - 1 loading while kb is computed;
//   - each warp issues mma.sync m16n8k16 (dense) or mma.sp::ordered_metadata m16n8k32 (2:4) on
//     fragments loaded by ldmatrix (A non-transposed; D, K x N row-major, transposed);
//   - fp32 accumulators, written to C (fp32, row-major) through the item's row map.
// Shared-memory rows are padded by 16 bytes so that ldmatrix's eight row addresses fall in distinct banks.
// Left out: wgmma and TMA (Hopper's fast path), split-K, swizzled CTA rasters, fp16 output and epilogue fusion.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "cuda/host/cta_item.h"
#include "cuda/host/mma_fragment.h"

namespace stcsim::replay::kernels {

struct GemmArgs {
  const std::uint16_t* a_values;
  const std::uint32_t* meta;
  const std::int32_t* ks;
  const std::int32_t* row_ids;
  const CtaItem* items;
  int num_items;
  const std::uint16_t* d;  // K x ldd, row-major
  int ldd;                 // a multiple of 8
  int cols;                // valid columns of D and C
  float* c;                // rows x cols
  int ldc;
  bool along_n;            // grid x walks column blocks (else items)
};

__device__ __forceinline__ std::uint32_t smem_addr(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
  const int bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(bytes));
}

__device__ __forceinline__ void cp_async4(void* dst, const void* src) {
  asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(smem_addr(dst)), "l"(src));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

__device__ __forceinline__ void ldmatrix_x4(std::uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

__device__ __forceinline__ void ldmatrix_x4_trans(std::uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

template <bool Bf16>
__device__ __forceinline__ void mma_dense(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1) {
  if constexpr (Bf16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

template <bool Bf16>
__device__ __forceinline__ void mma_sparse(float (&d)[4], const std::uint32_t (&a)[4], const std::uint32_t (&b)[4],
                                           std::uint32_t e) {
  if constexpr (Bf16) {
    asm volatile(
        "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, 0x0;\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e));
  } else {
    asm volatile(
        "mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
        "{%4, %5, %6, %7}, {%8, %9, %10, %11}, {%0, %1, %2, %3}, %12, 0x0;\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(b[2]), "r"(b[3]), "r"(e));
  }
}

template <int BM, int BN, int BK, int WM, int WN, int STAGES, bool SPARSE>
struct GemmShape {
  static constexpr int kWarps = (BM / WM) * (BN / WN);
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kAElems = SPARSE ? BK / 2 : BK;   // A values per row per k-block
  static constexpr int kALd = kAElems + 8;                // padded shared-memory row, in 16-bit elements
  static constexpr int kMetaWords = SPARSE ? BK / 32 : 0; // metadata words per row per k-block
  static constexpr int kBLd = BN + 8;
  static constexpr int kStageBytes = BM * kALd * 2 + BM * kMetaWords * 4 + BK * kBLd * 2;
  static constexpr int kSmemBytes = STAGES * kStageBytes;
  static_assert(BM % WM == 0 && BN % WN == 0 && WM % 16 == 0 && WN % 16 == 0 && BK % 32 == 0, "tile shape");
  static_assert(kStageBytes % 16 == 0, "stage alignment");
};

template <class Shape, int BM, int BN, int BK, bool SPARSE>
__device__ __forceinline__ void load_stage(const GemmArgs& g, const CtaItem& it, int kb, int n0, unsigned char* stage) {
  auto* sa = reinterpret_cast<std::uint16_t*>(stage);
  auto* smeta = reinterpret_cast<std::uint32_t*>(stage + BM * Shape::kALd * 2);
  auto* sb = reinterpret_cast<std::uint16_t*>(stage + BM * Shape::kALd * 2 + BM * Shape::kMetaWords * 4);
  const int tid = threadIdx.x;
  constexpr int a_chunks = Shape::kAElems / 8;
  for (int c = tid; c < BM * a_chunks; c += Shape::kThreads) {
    const int r = c / a_chunks, ch = c % a_chunks;
    const bool valid = r < it.rows;
    const std::uint16_t* src =
        valid ? g.a_values + it.a_offset + static_cast<std::int64_t>(r) * it.a_ld + kb * Shape::kAElems + ch * 8 : g.a_values;
    cp_async16(sa + r * Shape::kALd + ch * 8, src, valid);
  }
  if constexpr (SPARSE) {
    for (int c = tid; c < BM * Shape::kMetaWords; c += Shape::kThreads) {
      const int r = c / Shape::kMetaWords, w = c % Shape::kMetaWords;
      if (r < it.rows) {
        cp_async4(smeta + c, g.meta + it.meta_offset + static_cast<std::int64_t>(r) * it.meta_ld + kb * Shape::kMetaWords + w);
      } else {
        smeta[c] = 0x44444444u;  // positions 0 and 1 of every group: valid metadata for rows that are not there
      }
    }
  }
  constexpr int b_chunks = BN / 8;
  for (int c = tid; c < BK * b_chunks; c += Shape::kThreads) {
    const int kr = c / b_chunks, ch = c % b_chunks;
    const int k = kb * BK + kr;
    const int n = n0 + ch * 8;
    int drow = k;
    bool valid = n < g.ldd;
    if (it.ks_offset >= 0) {
      drow = g.ks[it.ks_offset + k];
    } else {
      valid = valid && k < it.d_rows;
    }
    const std::uint16_t* src = valid ? g.d + static_cast<std::int64_t>(drow) * g.ldd + n : g.d;
    cp_async16(sb + kr * Shape::kBLd + ch * 8, src, valid);
  }
}

template <int BM, int BN, int BK, int WM, int WN, int STAGES, bool SPARSE, bool BF16>
__global__ void __launch_bounds__(GemmShape<BM, BN, BK, WM, WN, STAGES, SPARSE>::kThreads)
    gemm_kernel(GemmArgs g) {
  using Shape = GemmShape<BM, BN, BK, WM, WN, STAGES, SPARSE>;
  extern __shared__ __align__(16) unsigned char smem[];
  const int item_idx = g.along_n ? blockIdx.y : blockIdx.x;
  const int n_block = g.along_n ? blockIdx.x : blockIdx.y;
  if (item_idx >= g.num_items) return;
  const CtaItem it = g.items[item_idx];
  const int n0 = n_block * BN;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wy = warp / (BN / WN), wx = warp % (BN / WN);
  constexpr int MI = WM / 16, NI = WN / 8;
  float acc[MI][NI][4];
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int v = 0; v < 4; ++v) acc[i][j][v] = 0.0f;

  const int kblocks = it.k_extent / BK;
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < kblocks) load_stage<Shape, BM, BN, BK, SPARSE>(g, it, s, n0, smem + s * Shape::kStageBytes);
    cp_async_commit();
  }
  for (int kb = 0; kb < kblocks; ++kb) {
    cp_async_wait<STAGES - 2>();
    __syncthreads();
    const unsigned char* stage = smem + (kb % STAGES) * Shape::kStageBytes;
    const auto* sa = reinterpret_cast<const std::uint16_t*>(stage);
    const auto* smeta = reinterpret_cast<const std::uint32_t*>(stage + BM * Shape::kALd * 2);
    const auto* sb = reinterpret_cast<const std::uint16_t*>(stage + BM * Shape::kALd * 2 + BM * Shape::kMetaWords * 4);
    constexpr int KSTEP = SPARSE ? 32 : 16;
#pragma unroll
    for (int kk = 0; kk < BK; kk += KSTEP) {
      std::uint32_t afrag[MI][4];
      std::uint32_t efrag[MI];
#pragma unroll
      for (int i = 0; i < MI; ++i) {
        const int row = wy * WM + i * 16;
        // Lanes 0-15 address rows 0-15 at the step's first 8 (compressed) columns, lanes 16-31 the next 8.
        const int acol = (SPARSE ? kk / 2 : kk) + (lane / 16) * 8;
        ldmatrix_x4(afrag[i], sa + (row + lane % 16) * Shape::kALd + acol);
        if constexpr (SPARSE) {
          const int gr = row + lane / 4;
          efrag[i] = sp_meta_fragment(smeta[gr * Shape::kMetaWords + kk / 32], smeta[(gr + 8) * Shape::kMetaWords + kk / 32],
                                      lane % 4);
        } else {
          efrag[i] = 0;
        }
      }
#pragma unroll
      for (int j = 0; j < NI; j += SPARSE ? 1 : 2) {
        const int col = wx * WN + j * 8;
        std::uint32_t bfrag[4];
        if constexpr (SPARSE) {
          // Four 8x8 matrices down K (rows kk, kk+8, kk+16, kk+24) of one 8-column block: b0..b7 of k32.
          ldmatrix_x4_trans(bfrag, sb + (kk + lane) * Shape::kBLd + col);
#pragma unroll
          for (int i = 0; i < MI; ++i) mma_sparse<BF16>(acc[i][j], afrag[i], bfrag, efrag[i]);
        } else {
          // Matrices (k 0-7, n 0-7), (k 8-15, n 0-7), (k 0-7, n 8-15), (k 8-15, n 8-15): b0..b3 of two k16 blocks.
          const int m = lane / 8;
          ldmatrix_x4_trans(bfrag, sb + (kk + (m % 2) * 8 + lane % 8) * Shape::kBLd + col + (m / 2) * 8);
#pragma unroll
          for (int i = 0; i < MI; ++i) {
            mma_dense<BF16>(acc[i][j], afrag[i], bfrag[0], bfrag[1]);
            mma_dense<BF16>(acc[i][j + 1], afrag[i], bfrag[2], bfrag[3]);
          }
        }
      }
    }
    const int next = kb + STAGES - 1;
    if (next < kblocks) load_stage<Shape, BM, BN, BK, SPARSE>(g, it, next, n0, smem + (next % STAGES) * Shape::kStageBytes);
    cp_async_commit();
  }
  cp_async_wait<0>();

#pragma unroll
  for (int i = 0; i < MI; ++i) {
#pragma unroll
    for (int j = 0; j < NI; ++j) {
#pragma unroll
      for (int v = 0; v < 4; ++v) {
        const FragPos p = c_fragment_pos(lane, v);
        const int r = wy * WM + i * 16 + p.row;
        const int col = n0 + wx * WN + j * 8 + p.col;
        if (r >= it.rows || col >= g.cols) continue;
        const std::int64_t out = it.row_offset >= 0 ? g.row_ids[it.row_offset + r] : it.out_row + r;
        g.c[out * g.ldc + col] = acc[i][j][v];
      }
    }
  }
}

}  // namespace stcsim::replay::kernels
