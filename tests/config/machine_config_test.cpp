// Machine configs: every shipped file loads, computed peaks match the datasheets, --set overrides and
// their errors, cross-section checks, and the resolved dump reads back to an equal config.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/strings.h"
#include "config/machine_config.h"
#include "sweep/sweep_spec.h"

using namespace stcsim;
namespace fs = std::filesystem;

namespace {

const fs::path kConfigs = fs::path(STCSIM_SOURCE_DIR) / "configs";

std::string config_path(const std::string& rel) { return (kConfigs / rel).string(); }

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string write_tmp(const std::string& name, const std::string& text) {
  const auto dir = fs::temp_directory_path() / "stcsim_machine_config_test";
  fs::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

// Every YAML file under configs/, sorted, so that a new file is covered without touching the tests.
std::vector<fs::path> all_config_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(kConfigs)) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool is_whole_machine(const fs::path& p) {
  const YamlDoc doc = YamlDoc::load(p.string());
  return doc.root()["arch"] && doc.root()["kernel"] && doc.root()["energy"];
}

// The message of the ConfigError `f` throws ("" if it throws nothing).
template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string set_error(const std::string& machine, const std::vector<std::string>& sets) {
  return config_error([&] { load_machine_config(config_path(machine), sets); });
}

// Leaf key paths of a YAML tree with their scalar text.
void leaves(const YAML::Node& n, const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsMap()) {
    for (const auto& kv : n) leaves(kv.second, path.empty() ? kv.first.Scalar() : path + "." + kv.first.Scalar(), out);
  } else if (n.IsScalar()) {
    out.emplace_back(path, n.Scalar());
  }
}

std::vector<std::pair<std::string, std::string>> leaves_of(const std::string& yaml_text) {
  std::vector<std::pair<std::string, std::string>> out;
  leaves(YAML::Load(yaml_text), "", out);
  return out;
}

}  // namespace

TEST_CASE("every file under configs/ validates, and whole machines load", "[config][machine]") {
  const auto files = all_config_files();
  REQUIRE(files.size() >= 13);
  int machines = 0;
  for (const auto& f : files) {
    INFO(f.string());
    if (f.parent_path().filename() == "sweeps") {
      // Sweep files (docs/sweeps.md) expand, loading every point's machine.
      CHECK_NOTHROW(sweep::load_sweep(f.string()));
      continue;
    }
    CHECK_NOTHROW(validate_config_file(f.string()));
    if (is_whole_machine(f)) {
      ++machines;
      CHECK_NOTHROW(load_machine_config(f.string(), {}));
    }
  }
  CHECK(machines >= 3);
  for (const char* m : {"v100.yaml", "a100.yaml", "h100.yaml", "h100_mma_sp.yaml", "h200.yaml", "h200_mma_sp.yaml"}) {
    INFO(m);
    CHECK(is_whole_machine(kConfigs / m));
  }
}

TEST_CASE("computed peaks of the shipped GPUs are within 2% of the datasheets", "[config][machine]") {
  // NVIDIA datasheets: peak TFLOP/s (TOPS for int8), dense and 2:4 (1:2 for tf32). 0 = the GPU lacks it.
  struct Peak {
    DType t;
    double dense;
    double sparse;
  };
  const auto check = [](const std::string& machine, const std::vector<Peak>& peaks) {
    const MachineConfig c = load_machine_config(config_path(machine));
    for (const Peak& p : peaks) {
      INFO(machine << " " << dtype_name(p.t));
      const int n = p.t == DType::tf32 ? 1 : 2;
      const int m = p.t == DType::tf32 ? 2 : 4;
      const auto dense = c.arch.dense_tflops(p.t);
      const auto sparse = c.arch.sparse_tflops(p.t, n, m);
      if (p.dense == 0) {
        CHECK_FALSE(dense);
      } else {
        REQUIRE(dense);
        CHECK(*dense == Approx(p.dense).epsilon(0.02));
      }
      if (p.sparse == 0) {
        CHECK_FALSE(sparse);
      } else {
        REQUIRE(sparse);
        CHECK(*sparse == Approx(p.sparse).epsilon(0.02));
      }
    }
  };
  check("v100.yaml",
        {{DType::fp16, 125, 0}, {DType::bf16, 0, 0}, {DType::tf32, 0, 0}, {DType::int8, 0, 0}, {DType::fp8, 0, 0}});
  check("a100.yaml", {{DType::fp16, 312, 624},
                      {DType::bf16, 312, 624},
                      {DType::tf32, 156, 312},
                      {DType::int8, 624, 1248},
                      {DType::fp8, 0, 0}});
  check("h100.yaml", {{DType::fp16, 989, 1979},
                      {DType::bf16, 989, 1979},
                      {DType::tf32, 495, 989},
                      {DType::int8, 1979, 3958},
                      {DType::fp8, 1979, 3958}});
  // H200 SXM datasheet: the H100 SXM5's figures (same GH100 chip and clocks), for both H200 machines.
  for (const char* m : {"h200.yaml", "h200_mma_sp.yaml"}) {
    check(m, {{DType::fp16, 989.4, 1979},
              {DType::bf16, 989.4, 1979},
              {DType::tf32, 495, 989},
              {DType::int8, 1979, 3958},
              {DType::fp8, 1979, 3958}});
  }
}

