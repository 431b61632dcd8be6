// The one error a data file parser throws: where (file and line) and what, so that the
// operator reads `/etc/lists/x.netset:12: '10.0.0.300' is not an IP network` in the log.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace spoa::support {

class ParseError : public std::runtime_error {
 public:
  // line 0: the error is about the whole file (cannot open it, empty response).
  ParseError(std::string file, std::size_t line, const std::string& message)
      : std::runtime_error(line == 0 ? file + ": " + message
                                     : file + ":" + std::to_string(line) + ": " + message),
        file_(std::move(file)),
        line_(line) {}

  const std::string& file() const noexcept { return file_; }
  std::size_t line() const noexcept { return line_; }

 private:
  std::string file_;
  std::size_t line_;
};

}  // namespace spoa::support
