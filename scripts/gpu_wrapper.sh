#!/usr/bin/env bash
# Writes DIR/stcsim-gpu.sh, the wrapper that runs DIR/stcsim-gpu on a GPU machine with the libraries it
# needs (DIR/needed.txt, one name per line, from the binary's NEEDED entries; scripts/gpu_bundle.sh
# writes both). The wrapper looks for each library in DIR/lib, the CUDA toolkit's folders, the pip
# packages' folders under python3's nvidia namespace (nvidia-cublas, nvidia-cusparse, nvidia-nvjitlink,
# ...) and then ldconfig's cache, and sets LD_LIBRARY_PATH to the folders it found them in.
#   DIR/stcsim-gpu.sh --check-libs   prints each library and where it was found, or MISSING and every
#                                    folder it looked in; exits 1 if any is missing
#   DIR/stcsim-gpu.sh ARGS...        runs stcsim-gpu ARGS (exit 1 with the same message if one is missing)
set -euo pipefail
dir="${1:?usage: scripts/gpu_wrapper.sh DIR}"
[ -d "$dir" ] || { echo "gpu_wrapper: $dir is not a folder" >&2; exit 1; }
cat > "$dir/stcsim-gpu.sh.tmp" <<'RUN'
#!/usr/bin/env bash
# stcsim-gpu with the libraries gpu_bundle.sh copied beside it and the CUDA libraries found on this
# machine (scripts/gpu_wrapper.sh). --check-libs: report each library the binary needs and where it was
# found (exit 1 if any is missing); every other argument goes to stcsim-gpu.
here="$(cd "$(dirname "$0")" && pwd)"
dirs=("$here/lib")
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$d" ] && dirs+=("$d")
done
# The pip packages' library folders.
py=$(command -v python3 || true)
if [ -n "$py" ]; then
  while IFS= read -r d; do [ -n "$d" ] && dirs+=("$d"); done < <("$py" - 2>/dev/null <<'PY'
import importlib.util, os
spec = importlib.util.find_spec("nvidia")
seen = set()
for root in (spec.submodule_search_locations if spec else []):
    for dirpath, _, files in os.walk(root):
        if dirpath.count(os.sep) - root.count(os.sep) > 3:
            continue
        if any(".so" in f for f in files) and dirpath not in seen:
            seen.add(dirpath)
            print(dirpath)
PY
)
fi
find_lib() {
  local name=$1 d
  for d in "${dirs[@]}"; do
    if [ -e "$d/$name" ]; then echo "$d"; return 0; fi
  done
  for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /lib /usr/lib; do
    if [ -e "$d/$name" ]; then echo "(system: $d)"; return 0; fi
  done
  if { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -qE "^[[:space:]]+$name "; then echo "(system: ldconfig)"; return 0; fi
  return 1
}
path=""
missing=()
report=()
while IFS= read -r lib; do
  [ -z "$lib" ] && continue
  if d=$(find_lib "$lib"); then
    report+=("  $lib: $d")
    case "$d" in "(system"*) ;; *) [[ ":$path:" == *":$d:"* ]] || path="${path:+$path:}$d" ;; esac
  else
    missing+=("$lib")
    report+=("  $lib: MISSING")
  fi
done < "$here/needed.txt"
if [ "${1:-}" = "--check-libs" ]; then
  echo "libraries stcsim-gpu needs (looked in: ${dirs[*]}; then the system's folders and ldconfig):"
  printf '%s\n' "${report[@]}"
  if [ ${#missing[@]} -gt 0 ]; then echo "stcsim-gpu.sh: missing: ${missing[*]}" >&2; exit 1; fi
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "stcsim-gpu.sh: missing ${missing[*]} (looked in: ${dirs[*]}; then the system's folders and ldconfig)" >&2
  exit 1
fi
export LD_LIBRARY_PATH="$path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/stcsim-gpu" "$@"
RUN
chmod +x "$dir/stcsim-gpu.sh.tmp"
mv -f "$dir/stcsim-gpu.sh.tmp" "$dir/stcsim-gpu.sh"
