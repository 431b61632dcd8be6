#include "spop/hello.hpp"

#include <gtest/gtest.h>

#include <string>

#include "spop/frame.hpp"
#include "wire.hpp"

namespace spop {
namespace {

using test::Bytes;
using test::wire;

std::span<const uint8_t> payload_of(const Bytes& frame) {
  const FrameResult r = decode_frame(frame, 0xFFFFFFFF);
  EXPECT_EQ(r.error, Error::none);
  return r.frame.payload;
}

// A HAPROXY-HELLO payload of the three mandatory keys, then `extra`.
Bytes hello_payload(const Bytes& extra) {
  return test::concat({wire(R"(12"supported-versions" 08 03"2.0" 0e"max-frame-size" 03 fcf006
                              0c"capabilities" 08 0a"pipelining")"),
                       extra});
}

TEST(HaproxyHello, HealthCheckProbeDecodes) {
  const FrameResult f = decode_frame(test::healthcheck_hello(), default_max_frame_size);
  ASSERT_EQ(f.error, Error::none);
  EXPECT_EQ(f.frame.type, FrameType::haproxy_hello);
  EXPECT_EQ(f.frame.flags, flag_fin);
  EXPECT_EQ(check_ids(f.frame), Error::none);
  HaproxyHello h;
  ASSERT_EQ(decode_haproxy_hello(f.frame.payload, h), Error::none);
  EXPECT_TRUE(h.has_versions);
  EXPECT_EQ(h.supported_versions, "2.0");
  EXPECT_TRUE(h.has_max_frame_size);
  EXPECT_EQ(h.max_frame_size, 16380u);
  EXPECT_TRUE(h.has_capabilities);
  EXPECT_EQ(h.capabilities, "");
  EXPECT_EQ(h.engine_id, "");
  EXPECT_TRUE(h.healthcheck);
}

TEST(HaproxyHello, EncoderReproducesTheHealthCheckProbeByteForByte) {
  HelloOptions o;
  o.capabilities = "";
  o.healthcheck = true;
  Bytes out(256);
  const EncodeResult r = encode_haproxy_hello(out, o);
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  EXPECT_EQ(out, test::healthcheck_hello());
}

TEST(HaproxyHello, EncoderRefusesABufferTooSmallAndWritesNothing) {
  HelloOptions o;
  o.capabilities = "";
  o.healthcheck = true;
  Bytes out(test::healthcheck_hello().size() - 1, 0xAA);
  const EncodeResult r = encode_haproxy_hello(out, o);
  EXPECT_EQ(r.error, Error::output_too_small);
  EXPECT_EQ(r.size, 0u);
  EXPECT_EQ(out, Bytes(out.size(), 0xAA));
}

TEST(HaproxyHello, NormalHelloRoundTripsWithEngineId) {
  HelloOptions o;
  o.engine_id = "6ee1c1dd-6b39-4e0f-9b9e-0123456789ab";
  o.max_frame_size = 65532;
  Bytes out(256);
  const EncodeResult r = encode_haproxy_hello(out, o);
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  HaproxyHello h;
  ASSERT_EQ(decode_haproxy_hello(payload_of(out), h), Error::none);
  EXPECT_EQ(h.supported_versions, "2.0");
  EXPECT_EQ(h.max_frame_size, 65532u);
  EXPECT_EQ(h.capabilities, "pipelining,async");
  EXPECT_EQ(h.engine_id, o.engine_id);
  EXPECT_FALSE(h.healthcheck);
}

TEST(HaproxyHello, AbsentKeysAreReportedAsAbsent) {
  HaproxyHello h;
  ASSERT_EQ(decode_haproxy_hello({}, h), Error::none);
  EXPECT_FALSE(h.has_versions);
  EXPECT_FALSE(h.has_max_frame_size);
  EXPECT_FALSE(h.has_capabilities);
  EXPECT_FALSE(h.healthcheck);
}

TEST(HaproxyHello, UnknownKeysOfEveryTypeAreSkipped) {
  const Bytes extra = wire(R"(01"a" 00  01"b" 11  01"c" 01  01"d" 02 05  01"e" 03 ff f0 fe fe 7e
      01"f" 04 ff f0 fe fe fe fe fe fe fe 0e  01"g" 05 00  01"h" 06 7f000001
      01"i" 07 00000000000000000000000000000001  01"j" 08 03"xyz"  01"k" 09 02 0000
      00 08 00)");
  const Bytes payload = hello_payload(extra);  // h views into it
  HaproxyHello h;
  ASSERT_EQ(decode_haproxy_hello(payload, h), Error::none);
  EXPECT_EQ(h.supported_versions, "2.0");
  EXPECT_EQ(h.max_frame_size, 16380u);
  EXPECT_EQ(h.capabilities, "pipelining");
}

TEST(HaproxyHello, KeysMatchExactlyNotByPrefix) {
  const Bytes payload = wire(R"(0d"max-frame-siz" 03 01  10"max-frame-size-x" 03 02
                                0d"capabilitiesX" 04 01  03"cap" 05 07)");
  HaproxyHello h;
  ASSERT_EQ(decode_haproxy_hello(payload, h), Error::none);
  EXPECT_FALSE(h.has_max_frame_size);
  EXPECT_FALSE(h.has_capabilities);
}

TEST(HaproxyHello, KnownKeyWithTheWrongTypeIsRefused) {
  HaproxyHello h;
  EXPECT_EQ(decode_haproxy_hello(wire(R"(12"supported-versions" 09 03"2.0")"), h),
            Error::wrong_value_type);
  EXPECT_EQ(decode_haproxy_hello(wire(R"(0e"max-frame-size" 08 05"16380")"), h),
            Error::wrong_value_type);
  EXPECT_EQ(decode_haproxy_hello(wire(R"(0c"capabilities" 00)"), h), Error::wrong_value_type);
  EXPECT_EQ(decode_haproxy_hello(wire(R"(09"engine-id" 04 01)"), h), Error::wrong_value_type);
  EXPECT_EQ(decode_haproxy_hello(wire(R"(0b"healthcheck" 03 01)"), h), Error::wrong_value_type);
  EXPECT_EQ(status_of(Error::wrong_value_type), Status::invalid_frame);
}

TEST(HaproxyHello, MaxFrameSizeAcceptsAnyIntegerTypeInRange) {
  for (const char* type : {"02", "03", "04", "05"}) {
    HaproxyHello h;
    const Bytes payload = test::concat({wire(R"(0e"max-frame-size")"), wire(type), wire("fcf006")});
    ASSERT_EQ(decode_haproxy_hello(payload, h), Error::none) << type;
    EXPECT_EQ(h.max_frame_size, 16380u);
  }
}

TEST(HaproxyHello, MaxFrameSizeOutOfRangeIsRefused) {
  HaproxyHello h;
  // INT64 -1 and UINT64 2^32.
  EXPECT_EQ(decode_haproxy_hello(wire(R"(0e"max-frame-size" 04 ff f0 fe fe fe fe fe fe fe 0e)"), h),
            Error::value_out_of_range);
  EXPECT_EQ(decode_haproxy_hello(wire(R"(0e"max-frame-size" 05 f0 f0 fe fe 7f)"), h),
            Error::value_out_of_range);
}

TEST(HaproxyHello, MalformedPayloadIsRefusedAndOutputUntouched) {
  HaproxyHello h;
  h.engine_id = "kept";
  EXPECT_EQ(decode_haproxy_hello(wire(R"(12"supported-versions" 08 04"2.0")"), h),
            Error::length_overflow);
  EXPECT_EQ(decode_haproxy_hello(wire(R"(12"supported-versions")"), h), Error::truncated);
  EXPECT_EQ(decode_haproxy_hello(wire(R"(12"supported-versions" 0a)"), h), Error::bad_type);
  EXPECT_EQ(decode_haproxy_hello(wire(R"(13"supported-versions")"), h), Error::length_overflow);
  EXPECT_EQ(h.engine_id, "kept");
}

TEST(AgentHello, EncoderReproducesTheSpecExampleByteForByte) {
  Bytes out(256);
  const EncodeResult r = encode_agent_hello(out, 16380, "2.0", 16380, "pipelining");
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  EXPECT_EQ(out, test::agent_hello_example());
}

TEST(AgentHello, SpecExampleDecodes) {
  const FrameResult f = decode_frame(test::agent_hello_example(), default_max_frame_size);
  ASSERT_EQ(f.error, Error::none);
  EXPECT_EQ(f.frame.type, FrameType::agent_hello);
  EXPECT_EQ(f.frame.flags, flag_fin);
  AgentHello h;
  ASSERT_EQ(decode_agent_hello(f.frame.payload, h), Error::none);
  EXPECT_TRUE(h.has_version);
  EXPECT_EQ(h.version, "2.0");
  EXPECT_TRUE(h.has_max_frame_size);
  EXPECT_EQ(h.max_frame_size, 16380u);
  EXPECT_TRUE(h.has_capabilities);
  EXPECT_EQ(h.capabilities, "pipelining");
}

TEST(AgentHello, EmptyCapabilitiesAreStillSent) {
  Bytes out(256);
  const EncodeResult r = encode_agent_hello(out, 16380, "2.0", 256, "");
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  AgentHello h;
  ASSERT_EQ(decode_agent_hello(payload_of(out), h), Error::none);
  EXPECT_TRUE(h.has_capabilities);
  EXPECT_EQ(h.capabilities, "");
  EXPECT_EQ(h.max_frame_size, 256u);
}

TEST(AgentHello, EncoderRefusesOverMaxFrameSizeAndWritesNothing) {
  Bytes out(256, 0xAA);
  const EncodeResult r = encode_agent_hello(out, 0x3f, "2.0", 16380, "pipelining");
  EXPECT_EQ(r.error, Error::exceeds_max_frame_size);
  EXPECT_EQ(r.size, 0u);
  EXPECT_EQ(out, Bytes(256, 0xAA));
  EXPECT_EQ(encode_agent_hello(out, 0x40, "2.0", 16380, "pipelining").error, Error::none);
}

TEST(AgentHello, EncoderRefusesABufferTooSmallAndWritesNothing) {
  Bytes out(0x43, 0xAA);
  const EncodeResult r = encode_agent_hello(out, 16380, "2.0", 16380, "pipelining");
  EXPECT_EQ(r.error, Error::output_too_small);
  EXPECT_EQ(out, Bytes(0x43, 0xAA));
  out.resize(0x44);
  EXPECT_EQ(encode_agent_hello(out, 16380, "2.0", 16380, "pipelining").size, 0x44u);
}

TEST(AgentHello, WrongTypeForVersionIsRefused) {
  AgentHello h;
  EXPECT_EQ(decode_agent_hello(wire(R"(07"version" 09 03"2.0")"), h), Error::wrong_value_type);
}

}  // namespace
}  // namespace spop
