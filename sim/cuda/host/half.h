// 16-bit floating-point elements as the GPU stores them: fp16 (IEEE binary16) and bf16, as raw bits.
// The replay backend keeps every operand in these bits on the host, so that what it uploads, what its
// host tests check and what the kernels read are the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/dtype.h"

namespace stcsim::replay {

// fp32 -> 16-bit bits, rounding to nearest even (overflow to infinity, subnormals kept, NaN quiet).
// `t` must be fp16 or bf16 (UnsupportedError otherwise).
std::uint16_t to_half_bits(float x, DType t);
// n values at once (the type checked once): what staging converts whole matrices with.
void to_half_bits(const float* in, std::uint16_t* out, std::size_t n, DType t);
// The exact fp32 value of 16-bit bits.
float from_half_bits(std::uint16_t bits, DType t);
// True for the data types the backend's own kernels and its device layouts handle (fp16, bf16).
bool is_half_type(DType t);

}  // namespace stcsim::replay
