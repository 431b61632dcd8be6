// Header blocks as HAProxy sends them: req.hdrs_bin (binary) and req.hdrs (text).
#include <gtest/gtest.h>

#include <string>

#include "header_block.hpp"

namespace {

using spoa::waf::decode_binary_headers;
using spoa::waf::decode_text_headers;
using spoa::waf::HeaderList;

std::string pair(const std::string& name, const std::string& value) {
  using spoa::waf::encode_varint;
  return encode_varint(name.size()) + name + encode_varint(value.size()) + value;
}

const std::string terminator("\0\0", 2);

TEST(BinaryHeaders, DecodesPairsUpToTheTerminator) {
  HeaderList list;
  const std::string block =
      pair("host", "example.com") + pair("x-long", std::string(300, 'a')) + terminator + "ignored";
  EXPECT_FALSE(decode_binary_headers(block, 100, list));
  ASSERT_EQ(list.headers.size(), 2u);
  EXPECT_EQ(list.headers[0].name, "host");
  EXPECT_EQ(list.headers[0].value, "example.com");
  EXPECT_EQ(list.headers[1].value.size(), 300u);  // a two-byte varint length
  EXPECT_FALSE(list.truncated);
  EXPECT_EQ(list.bytes, 4u + 11u + 6u + 300u);
}

TEST(BinaryHeaders, AnEmptyValueIsAHeader) {
  HeaderList list;
  EXPECT_FALSE(decode_binary_headers(pair("x-empty", "") + terminator, 100, list));
  ASSERT_EQ(list.headers.size(), 1u);
  EXPECT_EQ(list.headers[0].value, "");
}

TEST(BinaryHeaders, ALengthPastTheEndIsAnErrorNamingTheByte) {
  HeaderList list;
  const std::string block = pair("host", "a") + spoa::waf::encode_varint(50) + "short";
  const auto error = decode_binary_headers(block, 100, list);
  ASSERT_TRUE(error);
  EXPECT_NE(error->reason.find("byte 7"), std::string::npos) << error->reason;
}

TEST(BinaryHeaders, AVarintCutInTheMiddleIsAnError) {
  HeaderList list;
  EXPECT_TRUE(decode_binary_headers(std::string("\xF5", 1), 100, list));
  EXPECT_TRUE(decode_binary_headers(pair("a", "b") + "\x01"
                                                     "a"
                                                     "\xFF\xFF",
                                    100, list));
}

TEST(BinaryHeaders, AHugeVarintDoesNotOverflowTheBoundsCheck) {
  HeaderList list;
  const std::string block = std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 10) + "x";
  EXPECT_TRUE(decode_binary_headers(block, 100, list));
}

TEST(BinaryHeaders, ValueWithoutNameIsAnError) {
  HeaderList list;
  EXPECT_TRUE(decode_binary_headers(pair("", "v"), 100, list));
}

TEST(BinaryHeaders, TheCapKeepsTheFirstHeadersAndSaysSo) {
  HeaderList list;
  std::string block;
  for (int i = 0; i < 5; ++i)
    block += pair("h" + std::to_string(i), "v");
  EXPECT_FALSE(decode_binary_headers(block + terminator, 3, list));
  ASSERT_EQ(list.headers.size(), 3u);
  EXPECT_EQ(list.headers[2].name, "h2");
  EXPECT_TRUE(list.truncated);
}

TEST(BinaryHeaders, ABlockWithoutTerminatorEndingAfterAPairIsAccepted) {
  HeaderList list;
  EXPECT_FALSE(decode_binary_headers(pair("a", "1") + pair("b", "2"), 10, list));
  EXPECT_EQ(list.headers.size(), 2u);
}

TEST(TextHeaders, DecodesLinesTrimmingBlanks) {
  HeaderList list;
  EXPECT_FALSE(
      decode_text_headers("Host: example.com\r\nX-A:  1 \r\nX-B:2\n\r\nAfter: x\r\n", 10, list));
  ASSERT_EQ(list.headers.size(), 3u);
  EXPECT_EQ(list.headers[0].name, "Host");
  EXPECT_EQ(list.headers[0].value, "example.com");
  EXPECT_EQ(list.headers[1].value, "1");
  EXPECT_EQ(list.headers[2].value, "2");
}

TEST(TextHeaders, AValueMayContainColons) {
  HeaderList list;
  EXPECT_FALSE(decode_text_headers("Referer: http://a:8080/x\r\n", 10, list));
  EXPECT_EQ(list.headers[0].value, "http://a:8080/x");
}

TEST(TextHeaders, ALineWithoutColonIsAnErrorNamingTheLine) {
  HeaderList list;
  const auto error = decode_text_headers("Host: a\r\nbroken\r\n", 10, list);
  ASSERT_TRUE(error);
  EXPECT_NE(error->reason.find("line 2"), std::string::npos) << error->reason;
}

TEST(TextHeaders, TheCapIsReported) {
  HeaderList list;
  EXPECT_FALSE(decode_text_headers("A: 1\r\nB: 2\r\nC: 3\r\n", 2, list));
  EXPECT_EQ(list.headers.size(), 2u);
  EXPECT_TRUE(list.truncated);
}

}  // namespace
