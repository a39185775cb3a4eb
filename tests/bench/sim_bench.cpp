// stcsim_bench: how fast the two models run. On the H100 config, dense and 2:4: the fast model on a
// 4096^3 fp16 GEMM and the bert-base trace (batch 32, sequence 128), the cycle model (--model cycle)
// on a 1024^3 GEMM, the 4096^3 one and the trace. For each it prints the median wall time of
// simulate() over repeats (the cycle model's 4096^3 and trace once), its spread, the peak memory, the
// simulated GPU cycles and MMA instructions per second of wall time, and where both models ran the
// same workload, the fast model's cycles over the cycle model's.
//
// SystemC elaborates once per process, so every measurement runs in a child process (fork), pinned
// to one CPU where the system allows; the parent collects the figures through a pipe. This is a
// program that prints figures, not a test: nothing here asserts a time.
#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/strings.h"
#include "config/machine_config.h"
#include "gpu/sim_model.h"
#include "gpu/simulation.h"
#include "sparsity/registry.h"
#include "trace/trace_io.h"

using namespace stcsim;

namespace {

struct Options {
  std::string config = std::string(STCSIM_SOURCE_DIR) + "/configs/h100.yaml";
  std::string trace = std::string(STCSIM_SOURCE_DIR) + "/traces/bert-base_b32_s128.trace";
  std::int64_t gemm = 4096;
  int repeats = 5;
  bool smoke = false;
};

struct Case {
  std::string workload;  // "gemm" or "trace"
  std::string pattern;
  SimModel model = SimModel::fast;
  std::int64_t gemm = 0;  // the GEMM's size (workload gemm)
  int repeats = 1;
};

// What a child reports (plain data through the pipe).
struct Sample {
  int ok = 0;
  double seconds = 0;
  long max_rss_kib = 0;
  std::uint64_t cycles = 0;
  std::uint64_t mmas = 0;
  int pinned = 0;
  char error[240] = {};
};

Trace workload_of(const Options& o, const Case& c) {
  Trace t;
  if (c.workload == "trace") {
    t = read_trace(o.trace, builtin_registry());
  } else {
    GemmOp g;
    g.layer = "gemm";
    g.m = g.n = g.k = c.gemm;
    g.sparse = Operand::B;
    t.source = fmt::format("--gemm {0}x{0}x{0}", c.gemm);
    t.ops.push_back(g);
    t.lines.push_back(1);
  }
  for (auto& g : t.ops) {
    if (g.sparse != Operand::none) g.pattern = c.pattern;
  }
  return t;
}

Sample run_child(const Options& o, const Case& c) {
  Sample s;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  s.pinned = sched_setaffinity(0, sizeof(one), &one) == 0 ? 1 : 0;
  try {
    const MachineConfig machine = load_machine_config(o.config);
    const std::vector<RunInput> runs{{c.pattern, workload_of(o, c)}};
    SimOptions opts;
    opts.model = c.model;
    const auto t0 = std::chrono::steady_clock::now();
    const SimResult r = simulate(machine, runs, opts);
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.cycles = r.simulated_cycles;
    s.mmas = r.mma_instructions;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    s.max_rss_kib = ru.ru_maxrss;
    s.ok = 1;
  } catch (const std::exception& e) {
    std::snprintf(s.error, sizeof(s.error), "%s", e.what());
  }
  return s;
}

// Runs one case in a child process; throws Error with the child's message when it fails.
Sample measure(const Options& o, const Case& c) {
  int fd[2];
  if (pipe(fd) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) throw Error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close(fd[0]);
    const Sample s = run_child(o, c);
    const ssize_t w = write(fd[1], &s, sizeof(s));
    close(fd[1]);
    _exit(w == static_cast<ssize_t>(sizeof(s)) ? 0 : 3);
  }
  close(fd[1]);
  Sample s;
  const ssize_t got = read(fd[0], &s, sizeof(s));
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != static_cast<ssize_t>(sizeof(s)) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(fmt::format("{} {} {}: the measuring process died", c.workload, c.pattern, sim_model_name(c.model)));
  }
  if (!s.ok) throw Error(fmt::format("{} {} {}: {}", c.workload, c.pattern, sim_model_name(c.model), s.error));
  return s;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::string rest = line.substr(line.find(':') + 1);
      return std::string(trim(rest));
    }
  }
  return "unknown CPU";
}

