#pragma once
// Small helpers shared by the integration tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../spop/wire.hpp"
#include "agent_process.hpp"
#include "spop_client.hpp"

namespace spoa::itest {

using namespace std::chrono_literals;

// spop.md's byte notation, shared with the codec's tests.
using spop::test::wire;

// "pipelining, async" -> {"async", "pipelining"}
inline std::set<std::string> capability_set(std::string_view list) {
  std::set<std::string> out;
  spop::for_each_item(list, [&](std::string_view item) { out.emplace(item); });
  return out;
}

inline std::string join_ids(const std::vector<uint64_t>& ids) {
  std::string out;
  for (const uint64_t id : ids)
    out += (out.empty() ? "" : " ") + std::to_string(id);
  return out;
}

inline Millis elapsed_since(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start);
}

// The server must answer `client` with AGENT-DISCONNECT `status`, then close.
inline void expect_disconnect_and_close(SpopClient& client, spop::Status status) {
  const DisconnectInfo d = client.expect_disconnect();
  EXPECT_EQ(d.status_code, static_cast<uint32_t>(status)) << "message: \"" << d.message << "\"";
  EXPECT_LE(d.message.size(), 255u) << "HAProxy 2.6 rejects longer DISCONNECT messages";
  client.expect_closed();
}

// A HELLO payload built key by key, for the HELLOs the codec's encoder will not produce.
struct HelloPayload {
  Bytes bytes;
  HelloPayload& add(std::string_view key, const spop::Value& value) {
    append_kv(bytes, key, value);
    return *this;
  }
  Bytes frame(uint64_t stream_id = 0, uint64_t frame_id = 0,
              uint32_t flags = spop::flag_fin) const {
    return make_frame(spop::FrameType::haproxy_hello, flags, stream_id, frame_id, bytes);
  }
};

}  // namespace spoa::itest
