// plan_launch: row blocks and work classes per family, split-k, and the dispatch order (launch_plan.h).
#include "scheduler/launch_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

#include "common/error.h"
#include "common/rng.h"
#include "scheduler/kblock_builders.h"
#include "sparsity/registry.h"
#include "sparsity/spec.h"
#include "sparsity/tile_layout.h"
#include "weights/generator.h"

namespace stcsim {

namespace {

using sched::RowWork;

// Interns work classes: equal CtaWork, one index.
class WorkTable {
 public:
  explicit WorkTable(std::vector<CtaWork>& work) : work_(work) {}
  std::uint32_t intern(CtaWork w) {
    std::vector<std::int64_t> key{w.rows, w.cols, w.k_dense, static_cast<std::int64_t>(w.c_bytes)};
    key.push_back(static_cast<std::int64_t>(w.segment_rows.size()));
    key.insert(key.end(), w.segment_rows.begin(), w.segment_rows.end());
    for (const auto& r : w.runs()) {
      const KBlock& b = r.block;
      key.insert(key.end(),
                 {r.repeat, r.key_begin, b.k, b.dense_mmas, b.sparse_mmas, static_cast<std::int64_t>(b.s_bytes),
                  static_cast<std::int64_t>(b.d_bytes), static_cast<std::int64_t>(b.d_region_bytes),
                  static_cast<std::int64_t>(b.kept_macs), static_cast<std::int64_t>(b.segment_steps.size())});
      key.insert(key.end(), b.segment_steps.begin(), b.segment_steps.end());
    }
    const auto it = index_.find(key);
    if (it != index_.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(work_.size());
    work_.push_back(std::move(w));
    index_.emplace(std::move(key), id);
    return id;
  }

 private:
  std::vector<CtaWork>& work_;
  std::map<std::vector<std::int64_t>, std::uint32_t> index_;
};

// Cuts one row's k-block positions into CTAs of ceil(n / split_k) positions each (fewer CTAs than
// split_k when K is short). A split with nothing to issue gets no CTA, except split 0 when the whole
// row has nothing and `keep_empty` (the output tile is still written). With more than one split each
// CTA writes fp32 partial sums.
std::vector<int> split_row(WorkTable& table, const RowWork& rw, std::int64_t rows, std::int64_t cols, int split_k,
                           std::uint64_t c_elem_bytes, bool keep_empty) {
  const std::int64_t n = static_cast<std::int64_t>(rw.items.size());
  const std::int64_t per = std::max<std::int64_t>(1, ceil_div(n, split_k));
  const std::int64_t used = std::max<std::int64_t>(1, ceil_div(n, per));
  std::vector<int> out(static_cast<std::size_t>(used), -1);
  bool any = false;
  for (const auto& it : rw.items) any = any || !it.skip;
  for (std::int64_t sp = 0; sp < used; ++sp) {
    CtaWork w;
    w.rows = rows;
    w.cols = cols;
    w.segment_rows = rw.segment_rows;
    w.c_bytes = static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols) * (used > 1 ? 4 : c_elem_bytes);
    bool first = true;
    for (std::int64_t i = sp * per; i < std::min(n, (sp + 1) * per); ++i) {
      const auto& it = rw.items[static_cast<std::size_t>(i)];
      w.k_dense += it.dense_k;
      if (it.skip) continue;
      KBlock b = it.block;
      if (first) b.s_bytes += rw.header_bytes;
      first = false;
      w.add(b, it.key);
    }
    if (w.k_blocks() == 0 && !(sp == 0 && !any && keep_empty)) continue;
    out[static_cast<std::size_t>(sp)] = static_cast<int>(table.intern(std::move(w)));
  }
  return out;
}

// The raster walk of an nr x nc grid: along_m walks down the rows `swizzle` columns at a time,
// along_n across the columns `swizzle` rows at a time.
std::vector<std::pair<std::int64_t, std::int64_t>> raster(std::int64_t nr, std::int64_t nc, RasterOrder order,
                                                          int swizzle) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  out.reserve(static_cast<std::size_t>(nr * nc));
  if (order == RasterOrder::along_m) {
    for (std::int64_t p0 = 0; p0 < nc; p0 += swizzle) {
      for (std::int64_t r = 0; r < nr; ++r) {
        for (std::int64_t c = p0; c < std::min(nc, p0 + swizzle); ++c) out.emplace_back(r, c);
      }
    }
  } else {
    for (std::int64_t p0 = 0; p0 < nr; p0 += swizzle) {
      for (std::int64_t c = 0; c < nc; ++c) {
        for (std::int64_t r = p0; r < std::min(nr, p0 + swizzle); ++r) out.emplace_back(r, c);
      }
    }
  }
  return out;
}

const SparseOperand& need_operand(const GemmOp& g, const SparseOperand* op, std::int64_t r, std::int64_t k) {
  if (!op || !op->compressed) {
    throw Error(
        fmt::format("{}: pattern {} needs the pruned operand (build_operand) to plan its CTAs", g.layer, g.pattern));
  }
  if (op->mask.rows() != r || op->mask.cols() != k) {
    throw Error(fmt::format("{}: sparse operand is {}x{}, the GEMM needs {}x{}", g.layer, op->mask.rows(),
                            op->mask.cols(), r, k));
  }
  return *op;
}

}  // namespace