std::string commit() {
  std::string out;
  const std::string cmd = std::string("git -C '") + STCSIM_SOURCE_DIR + "' rev-parse --short HEAD 2>/dev/null";
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[64];
    while (std::fgets(buf, sizeof(buf), p)) out += buf;
    pclose(p);
  }
  const std::string id(trim(out));
  return id.empty() ? "unknown" : id;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

constexpr const char* kHelp =
    "Usage: stcsim_bench [--config C] [--trace T] [--gemm N] [--repeats R] [--quick] [--smoke]\n\n"
    "Times simulate() on config C (default configs/h100.yaml), dense and 2:4: the fast model on an\n"
    "NxNxN fp16 GEMM (default 4096) and a trace (default the bert-base trace, batch 32, sequence 128),\n"
    "the cycle model on a 1024^3 GEMM, the NxNxN one and the trace; each case R times (default 5; the\n"
    "cycle model's N^3 GEMM and trace once) in a fresh process pinned to CPU 0. Prints the median wall\n"
    "time and its spread, peak RSS, simulated GPU cycles and MMA instructions per second, and the fast\n"
    "model's cycles over the cycle model's where both ran a workload. --quick: one repeat. --smoke: a\n"
    "512^3 GEMM in both models, one repeat (checks the program, not the speed); fails unless every case\n"
    "simulated cycles and the two models agree within 10%.\n";

