# One place for the warning set, so every target (server, plugins, tests) is held to it.
option(SPOA_WERROR "Treat warnings as errors (CI turns this on)" OFF)

function(spoa_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(SPOA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
