#include "common/file_io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/error.h"

namespace stcsim {

namespace {

std::string temp_path(const std::string& path) { return fmt::format("{}.tmp-{}", path, ::getpid()); }

// Writes and flushes `bytes` into a new file `tmp`; on failure removes it and throws IoError naming
// `path` (the file the caller meant).
void write_flushed(const std::string& tmp, const std::string& path, const std::string& bytes) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  std::size_t done = 0;
  int err = 0;
  while (done < bytes.size()) {
    const ::ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw IoError(fmt::format("{}: write failed: {}", path, std::strerror(err)));
  }
}

void rename_into_place(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw IoError(fmt::format("{}: cannot rename into place: {}", path, std::strerror(err)));
  }
}

}  // namespace

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError(fmt::format("{}: is a directory, not a file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError(fmt::format("{}: read error", path));
  return ss.str();
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = temp_path(path);
  write_flushed(tmp, path, bytes);
  rename_into_place(tmp, path);
}

FileSet::~FileSet() {
  for (const auto& [tmp, path] : staged_) ::unlink(tmp.c_str());
}

void FileSet::add(const std::string& path, const std::string& bytes) {
  const std::string tmp = temp_path(path);
  write_flushed(tmp, path, bytes);
  staged_.emplace_back(tmp, path);
}

void FileSet::commit() {
  while (!staged_.empty()) {
    const auto [tmp, path] = staged_.front();
    staged_.erase(staged_.begin());
    rename_into_place(tmp, path);
  }
}

void ensure_dir(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return;
  if (std::filesystem::exists(path, ec)) throw IoError(fmt::format("{}: exists and is not a folder", path));
  std::filesystem::create_directories(path, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create folder: {}", path, ec.message()));
}

void ensure_writable_dir(const std::string& path) {
  ensure_dir(path);
  const std::string probe = fmt::format("{}/.stcsim-write-check-{}", path, ::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("{}: cannot write results here: {}", path, std::strerror(errno)));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace stcsim
