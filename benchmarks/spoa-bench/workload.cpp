#include "workload.hpp"

#include <stdexcept>

#include "spop/notify.hpp"

namespace bench {

namespace {

// HAProxy drops variables whose name is not [A-Za-z0-9_.] (spop.md §9), and the echo
// plugin skips them.
bool is_variable_name(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string hex_prefix(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 16; ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  if (bytes.size() > 16) out += "...";
  return out;
}

std::string show(const spop::Value& v) {
  std::string s(spop::name_of(v.type));
  if (v.is_integer() || v.type == spop::DataType::boolean)
    return s + " " + std::to_string(v.integer);
  if (v.type == spop::DataType::null) return s;
  return s + "[" + std::to_string(v.bytes.size()) + "] " + hex_prefix(v.bytes);
}

}  // namespace

Workload build_workload(const Options& options) {
  Workload w;
  std::vector<uint8_t> frame(64 + options.message.size() + 16 * options.args.size() + [&] {
    size_t n = 0;
    for (const ArgSpec& a : options.args)
      n += a.name.size() + a.bytes.size();
    return n;
  }());
  spop::NotifyWriter writer(frame, 0, 1);
  bool ok = writer.add_message(options.message, static_cast<uint8_t>(options.args.size()));
  for (const ArgSpec& a : options.args)
    ok = ok && writer.add_arg(a.name, a.value());
  const spop::EncodeResult r = writer.finish();
  if (!ok || r.error != spop::Error::none)
    throw std::runtime_error("cannot encode the NOTIFY message");
  const size_t header = spop::frame_header_size(0, 1);
  w.notify_payload.assign(frame.begin() + static_cast<std::ptrdiff_t>(header),
                          frame.begin() + static_cast<std::ptrdiff_t>(r.size));

  for (const ArgSpec& a : options.args) {
    if (a.type == spop::DataType::null || !is_variable_name(a.name)) {
      if (!a.name.empty()) ++w.skipped_args;
      continue;
    }
    w.expected.push_back({a.name, a.value()});
    std::vector<uint8_t> action(spop::set_var_size(a.name, a.value()));
    if (spop::encode_set_var(action, options.scope, a.name, a.value()) != action.size())
      throw std::runtime_error("cannot encode a SET-VAR for --arg " + a.name);
    w.ack_actions.insert(w.ack_actions.end(), action.begin(), action.end());
  }
  return w;
}

std::string AckVerifier::check(std::span<const uint8_t> payload) {
  const spop::Error e = spop::decode_ack(payload, actions_);
  if (e != spop::Error::none)
    return "ACK payload does not decode: " + std::string(spop::describe(e));
  if (mode_ == Verify::any) return {};
  for (const Expected& want : workload_.expected) {
    const spop::Action* same_name = nullptr;
    bool found = false;
    for (const spop::Action& a : actions_) {
      if (a.name != want.name) continue;
      same_name = &a;
      if (a.type == spop::ActionType::set_var && a.scope == scope_ && a.value == want.value) {
        found = true;
        break;
      }
    }
    if (found) continue;
    if (same_name == nullptr)
      return "no SET-VAR '" + want.name + "' among the " + std::to_string(actions_.size()) +
             " actions";
    if (same_name->type != spop::ActionType::set_var) return "'" + want.name + "' is an UNSET-VAR";
    if (same_name->scope != scope_)
      return "SET-VAR '" + want.name + "' in scope " +
             std::to_string(static_cast<unsigned>(same_name->scope)) + ", expected " +
             std::to_string(static_cast<unsigned>(scope_));
    return "SET-VAR '" + want.name + "' = " + show(same_name->value) + ", expected " +
           show(want.value);
  }
  return {};
}

}  // namespace bench
