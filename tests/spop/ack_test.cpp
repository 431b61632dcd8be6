#include "spop/ack.hpp"

#include <gtest/gtest.h>

#include <string>

#include "spop/frame.hpp"
#include "wire.hpp"

namespace spop {
namespace {

using test::Bytes;
using test::wire;

// The frame w wrote into out (finish() patches LEN in out, so copy only afterwards).
Bytes finished(const Bytes& out, AckWriter& w) {
  const EncodeResult r = w.finish();
  EXPECT_EQ(r.error, Error::none);
  return Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.size));
}

TEST(AckWriter, ReproducesTheSpecExampleByteForByte) {
  Bytes out(64);
  AckWriter w(out, 16380, 5, 1);
  ASSERT_TRUE(w.set_var(Scope::txn, "score", Value::uint32(42)));
  EXPECT_EQ(finished(out, w), test::ack_example());
}

TEST(DecodeAck, DecodesTheSpecExample) {
  const FrameResult f = decode_frame(test::ack_example(), default_max_frame_size);
  ASSERT_EQ(f.error, Error::none);
  EXPECT_EQ(f.frame.type, FrameType::ack);
  EXPECT_EQ(f.frame.stream_id, 5u);
  EXPECT_EQ(f.frame.frame_id, 1u);
  std::vector<Action> actions;
  ASSERT_EQ(decode_ack(f.frame.payload, actions), Error::none);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].type, ActionType::set_var);
  EXPECT_EQ(actions[0].scope, Scope::txn);
  EXPECT_EQ(actions[0].name, "score");
  EXPECT_EQ(actions[0].value, Value::uint32(42));
}

TEST(AckWriter, EmptyAckIsAHeaderOnlyFrame) {
  Bytes out(64);
  AckWriter w(out, 16380, 0, 1);
  EXPECT_EQ(finished(out, w), wire("00000007 67 00000001 00 01"));
}

TEST(AckWriter, UnsetVarHasTwoArgs) {
  Bytes out(64);
  AckWriter w(out, 16380, 5, 1);
  ASSERT_TRUE(w.unset_var(Scope::sess, "gone"));
  EXPECT_EQ(finished(out, w), wire(R"(0000000f 67 00000001 05 01 02 02 01 04"gone")"));
}

TEST(AckWriter, ActionsRoundTripThroughDecodeAck) {
  Bytes out(256);
  AckWriter w(out, 16380, 300, 2);
  ASSERT_TRUE(w.set_var(Scope::proc, "a", Value::boolean(true)));
  ASSERT_TRUE(w.set_var(Scope::req, "b", Value::string("")));
  ASSERT_TRUE(w.unset_var(Scope::res, "c"));
  ASSERT_TRUE(w.set_var(Scope::txn, "d", Value::int64(-42)));
  out = finished(out, w);
  const FrameResult f = decode_frame(out, default_max_frame_size);
  ASSERT_EQ(f.error, Error::none);
  EXPECT_EQ(f.frame.stream_id, 300u);
  std::vector<Action> actions;
  ASSERT_EQ(decode_ack(f.frame.payload, actions), Error::none);
  ASSERT_EQ(actions.size(), 4u);
  EXPECT_EQ(actions[0].scope, Scope::proc);
  EXPECT_EQ(actions[0].value, Value::boolean(true));
  EXPECT_EQ(actions[1].value, Value::string(""));
  EXPECT_EQ(actions[2].type, ActionType::unset_var);
  EXPECT_EQ(actions[2].scope, Scope::res);
  EXPECT_EQ(actions[2].name, "c");
  EXPECT_EQ(actions[3].value, Value::int64(-42));
}

TEST(AckWriter, RefusesAnActionOverMaxFrameSizeAndKeepsTheFrameValid) {
  // LEN may reach 0x12 exactly: the spec example fits, one byte less does not.
  Bytes out(64);
  AckWriter exact(out, 0x12, 5, 1);
  EXPECT_EQ(exact.room(), 0x12u - 7);
  EXPECT_TRUE(exact.set_var(Scope::txn, "score", Value::uint32(42)));
  EXPECT_EQ(exact.room(), 0u);

  AckWriter w(out, 0x11, 5, 1);
  EXPECT_FALSE(w.set_var(Scope::txn, "score", Value::uint32(42)));
  EXPECT_TRUE(w.set_var(Scope::txn, "scor", Value::uint32(42)));
  const EncodeResult r = w.finish();
  ASSERT_EQ(r.error, Error::none);
  EXPECT_EQ(r.size, 4u + 0x11);
  EXPECT_EQ(decode_frame(std::span(out).first(r.size), 0x11).error, Error::none);
}

TEST(AckWriter, RefusesAnActionOverTheBufferAndWritesNothing) {
  Bytes out(0x15, 0xAA);
  AckWriter w(out, 16380, 5, 1);
  EXPECT_EQ(w.room(), 0x15u - 11);
  EXPECT_FALSE(w.set_var(Scope::txn, "score", Value::uint32(42)));
  EXPECT_EQ(out[11], 0xAA);
  EXPECT_EQ(w.finish().size, 11u);
}

