// The tensor-core data types a GEMM can use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stcsim {

enum class DType { fp16, bf16, tf32, int8, fp8 };

inline constexpr DType kAllDTypes[] = {DType::fp16, DType::bf16, DType::tf32, DType::int8, DType::fp8};
// The same in the order GPU datasheets list their peaks: widest first, int8 last.
inline constexpr DType kDatasheetOrder[] = {DType::tf32, DType::bf16, DType::fp16, DType::fp8, DType::int8};
static_assert(sizeof(kDatasheetOrder) == sizeof(kAllDTypes), "kDatasheetOrder lists every type");

std::string_view dtype_name(DType t);
std::optional<DType> parse_dtype(std::string_view s);
// Bytes one element occupies in memory (tf32 is stored in a 32-bit container).
int dtype_bytes(DType t);
// "fp16, bf16, tf32, int8, fp8" for error messages.
std::string dtype_choices();

}  // namespace stcsim
