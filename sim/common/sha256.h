// SHA-256 (FIPS 180-4) of bytes, as 64 lowercase hex digits: the input hashes in sweep manifests.
#pragma once

#include <string>
#include <string_view>

namespace stcsim {

std::string sha256_hex(std::string_view bytes);

}  // namespace stcsim
