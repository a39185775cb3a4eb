// Whole-file reads and atomic writes (temporary file, then rename), so that a crash never leaves a
// half-written result behind.
#pragma once

#include <string>

namespace stcsim {

// Reads the whole file; IoError naming the file if it cannot.
std::string read_file(const std::string& path);

// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
void write_file_atomic(const std::string& path, const std::string& bytes);

// Creates the folder (and parents) if missing; IoError if it cannot or a file is in the way.
void ensure_dir(const std::string& path);

}  // namespace stcsim
