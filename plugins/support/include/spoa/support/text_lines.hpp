// Line-by-line reading of the plain-text data formats (IP lists, FireHOL sets, CSV):
// numbered lines with comments and surrounding blanks removed, read from a whole-file
// buffer so that a million-line list costs one read() and no allocation per line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace spoa::support {

// Reads the whole file. Throws ParseError (line 0) naming the file and errno's text.
std::string read_file(const std::string& path);

// Blanks (space, tab, CR) stripped from both ends.
std::string_view trim(std::string_view text) noexcept;

// Iterates the lines of `text`; each line is cut at the first `comment` character
// ('#' by default, FireHOL and most lists) and trimmed; empty results are skipped.
class TextLines {
 public:
  explicit TextLines(std::string_view text, char comment = '#') noexcept
      : text_(text), comment_(comment) {}

  // The next non-empty line and its 1-based number; false at the end.
  bool next(std::string_view& line, std::size_t& number) noexcept;

 private:
  std::string_view text_;
  char comment_;
  std::size_t pos_ = 0;
  std::size_t number_ = 0;
};

}  // namespace spoa::support
