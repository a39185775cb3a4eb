// MMA instruction families: names, spellings and the PTX shape table (see instruction.h).
#include "config/instruction.h"

#include <fmt/format.h>

#include <vector>

#include "common/strings.h"

namespace stcsim {

namespace {

struct FamilyRow {
  MmaFamily family;
  std::string_view name;
  std::string_view key;
};

constexpr FamilyRow kFamilies[] = {
    {MmaFamily::wmma, "wmma", "wmma"},
    {MmaFamily::mma_sync, "mma.sync", "mma_sync"},
    {MmaFamily::mma_sp_sync, "mma.sp.sync", "mma_sp_sync"},
    {MmaFamily::wgmma, "wgmma", "wgmma"},
    {MmaFamily::wgmma_sp, "wgmma.sp", "wgmma_sp"},
};

}  // namespace

std::string_view family_name(MmaFamily f) {
  for (const auto& r : kFamilies) {
    if (r.family == f) return r.name;
  }
  return "?";
}

std::string_view family_key(MmaFamily f) {
  for (const auto& r : kFamilies) {
    if (r.family == f) return r.key;
  }
  return "?";
}

std::optional<MmaFamily> parse_family(std::string_view name) {
  for (const auto& r : kFamilies) {
    if (r.name == name) return r.family;
  }
  return std::nullopt;
}

std::optional<MmaFamily> parse_family_key(std::string_view key) {
  for (const auto& r : kFamilies) {
    if (r.key == key) return r.family;
  }
  return std::nullopt;
}

std::string family_choices() {
  std::vector<std::string> names;
  for (const auto& r : kFamilies) names.emplace_back(r.name);
  return join(names, ", ");
}

bool family_is_sparse(MmaFamily f) { return f == MmaFamily::mma_sp_sync || f == MmaFamily::wgmma_sp; }

bool family_is_warpgroup(MmaFamily f) { return f == MmaFamily::wgmma || f == MmaFamily::wgmma_sp; }

MmaFamily dense_family(MmaFamily f) {
  switch (f) {
    case MmaFamily::mma_sp_sync:
      return MmaFamily::mma_sync;
    case MmaFamily::wgmma_sp:
      return MmaFamily::wgmma;
    default:
      return f;
  }
}

std::string check_mma_shape(MmaFamily f, const MmaShape& s) {
  const auto is = [&](int m, int n, int k) { return s.m == m && s.n == n && s.k == k; };
  const bool sparse = family_is_sparse(f);
  if (!sparse && s.k_sparse != 0) {
    return fmt::format("{} has no sparse instruction: leave k_sparse out", family_name(f));
  }
  switch (f) {
    case MmaFamily::wmma:
      // PTX wmma f16 shapes.
      if (is(16, 16, 16) || is(32, 8, 16) || is(8, 32, 16)) return "";
      return "wmma shapes are m16n16k16, m32n8k16 and m8n32k16";
    case MmaFamily::mma_sync:
    case MmaFamily::mma_sp_sync:
      // PTX mma.sync f16: m16n8k8 and m16n8k16; mma.sp.sync f16: m16n8k16 and m16n8k32.
      if (!(is(16, 8, 16) || is(16, 8, 8))) return "mma.sync shapes (16-bit K) are m16n8k8 and m16n8k16";
      if (sparse && s.k_sparse != 16 && s.k_sparse != 32) {
        return fmt::format("mma.sp.sync needs k_sparse 16 or 32 (m16n8k16, m16n8k32; got {})", s.k_sparse);
      }
      return "";
    case MmaFamily::wgmma:
    case MmaFamily::wgmma_sp:
      // PTX wgmma f16: m64nNk16, N = 8..256 in steps of 8; wgmma.sp f16: m64nNk32.
      if (s.m != 64 || s.k != 16 || s.n < 8 || s.n > 256 || s.n % 8 != 0) {
        return "wgmma shapes (16-bit K) are m64nNk16 with N = 8..256 in steps of 8";
      }
      if (sparse && s.k_sparse != 32) return fmt::format("wgmma.sp needs k_sparse 32 (m64nNk32; got {})", s.k_sparse);
      return "";
  }
  return "unknown instruction family";
}

int k_for_dtype(int k16, DType t) { return k16 * 2 / dtype_bytes(t); }

}  // namespace stcsim
