#include "cuda/host/half.h"

#include <fmt/format.h>

#include <cstring>

#include "common/error.h"

namespace stcsim::replay {

namespace {

std::uint32_t float_bits(float x) {
  std::uint32_t u = 0;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

float bits_float(std::uint32_t u) {
  float x = 0;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

std::uint16_t fp16_from_float(float x) {
  const std::uint32_t u = float_bits(x);
  const std::uint16_t sign = static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  const std::uint32_t exp = (u >> 23) & 0xFFu;
  std::uint32_t man = u & 0x7FFFFFu;
  if (exp == 0xFFu) return static_cast<std::uint16_t>(sign | 0x7C00u | (man ? 0x200u | (man >> 13) : 0u));
  const int e = static_cast<int>(exp) - 127 + 15;  // biased fp16 exponent
  if (e >= 31) return static_cast<std::uint16_t>(sign | 0x7C00u);
  if (e <= 0) {
    // Subnormal or zero in fp16: shift the full significand (with its hidden bit) into place.
    if (e < -10) return sign;
    man |= 0x800000u;
    const int shift = 14 - e;  // bits dropped
    std::uint32_t half = man >> shift;
    const std::uint32_t rest = man & ((1u << shift) - 1u);
    const std::uint32_t mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1u))) ++half;
    return static_cast<std::uint16_t>(sign | half);
  }
  std::uint32_t half = (static_cast<std::uint32_t>(e) << 10) | (man >> 13);
  const std::uint32_t rest = man & 0x1FFFu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // a carry into the exponent is right
  return static_cast<std::uint16_t>(sign | half);
}

float fp16_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t man = h & 0x3FFu;
  if (exp == 0x1Fu) return bits_float(sign | 0x7F800000u | (man << 13));
  if (exp == 0) {
    if (man == 0) return bits_float(sign);
    int e = -1;
    do {
      man <<= 1;
      ++e;
    } while ((man & 0x400u) == 0);
    return bits_float(sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((man & 0x3FFu) << 13));
  }
  return bits_float(sign | ((exp + 127 - 15) << 23) | (man << 13));
}

std::uint16_t bf16_from_float(float x) {
  const std::uint32_t u = float_bits(x);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x7FFFFFu)) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  const std::uint32_t rounded = u + 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

void require_half(DType t) {
  if (!is_half_type(t)) {
    throw UnsupportedError(fmt::format("the replay backend stores fp16 and bf16 operands, not {}", dtype_name(t)));
  }
}

}  // namespace

bool is_half_type(DType t) { return t == DType::fp16 || t == DType::bf16; }

std::uint16_t to_half_bits(float x, DType t) {
  require_half(t);
  return t == DType::fp16 ? fp16_from_float(x) : bf16_from_float(x);
}

void to_half_bits(const float* in, std::uint16_t* out, std::size_t n, DType t) {
  require_half(t);
  if (t == DType::fp16) {
    for (std::size_t i = 0; i < n; ++i) out[i] = fp16_from_float(in[i]);
  } else {
    for (std::size_t i = 0; i < n; ++i) out[i] = bf16_from_float(in[i]);
  }
}

float from_half_bits(std::uint16_t bits, DType t) {
  require_half(t);
  return t == DType::fp16 ? fp16_to_float(bits) : bits_float(static_cast<std::uint32_t>(bits) << 16);
}

}  // namespace stcsim::replay
