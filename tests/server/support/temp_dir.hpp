#pragma once
// A private scratch directory for one test, removed with everything in it at the end.
#include <string>

namespace spoa::test {

class TempDir {
 public:
  // Under /tmp, not $TMPDIR: unix socket paths must stay under 108 bytes.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string file(const std::string& name) const;
  // Writes `content` to file(name) and returns that path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// The whole content of a file; empty if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace spoa::test