TEST_CASE("the H200 is the H100 SXM5 with other memory", "[config][machine]") {
  // arch/h200.yaml overrides arch/h100.yaml in its memory keys (and the name) only; the H200 machines run
  // the H100 machines' kernels and energy tables.
  const std::set<std::string> changed{"arch.name", "arch.l2.bytes", "arch.dram.bandwidth_gbps"};
  for (const auto& [h200, h100] : std::vector<std::pair<std::string, std::string>>{
           {"h200.yaml", "h100.yaml"}, {"h200_mma_sp.yaml", "h100_mma_sp.yaml"}}) {
    INFO(h200 << " against " << h100);
    const MachineConfig a = load_machine_config(config_path(h200));
    const MachineConfig b = load_machine_config(config_path(h100));
    // NVIDIA H200 datasheet: 4.8 TB/s HBM3e (H100 SXM5: 3.35 TB/s HBM3).
    CHECK(a.arch.dram.bandwidth_gbps * 1e9 == Approx(4.8e12).epsilon(0.02));
    CHECK(b.arch.dram.bandwidth_gbps * 1e9 == Approx(3.35e12).epsilon(0.02));
    // 60 MB (2^20 bytes each) as PyTorch reads it on the H200; the H100 SXM5 has 50.
    CHECK(a.arch.l2.bytes == std::int64_t{60} << 20);
    CHECK(a.kernel == b.kernel);
    CHECK(a.energy == b.energy);
    // Key by key through the resolved dumps, so a key added later is covered too.
    std::map<std::string, std::string> theirs;
    for (const auto& [path, value] : leaves_of(to_yaml(b))) theirs[path] = value;
    std::set<std::string> differ;
    for (const auto& [path, value] : leaves_of(to_yaml(a))) {
      INFO(path);
      REQUIRE(theirs.count(path) == 1);
      if (theirs.at(path) != value) differ.insert(path);
      theirs.erase(path);
    }
    CHECK(theirs.empty());
    CHECK(differ == changed);
  }
  const std::string d = describe(load_machine_config(config_path("h200_mma_sp.yaml")));
  CHECK_THAT(d, Catch::Contains("H200-SXM-141GB: 132 SMs x 4 tensor cores at 1830 MHz, power cap 700 W"));
  CHECK_THAT(d, Catch::Contains("fp16 989.4 (2:4 1978.9)"));
  CHECK_THAT(d, Catch::Contains("DRAM 4800 GB/s (90% achievable), L2 60 MiB"));
}

TEST_CASE("a PCIe H100 machine runs its SXM5 twin's kernel, whichever kernel it is", "[config][machine]") {
  // The PCIe machines differ from the SXM5 ones in the arch only (arch/h100_pcie.yaml); their kernels
  // are the SXM5 machines' kernels key for key. (h100_pcie_mma_sp.yaml once took the wgmma kernel's
  // 12 warps per CTA into its mma.sp kernel by including h100_pcie.yaml.)
  for (const auto& [pcie, sxm] : std::vector<std::pair<std::string, std::string>>{
           {"h100_pcie.yaml", "h100.yaml"}, {"h100_pcie_mma_sp.yaml", "h100_mma_sp.yaml"}}) {
    INFO(pcie << " against " << sxm);
    const MachineConfig a = load_machine_config(config_path(pcie));
    const MachineConfig b = load_machine_config(config_path(sxm));
    CHECK(a.kernel == b.kernel);
    CHECK(a.kernel_candidates == b.kernel_candidates);
    CHECK(a.energy == b.energy);
    CHECK(a.arch.sms == 114);
    CHECK(b.arch.sms == 132);
  }
  CHECK(load_machine_config(config_path("h100_pcie_mma_sp.yaml")).kernel.warps_per_cta == 4);
}

