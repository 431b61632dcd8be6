#include <gtest/gtest.h>

#include <stdexcept>

#include "variable_source.hpp"

using spoa::geoip::VariableSource;

TEST(GeoipVariableSource, DottedPathSplitsIntoComponents) {
  const auto s = VariableSource::parse("subdivisions.0.names.en");
  EXPECT_EQ(s.kind(), VariableSource::Kind::data_path);
  EXPECT_EQ(s.components(), (std::vector<std::string>{"subdivisions", "0", "names", "en"}));
  EXPECT_STREQ(s.mmdb_path()[0], "subdivisions");
  EXPECT_STREQ(s.mmdb_path()[3], "en");
  EXPECT_EQ(s.mmdb_path()[4], nullptr);
}

TEST(GeoipVariableSource, PathPointersSurviveCopiesAndMoves) {
  auto original = VariableSource::parse("a.b");
  VariableSource copy = original;
  VariableSource moved = std::move(original);
  EXPECT_STREQ(copy.mmdb_path()[1], "b");
  EXPECT_STREQ(moved.mmdb_path()[0], "a");
  EXPECT_EQ(copy.mmdb_path()[0], copy.components()[0].c_str());
}

TEST(GeoipVariableSource, PseudoSourcesNameTheMatchItself) {
  EXPECT_EQ(VariableSource::parse("@prefix").kind(), VariableSource::Kind::prefix);
  EXPECT_EQ(VariableSource::parse("@network").kind(), VariableSource::Kind::network);
  EXPECT_EQ(VariableSource::parse("@found").kind(), VariableSource::Kind::found);
  EXPECT_EQ(VariableSource::parse("@build_epoch").kind(), VariableSource::Kind::build_epoch);
  EXPECT_EQ(VariableSource::parse("@address").kind(), VariableSource::Kind::address);
}

TEST(GeoipVariableSource, MalformedPathsAreRefusedWithTheReason) {
  EXPECT_THROW(VariableSource::parse(""), std::invalid_argument);
  EXPECT_THROW(VariableSource::parse("country..iso_code"), std::invalid_argument);
  EXPECT_THROW(VariableSource::parse(".country"), std::invalid_argument);
  EXPECT_THROW(VariableSource::parse("country."), std::invalid_argument);
  try {
    VariableSource::parse("@prefx");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("@prefix"), std::string::npos) << e.what();
  }
}
