// Tells what an input file is (trace, machine config, workload, sweep) from its content, and checks it.
#pragma once

#include <string>

namespace stcsim::cli {

enum class FileKind { trace, config, workload, sweep };

// Throws stcsim::Error when the kind cannot be told.
FileKind detect_file_kind(const std::string& path);

// Validates the file completely; returns a one-line summary, throws stcsim::Error on the first defect.
std::string validate_file(const std::string& path);

}  // namespace stcsim::cli
