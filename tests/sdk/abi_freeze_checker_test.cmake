# Proves sdk/abi/check-abi.cmake catches what it exists to catch, on copies of plugin.h
# and of its record (the real files are never touched).
#   cmake -DCASE=<case> -DCHECKER=... -DHEADER=... -DRECORD=... -DWORK_DIR=... -P <this>
cmake_minimum_required(VERSION 3.16)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(READ "${HEADER}" header)
file(READ "${RECORD}" record)

function(run_checker header_text record_text)
  file(WRITE "${WORK_DIR}/plugin.h" "${header_text}")
  file(WRITE "${WORK_DIR}/plugin.h.sha256" "${record_text}")
  execute_process(COMMAND ${CMAKE_COMMAND} -DHEADER=${WORK_DIR}/plugin.h
                          -DRECORD=${WORK_DIR}/plugin.h.sha256 -P ${CHECKER}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REGEX REPLACE "[ \n]+" " " text "${out}${err}")  # CMake wraps long messages
  set(rc ${rc} PARENT_SCOPE)
  set(text "${text}" PARENT_SCOPE)
endfunction()

function(expect_failure_mentioning)
  if(rc EQUAL 0)
    message(FATAL_ERROR "the checker accepted it:\n${text}")
  endif()
  foreach(needle IN LISTS ARGN)
    string(FIND "${text}" "${needle}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "the checker failed, but without '${needle}':\n${text}")
    endif()
  endforeach()
endfunction()

# The header with SPOA_ABI_MINOR one higher.
string(REGEX MATCH "#define SPOA_ABI_MINOR ([0-9]+)" minor_line "${header}")
math(EXPR next_minor "${CMAKE_MATCH_1} + 1")
string(REGEX MATCH "#define SPOA_ABI_MAJOR ([0-9]+)" major_line "${header}")
set(major ${CMAKE_MATCH_1})
string(REPLACE "${minor_line}" "#define SPOA_ABI_MINOR ${next_minor}" bumped "${header}")
string(APPEND bumped "/* a field appended in ${major}.${next_minor} */\n")

if(CASE STREQUAL "detects_changed_header")
  # Even a comment: the documented contract is part of the ABI.
  run_checker("${header}/* an edit without a version bump */\n" "${record}")
  expect_failure_mentioning("changed, but ABI" "is already recorded" "bump SPOA_ABI_MINOR"
                            "SPOA_ABI_MAJOR")
elseif(CASE STREQUAL "detects_unrecorded_version")
  run_checker("${bumped}" "${record}")
  string(SHA256 digest "${bumped}")
  expect_failure_mentioning("is not recorded" "${major}.${next_minor} ${digest}")
elseif(CASE STREQUAL "accepts_bumped_and_recorded_version")
  string(SHA256 digest "${bumped}")
  run_checker("${bumped}" "${record}${major}.${next_minor} ${digest}\n")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the checker refused a bumped, recorded header:\n${text}")
  endif()
elseif(CASE STREQUAL "rejects_malformed_record")
  run_checker("${header}" "${record}1.0 not-a-digest\n")
  expect_failure_mentioning("is not '<MAJOR>.<MINOR> <sha256>'")
else()
  message(FATAL_ERROR "unknown CASE '${CASE}'")
endif()
message(STATUS "${CASE}: ok")
