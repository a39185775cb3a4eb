// Whole-file reads and atomic writes (temporary file, flushed to disk, then a rename), so that a
// crash or kill never leaves a half-written result behind, and a failed write (disk full, a
// read-only folder) leaves the earlier file as it was.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace stcsim {

// Reads the whole file; IoError naming the file if it cannot.
std::string read_file(const std::string& path);

// Writes `bytes` to `path` through a temporary file in the same folder (PATH.tmp-PID), flushed to
// disk, and a rename. IoError naming the file and the reason; the temporary file is removed then.
void write_file_atomic(const std::string& path, const std::string& bytes);

// Files that belong together (a run's results.csv, stats.yaml, ...): add() writes each to its
// temporary file at once, commit() renames them all into place. A failed add() throws IoError and
// leaves every file of the set as it was; temporary files of a set never committed are removed when
// it is destroyed. A kill between the renames of commit() can still leave some files new and some
// old, each whole.
class FileSet {
 public:
  FileSet() = default;
  FileSet(const FileSet&) = delete;
  FileSet& operator=(const FileSet&) = delete;
  ~FileSet();
  void add(const std::string& path, const std::string& bytes);
  void commit();

 private:
  std::vector<std::pair<std::string, std::string>> staged_;  // (temporary, final path)
};

// Creates the folder (and parents) if missing; IoError if it cannot or a file is in the way.
void ensure_dir(const std::string& path);

// Creates the folder if missing and checks that a file can be created and removed in it (before a
// long run whose results go there): IoError "DIR: cannot write results here: REASON".
void ensure_writable_dir(const std::string& path);

}  // namespace stcsim
