// Running a sweep (sweep_spec.h): each job (a point on one trace) is one `stcsim run` in a worker
// process, several at a time, and its rows are kept as soon as it finishes.
//
// The output folder:
//   manifest.yaml   the expanded points and jobs, the build's version and commit, and a SHA-256 of every
//                   input (the sweep file, each point's resolved machine config, each trace); written
//                   before any job runs, and checked again by --resume, --job and --collect
//   jobs/P-T.csv    job (point P, trace T)'s rows, written atomically when it finishes: the record that
//                   survives Ctrl-C or kill -9 (a job is either there whole or not at all)
//   jobs/P-T.log    what its `stcsim run` printed
//   results.csv     the header, then every finished job's rows in job order: point, the swept columns,
//                   trace, then stcsim run's results.csv columns; rebuilt from jobs/ (atomically) as
//                   jobs finish, so it is the same bytes however the sweep was interrupted and resumed
// --resume runs only the jobs without a jobs/ file; a row is never written twice.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sweep/sweep_spec.h"

namespace stcsim::sweep {

struct RunOptions {
  std::string out;          // the output folder
  int jobs = 0;             // worker processes at once; 0: every core
  bool resume = false;      // continue a sweep in `out` (else `out` must not hold one)
  std::string exe;          // the stcsim binary the workers run
  bool tty = false;         // a progress bar (else one line per finished job)
};

struct RunSummary {
  std::size_t total = 0, already_done = 0, done = 0, failed = 0;
  bool interrupted = false;
};

// The manifest text of a sweep (deterministic: no times).
std::string manifest_yaml(const SweepSpec& s);

// Runs the missing jobs. Error when `out` holds another sweep's manifest, or one at all without
// `resume`; a failed job is counted and named (with its log) but does not stop the others.
RunSummary run_sweep(const SweepSpec& s, const RunOptions& opt);

// Runs job `job` (point-major: job = point * traces + trace) alone in this process's child, for a
// cluster array task; checks the manifest (writing it if the folder is new).
void run_one_job(const SweepSpec& s, const RunOptions& opt, std::size_t job);

// Rebuilds results.csv from jobs/; Error listing the missing jobs when any is missing.
void collect(const SweepSpec& s, const std::string& out);

// A Slurm job-array script that runs every job of the sweep with --job (and the manifest, written
// now); returns the script's path (out/sweep.slurm).
std::string emit_slurm(const SweepSpec& s, const std::string& out, const std::string& exe, const std::string& sweep_file);

}  // namespace stcsim::sweep