bool plan_needs_operand(const GemmOp& g, const GemmMapping& map) {
  if (g.sparse == Operand::none) return false;
  return map.tiled || map.path == MathPath::block_dense || map.path == MathPath::unstructured;
}

Matrix operand_weights(const GemmOp& g, std::uint64_t seed, std::size_t line) {
  const auto [rows, cols] = g.sparse_shape();
  if (static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols) > kMaxOperandValues) {
    throw ShapeError(fmt::format("{}: the {}x{} weight operand its {} mask is cut from holds {} values; stcsim "
                                 "generates at most {} (2^28, 16384 x 16384) per operand",
                                 g.layer, rows, cols, g.pattern,
                                 static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols), kMaxOperandValues));
  }
  return generate_weights(rows, cols, derive_seed(seed, g.layer, line));
}

SparseOperand build_operand(const GemmOp& g, std::uint64_t seed, std::size_t line) {
  SparseOperand op;
  op.weights = operand_weights(g, seed, line);
  op.pattern = builtin_registry().make(g.sparse == Operand::none ? std::string("dense") : g.pattern);
  op.mask = op.pattern->build_mask(op.weights);
  op.compressed = op.pattern->compress(op.weights, op.mask);
  return op;
}

LaunchPlan plan_launch(const GemmOp& g, const GemmMapping& map, const MachineConfig& machine, const SparseOperand* op) {
  if (const auto bad = gemm_problem(g)) throw Error(fmt::format("{}: {}: {}", g.layer, bad->first, bad->second));
  const KernelConfig& kc = machine.kernel;
  LaunchPlan plan;
  plan.path = map.path;
  plan.r = g.sparse == Operand::B ? g.n : g.m;
  plan.k = g.k;
  plan.p = g.sparse == Operand::B ? g.m : g.n;
  plan.count = g.count;
  plan.cta = kc.cta_tile_for(g.dtype);

  sched::Shapes s;
  s.elem_bytes = dtype_bytes(g.dtype);
  s.mma = kc.mma_for(g.dtype);
  s.cta = plan.cta;
  s.k = g.k;
  const bool sparse_operand = g.sparse != Operand::none;
  const auto pattern = builtin_registry().make(sparse_operand ? g.pattern : std::string("dense"));
  const std::string fam = pattern->family();
  if (map.path == MathPath::sparse_nm && s.mma.k_sparse == 0) {
    throw Error(fmt::format("{}: kernel {} ({}) has no sparse instruction for the {} path", g.layer, kc.name,
                            family_name(kc.instruction), g.pattern));
  }

  // Row blocks and a builder of one row's work for a given width.
  std::function<RowWork(std::size_t, std::int64_t)> row_work;
  const TileCompressed* tc = nullptr;
  const Mask* mask = nullptr;
  bool keep_empty = true;
  std::int64_t vnm_v = 0, vnm_n = 0, vnm_m = 0;
  auto& rbs = plan.row_blocks_;
  const auto grid_rows = [&] {
    for (std::int64_t r0 = 0; r0 < plan.r; r0 += plan.cta.m)
      rbs.push_back({r0, std::min<std::int64_t>(plan.cta.m, plan.r - r0), -1, 0});
  };

  const bool uniform = !(plan_needs_operand(g, map));
  if (uniform) {
    grid_rows();
    if (map.path == MathPath::dense || !sparse_operand) {
      row_work = [&](std::size_t i, std::int64_t cols) { return sched::dense_row(s, rbs[i].rows, cols); };
    } else if (fam == "vnm") {
      const SpecArgs a = split_spec(pattern->spec());
      vnm_v = a.positional.at(0), vnm_n = a.positional.at(1), vnm_m = a.positional.at(2);
      if (map.path == MathPath::dense_on_zeros) {
        row_work = [&](std::size_t i, std::int64_t cols) {
          return sched::nm_on_zeros_row(s, rbs[i].rows, cols, static_cast<int>(vnm_n), static_cast<int>(vnm_m));
        };
      } else {
        row_work = [&](std::size_t i, std::int64_t cols) {
          const std::int64_t r0 = rbs[i].row_begin, r1 = r0 + rbs[i].rows;
          const std::int64_t vblocks = ceil_div(r1, vnm_v) - ceil_div(r0, vnm_v);
          const std::int64_t vspan = ceil_div(r1, vnm_v) - r0 / vnm_v;
          return sched::vnm_sparse_row(s, rbs[i].rows, cols, static_cast<int>(vnm_n), static_cast<int>(vnm_m), vblocks,
                                       vspan);
        };
      }
    } else if (fam == "nm") {
      const int n = pattern->n(), m = pattern->m();
      if (map.path == MathPath::dense_on_zeros) {
        row_work = [&s, &rbs, n, m](std::size_t i, std::int64_t cols) {
          return sched::nm_on_zeros_row(s, rbs[i].rows, cols, n, m);
        };
      } else {
        row_work = [&s, &rbs, n, m](std::size_t i, std::int64_t cols) {
          return sched::nm_sparse_row(s, rbs[i].rows, cols, n, m);
        };
      }
    } else {
      throw Error(fmt::format("{}: no CTA work model for pattern {} on the {} path", g.layer, g.pattern,
                              math_path_name(map.path)));
    }
  } else {
    const SparseOperand& sop = need_operand(g, op, plan.r, plan.k);
    if (sop.pattern && sop.pattern->spec() != pattern->spec()) {
      throw Error(fmt::format("{}: sparse operand was pruned by {}, the GEMM's pattern is {}", g.layer,
                              sop.pattern->spec(), pattern->spec()));
    }
    mask = &sop.mask;
    if (map.tiled) {
      tc = dynamic_cast<const TileCompressed*>(sop.compressed.get());
      if (!tc) throw Error(fmt::format("{}: pattern {} did not give a tile layout", g.layer, g.pattern));
      plan.kept_rows_ = tc->kept_rows();
      plan.kept_k_ = tc->kept_k();
      for (std::int64_t t = 0; t < tc->tiles(); ++t) {
        const TileInfo& ti = tc->tile(t);
        plan.tile_k_offset_.push_back(ti.k_offset);
        if (ti.empty()) continue;
        for (std::int64_t c = 0; c < ti.kept_rows; c += plan.cta.m) {
          const std::int64_t off = ti.rows_offset + c;
          rbs.push_back({plan.kept_rows_[static_cast<std::size_t>(off)],
                         std::min<std::int64_t>(plan.cta.m, ti.kept_rows - c), t, off});
        }
      }
      const bool sparse = map.path == MathPath::sparse_nm;
      row_work = [&, sparse](std::size_t i, std::int64_t cols) {
        return sched::tile_row(s, *tc, *mask, rbs[i].tile, rbs[i].kept_offset, rbs[i].rows, cols, sparse);
      };
    } else if (map.path == MathPath::block_dense) {
      grid_rows();
      const std::int64_t b = split_spec(pattern->spec()).get_int("b");
      row_work = [&, b](std::size_t i, std::int64_t cols) {
        return sched::block_row(s, *mask, b, rbs[i].row_begin, rbs[i].row_begin + rbs[i].rows, cols);
      };
    } else {
      // Unstructured: only row blocks holding a non-zero get CTAs.
      keep_empty = false;
      for (std::int64_t r0 = 0; r0 < plan.r; r0 += plan.cta.m) {
        const std::int64_t r1 = std::min(plan.r, r0 + plan.cta.m);
        const auto* first = mask->row(r0);
        const auto* last = mask->row(r1 - 1) + mask->cols();
        if (std::find(first, last, std::uint8_t{1}) != last) rbs.push_back({r0, r1 - r0, -1, 0});
      }
      row_work = [&](std::size_t i, std::int64_t cols) {
        return sched::unstructured_row(s, *mask, rbs[i].row_begin, rbs[i].row_begin + rbs[i].rows, cols);
      };
    }
  }

  // Widths of the column blocks: full, and the edge one if P is not a multiple of cta.n.
  std::vector<std::int64_t> widths{std::min<std::int64_t>(plan.cta.n, plan.p)};
  if (plan.p > plan.cta.n && plan.p % plan.cta.n != 0) widths.push_back(plan.p % plan.cta.n);
  const auto width_of = [&](std::int64_t cb) -> std::size_t {
    return widths.size() > 1 && (cb + 1) * plan.cta.n > plan.p ? 1 : 0;
  };

  // Work classes per row block and width; uniform rows of equal shape share one computation.
  WorkTable table(plan.work_);
  const auto c_elem = static_cast<std::uint64_t>(s.elem_bytes);
  std::vector<std::vector<std::vector<int>>> classes(rbs.size());     // [row block][width][split]
  std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> seen;  // uniform: (rows, v-blocks) -> row block
  for (std::size_t i = 0; i < rbs.size(); ++i) {
    if (uniform) {
      const std::int64_t r0 = rbs[i].row_begin, r1 = r0 + rbs[i].rows;
      const std::int64_t vb = vnm_v ? ceil_div(r1, vnm_v) - ceil_div(r0, vnm_v) : 0;
      const auto [it, fresh] = seen.emplace(std::make_pair(rbs[i].rows, vb), i);
      if (!fresh) {
        classes[i] = classes[it->second];
        continue;
      }
    }
    for (const std::int64_t w : widths) {
      classes[i].push_back(split_row(table, row_work(i, w), rbs[i].rows, w, kc.split_k, c_elem, keep_empty));
      plan.splits = std::max(plan.splits, static_cast<int>(classes[i].back().size()));
    }
  }

  // Dispatch order: copy, split, raster; then longest_first re-sorts by main-loop K.
  const auto walk = raster(static_cast<std::int64_t>(rbs.size()), plan.col_blocks(), kc.raster, kc.swizzle);
  for (std::int64_t copy = 0; copy < plan.count; ++copy) {
    for (int sp = 0; sp < plan.splits; ++sp) {
      for (const auto& [rb, cb] : walk) {
        const auto& cls = classes[static_cast<std::size_t>(rb)][width_of(cb)];
        if (sp >= static_cast<int>(cls.size()) || cls[static_cast<std::size_t>(sp)] < 0) continue;
        plan.ctas_.push_back({static_cast<std::uint32_t>(cls[static_cast<std::size_t>(sp)]),
                              static_cast<std::uint32_t>(rb), static_cast<std::uint32_t>(cb),
                              static_cast<std::uint32_t>(sp), static_cast<std::uint32_t>(copy)});
      }
    }
  }
  if (kc.tile_scheduler == TileOrder::longest_first) {
    std::stable_sort(plan.ctas_.begin(), plan.ctas_.end(), [&](const CtaPos& a, const CtaPos& b) {
      return plan.work_[a.work].k_work() > plan.work_[b.work].k_work();
    });
  }
  return plan;
}

