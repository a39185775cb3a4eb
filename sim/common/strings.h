// Small string helpers shared by the parsers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stcsim {

std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
// Splits on runs of spaces and tabs.
std::vector<std::string_view> split_ws(std::string_view s);

// Whole-string parses: nullopt on any trailing garbage, sign where none is allowed, or overflow.
std::optional<std::int64_t> parse_int(std::string_view s);
std::optional<double> parse_double(std::string_view s);

// The shortest decimal form of v that reads back to the same double ("0.75", not "0.75000000000000000").
std::string shortest_double(double v);

// "a, b and c" for error messages that list choices.
std::string join(const std::vector<std::string>& items, std::string_view sep);

// v with an SI prefix so that 1 <= mantissa < 1000 (none below 1000), three decimals, then unit:
// "262.144 kMACs", "1.166 TMACs", "512 B" (no decimals without a prefix).
std::string si_amount(double v, std::string_view unit);

// "1 trace", "2 traces": n and the word, with an s unless n is 1.
std::string plural(std::uint64_t n, std::string_view word);

// s as one word of a POSIX shell command: unchanged when it holds only letters, digits and
// _ - . / + = : , @ (and is not empty), else in single quotes with each ' written '\''. Nothing in
// single quotes is expanded, so $(...), backquotes, spaces and globs stay literal.
std::string shell_quote(std::string_view s);
// True when s holds a control character (a newline ends a shell comment or an #SBATCH line).
bool has_control_char(std::string_view s);

}  // namespace stcsim
