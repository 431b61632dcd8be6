#include "config/diagnostic.hpp"

namespace spoa::config {

std::string Diagnostic::to_string() const {
  std::string text = where.file;
  if (where.line != 0) {
    text += ':' + std::to_string(where.line);
    if (where.column != 0) text += ':' + std::to_string(where.column);
  }
  text += ": ";
  text += message;
  return text;
}

}  // namespace spoa::config