TEST_CASE("lookups return nothing for what a GPU lacks", "[config][machine]") {
  const MachineConfig v = load_machine_config(config_path("v100.yaml"));
  CHECK(v.arch.tensor_core.dense_macs_per_clock(DType::fp16) == 64);
  CHECK_FALSE(v.arch.tensor_core.dense_macs_per_clock(DType::fp8));
  CHECK_FALSE(v.arch.tensor_core.sparse_rate(DType::fp16, 2, 4));
  CHECK_FALSE(v.arch.tensor_core.operand_selector);
  CHECK_FALSE(v.arch.tensor_core.instruction(MmaFamily::mma_sp_sync));
  CHECK(v.arch.tensor_core.unsupported_sparsity == UnsupportedSparsity::dense);

  const MachineConfig h = load_machine_config(config_path("h100.yaml"));
  REQUIRE(h.arch.tensor_core.sparse_rate(DType::fp16, 2, 4));
  CHECK(h.arch.tensor_core.sparse_rate(DType::fp16, 2, 4)->macs_per_clock == 1024);
  CHECK_FALSE(h.arch.tensor_core.sparse_rate(DType::fp16, 1, 4));
  CHECK_FALSE(h.arch.tensor_core.sparse_rate(DType::tf32, 2, 4));
  CHECK(h.arch.tensor_core.sparse_rate(DType::tf32, 1, 2)->macs_per_clock == 512);
  // The shipped selectors keep up with the fastest sparse entry (kept products per clock).
  for (const char* m : {"a100.yaml", "h100.yaml", "h200.yaml"}) {
    const MachineConfig c = load_machine_config(config_path(m));
    for (const auto& [t, r] : c.arch.tensor_core.dtypes) {
      for (const auto& [spec, sr] : r.sparse) {
        INFO(m << " " << dtype_name(t) << " " << spec);
        CHECK(c.arch.tensor_core.operand_selector->selections_per_clock >= sr.macs_per_clock * sr.n / sr.m);
      }
    }
  }
}

TEST_CASE("kernel shapes scale K with the data type and derive warps", "[config][machine]") {
  const MachineConfig h = load_machine_config(config_path("h100.yaml"));
  const KernelConfig& k = h.kernel;
  CHECK(k.instruction == MmaFamily::wgmma_sp);
  CHECK(k.b_source() == OperandSource::shared);
  CHECK(k.compute_warps() == 8);
  CHECK(k.warps_per_cta == 12);
  CHECK(k.smem_bytes_per_cta() == std::int64_t{4} * (128 * 64 + 64 * 256) * 2);
  CHECK(k.mma_for(DType::fp16) == MmaShape{64, 256, 16, 32});
  CHECK(k.mma_for(DType::tf32) == MmaShape{64, 256, 8, 16});
  CHECK(k.mma_for(DType::fp8) == MmaShape{64, 256, 32, 64});
  CHECK(k.cta_tile_for(DType::int8).k == 128);

  const MachineConfig a = load_machine_config(config_path("a100.yaml"));
  CHECK(a.kernel.compute_warps() == 4);
  CHECK(a.kernel.warps_per_cta == 4);  // derived: the file leaves it out
  CHECK(a.kernel.b_source() == OperandSource::registers);
  CHECK(a.kernel.mma_for(DType::int8) == MmaShape{16, 8, 32, 64});
}

TEST_CASE("overrides through --set reach any key, including pattern keys", "[config][machine]") {
  const MachineConfig c = load_machine_config(
      config_path("h100.yaml"),
      {"arch.sms=66", "arch.clock_mhz=1755", "kernel.stages=3", "kernel.tile_scheduler=longest_first",
       "arch.tensor_core.dtypes.fp16.sparse.1:4=2048", "arch.static_power_w=1.5"});
  CHECK(c.arch.sms == 66);
  CHECK(c.arch.clock_mhz == 1755);
  CHECK(c.kernel.stages == 3);
  CHECK(c.kernel.tile_scheduler == TileOrder::longest_first);
  REQUIRE(c.arch.tensor_core.sparse_rate(DType::fp16, 1, 4));
  CHECK(c.arch.tensor_core.sparse_rate(DType::fp16, 1, 4)->macs_per_clock == 2048);
  CHECK(c.arch.static_power_w == 1.5);
  CHECK(c.arch.dense_tflops(DType::fp16).value() == Approx(66 * 4 * 512 * 2 * 1.755e9 / 1e12));
}

