// How support code logs without depending on the SDK: the plugin passes a function that
// forwards to its spoa::Logger (tests pass one that records).
#pragma once

#include <functional>
#include <string>

namespace spoa::support {

enum class Severity { debug, info, warn, error };
using LogSink = std::function<void(Severity, const std::string&)>;

}  // namespace spoa::support
