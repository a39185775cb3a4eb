// stcsim sweep: design-space sweeps from a YAML file (sweep/sweep_spec.h), run in parallel worker
// processes (sweep/sweep_run.h), resumable, or as a Slurm job array.
#include <unistd.h>

#include <fmt/format.h>

#include <climits>
#include <cstdio>

#include "cli/app.h"
#include "cli/usage.h"
#include "common/error.h"
#include "common/strings.h"
#include "sweep/sweep_run.h"
#include "sweep/sweep_spec.h"

namespace stcsim::cli {

namespace {

constexpr const char* kUsage =
    "Usage: stcsim sweep SWEEP.yaml [--out DIR] [--jobs N] [--resume] [--list]\n"
    "       stcsim sweep SWEEP.yaml --out DIR --emit slurm | --job J | --collect\n\n"
    "Expands a sweep file (docs/sweeps.md: a base config, traces, patterns, and axes over any config key as\n"
    "lists, ranges, cartesian products or zipped lists, plus named points) and runs every job (a point on one\n"
    "trace, one `stcsim run`) in worker processes, N at a time (default: every core). A progress bar with an\n"
    "ETA goes to a terminal, one line per job otherwise. DIR (default sweeps/NAME) gets manifest.yaml (points,\n"
    "build commit, SHA-256 of every input), jobs/ (each job's rows, written as it finishes) and results.csv\n"
    "(a row per point, trace line and pattern; every swept value a column). A sweep stopped by Ctrl-C or\n"
    "kill -9 keeps every finished job: --resume runs only the missing ones. --list prints the points and\n"
    "runs nothing. On a cluster: --emit slurm writes DIR/sweep.slurm, a job array whose task i runs\n"
    "--job i; --collect then merges the jobs into results.csv (an error lists any missing job).";

constexpr const char* kExamples =
    "  stcsim sweep configs/sweeps/scaling.yaml --jobs 2\n"
    "  stcsim sweep configs/sweeps/nm-patterns.yaml --out /tmp/nm --resume\n"
    "  stcsim sweep configs/sweeps/scaling.yaml --out /scratch/scaling --emit slurm && sbatch /scratch/scaling/sweep.slurm\n"
    "  stcsim sweep configs/sweeps/scaling.yaml --out /scratch/scaling --collect\n";

std::string self_exe() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("sweep: cannot find the stcsim binary (/proc/self/exe)");
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  po::options_description opts("Options");
  opts.add_options()
      ("sweep", po::value<std::string>(), "the sweep file")
      ("out,o", po::value<std::string>(), "output folder (default sweeps/NAME)")
      ("jobs,j", po::value<int>()->default_value(0), "worker processes at once (0: every core)")
      ("resume", "continue the sweep in --out, running only the jobs without results")
      ("list", "print the expanded points and exit")
      ("emit", po::value<std::string>(), "write a cluster script instead of running: slurm")
      ("job", po::value<long long>(), "run job J alone (a cluster array task)")
      ("collect", "merge the jobs' results into results.csv");
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  if (!parse_args(args, opts, pos, vm, kUsage, kExamples)) return 0;
  if (!vm.count("sweep")) throw UsageError("give the sweep file");
  const int modes = static_cast<int>(vm.count("emit") + vm.count("job") + vm.count("collect") + vm.count("list"));
  if (modes > 1) throw UsageError("--emit, --job, --collect and --list go alone");
  if (vm["jobs"].as<int>() < 0) throw UsageError("--jobs: must be >= 0");

  const std::string file = vm["sweep"].as<std::string>();
  const sweep::SweepSpec s = sweep::load_sweep(file);
  const std::string out = vm.count("out") ? vm["out"].as<std::string>() : "sweeps/" + s.name;

  if (vm.count("list")) {
    std::printf("sweep %s: %s x %s = %s\n", s.name.c_str(), plural(s.points.size(), "point").c_str(),
                plural(s.traces.size(), "trace").c_str(), plural(s.jobs(), "job").c_str());
    for (const auto& p : s.points) {
      const std::string shared = p.baseline_from >= 0 ? fmt::format(" (its {} rows from point {})", s.baseline, p.baseline_from) : "";
      std::printf("%4zu  %-40s  runs %s%s%s%s\n", p.index, p.name.c_str(), join(p.patterns, ", ").c_str(), shared.c_str(),
                  p.sets.empty() ? "" : "  set ", join(p.sets, " ").c_str());
    }
    return 0;
  }
  sweep::RunOptions ro;
  ro.out = out;
  ro.jobs = vm["jobs"].as<int>();
  ro.resume = vm.count("resume") != 0;
  ro.exe = self_exe();
  ro.tty = isatty(STDERR_FILENO) != 0;
  if (vm.count("emit")) {
    if (vm["emit"].as<std::string>() != "slurm") throw UsageError(fmt::format("--emit: '{}' is not slurm", vm["emit"].as<std::string>()));
    const std::string script = sweep::emit_slurm(s, out, ro.exe, file);
    std::printf("wrote %s (%zu array tasks) and %s/manifest.yaml\nsubmit: sbatch %s; then: stcsim sweep %s --out %s --collect\n",
                script.c_str(), s.jobs(), out.c_str(), shell_quote(script).c_str(), shell_quote(file).c_str(),
                shell_quote(out).c_str());
    return 0;
  }
  if (vm.count("job")) {
    const long long j = vm["job"].as<long long>();
    if (j < 0) throw UsageError("--job: must be >= 0");
    sweep::run_one_job(s, ro, static_cast<std::size_t>(j));
    return 0;
  }
  if (vm.count("collect")) {
    sweep::collect(s, out);
    std::printf("wrote %s/results.csv (%s)\n", out.c_str(), plural(s.jobs(), "job").c_str());
    return 0;
  }
  std::printf("sweep %s: %s x %s = %s -> %s\n", s.name.c_str(), plural(s.points.size(), "point").c_str(),
              plural(s.traces.size(), "trace").c_str(), plural(s.jobs(), "job").c_str(), out.c_str());
  std::fflush(stdout);
  const sweep::RunSummary sum = sweep::run_sweep(s, ro);
  std::printf("sweep %s: %s run, %zu failed, %zu %s done before; results in %s/results.csv\n", s.name.c_str(),
              plural(sum.done, "job").c_str(), sum.failed, sum.already_done, sum.already_done == 1 ? "was" : "were",
              out.c_str());
  if (sum.interrupted) {
    std::fprintf(stderr, "stcsim: sweep interrupted; finished jobs are kept: continue with --resume\n");
    return 130;
  }
  return sum.failed ? 1 : 0;
}

}  // namespace stcsim::cli