TEST_CASE("bad --set values fail naming the assignment and the key path", "[config][machine]") {
  CHECK_THAT(set_error("h100.yaml", {"arch.sms=0"}),
             Catch::Contains("--set arch.sms=0: arch.sms: must be >= 1 (got 0)"));
  CHECK_THAT(set_error("h100.yaml", {"arch.smz=1"}), Catch::Contains("arch.smz: unknown key"));
  CHECK_THAT(set_error("h100.yaml", {"arch.sms=many"}), Catch::Contains("arch.sms: must be an integer (got 'many')"));
  CHECK_THAT(set_error("h100.yaml", {"arch.sm.tensor_cores=6"}),
             Catch::Contains("arch.sm.tensor_cores: must be a multiple of sub_cores = 4 (got 6)"));
  CHECK_THAT(set_error("h100.yaml", {"arch.dram.efficiency=1.5"}),
             Catch::Contains("arch.dram.efficiency: must be <= 1"));
  CHECK_THAT(set_error("h100.yaml", {"arch.tensor_core.dtypes.fp16.sparse.4:2=2048"}),
             Catch::Contains("arch.tensor_core.dtypes.fp16.sparse.4:2: pattern '4:2': N must be in 1..M-1"));
  CHECK_THAT(set_error("h100.yaml", {"arch.tensor_core.dtypes.fp16.sparse.dense=2048"}),
             Catch::Contains("arch.tensor_core.dtypes.fp16.sparse.dense: must be an N:M pattern"));
  CHECK_THAT(set_error("h100.yaml", {"arch.tensor_core.dtypes.fp16.sparse.2:8=2048"}),
             Catch::Contains("sparse.2:8: group M = 8 exceeds operand_selector.max_m = 4"));
  CHECK_THAT(set_error("h100.yaml", {"arch.tensor_core.dtypes.fp64.dense_macs_per_clock=16"}),
             Catch::Contains("arch.tensor_core.dtypes.fp64: unknown data type"));
  CHECK_THAT(set_error("h100.yaml", {"arch.tensor_core.instructions.hmma.latency_cycles=1"}),
             Catch::Contains("arch.tensor_core.instructions.hmma: unknown instruction"));
  CHECK_THAT(set_error("h100.yaml", {"arch.tensor_core.unsupported_sparsity=skip"}),
             Catch::Contains("unsupported_sparsity: must be one of dense, error (got 'skip')"));
  CHECK_THAT(set_error("h100.yaml", {"kernel.instruction=mma.sparse"}),
             Catch::Contains("kernel.instruction: must be one of wmma, mma.sync, mma.sp.sync, wgmma, wgmma.sp"));
  CHECK_THAT(set_error("h100.yaml", {"kernel.mma.n=250"}),
             Catch::Contains("kernel.mma: m64n250k16 is not a wgmma.sp shape"));
  CHECK_THAT(set_error("h100.yaml", {"kernel.warp_tile.m=96"}),
             Catch::Contains("kernel.warp_tile.m: warp_tile.m = 96 must divide cta_tile.m = 128"));
  CHECK_THAT(set_error("a100.yaml", {"kernel.a_source=shared"}),
             Catch::Contains("kernel.a_source: mma.sp.sync reads A from registers"));
  CHECK_THAT(set_error("a100.yaml", {"kernel.swizzle=3"}), Catch::Contains("kernel.swizzle: must be a power of 2"));
  CHECK_THAT(set_error("v100.yaml", {"kernel.mma.k_sparse=32"}), Catch::Contains("wmma has no sparse instruction"));
  CHECK_THAT(set_error("h100.yaml", {"kernel.warps_per_cta=6"}),
             Catch::Contains("kernel.warps_per_cta: must be >= the 8 compute warps"));
  CHECK_THAT(set_error("h100.yaml", {"energy.dram_pj_per_byte=-1"}),
             Catch::Contains("energy.dram_pj_per_byte: must be >= 0"));
  CHECK_THAT(set_error("h100.yaml", {"kernel.cta_tile=7"}), Catch::Contains("kernel.cta_tile: must be a mapping"));
  CHECK_THAT(set_error("h100.yaml", {"arch.sms=[1, 2]"}),
             Catch::Contains("arch.sms: must be a single value, not a list"));
}

