#include "spop/errors.hpp"

#include <gtest/gtest.h>

#include "wire.hpp"

namespace spop {
namespace {

TEST(StatusOf, TooBigFramesMapToCode3) {
  EXPECT_EQ(status_of(Error::frame_too_big), Status::frame_too_big);
  EXPECT_EQ(status_of(Error::exceeds_max_frame_size), Status::frame_too_big);
  EXPECT_EQ(static_cast<uint32_t>(Status::frame_too_big), 3u);
}

TEST(StatusOf, MalformedInputMapsToCode4) {
  for (Error e : {Error::frame_too_short, Error::truncated_varint, Error::varint_too_long,
                  Error::truncated, Error::bad_type, Error::bad_bool, Error::length_overflow,
                  Error::bad_nb_args, Error::wrong_value_type, Error::value_out_of_range,
                  Error::bad_action, Error::bad_scope, Error::bad_frame_id, Error::bad_value}) {
    EXPECT_EQ(status_of(e), Status::invalid_frame) << describe(e);
  }
  EXPECT_EQ(static_cast<uint32_t>(Status::invalid_frame), 4u);
}

TEST(StatusOf, OutputTooSmallMapsToResourceAllocation) {
  EXPECT_EQ(status_of(Error::output_too_small), Status::resource_allocation);
  EXPECT_EQ(static_cast<uint32_t>(Status::resource_allocation), 13u);
}

TEST(StatusOf, NoErrorAndNeedMoreAreNormal) {
  EXPECT_EQ(status_of(Error::none), Status::normal);
  EXPECT_EQ(status_of(Error::need_more), Status::normal);
}

TEST(StatusCodes, MatchTheSpecTable) {
  EXPECT_EQ(static_cast<uint32_t>(Status::no_version), 5u);
  EXPECT_EQ(static_cast<uint32_t>(Status::unsupported_version), 8u);
  EXPECT_EQ(static_cast<uint32_t>(Status::bad_max_frame_size), 9u);
  EXPECT_EQ(static_cast<uint32_t>(Status::fragmentation_not_supported), 10u);
  EXPECT_EQ(static_cast<uint32_t>(Status::invalid_interlaced_frames), 11u);
  EXPECT_EQ(static_cast<uint32_t>(Status::frame_id_not_found), 12u);
  EXPECT_EQ(static_cast<uint32_t>(Status::unknown), 99u);
}

TEST(Describe, EveryErrorHasItsOwnText) {
  EXPECT_EQ(describe(Error::truncated_varint), "truncated varint");
  EXPECT_EQ(describe(Status::frame_too_big), "frame too big");
  for (int i = 0; i <= static_cast<int>(Error::bad_value); ++i) {
    const auto e = static_cast<Error>(i);
    EXPECT_FALSE(describe(e).empty());
    EXPECT_NE(describe(e), "unknown error") << i;
    for (int j = 0; j < i; ++j)
      EXPECT_NE(describe(e), describe(static_cast<Error>(j)));
  }
}

}  // namespace
}  // namespace spop
