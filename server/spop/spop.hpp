#pragma once

// The whole SPOP codec (spop.md). No I/O, no Asio: pure functions over byte spans.
#include "spop/ack.hpp"
#include "spop/disconnect.hpp"
#include "spop/errors.hpp"
#include "spop/frame.hpp"
#include "spop/hello.hpp"
#include "spop/kv.hpp"
#include "spop/list.hpp"
#include "spop/notify.hpp"
#include "spop/reader.hpp"
#include "spop/types.hpp"
#include "spop/value.hpp"
#include "spop/varint.hpp"
#include "spop/writer.hpp"