TEST(AckWriter, HeaderThatDoesNotFitIsAnErrorAndWritesNothing) {
  Bytes out(10, 0xAA);
  AckWriter w(out, 16380, 5, 1);
  EXPECT_EQ(w.room(), 0u);
  EXPECT_FALSE(w.unset_var(Scope::txn, "x"));
  EXPECT_EQ(w.finish().error, Error::output_too_small);
  EXPECT_EQ(out, Bytes(10, 0xAA));

  Bytes big(64, 0xAA);
  AckWriter small_max(big, 6, 5, 1);
  const EncodeResult r = small_max.finish();
  EXPECT_EQ(r.error, Error::exceeds_max_frame_size);
  EXPECT_EQ(r.size, 0u);
  EXPECT_EQ(big, Bytes(64, 0xAA));
  EXPECT_EQ(status_of(r.error), Status::frame_too_big);
}

TEST(AckWriter, UnfinishedFrameReadsAsInvalidNotShorter) {
  Bytes out(64);
  AckWriter w(out, 16380, 5, 1);
  ASSERT_TRUE(w.set_var(Scope::txn, "score", Value::uint32(42)));
  EXPECT_EQ(decode_frame(out, 16380).error, Error::frame_too_short);
}

TEST(AckWriter, RefusesInvalidScopesAndValues) {
  Bytes out(64);
  AckWriter w(out, 16380, 5, 1);
  EXPECT_FALSE(w.set_var(static_cast<Scope>(5), "x", Value::null()));
  EXPECT_FALSE(w.set_var(Scope::txn, "x", Value::ipv4("abc")));
  EXPECT_FALSE(w.unset_var(static_cast<Scope>(9), "x"));
  EXPECT_EQ(w.finish().size, 11u);
}

TEST(EncodeSetVar, PreEncodedActionsAppendVerbatim) {
  uint8_t action[32];
  const size_t n = encode_set_var(action, Scope::txn, "score", Value::uint32(42));
  ASSERT_EQ(n, set_var_size("score", Value::uint32(42)));
  EXPECT_EQ(Bytes(action, action + n), wire(R"(01 03 02 05"score" 03 2a)"));

  Bytes out(64);
  AckWriter w(out, 16380, 5, 1);
  ASSERT_TRUE(w.append_actions(std::span<const uint8_t>(action, n)));
  EXPECT_EQ(finished(out, w), test::ack_example());
}

TEST(EncodeSetVar, ReturnsZeroWhenItDoesNotFit) {
  uint8_t action[10];
  EXPECT_EQ(encode_set_var(action, Scope::txn, "score", Value::uint32(42)), 0u);
  EXPECT_EQ(encode_set_var(std::span(action).first(0), Scope::txn, "", Value::null()), 0u);
  EXPECT_EQ(encode_unset_var(action, Scope::txn, "0123456789"), 0u);
  EXPECT_EQ(encode_unset_var(action, Scope::txn, "score"), 9u);
  EXPECT_EQ(Bytes(action, action + 9), wire(R"(02 02 02 05"score")"));
}

TEST(AckWriter, AppendRefusesWhatDoesNotFit) {
  Bytes out(16);
  AckWriter w(out, 16380, 5, 1);
  const Bytes six(6, 0);
  EXPECT_FALSE(w.append_actions(six));
  EXPECT_TRUE(w.append_actions(std::span(six).first(5)));
  EXPECT_EQ(w.room(), 0u);
}

TEST(DecodeAck, EmptyPayloadIsNoActions) {
  std::vector<Action> actions{Action{}};
  EXPECT_EQ(decode_ack({}, actions), Error::none);
  EXPECT_TRUE(actions.empty());
}

TEST(DecodeAck, MalformedActionsAreRefusedAndLeaveNoActions) {
  std::vector<Action> actions;
  EXPECT_EQ(decode_ack(wire(R"(03 03 02 01"x" 00)"), actions), Error::bad_action);
  EXPECT_EQ(decode_ack(wire(R"(01 02 02 01"x")"), actions), Error::bad_nb_args);
  EXPECT_EQ(decode_ack(wire(R"(02 03 02 01"x")"), actions), Error::bad_nb_args);
  EXPECT_EQ(decode_ack(wire(R"(01 03 05 01"x" 00)"), actions), Error::bad_scope);
  EXPECT_EQ(decode_ack(wire(R"(01 03 02 05"x" 00)"), actions), Error::length_overflow);
  EXPECT_EQ(decode_ack(wire(R"(01 03 02 01"x")"), actions), Error::truncated);
  EXPECT_EQ(decode_ack(wire(R"(02 02 02 01"x" 01)"), actions), Error::truncated);
  EXPECT_TRUE(actions.empty());
}

}  // namespace
}  // namespace spop
