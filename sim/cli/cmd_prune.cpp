// stcsim prune: prune one weight matrix with a pattern; statistics as a table (and JSON), and the
// mask and compressed form written out.
#include <fmt/format.h>

#include <cstdio>

#include "cli/app.h"
#include "cli/usage.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/npy.h"
#include "sparsity/registry.h"
#include "sparsity/stats.h"
#include "weights/generator.h"

namespace stcsim::cli {

namespace {

constexpr const char* kUsage =
    "Usage: stcsim prune --pattern P (--rows R --cols C [--seed S] [--dist D] | --npy FILE) [--dtype T] [--out DIR] [--json]\n\n"
    "Prunes a weight matrix by magnitude with pattern P and reports what it keeps and costs: density,\n"
    "compressed and metadata bytes, index bits per kept value, share of |w| and w^2 kept. The matrix is\n"
    "rows x cols with cols along the GEMM's reduction dimension K (a linear layer's [out, in] weight).\n"
    "With --out, writes weights.npy, mask.npy, the compressed arrays and stats.json into DIR.";

constexpr const char* kExamples =
    "  stcsim prune --pattern 2:4 --rows 4096 --cols 4096\n"
    "  stcsim prune --pattern 'tw(g=128,sparsity=0.75)' --rows 1024 --cols 4096 --out /tmp/tw\n"
    "  stcsim prune --pattern 64:2:8 --npy layer0_weight.npy --dtype bf16 --json\n";

// Largest matrix pruned in memory: 2^28 elements (1 GiB of fp32 weights, plus mask and compressed copy).
constexpr std::int64_t kMaxElements = std::int64_t{1} << 28;

std::string stats_json(const PatternStats& s, const std::string& source) {
  JsonWriter j;
  j.begin_object();
  j.key("source").value(source);
  s.visit([&](const char* name, const auto& v) { j.key(name).value(v); });
  j.key("details").begin_object();
  for (const auto& [k, v] : s.details) j.key(k).value(v);
  j.end_object();
  j.end_object();
  return j.str();
}

std::string fmt_value(const std::string& v) { return v; }
std::string fmt_value(double v) { return fmt::format("{:.6g}", v); }
template <class T>
std::string fmt_value(T v) { return fmt::format("{}", v); }

void print_table(const PatternStats& s, const std::string& source) {
  std::printf("%-24s %s\n", "source", source.c_str());
  s.visit([&](const char* name, const auto& v) { std::printf("%-24s %s\n", name, fmt_value(v).c_str()); });
  for (const auto& [k, v] : s.details) std::printf("%-24s %s\n", k.c_str(), fmt_value(v).c_str());
}

}  // namespace

int cmd_prune(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()
      ("pattern,p", po::value<std::string>(), "sparsity pattern spec (required), e.g. 2:4, 64:2:8, tw(g=128,sparsity=0.75)")
      ("rows", po::value<std::int64_t>(), "rows of a generated matrix (output features)")
      ("cols", po::value<std::int64_t>(), "cols of a generated matrix (reduction dimension K)")
      ("seed", po::value<std::uint64_t>()->default_value(1), "seed of the generated weights")
      ("dist", po::value<std::string>()->default_value("normal"), "distribution of generated weights: normal, uniform, laplace")
      ("npy", po::value<std::string>(), "load the weights from a NumPy .npy file instead ([out, in, ...] arrays flatten to [out, rest])")
      ("dtype", po::value<std::string>()->default_value("fp16"), "element type for byte counts: fp16, bf16, tf32, int8, fp8")
      ("out,o", po::value<std::string>(), "folder to write weights, mask, compressed form and stats.json into")
      ("json", "print the statistics as JSON instead of the table (stdout holds the JSON alone)");
  po::variables_map vm;
  if (!parse_args(args, opts, {}, vm, kUsage, kExamples)) return 0;

  if (!vm.count("pattern")) throw UsageError("--pattern is required");
  const bool from_npy = vm.count("npy") > 0;
  if (from_npy && (vm.count("rows") || vm.count("cols"))) throw UsageError("give either --npy or --rows/--cols, not both");
  if (!from_npy && !(vm.count("rows") && vm.count("cols"))) throw UsageError("give --rows and --cols, or --npy");
  const auto dtype = parse_dtype(vm["dtype"].as<std::string>());
  if (!dtype) throw UsageError(fmt::format("--dtype: '{}' is not one of {}", vm["dtype"].as<std::string>(), dtype_choices()));
  const auto dist = parse_weight_dist(vm["dist"].as<std::string>());
  if (!dist) throw UsageError(fmt::format("--dist: '{}' is not one of normal, uniform, laplace", vm["dist"].as<std::string>()));

  const auto pattern = builtin_registry().make(vm["pattern"].as<std::string>());

  Matrix w;
  std::string source;
  if (from_npy) {
    source = vm["npy"].as<std::string>();
    w = load_npy_matrix(source);
  } else {
    const auto rows = vm["rows"].as<std::int64_t>();
    const auto cols = vm["cols"].as<std::int64_t>();
    if (rows < 1 || cols < 1) throw UsageError("--rows and --cols must be >= 1");
    if (rows > kMaxElements / cols) {
      throw ShapeError(fmt::format("prune: {}x{} has more than {} elements, too large to prune in memory", rows, cols, kMaxElements));
    }
    const auto seed = vm["seed"].as<std::uint64_t>();
    source = fmt::format("generated {}x{} {} seed={}", rows, cols, weight_dist_name(*dist), seed);
    w = generate_weights(rows, cols, seed, *dist);
  }
  if (w.rows() > kMaxElements / w.cols()) {
    throw ShapeError(fmt::format("{}: {}x{} has more than {} elements, too large to prune in memory", source, w.rows(), w.cols(), kMaxElements));
  }

  const Mask mask = pattern->build_mask(w);
  pattern->check_mask(mask);
  const auto compressed = pattern->compress(w, mask);
  if (pattern->decompress(*compressed) != apply_mask(w, mask)) {
    throw Error(fmt::format("pattern '{}': decompression does not give the pruned matrix back", pattern->spec()));
  }
  const PatternStats stats = measure(*pattern, w, mask, *compressed, *dtype);

  // --json: standard output holds the JSON alone (parseable as it is); else the table.
  const bool as_json = vm.count("json") != 0;
  const std::string json = stats_json(stats, source);
  if (as_json) {
    std::fputs(json.c_str(), stdout);
  } else {
    print_table(stats, source);
  }

  if (vm.count("out")) {
    const std::string dir = vm["out"].as<std::string>();
    ensure_writable_dir(dir);
    save_npy(dir + "/weights.npy", w.data(), {w.rows(), w.cols()});
    save_npy(dir + "/mask.npy", mask.data(), {mask.rows(), mask.cols()});
    std::vector<std::string> files = {"weights.npy", "mask.npy"};
    for (auto& f : compressed->save(dir)) files.push_back(f);
    write_file_atomic(dir + "/stats.json", json);
    files.push_back("stats.json");
    std::fprintf(as_json ? stderr : stdout, "wrote %s/{%s}\n", dir.c_str(), fmt::format("{}", fmt::join(files, ",")).c_str());
  }
  return 0;
}

}  // namespace stcsim::cli
