#include "spop/frame.hpp"

#include <gtest/gtest.h>

#include "wire.hpp"

namespace spop {
namespace {

using test::Bytes;
using test::wire;

TEST(DecodeFrame, ReadsTheHeaderOfTheNotifyExample) {
  const Bytes& in = test::notify_example();
  const FrameResult r = decode_frame(in, default_max_frame_size);
  ASSERT_EQ(r.error, Error::none);
  EXPECT_EQ(r.consumed, in.size());
  EXPECT_EQ(r.frame.type, FrameType::notify);
  EXPECT_EQ(r.frame.raw_type, 3);
  EXPECT_EQ(r.frame.flags, flag_fin);
  EXPECT_TRUE(r.frame.fin());
  EXPECT_FALSE(r.frame.abort());
  EXPECT_EQ(r.frame.stream_id, 5u);
  EXPECT_EQ(r.frame.frame_id, 1u);
  EXPECT_EQ(r.frame.payload.data(), in.data() + 11);
  EXPECT_EQ(r.frame.payload.size(), in.size() - 11);
}

TEST(DecodeFrame, EveryProperPrefixNeedsMore) {
  for (const Bytes* frame : {&test::notify_example(), &test::ack_example(),
                             &test::agent_hello_example(), &test::healthcheck_hello()}) {
    for (size_t cut = 0; cut < frame->size(); ++cut) {
      const Bytes prefix(frame->begin(), frame->begin() + static_cast<std::ptrdiff_t>(cut));
      EXPECT_EQ(decode_frame(prefix, default_max_frame_size).error, Error::need_more)
          << "cut at " << cut;
    }
  }
}

TEST(DecodeFrame, ConsumesOneFrameOfSeveralInABuffer) {
  const Bytes in = test::concat({test::notify_example(), test::ack_example()});
  const FrameResult first = decode_frame(in, default_max_frame_size);
  ASSERT_EQ(first.error, Error::none);
  EXPECT_EQ(first.consumed, test::notify_example().size());
  EXPECT_EQ(first.frame.payload.size(), test::notify_example().size() - 11);
  const FrameResult second =
      decode_frame(std::span<const uint8_t>(in).subspan(first.consumed), default_max_frame_size);
  ASSERT_EQ(second.error, Error::none);
  EXPECT_EQ(second.frame.type, FrameType::ack);
  EXPECT_EQ(first.consumed + second.consumed, in.size());
}

TEST(DecodeFrame, LenBelowSevenIsTooShort) {
  for (uint8_t len = 0; len < 7; ++len) {
    Bytes in{0, 0, 0, len};
    in.resize(4 + len + 8, 0);
    EXPECT_EQ(decode_frame(in, default_max_frame_size).error, Error::frame_too_short) << int{len};
  }
}

TEST(DecodeFrame, LenOfSevenIsTheSmallestFrame) {
  const Bytes in = wire("00000007 03 00000001 00 01");
  const FrameResult r = decode_frame(in, default_max_frame_size);
  ASSERT_EQ(r.error, Error::none);
  EXPECT_TRUE(r.frame.payload.empty());
}

TEST(DecodeFrame, LenAboveMaxIsTooBigFromTheFourLenBytesAlone) {
  EXPECT_EQ(decode_frame(wire("00003ffd"), 16380).error, Error::frame_too_big);
  EXPECT_EQ(decode_frame(wire("ffffffff"), 16380).error, Error::frame_too_big);
  EXPECT_EQ(decode_frame(wire("00003ffc"), 16380).error, Error::need_more);
}

TEST(DecodeFrame, LenEqualToMaxIsAccepted) {
  Bytes in = wire("00000100 03 00000001 00 01");
  in.resize(4 + 256, 0);
  EXPECT_EQ(decode_frame(in, 256).error, Error::none);
  EXPECT_EQ(decode_frame(in, 255).error, Error::frame_too_big);
}

TEST(DecodeFrame, HeaderVarintsMustFitInsideLen) {
  // LEN = 7 but the stream-id varint continues past it into the next frame's bytes.
  EXPECT_EQ(decode_frame(wire("00000007 03 00000001 f0 f0 00 00 00"), 16380).error,
            Error::truncated_varint);
  EXPECT_EQ(decode_frame(wire("00000007 03 00000001 01 f0 00 00"), 16380).error,
            Error::truncated_varint);
}

TEST(DecodeFrame, ElevenByteStreamIdIsTooLong) {
  EXPECT_EQ(decode_frame(wire("00000011 03 00000001 ffffffffffffffffffff00 01"), 16380).error,
            Error::varint_too_long);
}

TEST(DecodeFrame, UnknownFrameTypeIsDecodedForTheCallerToSkip) {
  const FrameResult r = decode_frame(wire("00000008 2a 00000001 00 00 ff"), 16380);
  ASSERT_EQ(r.error, Error::none);
  EXPECT_EQ(r.frame.raw_type, 0x2a);
  EXPECT_FALSE(is_known(r.frame.type));
}

TEST(DecodeFrame, ReservedFlagBitsAreKept) {
  const FrameResult r = decode_frame(wire("00000007 03 80000003 00 01"), 16380);
  ASSERT_EQ(r.error, Error::none);
  EXPECT_TRUE(r.frame.fin());
  EXPECT_TRUE(r.frame.abort());
}

TEST(CheckIds, HelloAndDisconnectNeedZeroIds) {
  Frame f;
  f.type = FrameType::haproxy_hello;
  EXPECT_EQ(check_ids(f), Error::none);
  f.stream_id = 1;
  EXPECT_EQ(check_ids(f), Error::bad_frame_id);
  f.type = FrameType::haproxy_disconnect;
  f.stream_id = 0;
  f.frame_id = 1;
  EXPECT_EQ(check_ids(f), Error::bad_frame_id);
}

TEST(CheckIds, NotifyNeedsAFrameIdButStreamZeroIsLegal) {
  Frame f;
  f.type = FrameType::notify;
  f.frame_id = 1;
  EXPECT_EQ(check_ids(f), Error::none);
  f.frame_id = 0;
  f.stream_id = 7;
  EXPECT_EQ(check_ids(f), Error::bad_frame_id);
}

TEST(EncodeFrame, WritesTheNotifyExampleHeaderAroundARawPayload) {
  const Bytes& example = test::notify_example();
  const std::span<const uint8_t> payload = std::span(example).subspan(11);
  Bytes out(64);
  const EncodeResult r = encode_frame(out, FrameType::notify, flag_fin, 5, 1, payload);
  ASSERT_EQ(r.error, Error::none);
  out.resize(r.size);
  EXPECT_EQ(out, example);
}

TEST(EncodeFrame, RefusesABufferTooSmallAndWritesNothing) {
  const Bytes& example = test::notify_example();
  Bytes out(example.size() - 1, 0xAA);
  const EncodeResult r =
      encode_frame(out, FrameType::notify, flag_fin, 5, 1, std::span(example).subspan(11));
  EXPECT_EQ(r.error, Error::output_too_small);
  EXPECT_EQ(r.size, 0u);
  EXPECT_EQ(out, Bytes(example.size() - 1, 0xAA));
}

}  // namespace
}  // namespace spop