std::vector<std::int64_t> LaunchPlan::output_rows(const CtaPos& c) const {
  const RowBlock& rb = row_blocks_.at(c.row_block);
  std::vector<std::int64_t> out(static_cast<std::size_t>(rb.rows));
  for (std::int64_t i = 0; i < rb.rows; ++i) {
    out[static_cast<std::size_t>(i)] =
        rb.tile >= 0 ? kept_rows_[static_cast<std::size_t>(rb.kept_offset + i)] : rb.row_begin + i;
  }
  return out;
}

TileKey LaunchPlan::s_key(const CtaPos& c, std::int64_t i) const {
  return {TileOperand::S, c.row_block, work_of(c).kblock_key(i), c.copy, -1};
}

TileKey LaunchPlan::d_key(const CtaPos& c, std::int64_t i) const {
  // tw/tvw tiles gather their kept K rows out of the column of D (KBlock::d_region_bytes).
  if (row_blocks_.at(c.row_block).tile >= 0) return {TileOperand::D, c.col_block, 0, c.copy, kDGatherColumn};
  return {TileOperand::D, c.col_block, work_of(c).kblock_key(i), c.copy, -1};
}

LaunchPlan::GatherRows LaunchPlan::d_gather_rows(const CtaPos& c, std::int64_t i) const {
  const RowBlock& rb = row_blocks_.at(c.row_block);
  if (rb.tile < 0) return {};
  const CtaWork& w = work_of(c);
  const std::int64_t begin = tile_k_offset_.at(static_cast<std::size_t>(rb.tile)) + w.kblock_key(i) * cta.k;
  const std::int64_t count = w.kblock(i).k;
  if (begin < 0 || begin + count > static_cast<std::int64_t>(kept_k_.size())) {
    throw Error(fmt::format("launch plan: k-block {} of tile {} gathers past the kept K list", i, rb.tile));
  }
  return {kept_k_.data() + begin, count, k};
}

