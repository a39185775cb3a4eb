// Typed errors for the whole library. Library code never exits: it throws one of these, and the
// command-line edge turns it into a single line on stderr and a non-zero exit code.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace stcsim {

// Base of every error the library reports about its input. what() is the full one-line message.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A file could not be read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

// A malformed line or field of a text file (trace): "file:line: field: reason".
class ParseError : public Error {
 public:
  ParseError(const std::string& file, std::int64_t line, const std::string& field, const std::string& reason);
  const std::string& file() const { return file_; }
  std::int64_t line() const { return line_; }
  const std::string& field() const { return field_; }

 private:
  std::string file_;
  std::int64_t line_;
  std::string field_;
};

// A bad key or value in a YAML document: "file:line: key.path: reason".
class ConfigError : public Error {
 public:
  ConfigError(const std::string& where, const std::string& key_path, const std::string& reason);
  const std::string& key_path() const { return key_path_; }

 private:
  std::string key_path_;
};

// A sparsity spec string that does not name a valid pattern: "pattern 'x': reason".
class SpecError : public Error {
 public:
  using Error::Error;
};

// A mask that does not conform to its pattern, or does not fit the matrix.
class MaskError : public Error {
 public:
  using Error::Error;
};

// Sizes that would overflow 64-bit arithmetic, or shapes that do not fit a pattern.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// The configured hardware cannot run what is asked: a data type its tensor cores lack, an N:M pattern
// without a sparse path where the config says to refuse it, a missing instruction path.
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

}  // namespace stcsim
