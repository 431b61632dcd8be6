#include "spop/varint.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <ostream>

#include "spop/reader.hpp"
#include "wire.hpp"

namespace spop {
namespace {

using test::Bytes;
using test::wire;

struct VarintRow {
  uint64_t value;
  const char* bytes;
};

// Names each case after its value (the default would print the row's raw bytes, pointer
// included, so test names changed from build to build).
void PrintTo(const VarintRow& row, std::ostream* os) {
  *os << row.value;
}

// The table of spop.md §2.
constexpr VarintRow spec_table[] = {
    {0, "00"},
    {239, "ef"},
    {240, "f0 00"},
    {256, "f0 01"},
    {2287, "ff 7f"},
    {2288, "f0 80 00"},
    {16380, "fc f0 06"},
    {264431, "ff ff 7f"},
    {264432, "f0 80 80 00"},
    {4294967295u, "ff f0 fe fe 7e"},
    {std::numeric_limits<uint64_t>::max(), "ff f0 fe fe fe fe fe fe fe 0e"},
};

class VarintSpecTable : public testing::TestWithParam<VarintRow> {};

TEST_P(VarintSpecTable, EncodesToTheSpecBytes) {
  uint8_t out[max_varint_size] = {};
  const size_t n = encode_varint(GetParam().value, out);
  EXPECT_EQ(Bytes(out, out + n), wire(GetParam().bytes));
  EXPECT_EQ(varint_size(GetParam().value), n);
}

TEST_P(VarintSpecTable, DecodesFromTheSpecBytes) {
  const Bytes in = wire(GetParam().bytes);
  Reader r(in);
  uint64_t v = 0;
  ASSERT_EQ(r.read_varint(v), Error::none);
  EXPECT_EQ(v, GetParam().value);
  EXPECT_TRUE(r.empty());
}

TEST_P(VarintSpecTable, EveryProperPrefixIsTruncated) {
  const Bytes in = wire(GetParam().bytes);
  for (size_t cut = 0; cut < in.size(); ++cut) {
    const Bytes prefix(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(cut));
    Reader r(prefix);
    uint64_t v = 0;
    EXPECT_EQ(r.read_varint(v), Error::truncated_varint) << "cut at " << cut;
    EXPECT_EQ(r.remaining(), cut);
  }
}

INSTANTIATE_TEST_SUITE_P(Spop, VarintSpecTable, testing::ValuesIn(spec_table));

TEST(Varint, ByteCountChangesAtTheSpecBoundaries) {
  constexpr uint64_t bounds[] = {240, 2288, 264432, 33818864, 4328786160};
  for (size_t i = 0; i < std::size(bounds); ++i) {
    EXPECT_EQ(varint_size(bounds[i] - 1), i + 1) << bounds[i] - 1;
    EXPECT_EQ(varint_size(bounds[i]), i + 2) << bounds[i];
  }
  EXPECT_EQ(varint_size(std::numeric_limits<uint64_t>::max()), max_varint_size);
}

TEST(Varint, RoundTripsValuesAroundEveryByteCountBoundary) {
  // n-byte varints (n >= 2) cover 16 * 128^(n-1) values: 4 bits in the first byte, 7 in
  // each following one.
  uint64_t first_of_next = 240;
  uint64_t span = 16 * 128;
  for (size_t bytes = 1; bytes < max_varint_size; ++bytes) {
    EXPECT_EQ(varint_size(first_of_next - 1), bytes);
    EXPECT_EQ(varint_size(first_of_next), bytes + 1);
    for (uint64_t v : {first_of_next - 1, first_of_next, first_of_next + 1}) {
      uint8_t out[max_varint_size];
      const size_t n = encode_varint(v, out);
      Reader r(std::span<const uint8_t>(out, n));
      uint64_t back = 0;
      ASSERT_EQ(r.read_varint(back), Error::none) << v;
      EXPECT_EQ(back, v);
      EXPECT_TRUE(r.empty());
    }
    first_of_next += span;
    span *= 128;
  }
}

TEST(Varint, NegativeSignedValuesTakeTenBytes) {
  uint8_t out[max_varint_size];
  EXPECT_EQ(encode_varint(static_cast<uint64_t>(int64_t{-1}), out), 10u);
}

TEST(Varint, ElevenBytesAreRefusedAsTooLong) {
  const Bytes in = wire("ff ff ff ff ff ff ff ff ff ff 00");
  Reader r(in);
  uint64_t v = 0;
  EXPECT_EQ(r.read_varint(v), Error::varint_too_long);
  EXPECT_EQ(r.remaining(), in.size());
}

TEST(Varint, TenContinuationBytesAreTooLongEvenAtTheEndOfTheBuffer) {
  const Bytes in = wire("ff ff ff ff ff ff ff ff ff ff");
  Reader r(in);
  uint64_t v = 0;
  EXPECT_EQ(r.read_varint(v), Error::varint_too_long);
}

TEST(Varint, TenthByteWrapsModulo2To64LikeHAProxy) {
  // Final byte 0x7f at shift 60 overflows 64 bits; spop.md §2 says arithmetic is mod 2^64.
  const Bytes in = wire("ff f0 fe fe fe fe fe fe fe 7f");
  Reader r(in);
  uint64_t v = 0;
  EXPECT_EQ(r.read_varint(v), Error::none);
  EXPECT_TRUE(r.empty());
}

TEST(Varint, EmptyInputIsTruncated) {
  Reader r(std::span<const uint8_t>{});
  uint64_t v = 0;
  EXPECT_EQ(r.read_varint(v), Error::truncated_varint);
}

}  // namespace
}  // namespace spop
