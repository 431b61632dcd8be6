#pragma once

#include <toml.hpp>

#include <string>

#include "config/diagnostic.hpp"

namespace spoa::config::detail {

// Turns toml11's multi-line syntax error report into one FILE:LINE:COL: message line.
// toml11 3.7's exception location() often points at the start of the line rather than at
// the fault, while the report's caret (^--- / ~~~) is exact, so the position is read from
// the report and location() is only the fallback.
Diagnostic diagnostic_from_syntax_error(const toml::syntax_error& error, const std::string& file);

}  // namespace spoa::config::detail