TEST_CASE("cross-section checks name the key path and where it was set", "[config][machine]") {
  // 5 stages x (128x64 + 64x256) x 2 B = 240 KiB > 227 KiB.
  CHECK_THAT(set_error("h100.yaml", {"kernel.stages=5"}),
             Catch::Contains("--set kernel.stages=5: kernel.stages: shared memory per CTA") &&
                 Catch::Contains("= 245760 B exceeds arch.sm.shared_memory.bytes_per_cta = 232448 B"));
  // The same overflow from a smaller arch: the message points at the kernel file's line.
  CHECK_THAT(set_error("h100.yaml", {"arch.sm.shared_memory.bytes_per_cta=131072"}),
             Catch::Contains("wgmma_sp_128x256x64_4stage.yaml:") && Catch::Contains(": kernel.stages: shared memory"));
  CHECK_THAT(set_error("h100.yaml", {"arch.sm.max_threads_per_cta=256"}),
             Catch::Contains("kernel.warps_per_cta: 12 warps = 384 threads exceed arch.sm.max_threads_per_cta = 256"));
  // 12 warps x 128 registers (the 64 x 256 warpgroup tile's accumulators over 128 threads) = 192 KiB.
  CHECK_THAT(set_error("h100.yaml", {"arch.sm.register_file.bytes=65536"}),
             Catch::Contains("kernel.cta_tile: 12 warps x 128 registers per thread (196608 B, the 128 x 256 fp32 "
                             "accumulators 131072 B of it) exceed arch.sm.register_file.bytes = 65536 B"));
  // A100's 64 x 64 warp tile: 128 accumulators + one k-step of A and B fragments (32) = 160.
  CHECK_THAT(set_error("a100.yaml", {"arch.sm.register_file.max_registers_per_thread=128"}),
             Catch::Contains("kernel.warp_tile: a thread needs at least 160 registers (accumulators and one k-step "
                             "of register fragments), more than arch.sm.register_file.max_registers_per_thread = 128"));
  // A kernel whose instructions the GPU lacks.
  const std::string volta_sparse =
      write_tmp("volta_sparse.yaml", "include: [" + config_path("arch/v100.yaml") + ", " +
                                         config_path("kernels/mma_sp_128x128x64_3stage.yaml") + ", " +
                                         config_path("energy/12nm.yaml") + "]\n");
  CHECK_THAT(config_error([&] { load_machine_config(volta_sparse); }),
             Catch::Contains("kernel.instruction: mma.sp.sync needs arch.tensor_core.instructions.mma_sync, which "
                             "V100-SXM2 lacks (it has wmma)"));
  CHECK_THAT(config_error([&] { validate_config_file(volta_sparse); }), Catch::Contains("kernel.instruction"));
  // An energy table missing a type the GPU has.
  const std::string no_fp8 =
      write_tmp("no_fp8.yaml", "include: [" + config_path("h100.yaml") + "]\nenergy:\n  mac_pj:\n    fp8: null\n");
  CHECK_THAT(config_error([&] { load_machine_config(no_fp8); }),
             Catch::Contains("energy.mac_pj.fp8: must be a mapping"));
  const std::string a100_energy_on_h100 = write_tmp(
      "partial_energy.yaml",
      "arch:\n  name: x\n" + std::string("energy:\n  name: e\n  mac_pj:\n    fp16: {dense_pj: 1, sparse_pj: 1}\n"));
  CHECK_THAT(config_error([&] { validate_config_file(a100_energy_on_h100); }),
             Catch::Contains("arch.sms: missing (required)"));
  const std::string only_fp16 = write_tmp(
      "only_fp16.yaml", "include: [" + config_path("arch/h100.yaml") +
                            "]\nenergy:\n  name: e\n  mac_pj:\n    fp16: {dense_pj: 1, sparse_pj: 1}\n"
                            "  operand_select_pj: 0\n  metadata_pj_per_bit: 0\n  register_read_pj_per_32b: 0\n"
                            "  register_write_pj_per_32b: 0\n  smem_read_pj_per_byte: 0\n"
                            "  smem_write_pj_per_byte: 0\n  l2_pj_per_byte: 0\n  dram_pj_per_byte: 0\n");
  CHECK_THAT(config_error([&] { validate_config_file(only_fp16); }),
             Catch::Contains("only_fp16.yaml:") &&
                 Catch::Contains(": energy.mac_pj: has no entry for bf16, which H100-SXM5's tensor cores support"));
}

