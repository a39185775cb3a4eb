#include "sweep/sweep_run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "common/error.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "common/version.h"
#include "config/machine_config.h"
#include "report/results.h"

namespace stcsim::sweep {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string job_stem(const SweepSpec& s, std::size_t job) {
  return fmt::format("{}-{}", job / s.traces.size(), job % s.traces.size());
}

std::string job_file(const SweepSpec& s, const std::string& out, std::size_t job) {
  return out + "/jobs/" + job_stem(s, job) + ".csv";
}

std::string results_header(const SweepSpec& s) {
  std::string h = "point";
  for (const auto& c : s.columns) h += "," + csv_field(c);
  h += ",trace,";
  const std::string sim = results_csv({});
  return h + sim.substr(0, sim.find('\n'));
}

// Checks `out`'s manifest against this sweep, or writes it where there is none. `allow_existing`:
// an existing matching manifest is fine (resume, cluster tasks, collect).
void ensure_manifest(const SweepSpec& s, const std::string& out, bool allow_existing) {
  ensure_dir(out);
  ensure_writable_dir(out + "/jobs");
  const std::string path = out + "/manifest.yaml";
  const std::string text = manifest_yaml(s);
  if (fs::exists(path)) {
    if (!allow_existing) throw Error(fmt::format("{} holds a sweep already: give --resume to continue it, or another --out", out));
    if (read_file(path) != text) {
      throw Error(fmt::format("{}: the sweep there differs from {} (its points, its inputs' hashes or the stcsim build "
                              "changed); start it in another --out",
                              path, s.path));
    }
    return;
  }
  write_file_atomic(path, text);
}

// What a job's rows start with: the point's name and columns and the trace.
std::string row_prefix(const SweepSpec& s, std::size_t job) {
  const SweepPoint& p = s.points[job / s.traces.size()];
  std::string prefix = csv_field(p.name);
  for (const auto& [col, value] : p.columns) prefix += "," + csv_field(value);
  return prefix + "," + csv_field(s.trace_names[job % s.traces.size()]) + ",";
}

// The rows of a finished job, prefixed with the point's and trace's columns, under the header.
std::string job_rows(const SweepSpec& s, std::size_t job, const std::string& run_csv) {
  const std::string prefix = row_prefix(s, job);
  std::string out = results_header(s) + "\n";
  std::size_t pos = run_csv.find('\n');
  if (pos == std::string::npos) throw Error("stcsim run wrote a results.csv without a header");
  ++pos;
  while (pos < run_csv.size()) {
    const std::size_t nl = run_csv.find('\n', pos);
    const std::size_t end = nl == std::string::npos ? run_csv.size() : nl;
    if (end > pos) out += prefix + run_csv.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  return out;
}

std::vector<std::size_t> missing_jobs(const SweepSpec& s, const std::string& out) {
  std::vector<std::size_t> m;
  for (std::size_t j = 0; j < s.jobs(); ++j) {
    if (!fs::exists(job_file(s, out, j))) m.push_back(j);
  }
  return m;
}

// The baseline rows a point that shares them takes for job `job`: the donor job's rows of the baseline
// run, under this job's prefix (none while the donor has not finished).
std::string shared_baseline_rows(const SweepSpec& s, const std::string& out, std::size_t job) {
  const SweepPoint& p = s.points[job / s.traces.size()];
  const std::size_t donor = static_cast<std::size_t>(p.baseline_from) * s.traces.size() + job % s.traces.size();
  const std::string f = job_file(s, out, donor);
  if (!fs::exists(f)) return "";
  const std::string body = read_file(f);
  const std::string from = row_prefix(s, donor);
  const std::string run = csv_field(s.baseline) + ",";
  const std::string to = row_prefix(s, job);
  std::string rows;
  std::size_t pos = body.find('\n') + 1;
  while (pos > 0 && pos < body.size()) {
    const std::size_t nl = body.find('\n', pos);
    const std::string row = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (row.compare(0, from.size(), from) == 0 && row.compare(from.size(), run.size(), run) == 0) {
      rows += to + row.substr(from.size()) + "\n";
    }
    pos = nl == std::string::npos ? 0 : nl + 1;
  }
  return rows;
}

void rebuild_results(const SweepSpec& s, const std::string& out) {
  std::string text = results_header(s) + "\n";
  for (std::size_t j = 0; j < s.jobs(); ++j) {
    const std::string f = job_file(s, out, j);
    if (!fs::exists(f)) continue;
    if (s.points[j / s.traces.size()].baseline_from >= 0) text += shared_baseline_rows(s, out, j);
    const std::string body = read_file(f);
    text += body.substr(body.find('\n') + 1);
  }
  write_file_atomic(out + "/results.csv", text);
}

struct Running {
  std::size_t job = 0;
  std::string tmp;
  Clock::time_point start;
};

pid_t spawn(const SweepSpec& s, const RunOptions& opt, std::size_t job, const std::string& tmp) {
  const SweepPoint& p = s.points[job / s.traces.size()];
  std::vector<std::string> args = run_args(s, p, job % s.traces.size());
  args.insert(args.begin(), opt.exe);
  args.insert(args.end(), {"--out", tmp});
  const std::string log = opt.out + "/jobs/" + job_stem(s, job) + ".log";
  const pid_t pid = fork();
  if (pid < 0) throw Error(fmt::format("sweep: cannot start a worker: {}", std::strerror(errno)));
  if (pid == 0) {
    // The child: output to the job's log, then become `stcsim run`. Only async-signal-safe calls here.
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(opt.exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

std::string last_line(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const Error&) {
    return "(no log)";
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const std::size_t nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

std::string duration(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  return fmt::format("{}h{:02}m", static_cast<int>(s) / 3600, (static_cast<int>(s) / 60) % 60);
}

class SignalGuard {
 public:
  SignalGuard() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns on a signal
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

// Job folders jobs/STEM.tmp.PID a sweep killed with kill -9 left behind: removed, unless the process
// PID still runs (another sweep's job in progress).
void remove_stale_job_folders(const std::string& out) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(out + "/jobs", ec)) {
    const std::string name = entry.path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos) continue;
    const std::string pid_text = name.substr(at + 5);
    const auto pid = parse_int(pid_text);
    if (pid && *pid > 0 && kill(static_cast<pid_t>(*pid), 0) == 0) continue;
    fs::remove_all(entry.path(), ec);
  }
}

RunSummary run_jobs(const SweepSpec& s, const RunOptions& opt, std::vector<std::size_t> todo, bool progress) {
  remove_stale_job_folders(opt.out);
  RunSummary sum;
  sum.total = s.jobs();
  sum.already_done = s.jobs() - todo.size();
  const int workers = std::max(1, opt.jobs > 0 ? opt.jobs : static_cast<int>(std::thread::hardware_concurrency()));
  SignalGuard guard;
  std::map<pid_t, Running> running;
  std::size_t next = 0;
  const auto t0 = Clock::now();
  auto last_rebuild = t0;
  double busy_s = 0;
  auto report = [&](const Running* finished, double took, bool ok) {
    if (!progress) return;
    const std::size_t done = sum.already_done + sum.done + sum.failed;
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    const std::size_t finished_here = sum.done + sum.failed;
    const double eta = finished_here ? busy_s / static_cast<double>(finished_here) * static_cast<double>(s.jobs() - done) /
                                           static_cast<double>(workers)
                                     : 0;
    if (opt.tty) {
      const int width = 30;
      const int filled = static_cast<int>(static_cast<double>(width) * static_cast<double>(done) / static_cast<double>(std::max<std::size_t>(s.jobs(), 1)));
      std::fprintf(stderr, "\r[%s%s] %zu/%zu jobs, %zu running, %zu failed, %s elapsed, ETA %s   ",
                   std::string(static_cast<std::size_t>(filled), '#').c_str(), std::string(static_cast<std::size_t>(width - filled), '.').c_str(),
                   done, s.jobs(), running.size(), sum.failed, duration(elapsed).c_str(), finished_here ? duration(eta).c_str() : "?");
    } else if (finished != nullptr) {
      const SweepPoint& p = s.points[finished->job / s.traces.size()];
      std::fprintf(stderr, "sweep: %zu/%zu %s: point %zu '%s' on %s (%.1f s), ETA %s\n", done, s.jobs(), ok ? "done" : g_stop ? "stopped" : "FAILED",
                   p.index, p.name.c_str(), s.trace_names[finished->job % s.traces.size()].c_str(), took,
                   finished_here ? duration(eta).c_str() : "?");
    }
    std::fflush(stderr);
  };

  while ((next < todo.size() && !g_stop) || !running.empty()) {
    while (!g_stop && next < todo.size() && static_cast<int>(running.size()) < workers) {
      const std::size_t job = todo[next++];
      Running r;
      r.job = job;
      r.tmp = fmt::format("{}/jobs/{}.tmp.{}", opt.out, job_stem(s, job), getpid());
      fs::remove_all(r.tmp);
      r.start = Clock::now();
      const pid_t pid = spawn(s, opt, job, r.tmp);
      running[pid] = r;
      report(nullptr, 0, true);
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) {
        if (g_stop) {
          for (const auto& [child, r] : running) kill(child, SIGTERM);
        }
        continue;
      }
      throw Error(fmt::format("sweep: waiting for workers: {}", std::strerror(errno)));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const Running r = it->second;
    running.erase(it);
    const double took = std::chrono::duration<double>(Clock::now() - r.start).count();
    busy_s += took;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(r.tmp + "/results.csv");
    if (ok) {
      write_file_atomic(job_file(s, opt.out, r.job), job_rows(s, r.job, read_file(r.tmp + "/results.csv")));
      ++sum.done;
    } else if (!g_stop) {
      ++sum.failed;
      const std::string log = opt.out + "/jobs/" + job_stem(s, r.job) + ".log";
      if (opt.tty && progress) std::fputc('\n', stderr);
      std::fprintf(stderr, "sweep: job %s (point '%s', %s) failed: %s (log: %s)\n", job_stem(s, r.job).c_str(),
                   s.points[r.job / s.traces.size()].name.c_str(), s.trace_names[r.job % s.traces.size()].c_str(),
                   last_line(log).c_str(), log.c_str());
    }
    fs::remove_all(r.tmp);
    report(&r, took, ok);
    if (Clock::now() - last_rebuild > std::chrono::seconds(1)) {
      rebuild_results(s, opt.out);
      last_rebuild = Clock::now();
    }
  }
  if (opt.tty && progress) std::fputc('\n', stderr);
  rebuild_results(s, opt.out);
  sum.interrupted = g_stop != 0;
  return sum;
}

}  // namespace

std::string manifest_yaml(const SweepSpec& s) {
  std::string m = "# stcsim sweep manifest: the expanded points and jobs, and the inputs' SHA-256 (docs/sweeps.md)\n";
  m += fmt::format("sweep: {}\nfile: {}\nfile_sha256: {}\nstcsim: {}\ncommit: {}\n", quote(s.name),
                   quote(fs::path(s.path).filename().string()),
                   sha256_hex(read_file(s.path)), STCSIM_VERSION, build_commit());
  m += fmt::format("config: {}\nseed: {}\nweight_stats: {}\nmodel: {}\n", quote(s.config_name), s.seed, s.weight_stats ? "true" : "false", s.model);
  m += "traces:\n";
  for (std::size_t t = 0; t < s.traces.size(); ++t) {
    m += fmt::format("  - {{path: {}, sha256: {}}}\n", quote(s.trace_names[t]), sha256_hex(read_file(s.traces[t])));
  }
  m += "columns: [";
  for (std::size_t i = 0; i < s.columns.size(); ++i) m += (i ? ", " : "") + quote(s.columns[i]);
  m += fmt::format("]\njobs: {}  # point-major: job = point x {} + trace; jobs/POINT-TRACE.csv\npoints:\n", s.jobs(), s.traces.size());
  for (const SweepPoint& p : s.points) {
    std::vector<std::string> sets = s.sets;
    sets.insert(sets.end(), p.sets.begin(), p.sets.end());
    const std::string resolved = to_yaml(load_machine_config(p.config, sets));
    m += fmt::format("  - index: {}\n    name: {}\n", p.index, quote(p.name));
    if (p.config != s.config) m += fmt::format("    config: {}\n", quote(fs::relative(p.config, fs::absolute(s.path).parent_path()).string()));
    m += "    set: [";
    for (std::size_t i = 0; i < sets.size(); ++i) m += (i ? ", " : "") + quote(sets[i]);
    m += "]\n    patterns: [";
    for (std::size_t i = 0; i < p.patterns.size(); ++i) m += (i ? ", " : "") + quote(p.patterns[i]);
    m += fmt::format("]\n    config_sha256: {}\n", sha256_hex(resolved));
    if (p.baseline_from >= 0) m += fmt::format("    baseline_from: {}  # shares that point's baseline rows\n", p.baseline_from);
  }
  return m;
}

RunSummary run_sweep(const SweepSpec& s, const RunOptions& opt) {
  ensure_manifest(s, opt.out, opt.resume);
  return run_jobs(s, opt, missing_jobs(s, opt.out), true);
}

void run_one_job(const SweepSpec& s, const RunOptions& opt, std::size_t job) {
  if (job >= s.jobs()) throw Error(fmt::format("--job {}: the sweep has {} jobs (0..{})", job, s.jobs(), s.jobs() - 1));
  ensure_manifest(s, opt.out, true);
  if (fs::exists(job_file(s, opt.out, job))) return;
  RunOptions one = opt;
  one.jobs = 1;
  const RunSummary sum = run_jobs(s, one, {job}, false);
  if (sum.failed) throw Error(fmt::format("job {} failed (log: {}/jobs/{}.log)", job, opt.out, job_stem(s, job)));
}

void collect(const SweepSpec& s, const std::string& out) {
  ensure_manifest(s, out, true);
  const auto missing = missing_jobs(s, out);
  rebuild_results(s, out);
  if (!missing.empty()) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < std::min<std::size_t>(missing.size(), 10); ++i) names.push_back(job_stem(s, missing[i]));
    throw Error(fmt::format("{}: {} of {} jobs have no results ({}{}); results.csv holds the others", out, missing.size(), s.jobs(),
                            join(names, ", "), missing.size() > 10 ? ", ..." : ""));
  }
}

std::string emit_slurm(const SweepSpec& s, const std::string& out, const std::string& exe, const std::string& sweep_file) {
  const std::string abs_out = fs::absolute(out).lexically_normal().string();
  const std::string abs_exe = fs::absolute(exe).string();
  const std::string abs_sweep = fs::absolute(sweep_file).string();
  // Shell lines quote every value; #SBATCH lines are read by sbatch, not a shell, and take no quoting:
  // refuse what they cannot hold rather than write a script that breaks or writes elsewhere.
  for (const auto& [what, value] : {std::pair<const char*, const std::string&>{"--out", abs_out},
                                    {"the sweep file", abs_sweep}, {"the stcsim binary", abs_exe}}) {
    if (has_control_char(value)) {
      throw Error(fmt::format("{} '{}': a path with a control character (a newline, a tab) cannot go into a Slurm script",
                              what, value));
    }
  }
  if (abs_out.find_first_of(" \"'\\%") != std::string::npos) {
    throw Error(fmt::format("--out '{}': Slurm's #SBATCH --output line cannot hold spaces, quotes or '\\', and reads "
                            "'%' as a file-name pattern: choose a folder without them",
                            abs_out));
  }
  ensure_manifest(s, out, true);
  // Slurm job names are labels: anything but letters, digits, _ . - becomes _.
  std::string job_name = s.name;
  for (char& c : job_name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '_';
  }
  const std::string q_out = shell_quote(abs_out);
  const std::string script = fmt::format(
      "#!/bin/bash\n"
      "# Slurm job array for sweep {}: {}, one `stcsim sweep --job` each ({} on {}).\n"
      "# Submit: sbatch {}; then: stcsim sweep {} --out {} --collect\n"
      "#SBATCH --job-name=stcsim-{}\n"
      "#SBATCH --array=0-{}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output={}/jobs/slurm-%A_%a.out\n"
      "exec {} sweep {} --out {} --job \"$SLURM_ARRAY_TASK_ID\"\n",
      shell_quote(job_name), plural(s.jobs(), "job"), plural(s.points.size(), "point"), plural(s.traces.size(), "trace"), shell_quote(abs_out + "/sweep.slurm"), shell_quote(sweep_file), q_out, job_name, s.jobs() - 1,
      abs_out, shell_quote(abs_exe), shell_quote(abs_sweep), q_out);
  std::string path = out + "/sweep.slurm";
  write_file_atomic(path, script);
  fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  return path;
}

}  // namespace stcsim::sweep
