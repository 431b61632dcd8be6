# Fails when sdk/include/spoa/plugin.h no longer matches the digest recorded for its ABI
# version: a released ABI must never change under the same version number, because
# plugins built against it are already out there.
#
#   cmake -P sdk/abi/check-abi.cmake                       # the repository's header
#   cmake -DHEADER=<plugin.h> -DRECORD=<file> -P check-abi.cmake
#
# RECORD holds one line per released version, "<MAJOR>.<MINOR> <digest>", the digest being
# the SHA-256 of plugin.h without its comments (abi-digest.cmake: a comment edit is free);
# blank lines and lines starting with # are ignored.
cmake_minimum_required(VERSION 3.16)
include("${CMAKE_CURRENT_LIST_DIR}/abi-digest.cmake")

if(NOT DEFINED HEADER)
  get_filename_component(HEADER "${CMAKE_CURRENT_LIST_DIR}/../include/spoa/plugin.h" ABSOLUTE)
endif()
if(NOT DEFINED RECORD)
  set(RECORD "${CMAKE_CURRENT_LIST_DIR}/plugin.h.sha256")
endif()
foreach(file IN ITEMS "${HEADER}" "${RECORD}")
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "check-abi: ${file}: no such file")
  endif()
endforeach()

file(STRINGS "${HEADER}" defines REGEX "^#define SPOA_ABI_(MAJOR|MINOR) ")
set(major "")
set(minor "")
foreach(line IN LISTS defines)
  if(line MATCHES "^#define SPOA_ABI_MAJOR ([0-9]+)$")
    set(major ${CMAKE_MATCH_1})
  elseif(line MATCHES "^#define SPOA_ABI_MINOR ([0-9]+)$")
    set(minor ${CMAKE_MATCH_1})
  endif()
endforeach()
if(major STREQUAL "" OR minor STREQUAL "")
  message(FATAL_ERROR "check-abi: ${HEADER}: no '#define SPOA_ABI_MAJOR <n>' and "
                      "'#define SPOA_ABI_MINOR <n>' lines")
endif()
set(version "${major}.${minor}")
file(READ "${HEADER}" header_text)
spoa_abi_digest("${header_text}" digest)
set(line_to_add "${version} ${digest}")

# Not file(STRINGS): it drops blank lines, and error messages give line numbers.
file(READ "${RECORD}" content)
string(REPLACE ";" "," content "${content}")
string(REPLACE "\n" ";" lines "${content}")
set(number 0)
set(recorded "")
set(newest_major -1)
set(newest_minor -1)
foreach(line IN LISTS lines)
  math(EXPR number "${number} + 1")
  if(line MATCHES "^[ \t]*(#.*)?$")
    continue()
  endif()
  set(length 0)
  if(line MATCHES "^([0-9]+)\\.([0-9]+) ([0-9a-f]+)$")
    string(LENGTH "${CMAKE_MATCH_3}" length)
  endif()
  if(NOT length EQUAL 64)
    message(FATAL_ERROR "check-abi: ${RECORD}:${number}: '${line}' is not "
                        "'<MAJOR>.<MINOR> <sha256>'")
  endif()
  if(CMAKE_MATCH_1 GREATER newest_major OR
     (CMAKE_MATCH_1 EQUAL newest_major AND CMAKE_MATCH_2 GREATER newest_minor))
    set(newest_major ${CMAKE_MATCH_1})
    set(newest_minor ${CMAKE_MATCH_2})
  endif()
  if(CMAKE_MATCH_1 EQUAL major AND CMAKE_MATCH_2 EQUAL minor)
    set(recorded ${CMAKE_MATCH_3})
  endif()
endforeach()

if(recorded STREQUAL digest)
  message(STATUS "check-abi: plugin.h matches the digest recorded for ABI ${version}")
  return()
endif()

if(NOT recorded STREQUAL "")
  message(FATAL_ERROR
    "check-abi: ${HEADER} changed (a declaration, not only a comment), but ABI ${version} is already recorded in ${RECORD} "
    "with another digest.\n"
    "  recorded: ${recorded}\n"
    "  now:      ${digest}\n"
    "Plugins built against ABI ${version} exist, so it cannot change in place. Either undo the "
    "change, or bump SPOA_ABI_MINOR (an append-only change: new fields or table entries at "
    "the end) or SPOA_ABI_MAJOR (anything incompatible) in plugin.h, then add a line for "
    "the new version to ${RECORD}; running this check again prints the exact line.")
endif()

if(major LESS newest_major OR (major EQUAL newest_major AND minor LESS newest_minor))
  message(FATAL_ERROR
    "check-abi: ${HEADER} says ABI ${version}, older than ${newest_major}.${newest_minor} "
    "recorded in ${RECORD}: the ABI version only goes up.")
endif()

message(FATAL_ERROR
  "check-abi: ABI ${version} is not recorded in ${RECORD}. If this version of plugin.h is "
  "final (bump SPOA_ABI_MINOR/MAJOR first if ${version} was already released), add the line\n"
  "  ${line_to_add}\n")