// A path under the source folder as the repository names it.
std::string shown(const std::string& path) {
  const std::string root = std::string(STCSIM_SOURCE_DIR) + "/";
  return path.rfind(root, 0) == 0 ? path.substr(root.size()) : path;
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(a + ": needs a value");
      return argv[++i];
    };
    const auto integer = [&](std::int64_t lo) {
      const std::string v = value();
      const auto n = parse_int(v);
      if (!n || *n < lo) throw Error(fmt::format("{}: '{}' is not an integer >= {}", a, v, lo));
      return *n;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      return false;
    } else if (a == "--config") {
      o.config = value();
    } else if (a == "--trace") {
      o.trace = value();
    } else if (a == "--gemm") {
      o.gemm = integer(1);
    } else if (a == "--repeats") {
      o.repeats = static_cast<int>(std::min<std::int64_t>(integer(1), 1000));
    } else if (a == "--quick") {
      o.repeats = 1;
    } else if (a == "--smoke") {
      o.smoke = true;
      o.repeats = 1;
      o.gemm = 512;
    } else {
      throw Error(fmt::format("unknown option '{}' (see --help)", a));
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o;
    if (!parse(argc, argv, o)) return 0;
    std::printf("stcsim_bench: commit %s, %s build, %s, %ld CPUs online; each case in its own process pinned to CPU 0\n",
                commit().c_str(), STCSIM_BUILD_TYPE, cpu_model().c_str(), sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("config %s; gemm %lldx%lldx%lld fp16 (weights on B); trace %s; %d repeat(s), median [min..max]\n\n",
                shown(o.config).c_str(), static_cast<long long>(o.gemm), static_cast<long long>(o.gemm),
                static_cast<long long>(o.gemm), o.smoke ? "(none)" : shown(o.trace).c_str(), o.repeats);
    std::printf("%-7s %-6s %-6s %10s %10s %20s %9s %14s %12s %15s %13s\n", "case", "pattern", "model", "size",
                "median_s", "[min..max] s", "rss_MiB", "sim_cycles", "mma_instr", "sim_cycles/s", "mmas/s");
    std::vector<Case> cases;
    for (const char* p : {"dense", "2:4"}) {
      if (o.smoke) {
        cases.push_back({"gemm", p, SimModel::fast, o.gemm, 1});
        cases.push_back({"gemm", p, SimModel::cycle, o.gemm, 1});
        continue;
      }
      cases.push_back({"gemm", p, SimModel::fast, o.gemm, o.repeats});
      cases.push_back({"trace", p, SimModel::fast, 0, o.repeats});
      cases.push_back({"gemm", p, SimModel::cycle, 1024, o.repeats});
      cases.push_back({"gemm", p, SimModel::cycle, o.gemm, 1});
      cases.push_back({"trace", p, SimModel::cycle, 0, 1});
    }
    bool pinned = true;
    std::vector<std::string> wrong;  // --smoke: what the figures got wrong
    std::vector<std::pair<Case, std::uint64_t>> done;
    for (const Case& c : cases) {
      std::vector<double> times;
      Sample last;
      long rss = 0;
      for (int r = 0; r < c.repeats; ++r) {
        last = measure(o, c);
        times.push_back(last.seconds);
        rss = std::max(rss, last.max_rss_kib);
        pinned = pinned && last.pinned;
      }
      const double med = median(times);
      const std::string size = c.workload == "gemm" ? fmt::format("{}^3", c.gemm) : std::string("-");
      std::printf("%-7s %-6s %-6s %10s %10.3f %20s %9.1f %14llu %12llu %15.3e %13.3e\n", c.workload.c_str(),
                  c.pattern.c_str(), std::string(sim_model_name(c.model)).c_str(), size.c_str(), med,
                  fmt::format("[{:.3f}..{:.3f}]", *std::min_element(times.begin(), times.end()),
                              *std::max_element(times.begin(), times.end()))
                      .c_str(),
                  static_cast<double>(rss) / 1024.0, static_cast<unsigned long long>(last.cycles),
                  static_cast<unsigned long long>(last.mmas), static_cast<double>(last.cycles) / med,
                  static_cast<double>(last.mmas) / med);
      std::fflush(stdout);
      if (last.cycles == 0) wrong.push_back(fmt::format("{} {} {}: no cycles simulated", c.workload, c.pattern, sim_model_name(c.model)));
      done.emplace_back(c, last.cycles);
    }
    // The two models on the same workloads: the fast model's simulated cycles (probes included) over
    // the cycle model's.
    std::printf("\n");
    for (const auto& [f, fc] : done) {
      if (f.model != SimModel::fast) continue;
      for (const auto& [c, cc] : done) {
        if (c.model != SimModel::cycle || c.workload != f.workload || c.pattern != f.pattern || c.gemm != f.gemm) continue;
        const double ratio = cc > 0 ? static_cast<double>(fc) / static_cast<double>(cc) : 0.0;
        std::printf("%-7s %-6s %s: fast %llu vs cycle %llu simulated cycles: fast / cycle %.4f\n", f.workload.c_str(),
                    f.pattern.c_str(), f.workload == "gemm" ? fmt::format("{}^3", f.gemm).c_str() : "trace",
                    static_cast<unsigned long long>(fc), static_cast<unsigned long long>(cc), ratio);
        if (ratio < 0.9 || ratio > 1.1) {
          wrong.push_back(fmt::format("{} {}: the models differ by more than 10% ({:.3f})", f.workload, f.pattern, ratio));
        }
      }
    }
    if (!pinned) std::printf("\nnote: pinning to CPU 0 was refused; the children ran unpinned\n");
    if (o.smoke && !wrong.empty()) {
      for (const std::string& m : wrong) std::fprintf(stderr, "stcsim_bench --smoke: %s\n", m.c_str());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stcsim_bench: %s\n", e.what());
    return 1;
  }
}