TEST_CASE("kernel candidates merge onto the kernel, need unique names and are checked as kernels", "[config][machine]") {
  const std::string base = "include: [" + config_path("a100.yaml") + "]\nkernel:\n";
  const MachineConfig shipped = load_machine_config(config_path("a100.yaml"));
  REQUIRE(shipped.kernel_candidates.size() == 3);
  // One candidate: only the keys it names differ from the kernel's.
  const MachineConfig one = load_machine_config(
      write_tmp("cand_one.yaml", base + "  candidates:\n    - {name: wide, cta_tile: {n: 256}, swizzle: 4}\n"));
  REQUIRE(one.kernel_candidates.size() == 1);
  const KernelConfig& w = one.kernel_candidates[0];
  CHECK(w.name == "wide");
  CHECK(w.cta_tile.n == 256);
  CHECK(w.cta_tile.m == one.kernel.cta_tile.m);
  CHECK(w.cta_tile.k == one.kernel.cta_tile.k);
  CHECK(w.swizzle == 4);
  CHECK(w.stages == one.kernel.stages);
  CHECK(w.instruction == one.kernel.instruction);
  // Variants: the kernel first, then each candidate, each a whole machine with no candidates of its own.
  const std::vector<MachineConfig> v = one.kernel_variants();
  REQUIRE(v.size() == 2);
  CHECK(v[0].kernel == one.kernel);
  CHECK(v[1].kernel == w);
  CHECK(v[1].kernel_candidates.empty());
  CHECK(v[1].arch == one.arch);
  // An empty list is the one kernel; --set can clear a shipped list.
  CHECK(load_machine_config(config_path("a100.yaml"), {"kernel.candidates=[]"}).kernel_candidates.empty());
  // The dump lists the candidates whole and reads back equal.
  const std::string text = to_yaml(one);
  CHECK_THAT(text, Catch::Contains("candidates:"));
  CHECK(MachineConfig::from_yaml(YamlDoc::parse(text, "dump")) == one);

  const auto err = [&](const std::string& name, const std::string& cands) {
    return config_error([&] { load_machine_config(write_tmp(name, base + "  candidates:" + cands)); });
  };
  CHECK_THAT(err("cand_noname.yaml", "\n    - {cta_tile: {n: 256}}\n"),
             Catch::Contains("kernel.candidates[0].name: missing: each candidate needs its own name"));
  CHECK_THAT(err("cand_dup.yaml", "\n    - {name: a}\n    - {name: a}\n"),
             Catch::Contains("kernel.candidates[1].name: 'a' is taken by another kernel of this machine"));
  CHECK_THAT(err("cand_same.yaml", "\n    - {name: " + shipped.kernel.name + "}\n"),
             Catch::Contains("kernel.candidates[0].name: '" + shipped.kernel.name + "' is taken"));
  CHECK_THAT(err("cand_map.yaml", " {name: a}\n"), Catch::Contains("kernel.candidates: must be a list of kernels"));
  CHECK_THAT(err("cand_scalar.yaml", "\n    - 3\n"), Catch::Contains("kernel.candidates[0]: must be a mapping"));
  CHECK_THAT(err("cand_nested.yaml", "\n    - {name: a, candidates: [{name: b}]}\n"),
             Catch::Contains("kernel.candidates[0].candidates"));
  // A candidate is a kernel like any other: its own checks and the cross-section ones name its path.
  CHECK_THAT(err("cand_bad.yaml", "\n    - {name: a, stages: 0}\n"), Catch::Contains("kernel.candidates[0].stages"));
  CHECK_THAT(err("cand_smem.yaml", "\n    - {name: a, cta_tile: {m: 256, n: 256}, stages: 6}\n"),
             Catch::Contains("kernel.candidates[0].stages: shared memory per CTA"));
}

TEST_CASE("missing required keys and unknown top-level keys are refused", "[config][machine]") {
  std::string arch = read_text(kConfigs / "arch" / "h100.yaml");
  const auto at = arch.find("  sms: 132");
  REQUIRE(at != std::string::npos);
  arch.erase(at, arch.find('\n', at) - at + 1);
  const std::string no_sms = write_tmp("no_sms.yaml", arch);
  CHECK_THAT(config_error([&] { validate_config_file(no_sms); }), Catch::Contains("arch.sms: missing (required)"));

  const std::string stray = write_tmp("stray.yaml", "include: " + config_path("h100.yaml") + "\nmachine: {x: 1}\n");
  CHECK_THAT(config_error([&] { validate_config_file(stray); }),
             Catch::Contains("stray.yaml:2: machine: unknown key (known here: arch, energy, kernel)"));
  CHECK_THAT(config_error([&] { load_machine_config(stray); }), Catch::Contains("machine: unknown key"));
  const std::string empty = write_tmp("empty.yaml", "# nothing\n");
  CHECK_THAT(config_error([&] { validate_config_file(empty); }), Catch::Contains("holds none of the sections"));
  CHECK_THAT(config_error([&] { load_machine_config(config_path("arch/h100.yaml")); }),
             Catch::Contains("kernel: missing (required)"));
  CHECK_THROWS_AS(load_machine_config(config_path("nowhere.yaml")), IoError);
}

