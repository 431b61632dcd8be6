#pragma once
// `spoa-host --test MESSAGE name=type:value …`: one message through the real host, with
// no HAProxy, printing the actions a plugin answered with. For plugin authors and tests.
#include <iosfwd>
#include <string>
#include <vector>

#include "config/command_line.hpp"
#include "config/config.hpp"
#include "host/generation.hpp"

namespace spoa::host {

// Returns the process exit code: 0 when the plugin answered DONE; 1 when it answered
// FAILED, missed the processing deadline, or for bad arguments or an unclaimed message
// (the reason goes to `err`). The generation is shut down
// before returning, while the request pool its plugins may still complete into is alive.
int run_test_mode(const config::Config& config, std::shared_ptr<Generation> generation,
                  const std::string& message, const std::vector<config::TestArg>& args,
                  std::ostream& out, std::ostream& err);

}  // namespace spoa::host
