#include "spop/value.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "spop/reader.hpp"
#include "spop/writer.hpp"
#include "wire.hpp"

namespace spop {
namespace {

using namespace std::string_view_literals;
using test::Bytes;
using test::wire;

Bytes encode(const Value& v) {
  Bytes out(encoded_size(v));
  Writer w(out);
  w.value(v);
  EXPECT_EQ(w.size(), out.size());
  return out;
}

Value decode(const Bytes& in, Error expected = Error::none) {
  Reader r(in);
  Value v;
  EXPECT_EQ(r.read_value(v), expected);
  if (expected == Error::none) {
    EXPECT_TRUE(r.empty());
  }
  return v;
}

const std::string& big_string() {
  static const std::string s = [] {
    std::string b(64 * 1024, '\0');
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<char>('a' + i % 26);
    return b;
  }();
  return s;
}

struct RoundTrip {
  const char* label;
  Value value;
};

class ValueRoundTrip : public testing::TestWithParam<RoundTrip> {};

TEST_P(ValueRoundTrip, DecodesToWhatWasEncoded) {
  const Value& v = GetParam().value;
  const Bytes bytes = encode(v);
  EXPECT_EQ(decode(bytes), v);
}

INSTANTIATE_TEST_SUITE_P(
    Spop, ValueRoundTrip,
    testing::Values(RoundTrip{"null", Value::null()}, RoundTrip{"bool_true", Value::boolean(true)},
                    RoundTrip{"bool_false", Value::boolean(false)},
                    RoundTrip{"int32_min", Value::int32(std::numeric_limits<int32_t>::min())},
                    RoundTrip{"int32_max", Value::int32(std::numeric_limits<int32_t>::max())},
                    RoundTrip{"int32_minus_one", Value::int32(-1)},
                    RoundTrip{"uint32_max", Value::uint32(std::numeric_limits<uint32_t>::max())},
                    RoundTrip{"int64_min", Value::int64(std::numeric_limits<int64_t>::min())},
                    RoundTrip{"int64_max", Value::int64(std::numeric_limits<int64_t>::max())},
                    RoundTrip{"int64_zero", Value::int64(0)},
                    RoundTrip{"uint64_max", Value::uint64(std::numeric_limits<uint64_t>::max())},
                    RoundTrip{"ipv4", Value::ipv4("\xc0\xa8\x00\x01"sv)},
                    RoundTrip{"ipv6", Value::ipv6("\x20\x01\x0d\xb8\x00\x00\x00\x00"
                                                  "\x00\x00\x00\x00\x00\x00\x00\x01"sv)},
                    RoundTrip{"empty_string", Value::string("")},
                    RoundTrip{"string", Value::string("/some/path/index.html")},
                    RoundTrip{"string_64k", Value::string(big_string())},
                    RoundTrip{"empty_binary", Value::binary("")},
                    RoundTrip{"binary_with_zero_bytes", Value::binary("\x00\x01\x00\xff\x00"sv)},
                    RoundTrip{"binary_64k", Value::binary(big_string())}),
    [](const testing::TestParamInfo<RoundTrip>& p) { return std::string(p.param.label); });

TEST(Value, BoolIsCarriedInFlagBitFour) {
  EXPECT_EQ(encode(Value::boolean(true)), wire("11"));
  EXPECT_EQ(encode(Value::boolean(false)), wire("01"));
  EXPECT_EQ(decode(wire("11")), Value::boolean(true));
  EXPECT_EQ(decode(wire("01")), Value::boolean(false));
}

TEST(Value, BoolWithOtherFlagBitsIsRefused) {
  for (const char* b : {"21", "31", "41", "81", "f1"})
    decode(wire(b), Error::bad_bool);
}

TEST(Value, TypeBytesMatchTheSpecTable) {
  EXPECT_EQ(encode(Value::null()), wire("00"));
  EXPECT_EQ(encode(Value::int32(1)), wire("02 01"));
  EXPECT_EQ(encode(Value::uint32(42)), wire("03 2a"));
  EXPECT_EQ(encode(Value::int64(16380)), wire("04 fc f0 06"));
  EXPECT_EQ(encode(Value::uint64(0)), wire("05 00"));
  EXPECT_EQ(encode(Value::ipv4("\xc0\xa8\x00\x01"sv)), wire("06 c0 a8 00 01"));
  EXPECT_EQ(encode(Value::string("2.0")), wire(R"(08 03 "2.0")"));
  EXPECT_EQ(encode(Value::binary("ab")), wire(R"(09 02 "ab")"));
}

TEST(Value, EmptyStringIsTwoBytes) {
  EXPECT_EQ(encode(Value::string("")), wire("08 00"));
}

TEST(Value, NegativeInt64IsATenByteVarint) {
  EXPECT_EQ(encode(Value::int64(-1)), wire("04 ff f0 fe fe fe fe fe fe fe 0e"));
  EXPECT_EQ(decode(wire("04 ff f0 fe fe fe fe fe fe fe 0e")).as_int64(), -1);
}

TEST(Value, Int32IsSignExtendedOnTheWire) {
  EXPECT_EQ(encode(Value::int32(-1)), wire("02 ff f0 fe fe fe fe fe fe fe 0e"));
  EXPECT_EQ(Value::int32(-5).as_int64(), -5);
}

Bytes typed_varint(DataType type, uint64_t v) {
  Bytes in(1 + varint_size(v));
  in[0] = static_cast<uint8_t>(type);
  encode_varint(v, in.data() + 1);
  return in;
}

TEST(Value, Int32OutsideItsRangeIsRefused) {
  // 2^32 - 1 as an INT32: HAProxy reads every integer as 64 bits, so it would be
  // 4294967295, not -1 (spop.md §2).
  decode(wire("02 ff f0 fe fe 7e"), Error::value_out_of_range);
  const uint64_t int32_min = static_cast<uint64_t>(int64_t{std::numeric_limits<int32_t>::min()});
  decode(typed_varint(DataType::int32, uint64_t{1} << 31), Error::value_out_of_range);
  decode(typed_varint(DataType::int32, int32_min - 1), Error::value_out_of_range);
  EXPECT_EQ(decode(typed_varint(DataType::int32, int32_min)),
            Value::int32(std::numeric_limits<int32_t>::min()));
}

TEST(Value, Uint32AboveItsRangeIsRefused) {
  decode(typed_varint(DataType::uint32, uint64_t{1} << 32), Error::value_out_of_range);
}

TEST(Value, ReservedTypeIdsAreRefused) {
  for (uint8_t id = 10; id <= 15; ++id) {
    const Bytes in{id, 0, 0, 0, 0};
    decode(in, Error::bad_type);
  }
}

TEST(Value, FlagsOnNonBoolTypesAreIgnored) {
  EXPECT_EQ(decode(wire("84 2a")), Value::int64(42));
  EXPECT_EQ(decode(wire(R"(f8 01 "x")")), Value::string("x"));
}

TEST(Value, StringLongerThanTheRemainingBytesIsRefused) {
  decode(wire(R"(08 05 "abcd")"), Error::length_overflow);
  decode(wire("09 f0 00"), Error::length_overflow);
}

TEST(Value, TruncatedDataIsRefused) {
  decode(Bytes{}, Error::truncated);
  decode(wire("06 c0 a8 00"), Error::truncated);
  decode(wire("07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"), Error::truncated);
  decode(wire("04"), Error::truncated_varint);
  decode(wire("04 f0"), Error::truncated_varint);
  decode(wire("08"), Error::truncated_varint);
}

TEST(Value, FailedReadLeavesThePositionUnchanged) {
  const Bytes in = wire(R"(08 05 "abcd")");
  Reader r(in);
  Value v;
  ASSERT_NE(r.read_value(v), Error::none);
  EXPECT_EQ(r.remaining(), in.size());
}

TEST(Value, DecodedBytesAreViewsIntoTheBuffer) {
  const Bytes in = wire(R"(08 03 "abc")");
  const Value v = decode(in);
  EXPECT_EQ(static_cast<const void*>(v.bytes.data()), static_cast<const void*>(in.data() + 2));
}

TEST(Value, AddressesOfTheWrongLengthCannotBeEncoded) {
  EXPECT_EQ(encoded_size(Value::ipv4("\x01\x02\x03"sv)), 0u);
  EXPECT_EQ(encoded_size(Value::ipv6("\x01\x02\x03\x04"sv)), 0u);
  EXPECT_EQ(encoded_size(Value{static_cast<DataType>(12), 0, {}}), 0u);
}

TEST(Value, EqualityComparesTypeAndContent) {
  EXPECT_EQ(Value::string("a"), Value::string("a"));
  EXPECT_NE(Value::string("a"), Value::binary("a"));
  EXPECT_NE(Value::int64(1), Value::uint64(1));
  EXPECT_NE(Value::int64(1), Value::int64(2));
  EXPECT_EQ(Value::null(), Value::null());
}

TEST(Value, AccessorsReinterpretTheInteger) {
  EXPECT_EQ(Value::int64(std::numeric_limits<int64_t>::min()).as_int64(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Value::uint64(std::numeric_limits<uint64_t>::max()).as_uint64(),
            std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(Value::boolean(true).as_bool());
  EXPECT_FALSE(Value::boolean(false).as_bool());
}

}  // namespace
}  // namespace spop
