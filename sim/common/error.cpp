#include "common/error.h"

#include <fmt/format.h>

namespace stcsim {

ParseError::ParseError(const std::string& file, std::int64_t line, const std::string& field, const std::string& reason)
    : Error(fmt::format("{}:{}: {}: {}", file, line, field, reason)), file_(file), line_(line), field_(field) {}

ConfigError::ConfigError(const std::string& where, const std::string& key_path, const std::string& reason)
    : Error(where.empty() ? fmt::format("{}: {}", key_path, reason) : fmt::format("{}: {}: {}", where, key_path, reason)),
      key_path_(key_path) {}

}  // namespace stcsim
