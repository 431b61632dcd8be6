# SPOA_SANITIZE is a comma list handed to -fsanitize= for every target in the tree:
# "address,undefined" for the ASan+UBSan build, "thread" for TSan.
set(SPOA_SANITIZE "" CACHE STRING "Sanitizers to build with (e.g. address,undefined or thread)")

if(SPOA_SANITIZE)
  add_compile_options(-fsanitize=${SPOA_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${SPOA_SANITIZE})
  if(SPOA_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 warns (-Wtsan) that TSan does not model atomic_thread_fence, which Asio's
    # headers use; the warning is about TSan's coverage, not about our code.
    add_compile_options(-Wno-tsan)
  endif()
  if(SPOA_SANITIZE MATCHES "undefined")
    # A UBSan finding must fail the test, not scroll past in the log.
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