TEST_CASE("to_yaml dumps every key and reads back to an equal config", "[config][machine]") {
  for (const auto& f : all_config_files()) {
    if (!is_whole_machine(f)) continue;
    INFO(f.string());
    const MachineConfig c = load_machine_config(f.string());
    const std::string text = to_yaml(c);
    const MachineConfig back = MachineConfig::from_yaml(YamlDoc::parse(text, "dump"));
    CHECK(back == c);
    CHECK(to_yaml(back) == text);
    // Every key the source files wrote is in the dump.
    std::set<std::string> dumped;
    for (const auto& [p, v] : leaves_of(text)) dumped.insert(p);
    std::vector<std::pair<std::string, std::string>> written;
    leaves(YamlDoc::load(f.string()).root(), "", written);
    for (const auto& [p, v] : written) {
      INFO(p);
      CHECK(dumped.count(p) == 1);
    }
  }
}

TEST_CASE("every dumped key is read and compared: changing it changes the config", "[config][machine]") {
  // Mutation check of from_yaml, to_yaml and operator== together: each leaf of the dump is changed
  // through --set; a change the loader accepts must give an unequal config. Keys no change of which
  // loads (the shape of a PTX instruction, the instruction itself) are listed and must be few.
  const std::vector<std::string> words{"dense",    "error",       "registers",     "shared",  "ldg_sts", "cp_async",
                                       "tma",      "in_order",    "longest_first", "along_m", "along_n", "wmma",
                                       "mma.sync", "mma.sp.sync", "wgmma",         "wgmma.sp", "true",    "false"};
  for (const char* machine : {"v100.yaml", "a100.yaml", "h100.yaml"}) {
    const MachineConfig c = load_machine_config(config_path(machine));
    const std::string text = to_yaml(c);
    std::set<std::string> unchangeable;
    for (const auto& leaf : leaves_of(text)) {
      const std::string& path = leaf.first;
      const std::string& value = leaf.second;
      std::vector<std::string> candidates;
      if (const auto i = parse_int(value)) {
        candidates = {std::to_string(*i * 2), std::to_string(*i + 1), std::to_string(*i - 1), std::to_string(*i / 2)};
      }
      if (const auto d = parse_double(value)) {
        candidates.push_back(fmt::format("{}", *d * 1.5 + 0.5));
        candidates.push_back(fmt::format("{}", *d * 0.5));
      } else {
        candidates = {value + "x"};
        for (const auto& w : words) candidates.push_back(w);
      }
      // Only real changes.
      candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                      [&](const std::string& v) {
                                        const auto a = parse_double(v), b = parse_double(value);
                                        return v == value || (a && b && *a == *b);
                                      }),
                       candidates.end());
      bool changed = false;
      for (const auto& cand : candidates) {
        YamlDoc doc = YamlDoc::parse(text, "dump");
        doc.apply_set(fmt::format("{}={}", path, cand));
        try {
          const MachineConfig m = MachineConfig::from_yaml(doc);
          INFO(machine << ": " << path << "=" << cand << " loaded but compares equal");
          CHECK(m != c);
          changed = true;
          break;
        } catch (const ConfigError&) {
        }
      }
      if (!changed) unchangeable.insert(path);
    }
    // Only kernel keys pinned by a PTX shape or by the other (resolved) kernel keys may resist every
    // single change: e.g. a deeper cta_tile.k needs more warps than the dumped warps_per_cta. Their
    // comparison is TileShape's and MmaShape's operator==, three or four fields each. cluster_m is
    // pinned to 1 by kernels without tma loads (V100, A100). H100's warps_per_cta = 12 moves only in
    // whole warpgroups, and 24 warps x 128 registers overflow the register file.
    const std::set<std::string> pinned{"kernel.instruction", "kernel.a_source",    "kernel.mma.m",
                                       "kernel.mma.n",       "kernel.mma.k",       "kernel.mma.k_sparse",
                                       "kernel.cta_tile.m",  "kernel.cta_tile.n",  "kernel.cta_tile.k",
                                       "kernel.warp_tile.m", "kernel.warp_tile.n", "kernel.warp_tile.k",
                                       "kernel.cluster_m",   "kernel.warps_per_cta"};
    for (const auto& p : unchangeable) {
      INFO(machine << ": no single change of " << p << " loads");
      CHECK(pinned.count(p) == 1);
    }
  }
}

