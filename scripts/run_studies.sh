#!/usr/bin/env bash
# Runs the four shipped sweep studies (configs/sweeps/) and draws the plots the README shows, into
# docs/plots/: scripts/run_studies.sh [JOBS]. Each sweep goes to sweeps/NAME (resumed if it is there);
# each plot folder gets the PNGs and the summary.csv they are drawn from.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${1:-0}"
stcsim=build/stcsim
[ -x "$stcsim" ] || { echo "run_studies: build first (scripts/build.sh)" >&2; exit 1; }
for s in nm-patterns tile-granularity scaling selector-ports; do
  resume=()
  [ -f "sweeps/$s/manifest.yaml" ] && resume=(--resume)
  "$stcsim" sweep "configs/sweeps/$s.yaml" --out "sweeps/$s" --jobs "$jobs" "${resume[@]}"
done
plot=(/usr/bin/python3 scripts/plot_sweep.py)
"${plot[@]}" sweeps/nm-patterns --x sweep_pattern --lines hardware \
  --metrics speedup,energy_ratio,metadata_mib,magnitude_kept,selector_energy_ratio --out docs/plots/nm-patterns/nm
"${plot[@]}" sweeps/tile-granularity --x sparsity --lines family,g --metrics speedup,energy_ratio,imbalance,wave_efficiency \
  --out docs/plots/tile-granularity/tiles
"${plot[@]}" sweeps/scaling --x dram_gbps --lines tc_width --where sms=132 --out docs/plots/scaling/dram
"${plot[@]}" sweeps/scaling --x sms --lines tc_width --where dram_gbps=3350 --out docs/plots/scaling/sms
"${plot[@]}" sweeps/scaling --x tc_width --lines dram_gbps --where sms=132 --out docs/plots/scaling/width
# The cycle model's selector and register-file study, one plot per shared-memory bandwidth.
for b in 124 248; do
  "${plot[@]}" sweeps/selector-ports --x selections_per_clock --lines run,read_ports --where smem_bytes_per_clock=$b \
    --metrics speedup,energy_ratio --out docs/plots/selector-ports/smem$b
done
# The manifests: the commit the sweeps ran at and the hashes of their inputs.
for s in nm-patterns tile-granularity scaling selector-ports; do cp "sweeps/$s/manifest.yaml" "docs/plots/$s/manifest.yaml"; done
