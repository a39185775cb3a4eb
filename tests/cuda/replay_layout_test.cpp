// The device layouts (cuda/host/replay_layout.h): executed literally on the host, the own kernel's
// contract gives the reference GEMM of the pruned operand bit for bit, for every path (dense, 2:4, tw,
// tvw), both compiled tilings, raster and tile orders, and shapes that are not multiples of anything;
// 2:4 metadata is the compressor's, padded with valid nibbles; CSR and Blocked-ELL hold exactly the
// kept entries; unsupported patterns and kernel families are typed errors.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "common/error.h"
#include "config/machine_config.h"
#include "cuda/host/half.h"
#include "cuda/host/replay_layout.h"
#include "cuda/host/replay_problem.h"
#include "sparsity/nm_layout.h"
#include "sparsity/registry.h"
#include "tensor_core/tensor_core.h"

using namespace stcsim;
using namespace stcsim::replay;

namespace {

GemmOp gemm(std::int64_t m, std::int64_t n, std::int64_t k, Operand sparse, const std::string& pattern, DType t = DType::fp16) {
  GemmOp g;
  g.layer = "fc";
  g.m = m, g.n = n, g.k = k;
  g.sparse = sparse;
  g.pattern = builtin_registry().canonical(pattern);
  g.dtype = t;
  return g;
}

// S's values as the device holds them (16-bit), pruned entries zero.
Matrix rounded(const Matrix& m, DType t) {
  Matrix r = m;
  for (float& x : r.data()) x = from_half_bits(to_half_bits(x, t), t);
  return r;
}

KernelTiling tiling(int bm, int bn, int bk, int wm, int wn) {
  KernelTiling t;
  t.bm = bm, t.bn = bn, t.bk = bk, t.wm = wm, t.wn = wn;
  return t;
}

}  // namespace

