#pragma once

#include <cstdint>
#include <string_view>

namespace spop {

// DISCONNECT status codes (spop.md §7). HAProxy indexes a 100-entry string table with
// the code, so stay inside this list.
enum class Status : uint32_t {
  normal = 0,
  io_error = 1,
  timeout = 2,
  frame_too_big = 3,
  invalid_frame = 4,
  no_version = 5,
  no_max_frame_size = 6,
  no_capabilities = 7,
  unsupported_version = 8,
  bad_max_frame_size = 9,
  fragmentation_not_supported = 10,
  invalid_interlaced_frames = 11,
  frame_id_not_found = 12,
  resource_allocation = 13,
  unknown = 99,
};

// Precise decode/encode errors. status_of() maps each to the DISCONNECT code of spop.md §8.
enum class Error : uint8_t {
  none,
  need_more,               // not an error: the buffer does not hold a whole frame yet
  frame_too_short,         // LEN < 7
  frame_too_big,           // LEN > the max frame size the receiver announced
  truncated_varint,        // the data ends before a varint byte < 128
  varint_too_long,         // more than 10 bytes
  truncated,               // fixed-size data (u8, u32, IPv4, IPv6) runs past the end
  bad_type,                // reserved type id 10-15
  bad_bool,                // BOOL type byte with flags other than 0x00/0x10
  length_overflow,         // a length varint says more bytes than remain
  bad_nb_args,             // nb-args disagrees with the arguments present
  wrong_value_type,        // known KV key carrying a value of the wrong type
  output_too_small,        // encoder: the caller's buffer is too small
  exceeds_max_frame_size,  // encoder: the frame would exceed the max frame size
  value_out_of_range,      // integer outside its type's or its key's range
  bad_action,              // unknown ACK action type
  bad_scope,               // variable scope byte > 4
  bad_frame_id,            // sid/fid not allowed for this frame type
  bad_value,               // encoder: a Value that cannot be put on the wire
};

Status status_of(Error) noexcept;
std::string_view describe(Error) noexcept;
std::string_view describe(Status) noexcept;

}  // namespace spop
