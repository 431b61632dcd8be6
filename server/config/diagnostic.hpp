#pragma once

#include <cstddef>
#include <string>

namespace spoa::config {

// A place in a config file. Lines and columns count from 1; columns count bytes, as
// compilers do, so a tab is one column. 0 means "no such place": a file that cannot be
// opened has no line to point at.
struct Location {
  std::string file;
  size_t line = 0;
  size_t column = 0;

  friend bool operator==(const Location&, const Location&) = default;
};

// One problem found in a config file, in the form editors and `haproxy -c` users expect.
struct Diagnostic {
  Location where;
  std::string message;

  // "FILE:LINE:COL: message"; "FILE:LINE: message" without a column and "FILE: message"
  // without a line.
  std::string to_string() const;
};

}  // namespace spoa::config
