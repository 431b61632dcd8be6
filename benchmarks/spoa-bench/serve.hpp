#pragma once
// --serve: a minimal SPOP agent that answers every NOTIFY with the same precomputed ACK
// (one SET-VAR per named --arg). It does no per-message work at all, so it is the
// yardstick for what HAProxy reaches with an agent that costs nothing.
#include <atomic>

#include "options.hpp"
#include "workload.hpp"

namespace bench {

// Runs until `stop` is set (or --duration passes, if given). Returns the exit status.
int serve(const Options& options, const Workload& workload, std::atomic<bool>& stop);

}  // namespace bench