TEST_CASE("the own kernel's contract, run on the host, equals the reference GEMM bit for bit", "[replay][layout]") {
  const std::vector<std::string> patterns = {"dense", "2:4", "tw(g=32,sparsity=0.5)", "tw(g=128,sparsity=0.75)",
                                             "tvw(g=64,sparsity=0.5,n=2,m=4)"};
  const std::vector<GemmOp> shapes = {gemm(200, 72, 136, Operand::B, "dense"), gemm(16, 8, 32, Operand::A, "dense"),
                                      gemm(130, 40, 300, Operand::A, "dense"), gemm(1, 5, 7, Operand::B, "dense")};
  for (const KernelTiling& tl : {tiling(128, 128, 64, 64, 64), tiling(64, 64, 64, 32, 32)}) {
    for (bool longest_first : {false, true}) {
      for (DType t : {DType::fp16, DType::bf16}) {
        for (const auto& p : patterns) {
          for (GemmOp g : shapes) {
            g.pattern = builtin_registry().canonical(p);
            g.dtype = t;
            KernelTiling k = tl;
            k.longest_first = longest_first;
            const ReplayProblem real = make_problem(g, 7, 3);
            for (const ReplayProblem* prob : {&real}) {
              const ReplayProblem x = exact_variant(*prob, 7);
              for (const ReplayProblem* q : {prob, &x}) {
                INFO(p << " " << dtype_name(t) << " " << g.m << "x" << g.n << "x" << g.k << " " << k.describe()
                       << (q->exact_values ? " exact" : " real"));
                const OwnLayout l = own_layout(*q->s.pattern, *q->s.compressed, q->pruned, t, k);
                const Matrix got = emulate_own_kernel(l, *q->d, q->rows, t);
                const Matrix want = reference_gemm(rounded(q->pruned, t), *q->d);
                REQUIRE(got.rows() == want.rows());
                for (std::int64_t i = 0; i < got.size(); ++i) {
                  const float a = got.data()[static_cast<std::size_t>(i)], b = want.data()[static_cast<std::size_t>(i)];
                  REQUIRE((a == b || (a == 0 && b == 0)));
                }
                // Every kept row is some item's exactly once; items are whole K steps and in order.
                std::set<std::int64_t> rows;
                std::int32_t last_k = 1 << 30;
                for (const CtaItem& it : l.items) {
                  REQUIRE(it.k_extent % k.bk == 0);
                  REQUIRE((it.rows >= 1 && it.rows <= k.bm));
                  if (longest_first) REQUIRE(it.k_extent <= last_k);
                  last_k = it.k_extent;
                  for (std::int64_t r = 0; r < it.rows; ++r) {
                    const std::int64_t row = it.row_offset >= 0 ? l.row_ids.at(static_cast<std::size_t>(it.row_offset + r)) : it.out_row + r;
                    REQUIRE(rows.insert(row).second);
                  }
                }
                for (std::int32_t kk : l.ks) REQUIRE((kk >= 0 && kk < q->k));
                CHECK(l.sparse == (q->s.pattern->n() == 2));
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("2:4 metadata on the device is the compressor's, groups past K padded with 0b0100", "[replay][layout]") {
  const ReplayProblem p = make_problem(gemm(24, 8, 40, Operand::A, "2:4"), 1, 1);
  const auto& nm = dynamic_cast<const NmCompressed&>(*p.s.compressed);
  const OwnLayout l = own_layout(*p.s.pattern, nm, p.pruned, DType::fp16, tiling(64, 64, 64, 32, 32));
  REQUIRE(l.sparse);
  // K = 40 pads to 64: 2 words per row; the compressor has 10 groups in 2 words (the second half used).
  REQUIRE(nm.words_per_row() == 2);
  for (std::int64_t r = 0; r < 24; ++r) {
    CHECK(l.meta[static_cast<std::size_t>(r * 2)] == nm.metadata()[static_cast<std::size_t>(r * 2)]);
    const std::uint32_t second = l.meta[static_cast<std::size_t>(r * 2 + 1)];
    CHECK((second & 0xFFu) == (nm.metadata()[static_cast<std::size_t>(r * 2 + 1)] & 0xFFu));
    CHECK((second >> 8) == 0x444444u);
    for (std::int64_t s = 0; s < 32; ++s) {
      const std::uint16_t v = l.a_values[static_cast<std::size_t>(r * 32 + s)];
      if (s < nm.slots_per_row()) {
        CHECK(v == to_half_bits(nm.values()[static_cast<std::size_t>(r * nm.slots_per_row() + s)], DType::fp16));
      } else {
        CHECK(v == 0);
      }
    }
  }
}

TEST_CASE("CSR and Blocked-ELL hold exactly the kept entries", "[replay][layout]") {
  const ReplayProblem u = make_problem(gemm(50, 9, 70, Operand::A, "unstructured(sparsity=0.8)"), 3, 2);
  const CsrLayout csr = csr_layout(u.pruned, u.s.mask, DType::fp16);
  Matrix back(u.rows, u.k);
  for (std::int64_t r = 0; r < csr.rows; ++r) {
    for (std::int32_t i = csr.row_ptr[static_cast<std::size_t>(r)]; i < csr.row_ptr[static_cast<std::size_t>(r + 1)]; ++i) {
      back.at(r, csr.col_idx[static_cast<std::size_t>(i)]) = from_half_bits(csr.values[static_cast<std::size_t>(i)], DType::fp16);
    }
  }
  CHECK(back == rounded(u.pruned, DType::fp16));
  CHECK(static_cast<std::int64_t>(csr.values.size()) == count_kept(u.s.mask));

  const ReplayProblem b = make_problem(gemm(70, 9, 90, Operand::A, "block(b=16,sparsity=0.5)"), 3, 2);
  const BlockedEllLayout ell = blocked_ell_layout(b.pruned, b.s.mask, 16, DType::fp16);
  CHECK(ell.rows_pad == 80);
  CHECK(ell.cols_pad == 96);
  Matrix eback(b.rows, b.k);
  const std::int64_t ell_cols = ell.ell_blocks * 16;
  for (std::int64_t br = 0; br < ell.rows_pad / 16; ++br) {
    for (std::int64_t s = 0; s < ell.ell_blocks; ++s) {
      const std::int32_t bc = ell.col_ind[static_cast<std::size_t>(br * ell.ell_blocks + s)];
      for (std::int64_t i = 0; i < 16; ++i) {
        for (std::int64_t j = 0; j < 16; ++j) {
          const float v = from_half_bits(ell.values[static_cast<std::size_t>((br * 16 + i) * ell_cols + s * 16 + j)], DType::fp16);
          if (bc < 0) {
            REQUIRE(v == 0);
            continue;
          }
          const std::int64_t r = br * 16 + i, k = std::int64_t{bc} * 16 + j;
          if (r < b.rows && k < b.k) {
            eback.at(r, k) = v;
          } else {
            REQUIRE(v == 0);
          }
        }
      }
    }
  }
  CHECK(eback == rounded(b.pruned, DType::fp16));
}

TEST_CASE("own kernels refuse what they do not run, naming it", "[replay][layout]") {
  for (const std::string p : {"1:4", "16:2:8", "block(b=16,sparsity=0.5)", "unstructured(sparsity=0.5)"}) {
    const ReplayProblem q = make_problem(gemm(32, 8, 64, Operand::A, p), 1, 1);
    CHECK_FALSE(own_kernel_supports(*q.s.pattern, DType::fp16));
    CHECK_THROWS_WITH(own_layout(*q.s.pattern, *q.s.compressed, q.pruned, DType::fp16, tiling(64, 64, 64, 32, 32)),
                      Catch::Contains(q.s.pattern->spec()));
  }
  const ReplayProblem d = make_problem(gemm(32, 8, 64, Operand::A, "dense", DType::int8), 1, 1);
  CHECK_FALSE(own_kernel_supports(*d.s.pattern, DType::int8));
}

TEST_CASE("the own kernels' tiling comes from the kernel config", "[replay][layout]") {
  const std::string configs = std::string(STCSIM_SOURCE_DIR) + "/configs/";
  const KernelTiling t = kernel_tiling(load_machine_config(configs + "h100_mma_sp.yaml", {}).kernel);
  CHECK(t.describe() == "128x128x64 CTA, 64x64 warps, 3 stages");
  CHECK_FALSE(t.along_n);
  const KernelTiling n = kernel_tiling(
      load_machine_config(configs + "a100.yaml", {"kernel.raster=along_n", "kernel.tile_scheduler=longest_first"}).kernel);
  CHECK(n.along_n);
  CHECK(n.longest_first);
  CHECK_THROWS_WITH(kernel_tiling(load_machine_config(configs + "h100.yaml", {}).kernel), Catch::Contains("kernel.instruction"));
  CHECK_THROWS_AS(kernel_tiling(load_machine_config(configs + "v100.yaml", {}).kernel), UnsupportedError);
}

TEST_CASE("exact variants keep the structure and make every sum exact", "[replay][layout]") {
  for (const std::string p : {"2:4", "tvw(g=64,sparsity=0.5,n=2,m=4)", "unstructured(sparsity=0.7)"}) {
    const ReplayProblem q = make_problem(gemm(96, 24, 200, Operand::B, p), 5, 4);
    const ReplayProblem x = exact_variant(q, 5);
    CHECK(x.s.mask == q.s.mask);
    CHECK(x.d == q.d);  // the same D, shared
    CHECK(x.s.compressed->metadata_bytes() == q.s.compressed->metadata_bytes());
    for (std::int64_t i = 0; i < x.pruned.size(); ++i) {
      const float v = x.pruned.data()[static_cast<std::size_t>(i)];
      REQUIRE((v == 0) == (q.s.mask.data()[static_cast<std::size_t>(i)] == 0));
      REQUIRE(v * 8 == std::round(v * 8));
    }
  }
}
