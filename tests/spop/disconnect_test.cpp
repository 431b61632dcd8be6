#include "spop/disconnect.hpp"

#include <gtest/gtest.h>

#include <string>

#include "spop/frame.hpp"
#include "wire.hpp"

namespace spop {
namespace {

using test::Bytes;
using test::wire;

TEST(Disconnect, AgentDisconnectHasTheSpecLayout) {
  Bytes out(128);
  const EncodeResult r = encode_agent_disconnect(out, 16380, Status::timeout, "idle");
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  EXPECT_EQ(out,
            wire(R"(00000023 66 00000001 00 00 0b"status-code" 03 02 07"message" 08 04"idle")"));
}

TEST(Disconnect, HaproxyDisconnectRoundTrips) {
  Bytes out(128);
  const EncodeResult r = encode_haproxy_disconnect(out, Status::bad_max_frame_size, "too big");
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  const FrameResult f = decode_frame(out, 16380);
  ASSERT_EQ(f.error, Error::none);
  EXPECT_EQ(f.frame.type, FrameType::haproxy_disconnect);
  EXPECT_EQ(check_ids(f.frame), Error::none);
  Disconnect d;
  ASSERT_EQ(decode_disconnect(f.frame.payload, d), Error::none);
  EXPECT_EQ(d.status_code, 9u);
  EXPECT_EQ(d.message, "too big");
}

TEST(Disconnect, StatusCodeAcceptsAnyIntegerType) {
  for (const char* type : {"02", "03", "04", "05"}) {
    Disconnect d;
    const Bytes payload = test::concat({wire(R"(0b"status-code")"), wire(type), wire("63")});
    ASSERT_EQ(decode_disconnect(payload, d), Error::none) << type;
    EXPECT_EQ(d.status_code, 99u);
  }
}

TEST(Disconnect, UnknownKeysAreSkippedAndWrongTypesRefused) {
  Disconnect d;
  EXPECT_EQ(decode_disconnect(wire(R"(01"x" 07 00000000000000000000000000000000
                                     0b"status-code" 03 04)"),
                              d),
            Error::none);
  EXPECT_EQ(d.status_code, 4u);
  EXPECT_EQ(decode_disconnect(wire(R"(07"message" 03 04)"), d), Error::wrong_value_type);
  EXPECT_EQ(decode_disconnect(wire(R"(0b"status-code" 08 01"4")"), d), Error::wrong_value_type);
}

TEST(Disconnect, MessagesLongerThan255BytesAreCut) {
  const std::string long_message(300, 'x');
  Bytes out(512);
  const EncodeResult r = encode_agent_disconnect(out, 16380, Status::unknown, long_message);
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  Disconnect d;
  ASSERT_EQ(decode_disconnect(decode_frame(out, 16380).frame.payload, d), Error::none);
  EXPECT_EQ(d.message.size(), max_disconnect_message);
  EXPECT_EQ(d.status_code, 99u);
}

TEST(Disconnect, EncoderRefusesOverMaxFrameSizeOrBufferAndWritesNothing) {
  Bytes out(0x27, 0xAA);
  EXPECT_EQ(encode_agent_disconnect(out, 0x22, Status::timeout, "idle").error,
            Error::exceeds_max_frame_size);
  EXPECT_EQ(
      encode_agent_disconnect(std::span(out).first(0x26), 0x23, Status::timeout, "idle").error,
      Error::output_too_small);
  EXPECT_EQ(out, Bytes(0x27, 0xAA));
  EXPECT_EQ(encode_agent_disconnect(out, 0x23, Status::timeout, "idle").size, 0x27u);
}

}  // namespace
}  // namespace spop
