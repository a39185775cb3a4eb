#!/usr/bin/env bash
# Builds stcsim-gpu (Release, no tests) into build-gpu/ and copies beside it the shared libraries that a
# GPU machine without Debian's packages lacks (yaml-cpp, fmt, Boost.Program_options), so that build-gpu/
# can be carried to a machine that has only a driver and the CUDA toolkit (docs/backend.md, "On a GPU").
# Run it on the development machine; build-gpu/stcsim-gpu.sh then runs the binary with those libraries.
# Extra arguments go to cmake's configure step (-DSTCSIM_CUSPARSELT_ROOT=..., -DSTCSIM_CUDA_ARCHITECTURES=80;90).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DSTCSIM_BUILD_TESTS=OFF -DSTCSIM_BUILD_GPU=ON "$@" >/dev/null
cmake --build build-gpu --target stcsim-gpu --parallel "$(nproc)"
strip build-gpu/stcsim-gpu
mkdir -p build-gpu/lib
for lib in libyaml-cpp libfmt libboost_program_options; do
  path=$(ldd build-gpu/stcsim-gpu | awk -v l="$lib" '$1 ~ "^"l {print $3}')
  if [ -z "$path" ]; then echo "gpu_bundle: stcsim-gpu does not link $lib" >&2; exit 1; fi
  cp -L "$path" build-gpu/lib/
done
cat > build-gpu/stcsim-gpu.sh <<'RUN'
#!/usr/bin/env bash
# stcsim-gpu with the libraries gpu_bundle.sh copied beside it, and the CUDA toolkit's.
here="$(cd "$(dirname "$0")" && pwd)"
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/stcsim-gpu" "$@"
RUN
chmod +x build-gpu/stcsim-gpu.sh
du -sh build-gpu/stcsim-gpu build-gpu/lib
echo "gpu_bundle: build-gpu/stcsim-gpu.sh is ready to carry"
