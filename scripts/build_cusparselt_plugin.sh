#!/usr/bin/env bash
# Builds the cuSPARSELt plugin (sim/cuda/plugin, docs/backend.md "cuSPARSELt") against the cuSPARSELt
# found on this machine, with a plain C++ compiler: no CMake and none of the project's other
# dependencies, so that it runs on a GPU machine that has only the CUDA headers and the library's pip
# package (nvidia-cusparselt-cu13). stcsim-gpu loads the plugin from lib/ beside itself.
#   scripts/build_cusparselt_plugin.sh [OUT_DIR]      (default build-gpu/lib)
# Where it looks, in order: $STCSIM_CUSPARSELT_ROOT, the pip package's folder (nvidia/cusparselt under
# python3's site-packages), /usr/local/cuda, /usr. Exits 3, naming what is missing and where it looked,
# when the header or the library is not found; 1 when the build fails.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-build-gpu/lib}"
roots=()
[ -n "${STCSIM_CUSPARSELT_ROOT:-}" ] && roots+=("$STCSIM_CUSPARSELT_ROOT")
py=$(command -v python3 || true)
pip_roots=()
if [ -n "$py" ]; then
  while IFS= read -r d; do [ -n "$d" ] && pip_roots+=("$d"); done < <("$py" -c '
import importlib.util, os
s = importlib.util.find_spec("nvidia")
for p in (s.submodule_search_locations if s else []):
    print(p)' 2>/dev/null || true)
fi
for p in "${pip_roots[@]}"; do roots+=("$p/cusparselt" "$p/cu13" "$p"); done
roots+=(/usr/local/cuda /usr)

find_under() {  # find_under NAME ROOT...: the first folder holding NAME (3 levels deep at most)
  local name=$1 r hit
  shift
  for r in "$@"; do
    [ -d "$r" ] || continue
    hit=$(find "$r/" -maxdepth 3 -name "$name" -print -quit 2>/dev/null || true)
    if [ -n "$hit" ]; then dirname "$hit"; return 0; fi
  done
  return 1
}
inc=$(find_under cusparseLt.h "${roots[@]}") || { echo "build_cusparselt_plugin: cusparseLt.h not found (looked under: ${roots[*]})" >&2; exit 3; }
lib=$(find_under 'libcusparseLt.so*' "${roots[@]}") || { echo "build_cusparselt_plugin: libcusparseLt.so not found (looked under: ${roots[*]})" >&2; exit 3; }
libfile=$(find "$lib/" -maxdepth 1 -name 'libcusparseLt.so*' | sort | head -n1)
# The CUDA headers the library's header includes (cuda_runtime_api.h, cusparse.h, library_types.h).
cuda_roots=(/usr/local/cuda "${pip_roots[@]}")
cuda_inc=()
for h in cuda_runtime_api.h cusparse.h library_types.h; do
  d=$(find_under "$h" "${cuda_roots[@]}") || { echo "build_cusparselt_plugin: $h not found (looked under: ${cuda_roots[*]})" >&2; exit 3; }
  cuda_inc+=(-I"$d")
done
cxx=""
for c in "${CXX:-}" g++ c++ clang++; do
  if [ -n "$c" ] && command -v "$c" >/dev/null; then cxx=$c; break; fi
done
[ -n "$cxx" ] || { echo "build_cusparselt_plugin: no C++ compiler (CXX, g++, c++, clang++)" >&2; exit 3; }
mkdir -p "$out"
tmp="$out/.libstcsim_cusparselt.so.$$"
if ! "$cxx" -std=c++17 -O2 -shared -fPIC -Wno-deprecated-declarations -I"$inc" "${cuda_inc[@]}" -Isim sim/cuda/plugin/cusparselt_plugin.cpp \
     "$libfile" -Wl,-rpath,"$lib" -o "$tmp"; then
  rm -f "$tmp"
  echo "build_cusparselt_plugin: compiling against $inc/cusparseLt.h and $libfile failed" >&2
  exit 1
fi
mv -f "$tmp" "$out/libstcsim_cusparselt.so"
echo "build_cusparselt_plugin: $out/libstcsim_cusparselt.so (header $inc/cusparseLt.h, library $libfile)"
