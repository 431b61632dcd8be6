#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "spoa/support/parse_error.hpp"
#include "spoa/support/text_lines.hpp"

namespace spoa::support {
namespace {

TEST(TextLines, SkipsCommentsAndBlanksAndKeepsLineNumbers) {
  TextLines lines("# header\n\n  10.0.0.0/8  # private\r\n\t\n192.0.2.1\n last");
  std::string_view line;
  std::size_t number = 0;
  std::vector<std::pair<std::string, std::size_t>> got;
  while (lines.next(line, number))
    got.emplace_back(std::string(line), number);
  const std::vector<std::pair<std::string, std::size_t>> want = {
      {"10.0.0.0/8", 3}, {"192.0.2.1", 5}, {"last", 6}};
  EXPECT_EQ(got, want);
}

TEST(TextLines, ReadFileNamesTheFileWhenItCannot) {
  try {
    read_file("/nonexistent/list.txt");
    FAIL();
  } catch (const ParseError& e) {
    EXPECT_EQ(e.file(), "/nonexistent/list.txt");
    EXPECT_NE(std::string(e.what()).find("/nonexistent/list.txt: "), std::string::npos);
  }
}

TEST(ParseError, SaysFileAndLine) {
  ParseError e("/etc/x.netset", 12, "'10.0.0.300' is not an IP network");
  EXPECT_STREQ(e.what(), "/etc/x.netset:12: '10.0.0.300' is not an IP network");
}

}  // namespace
}  // namespace spoa::support