template <class F>
std::uint64_t LaunchPlan::sum(F&& f) const {
  std::vector<std::uint64_t> per_class(work_.size());
  for (std::size_t i = 0; i < work_.size(); ++i) per_class[i] = f(work_[i]);
  std::uint64_t total = 0;
  for (const auto& c : ctas_) total = checked_add(total, per_class[c.work], "launch totals");
  return total;
}

std::uint64_t LaunchPlan::dense_macs() const {
  return sum([](const CtaWork& w) { return w.dense_macs(); });
}
std::uint64_t LaunchPlan::kept_macs() const {
  return sum([](const CtaWork& w) { return w.kept_macs(); });
}
std::uint64_t LaunchPlan::s_bytes() const {
  return sum([](const CtaWork& w) { return w.s_bytes(); });
}
std::uint64_t LaunchPlan::d_bytes() const {
  return sum([](const CtaWork& w) { return w.d_bytes(); });
}
int LaunchPlan::cluster_for(int cluster_m) const {
  return static_cast<int>(std::max<std::int64_t>(
      1, std::min<std::int64_t>(cluster_m, static_cast<std::int64_t>(row_blocks_.size()))));
}

std::uint64_t LaunchPlan::d_link_bytes(int cluster_m) const {
  const int cluster = cluster_for(cluster_m);
  std::uint64_t total = 0;
  for (const CtaPos& c : ctas_) {
    const CtaWork& w = work_of(c);
    const bool tiled = row_blocks_.at(c.row_block).tile >= 0;
    for (const KBlockRun& run : w.runs()) {
      const auto d = static_cast<std::int64_t>(run.block.d_bytes);
      const bool plain = !tiled && run.block.d_region_bytes == 0;
      total += static_cast<std::uint64_t>(run.repeat) * static_cast<std::uint64_t>(plain ? d_link_slice(d, cluster) : d);
    }
  }
  return total;
}

std::uint64_t LaunchPlan::c_bytes() const {
  return sum([](const CtaWork& w) { return w.c_bytes; });
}

}  // namespace stcsim
