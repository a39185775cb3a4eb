// CUDA plumbing for the replay backend: status checks that throw the library's typed errors (library
// code never exits), and device arrays that free themselves.
#pragma once

#include <cuda_runtime.h>
#include <fmt/format.h>

#include <cstddef>
#include <vector>

#include "common/error.h"

namespace stcsim::replay {

inline void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw Error(fmt::format("CUDA: {}: {} ({})", what, cudaGetErrorString(e), static_cast<int>(e)));
}

template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t n) { allocate(n); }
  explicit DeviceArray(const std::vector<T>& host) {
    allocate(host.size());
    if (!host.empty()) cuda_check(cudaMemcpy(ptr_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : ptr_(o.ptr_), n_(o.n_) { o.ptr_ = nullptr, o.n_ = 0; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = o.ptr_, n_ = o.n_;
      o.ptr_ = nullptr, o.n_ = 0;
    }
    return *this;
  }
  ~DeviceArray() { release(); }

  T* get() const { return ptr_; }
  std::size_t size() const { return n_; }
  // Zeroes the array and waits: the runners' streams do not synchronise with the default stream.
  void zero() {
    if (n_) cuda_check(cudaMemset(ptr_, 0, n_ * sizeof(T)), "memset");
    cuda_check(cudaDeviceSynchronize(), "memset");
  }
  std::vector<T> download() const {
    std::vector<T> out(n_);
    if (n_) cuda_check(cudaMemcpy(out.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "download");
    return out;
  }

 private:
  void allocate(std::size_t n) {
    n_ = n;
    // One element at least, so that a pointer always exists (kernels read nothing through it then).
    cuda_check(cudaMalloc(reinterpret_cast<void**>(&ptr_), (n ? n : 1) * sizeof(T)),
               fmt::format("allocating {} bytes", (n ? n : 1) * sizeof(T)).c_str());
  }
  void release() {
    if (ptr_) cudaFree(ptr_);
    ptr_ = nullptr;
  }
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
};

}  // namespace stcsim::replay
