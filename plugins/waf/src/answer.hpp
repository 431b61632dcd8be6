// A verdict as the variables HAProxy rules are written with, in either dialect: the
// plugin's own names, or coraza-spoa's, so its haproxy.cfg works unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "inspection.hpp"
#include "settings.hpp"

namespace spoa::waf {

// Where the variables go (the SDK's reply in the plugin, a recorder in the tests).
class AnswerSink {
 public:
  virtual ~AnswerSink() = default;
  virtual void set(std::string_view name, std::string_view value) = 0;
  virtual void set(std::string_view name, std::int64_t value) = 0;
  virtual void set(std::string_view name, bool value) = 0;
};

// `id`: the transaction id (coraza-spoa answers it as txn.coraza.id, and its response
// message sends it back).
void write_answer(const Verdict& verdict, Dialect dialect, std::string_view id, AnswerSink& sink);

// coraza-spoa relies on HAProxy's `set-on-error error` for its failures; its rules test
// `var(txn.coraza.error) -m int gt 0`. The plugin sets that variable itself, with HAProxy's
// own SPOE error numbers where one means the same (2 timeout, 3 too big, 4 invalid) and 1
// (I/O error) for everything else, so those rules fire for shed requests too.
std::int64_t coraza_error_code(Failure failure) noexcept;

}  // namespace spoa::waf
