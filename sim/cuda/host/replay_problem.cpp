#include "cuda/host/replay_problem.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/rng_fill.h"
#include "common/strings.h"
#include "cuda/host/replay_layout.h"
#include "functional/functional.h"
#include "sparsity/registry.h"

namespace stcsim::replay {

std::string backend_name(Backend b) {
  switch (b) {
    case Backend::cublas: return "cublas";
    case Backend::own: return "own";
    case Backend::cusparselt: return "cusparselt";
    case Backend::cusparse: return "cusparse";
  }
  return "?";
}

std::vector<Backend> parse_backends(const std::string& list) {
  std::vector<Backend> out;
  for (const auto& part : split(list, ',')) {
    const std::string name(trim(part));
    bool found = false;
    for (Backend b : kAllBackends) {
      if (backend_name(b) == name) {
        out.push_back(b);
        found = true;
      }
    }
    if (!found) throw Error(fmt::format("--backends: '{}' is not one of cublas, own, cusparselt, cusparse", name));
  }
  return out;
}

std::vector<Backend> backends_for(const Pattern& p, DType t) {
  const std::string fam = p.family();
  if (fam == "dense") return {Backend::cublas, Backend::own};
  if (fam == "nm" && p.n() == 2 && p.m() == 4) return {Backend::own, Backend::cusparselt};
  if (fam == "tw" || fam == "tvw") return own_kernel_supports(p, t) ? std::vector<Backend>{Backend::own} : std::vector<Backend>{};
  if (fam == "block" || fam == "unstructured") return {Backend::cusparse};
  return {};
}

ReplayProblem make_problem(const GemmOp& g, std::uint64_t seed, std::size_t line) {
  if (const auto bad = gemm_problem(g)) throw ShapeError(fmt::format("{}: {}: {}", g.layer, bad->first, bad->second));
  return make_problem(g, line, operand_weights(g, seed, line),
                      std::make_shared<const Matrix>(functional_dense_operand(g, seed, line)));
}

ReplayProblem make_problem(const GemmOp& g, std::size_t line, const Matrix& weights, std::shared_ptr<const Matrix> d) {
  if (const auto bad = gemm_problem(g)) throw ShapeError(fmt::format("{}: {}: {}", g.layer, bad->first, bad->second));
  ReplayProblem p;
  p.gemm = g;
  p.line = line;
  // build_operand's steps on the given weights.
  p.s.pattern = builtin_registry().make(g.sparse == Operand::none ? std::string("dense") : g.pattern);
  p.s.mask = p.s.pattern->build_mask(weights);
  p.s.compressed = p.s.pattern->compress(weights, p.s.mask);
  p.pruned = apply_mask(weights, p.s.mask);
  p.d = std::move(d);
  p.rows = p.pruned.rows();
  p.k = p.pruned.cols();
  p.cols = p.d->cols();
  if (p.d->rows() != p.k) {
    throw ShapeError(fmt::format("{}: D is {}x{}, the GEMM needs {} rows", g.layer, p.d->rows(), p.d->cols(), p.k));
  }
  return p;
}

ReplayProblem exact_variant(const ReplayProblem& p, std::uint64_t seed) {
  if (p.k > kExactCheckMaxK) {
    throw ShapeError(fmt::format("{}: K = {} is over the exact check's limit of {}", p.gemm.layer, p.k, kExactCheckMaxK));
  }
  ReplayProblem x;
  x.gemm = p.gemm;
  x.line = p.line;
  x.rows = p.rows;
  x.cols = p.cols;
  x.k = p.k;
  x.exact_values = true;
  x.d = p.d;
  Matrix w(p.rows, p.k);
  // below(16) draws once per value (16 divides 2^64: nothing is rejected).
  fill_from_stream(w.data().data(), w.size(), derive_seed(seed, p.gemm.layer + "/exact", p.line), 1, [](Rng& rng) {
    const auto u = static_cast<int>(rng.below(16));
    return static_cast<float>(u < 8 ? u - 8 : u - 7) * 0.125f;
  });
  x.s.pattern = builtin_registry().make(p.s.pattern->spec());
  x.s.mask = p.s.mask;
  x.s.weights = std::move(w);
  x.s.compressed = x.s.pattern->compress(x.s.weights, x.s.mask);
  x.pruned = apply_mask(x.s.weights, x.s.mask);
  x.s.weights = Matrix();  // as make_problem: the pruned matrix is what is kept
  return x;
}

}  // namespace stcsim::replay
