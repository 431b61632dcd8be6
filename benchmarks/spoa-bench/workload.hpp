#pragma once
// What goes on the wire: the NOTIFY payload (encoded once, copied behind a fresh header
// per frame), the check applied to each ACK, and --serve's fixed ACK actions.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "options.hpp"
#include "spop/ack.hpp"
#include "spop/writer.hpp"

namespace bench {

struct Expected {
  std::string name;
  spop::Value value;  // views the ArgSpec's bytes (Options outlives every Workload user)
};

struct Workload {
  std::vector<uint8_t> notify_payload;  // message name, nb-args, args
  std::vector<Expected> expected;       // --verify echo: one SET-VAR per entry
  std::vector<uint8_t> ack_actions;     // --serve: SET-VAR per named arg, pre-encoded
  size_t skipped_args = 0;              // named args the echo plugin would not echo

  // LEN of a NOTIFY with the largest ids we send (sids stay below 2^32).
  uint32_t max_notify_len() const noexcept {
    return static_cast<uint32_t>(spop::frame_header_size(UINT32_MAX, 4) - 4 +
                                 notify_payload.size());
  }
};

// Throws std::runtime_error if the message cannot be encoded.
Workload build_workload(const Options& options);

// Writes one NOTIFY frame (FIN) at out, which has room for max_notify_len() + 4 bytes.
// Returns the bytes written.
inline size_t write_notify(uint8_t* out, uint64_t stream_id, uint64_t frame_id,
                           std::span<const uint8_t> payload) noexcept {
  spop::Writer w({out, spop::max_frame_header_size + payload.size()});
  w.frame_header(spop::FrameType::notify, spop::flag_fin, stream_id, frame_id);
  w.raw(payload.data(), payload.size());
  w.patch_len();
  return w.size();
}

// Checks ACK payloads. Keeps its action vector between calls: no allocation once warm,
// except to describe a failure.
class AckVerifier {
 public:
  AckVerifier(const Workload& workload, Verify mode, spop::Scope scope)
      : workload_(workload), mode_(mode), scope_(scope) {
    actions_.reserve(16);
  }
  // Empty string when the ACK is right; else what is wrong.
  std::string check(std::span<const uint8_t> payload);

 private:
  const Workload& workload_;
  Verify mode_;
  spop::Scope scope_;
  std::vector<spop::Action> actions_;
};

}  // namespace bench