TEST_CASE("configs/README.md documents every key", "[config][machine]") {
  const std::string readme = read_text(kConfigs / "README.md");
  std::set<std::string> keys;
  for (const char* machine : {"v100.yaml", "a100.yaml", "h100.yaml"}) {
    for (const auto& [path, value] : leaves_of(to_yaml(load_machine_config(config_path(machine))))) {
      // Keys that are names in a table are written as placeholders.
      std::vector<std::string> parts;
      for (auto p : split(path, '.')) parts.emplace_back(p);
      for (std::size_t i = 1; i < parts.size(); ++i) {
        if (parts[i - 1] == "dtypes" || parts[i - 1] == "mac_pj") parts[i] = "<dtype>";
        if (parts[i - 1] == "sparse") parts[i] = "<pattern>";
        if (parts[i - 1] == "instructions") parts[i] = "<instruction>";
      }
      keys.insert(join(parts, "."));
    }
  }
  REQUIRE(keys.size() > 60);
  for (const auto& k : keys) {
    INFO(k);
    CHECK(readme.find("`" + k + "`") != std::string::npos);
  }
}

TEST_CASE("describe summarises the machine with computed peaks", "[config][machine]") {
  const std::string h = describe(load_machine_config(config_path("h100.yaml")));
  CHECK_THAT(h, Catch::Contains("H100-SXM5: 132 SMs x 4 tensor cores at 1830 MHz, power cap 700 W"));
  CHECK_THAT(h, Catch::Contains("fp16 989.4 (2:4 1978.9)"));
  CHECK_THAT(h, Catch::Contains("tf32 494.7 (1:2 989.4)"));
  CHECK_THAT(h, Catch::Contains("DRAM 3350 GB/s"));
  CHECK_THAT(h, Catch::Contains("wgmma.sp m64n256k16 (sparse k32)"));
  CHECK_THAT(h, Catch::Contains("CTA 128x256x64, warpgroup 64x256x64, 4 stages, 12 warps, 192 KiB shared memory/CTA"));
  const std::string v = describe(load_machine_config(config_path("v100.yaml")));
  CHECK_THAT(v, Catch::Contains("fp16 125.3"));
  CHECK_THAT(v, Catch::Contains("run dense on explicit zeros"));
}

TEST_CASE("power keys: ranges and cross-checks name the key path", "[config][machine][power]") {
  CHECK_THAT(set_error("h100.yaml", {"arch.static_power_w=-1"}), Catch::Contains("arch.static_power_w: must be >= 0"));
  CHECK_THAT(set_error("h100.yaml", {"arch.static_power_w=700"}),
             Catch::Contains("arch.static_power_w: must be below power_cap_w = 700 W (got 700)"));
  CHECK_THAT(set_error("h100.yaml", {"arch.base_clock_mhz=200000"}),
             Catch::Contains("arch.base_clock_mhz: must be <= 100000 (got 200000)"));
  // A clock set below the base clock (a fixed-clock study) loads: it is its own floor.
  CHECK(load_machine_config(config_path("h100.yaml"), {"arch.clock_mhz=1000"}).arch.base_clock_mhz == 1590);
  CHECK_THAT(set_error("h100.yaml", {"arch.base_clock_mhz=-5"}), Catch::Contains("arch.base_clock_mhz: must be >= 0"));
  CHECK_THAT(set_error("h100.yaml", {"arch.base_clock_mhz=0"}),
             Catch::Contains("arch.base_clock_mhz: required with power_cap_w = 700 W"));
  CHECK_THAT(set_error("h100.yaml", {"arch.power_cap_w=-1"}), Catch::Contains("arch.power_cap_w: must be >= 0"));
  // No cap: no floor needed, and static power has no bound but its range.
  const MachineConfig c = load_machine_config(config_path("h100.yaml"),
                                              {"arch.power_cap_w=0", "arch.base_clock_mhz=0", "arch.static_power_w=900"});
  CHECK(c.arch.power_cap_w == 0);
  CHECK(c.arch.static_power_w == 900);
}

TEST_CASE("every shipped machine has a sourced static power and a base clock under its cap", "[config][machine][power]") {
  for (const char* m : {"v100.yaml", "a100.yaml", "h100.yaml", "h200.yaml"}) {
    INFO(m);
    const MachineConfig c = load_machine_config(config_path(m));
    CHECK(c.arch.power_cap_w > 0);
    CHECK(c.arch.static_power_w > 0);
    CHECK(c.arch.static_power_w < c.arch.power_cap_w);
    CHECK(c.arch.base_clock_mhz > 0);
    CHECK(c.arch.base_clock_mhz < c.arch.clock_mhz);
  }
}
