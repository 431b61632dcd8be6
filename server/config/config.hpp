#pragma once

// The configuration component in one include: the settings structs, the loader, the
// command line, and the parsers for listen addresses, durations and log levels.
#include "config/command_line.hpp"
#include "config/diagnostic.hpp"
#include "config/duration.hpp"
#include "config/listen_address.hpp"
#include "config/load.hpp"
#include "config/log_level.hpp"
#include "config/settings.hpp"
