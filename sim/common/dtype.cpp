#include "common/dtype.h"

namespace stcsim {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::fp16: return "fp16";
    case DType::bf16: return "bf16";
    case DType::tf32: return "tf32";
    case DType::int8: return "int8";
    case DType::fp8: return "fp8";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view s) {
  for (DType t : kAllDTypes) {
    if (dtype_name(t) == s) return t;
  }
  return std::nullopt;
}

int dtype_bytes(DType t) {
  switch (t) {
    case DType::fp16:
    case DType::bf16: return 2;
    case DType::tf32: return 4;
    case DType::int8:
    case DType::fp8: return 1;
  }
  return 0;
}

std::string dtype_choices() {
  std::string out;
  for (DType t : kAllDTypes) {
    if (!out.empty()) out += ", ";
    out += dtype_name(t);
  }
  return out;
}

}  // namespace stcsim
