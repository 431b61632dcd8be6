#include "spop/ack.hpp"

#include "spop/reader.hpp"

namespace spop {

namespace {

Error decode_actions(std::span<const uint8_t> payload, std::vector<Action>& out) {
  Reader r(payload);
  while (!r.empty()) {
    uint8_t type = 0;
    uint8_t nb_args = 0;
    uint8_t scope = 0;
    Action a;
    if (Error e = r.read_u8(type); e != Error::none) return e;
    if (type != static_cast<uint8_t>(ActionType::set_var) &&
        type != static_cast<uint8_t>(ActionType::unset_var)) {
      return Error::bad_action;
    }
    a.type = static_cast<ActionType>(type);
    if (Error e = r.read_u8(nb_args); e != Error::none) return e;
    if (nb_args != (a.type == ActionType::set_var ? 3 : 2)) return Error::bad_nb_args;
    if (Error e = r.read_u8(scope); e != Error::none) return e;
    a.scope = static_cast<Scope>(scope);
    if (!is_valid(a.scope)) return Error::bad_scope;
    if (Error e = r.read_name(a.name); e != Error::none) return e;
    if (a.type == ActionType::set_var) {
      if (Error e = r.read_value(a.value); e != Error::none) return e;
    }
    out.push_back(a);
  }
  return Error::none;
}

}  // namespace

Error decode_ack(std::span<const uint8_t> payload, std::vector<Action>& out) {
  out.clear();
  const Error e = decode_actions(payload, out);
  if (e != Error::none) out.clear();
  return e;
}

}  // namespace spop
