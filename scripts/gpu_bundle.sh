#!/usr/bin/env bash
# Builds stcsim-gpu (Release, no tests) into build-gpu/ and copies beside it the shared libraries that a
# GPU machine without Debian's packages lacks (yaml-cpp, fmt, Boost.Program_options), so that build-gpu/
# can be carried to a machine that has only a driver and the CUDA toolkit or its pip packages
# (docs/backend.md, "On a GPU"). Run it on the development machine. build-gpu/stcsim-gpu.sh then runs the
# binary with those libraries and the CUDA libraries it finds on that machine: in build-gpu/lib, the CUDA
# toolkit's folders, the pip packages' nvidia/*/lib folders (found through python3) and the system's.
#   build-gpu/stcsim-gpu.sh --check-libs   names each library the binary needs and where it was found,
#                                          or where it was looked for; exits 1 if one is missing.
# Extra arguments go to cmake's configure step (-DSTCSIM_CUDA_ARCHITECTURES=80;90, ...). The cuSPARSELt
# plugin is built on the GPU machine against the library found there (scripts/build_cusparselt_plugin.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DSTCSIM_BUILD_TESTS=OFF -DSTCSIM_BUILD_GPU=ON "$@" >/dev/null
cmake --build build-gpu --target stcsim-gpu --parallel "$(nproc)"
if ! readelf -d build-gpu/stcsim-gpu | grep -q 'libcublas'; then
  echo "gpu_bundle: build-gpu/stcsim-gpu has no CUDA backend (no CUDA toolkit found by cmake)" >&2
  exit 1
fi
strip build-gpu/stcsim-gpu
mkdir -p build-gpu/lib
for lib in libyaml-cpp libfmt libboost_program_options; do
  path=$(ldd build-gpu/stcsim-gpu | awk -v l="$lib" '$1 ~ "^"l {print $3}')
  if [ -z "$path" ]; then echo "gpu_bundle: stcsim-gpu does not link $lib" >&2; exit 1; fi
  cp -L "$path" build-gpu/lib/
done
# The libraries the binary names (NEEDED), for the wrapper's check on the GPU machine.
readelf -d build-gpu/stcsim-gpu | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' > build-gpu/needed.txt
scripts/gpu_wrapper.sh build-gpu
du -sh build-gpu/stcsim-gpu build-gpu/lib
echo "gpu_bundle: build-gpu/stcsim-gpu.sh is ready to carry (needs: $(tr '\n' ' ' < build-gpu/needed.txt))"
