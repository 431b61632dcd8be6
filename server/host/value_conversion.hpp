#pragma once
// Conversions between the codec's spop::Value and the ABI's spoa_value. Both are views:
// nothing is copied, so the result lives as long as the source's bytes.
#include <spoa/plugin.h>

#include <optional>

#include "spop/value.hpp"

namespace spoa::host {

spoa_value to_abi(const spop::Value& value) noexcept;
// nullopt for a type id outside the ten SPOP types.
std::optional<spop::Value> from_abi(const spoa_value& value) noexcept;

}  // namespace spoa::host
