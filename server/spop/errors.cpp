#include "spop/errors.hpp"

namespace spop {

Status status_of(Error error) noexcept {
  switch (error) {
    case Error::none:
    case Error::need_more:
      return Status::normal;
    case Error::frame_too_big:
    case Error::exceeds_max_frame_size:
      return Status::frame_too_big;
    case Error::output_too_small:
      return Status::resource_allocation;
    case Error::frame_too_short:
    case Error::truncated_varint:
    case Error::varint_too_long:
    case Error::truncated:
    case Error::bad_type:
    case Error::bad_bool:
    case Error::length_overflow:
    case Error::bad_nb_args:
    case Error::wrong_value_type:
    case Error::value_out_of_range:
    case Error::bad_action:
    case Error::bad_scope:
    case Error::bad_frame_id:
    case Error::bad_value:
      return Status::invalid_frame;
  }
  return Status::unknown;
}

std::string_view describe(Error error) noexcept {
  switch (error) {
    case Error::none:
      return "no error";
    case Error::need_more:
      return "incomplete frame";
    case Error::frame_too_short:
      return "frame shorter than 7 bytes";
    case Error::frame_too_big:
      return "frame larger than the max frame size";
    case Error::truncated_varint:
      return "truncated varint";
    case Error::varint_too_long:
      return "varint longer than 10 bytes";
    case Error::truncated:
      return "truncated data";
    case Error::bad_type:
      return "reserved data type";
    case Error::bad_bool:
      return "invalid boolean flags";
    case Error::length_overflow:
      return "length exceeds the remaining bytes";
    case Error::bad_nb_args:
      return "wrong number of arguments";
    case Error::wrong_value_type:
      return "wrong value type for key";
    case Error::value_out_of_range:
      return "integer out of range";
    case Error::bad_action:
      return "unknown action type";
    case Error::bad_scope:
      return "unknown variable scope";
    case Error::bad_frame_id:
      return "invalid stream-id or frame-id";
    case Error::bad_value:
      return "value cannot be encoded";
    case Error::output_too_small:
      return "output buffer too small";
    case Error::exceeds_max_frame_size:
      return "frame would exceed the max frame size";
  }
  return "unknown error";
}

std::string_view describe(Status status) noexcept {
  switch (status) {
    case Status::normal:
      return "normal";
    case Status::io_error:
      return "I/O error";
    case Status::timeout:
      return "timeout";
    case Status::frame_too_big:
      return "frame too big";
    case Status::invalid_frame:
      return "invalid frame";
    case Status::no_version:
      return "version missing";
    case Status::no_max_frame_size:
      return "max-frame-size missing";
    case Status::no_capabilities:
      return "capabilities missing";
    case Status::unsupported_version:
      return "unsupported version";
    case Status::bad_max_frame_size:
      return "max-frame-size too big or too small";
    case Status::fragmentation_not_supported:
      return "fragmentation not supported";
    case Status::invalid_interlaced_frames:
      return "invalid interlaced frames";
    case Status::frame_id_not_found:
      return "frame-id not found";
    case Status::resource_allocation:
      return "resource allocation error";
    case Status::unknown:
      return "unknown error";
  }
  return "unknown error";
}

}  // namespace spop
