# spoa_abi_digest(<text> <out-var>): the SHA-256 of plugin.h's declarations only.
#
# Comments are removed and every run of whitespace becomes one space before hashing, so
# that documenting the ABI better (or reformatting it) never needs a version bump, while
# any change to a token (a field, a type, a constant, a macro) does.
function(spoa_abi_digest text out)
  # /* ... */ blocks (C has no nesting), then // to the end of the line. The header has no
  # string literal containing either marker; a "//" in one would be cut here and the
  # digest would merely be stricter than needed.
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" " " text "${text}")
  string(REGEX REPLACE "//[^\n]*" " " text "${text}")
  string(REGEX REPLACE "[ \t\r\n]+" " " text "${text}")
  string(STRIP "${text}" text)
  string(SHA256 digest "${text}")
  set(${out} "${digest}" PARENT_SCOPE)
endfunction()
