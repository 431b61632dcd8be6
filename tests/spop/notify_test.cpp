#include "spop/notify.hpp"

#include <gtest/gtest.h>

#include <string>

#include "spop/frame.hpp"
#include "wire.hpp"

namespace spop {
namespace {

using namespace std::string_view_literals;
using test::Bytes;
using test::wire;

std::span<const uint8_t> payload_of(const Bytes& frame) {
  const FrameResult r = decode_frame(frame, 0xFFFFFFFF);
  EXPECT_EQ(r.error, Error::none);
  return r.frame.payload;
}

TEST(NotifyDecoder, DecodesTheSpecExample) {
  NotifyDecoder d;
  ASSERT_EQ(d.decode(payload_of(test::notify_example())), Error::none);
  ASSERT_EQ(d.messages().size(), 1u);
  const Message& m = d.messages()[0];
  EXPECT_EQ(m.name, "check-ip");
  ASSERT_EQ(d.args(m).size(), 1u);
  EXPECT_EQ(d.args(m)[0].name, "ip");
  EXPECT_EQ(d.args(m)[0].value, Value::ipv4("\xc0\xa8\x00\x01"sv));
}

TEST(NotifyWriter, ReproducesTheSpecExampleByteForByte) {
  Bytes out(64);
  NotifyWriter w(out, 5, 1);
  ASSERT_TRUE(w.add_message("check-ip", 1));
  ASSERT_TRUE(w.add_arg("ip", Value::ipv4("\xc0\xa8\x00\x01"sv)));
  const EncodeResult r = w.finish();
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  EXPECT_EQ(out, test::notify_example());
}

TEST(NotifyDecoder, DecodesSeveralMessagesWithEveryType) {
  Bytes out(512);
  NotifyWriter w(out, 0, 1);
  ASSERT_TRUE(w.add_message("first", 5));
  ASSERT_TRUE(w.add_arg("n", Value::null()));
  ASSERT_TRUE(w.add_arg("b", Value::boolean(true)));
  ASSERT_TRUE(w.add_arg("i32", Value::int32(-7)));
  ASSERT_TRUE(w.add_arg("u32", Value::uint32(7)));
  ASSERT_TRUE(w.add_arg("", Value::int64(-1)));
  ASSERT_TRUE(w.add_message("empty", 0));
  ASSERT_TRUE(w.add_message("second", 5));
  ASSERT_TRUE(w.add_arg("u64", Value::uint64(~uint64_t{0})));
  ASSERT_TRUE(w.add_arg("v4", Value::ipv4("\x7f\x00\x00\x01"sv)));
  ASSERT_TRUE(w.add_arg("v6", Value::ipv6("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"sv)));
  ASSERT_TRUE(w.add_arg("s", Value::string("GET")));
  ASSERT_TRUE(w.add_arg("bin", Value::binary("\x00\x01"sv)));
  const EncodeResult r = w.finish();
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);

  const FrameResult f = decode_frame(out, default_max_frame_size);
  ASSERT_EQ(f.error, Error::none);
  EXPECT_EQ(f.frame.stream_id, 0u);  // legal for HAProxy <= 3.0's first stream (§1)
  EXPECT_EQ(check_ids(f.frame), Error::none);
  NotifyDecoder d;
  ASSERT_EQ(d.decode(f.frame.payload), Error::none);
  ASSERT_EQ(d.messages().size(), 3u);
  EXPECT_EQ(d.messages()[0].name, "first");
  EXPECT_EQ(d.messages()[1].name, "empty");
  EXPECT_EQ(d.messages()[2].name, "second");
  const auto first = d.args(d.messages()[0]);
  ASSERT_EQ(first.size(), 5u);
  EXPECT_EQ(first[0].value, Value::null());
  EXPECT_EQ(first[1].value, Value::boolean(true));
  EXPECT_EQ(first[2].value, Value::int32(-7));
  EXPECT_EQ(first[3].value, Value::uint32(7));
  EXPECT_EQ(first[4].name, "");
  EXPECT_EQ(first[4].value, Value::int64(-1));
  EXPECT_TRUE(d.args(d.messages()[1]).empty());
  const auto second = d.args(d.messages()[2]);
  ASSERT_EQ(second.size(), 5u);
  EXPECT_EQ(second[0].value, Value::uint64(~uint64_t{0}));
  EXPECT_EQ(second[1].value, Value::ipv4("\x7f\x00\x00\x01"sv));
  EXPECT_EQ(second[2].value, Value::ipv6("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"sv));
  EXPECT_EQ(second[3].name, "s");
  EXPECT_EQ(second[3].value, Value::string("GET"));
  EXPECT_EQ(second[4].value, Value::binary("\x00\x01"sv));
}

TEST(NotifyDecoder, ZeroMessagesIsValid) {
  NotifyDecoder d;
  EXPECT_EQ(d.decode({}), Error::none);
  EXPECT_TRUE(d.messages().empty());
}

TEST(NotifyDecoder, UnnamedArgumentIsASingleZeroByte) {
  const Bytes payload = wire(R"(03"msg" 02 00 04 2a 00 00)");
  NotifyDecoder d;
  ASSERT_EQ(d.decode(payload), Error::none);
  const auto args = d.args(d.messages()[0]);
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0].name, "");
  EXPECT_EQ(args[0].value, Value::int64(42));
  EXPECT_EQ(args[1].value, Value::null());
}

TEST(NotifyDecoder, AHugeNotifyRaisesTheHighWaterMarkUntilShrunk) {
  Bytes payload;
  for (int i = 0; i < 300; ++i) {  // 300 messages "m" without arguments
    payload.push_back(1);
    payload.push_back('m');
    payload.push_back(0);
  }
  NotifyDecoder d;
  EXPECT_FALSE(d.above_high_water());
  ASSERT_EQ(d.decode(payload), Error::none);
  EXPECT_EQ(d.messages().size(), 300u);
  EXPECT_TRUE(d.above_high_water());
  d.shrink_to_fit();
  EXPECT_FALSE(d.above_high_water());
  EXPECT_TRUE(d.messages().empty());
}

TEST(NotifyDecoder, NbArgsLargerThanPresentIsRefused) {
  NotifyDecoder d;
  EXPECT_EQ(d.decode(wire(R"(03"msg" 02 01"a" 00)")), Error::bad_nb_args);
  EXPECT_EQ(d.decode(wire(R"(03"msg" 01)")), Error::bad_nb_args);
  EXPECT_EQ(status_of(Error::bad_nb_args), Status::invalid_frame);
}

TEST(NotifyDecoder, MissingNbArgsIsTruncated) {
  NotifyDecoder d;
  EXPECT_EQ(d.decode(wire(R"(03"msg")")), Error::truncated);
}

TEST(NotifyDecoder, MalformedArgumentsAreRefused) {
  NotifyDecoder d;
  EXPECT_EQ(d.decode(wire(R"(03"msg" 01 01"a" 0c)")), Error::bad_type);
  EXPECT_EQ(d.decode(wire(R"(03"msg" 01 01"a" 08 09"short")")), Error::length_overflow);
  EXPECT_EQ(d.decode(wire(R"(03"msg" 01 05"a")")), Error::length_overflow);
  EXPECT_EQ(d.decode(wire(R"(03"msg" 01 01"a" 04 ff ff)")), Error::truncated_varint);
}

TEST(NotifyDecoder, ErrorLeavesNoMessages) {
  NotifyDecoder d;
  ASSERT_EQ(d.decode(payload_of(test::notify_example())), Error::none);
  ASSERT_NE(d.decode(wire(R"(03"msg" 00 03"bad" 01)")), Error::none);
  EXPECT_TRUE(d.messages().empty());
}

TEST(NotifyDecoder, ReusedDecoderReplacesThePreviousMessages) {
  NotifyDecoder d;
  ASSERT_EQ(d.decode(wire(R"(01"a" 01 01"x" 00 01"b" 00)")), Error::none);
  ASSERT_EQ(d.decode(payload_of(test::notify_example())), Error::none);
  ASSERT_EQ(d.messages().size(), 1u);
  EXPECT_EQ(d.messages()[0].name, "check-ip");
  EXPECT_EQ(d.messages()[0].first_arg, 0u);
}

TEST(NotifyDecoder, SteadyStateKeepsItsCapacity) {
  NotifyDecoder d;
  ASSERT_EQ(d.decode(payload_of(test::notify_example())), Error::none);
  const Arg* first = d.args(d.messages()[0]).data();
  ASSERT_EQ(d.decode(payload_of(test::notify_example())), Error::none);
  EXPECT_EQ(d.args(d.messages()[0]).data(), first);
}

TEST(NotifyDecoder, ShrinkToFitDropsTheMessages) {
  NotifyDecoder d;
  ASSERT_EQ(d.decode(payload_of(test::notify_example())), Error::none);
  d.shrink_to_fit();
  EXPECT_TRUE(d.messages().empty());
  ASSERT_EQ(d.decode(payload_of(test::notify_example())), Error::none);
  EXPECT_EQ(d.messages().size(), 1u);
}

TEST(NotifyWriter, RefusesArgumentsBeyondNbArgsAndMessagesBeforeTheArgs) {
  Bytes out(64);
  NotifyWriter w(out, 1, 1);
  EXPECT_FALSE(w.add_arg("x", Value::null()));
  ASSERT_TRUE(w.add_message("m", 1));
  EXPECT_FALSE(w.add_message("n", 0));
  EXPECT_EQ(w.finish().error, Error::bad_nb_args);
  ASSERT_TRUE(w.add_arg("x", Value::null()));
  EXPECT_FALSE(w.add_arg("y", Value::null()));
  EXPECT_EQ(w.finish().error, Error::none);
}

TEST(NotifyWriter, RefusesWhatDoesNotFitAndWritesNoCompleteFrame) {
  Bytes out(16, 0xAA);
  NotifyWriter w(out, 1, 1);
  EXPECT_FALSE(w.add_message("a-much-too-long-name", 0));
  ASSERT_TRUE(w.add_message("m", 1));
  EXPECT_FALSE(w.add_arg("x", Value::string("too long for the rest")));
  // Before finish() LEN reads 0: an invalid frame, not a shorter valid one.
  EXPECT_EQ(decode_frame(out, 16380).error, Error::frame_too_short);
  EXPECT_EQ(w.finish().error, Error::bad_nb_args);

  Bytes tiny(10, 0xAA);
  NotifyWriter t(tiny, 1, 1);
  EXPECT_EQ(t.finish().error, Error::output_too_small);
  EXPECT_EQ(tiny, Bytes(10, 0xAA));
}

TEST(NotifyWriter, CraftsFragmentFrames) {
  Bytes out(32);
  NotifyWriter w(out, 3, 2, flag_fin | flag_abort, FrameType::unset);
  const EncodeResult r = w.finish();
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  EXPECT_EQ(out, wire("00000007 00 00000003 03 02"));
}

}  // namespace
}  // namespace spop
