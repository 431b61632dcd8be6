# A staged install stays in its tree: `cmake --install --prefix P` writes only under P, and
# DESTDIR=D writes only under D (the default config included: it once went to
# /usr/local/etc whatever --prefix said).
#   cmake -DBUILD_DIR=... -DWORK_DIR=... -P install_prefix_test.cmake
cmake_minimum_required(VERSION 3.16)
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# `root` must start every path of the manifest (--prefix); with `destdir`, the manifest
# lists paths as the target system sees them, and each must exist under destdir instead.
function(check_manifest root what destdir)
  file(STRINGS "${BUILD_DIR}/install_manifest.txt" installed)
  if(NOT installed)
    message(FATAL_ERROR "${what}: nothing installed")
  endif()
  set(config_seen FALSE)
  foreach(path IN LISTS installed)
    string(FIND "${path}" "${root}/" at)
    if(NOT at EQUAL 0)
      message(FATAL_ERROR "${what}: ${path} is outside ${root}")
    endif()
    if(destdir AND NOT EXISTS "${destdir}${path}")
      message(FATAL_ERROR "${what}: ${path} is not under DESTDIR ${destdir}")
    endif()
    if(path MATCHES "/etc/spoa-host/spoa-host.toml$")
      set(config_seen TRUE)
    endif()
  endforeach()
  if(NOT config_seen)
    message(FATAL_ERROR "${what}: no etc/spoa-host/spoa-host.toml among:\n${installed}")
  endif()
endfunction()

execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install --prefix failed:\n${err}")
endif()
check_manifest("${WORK_DIR}/prefix" "--prefix" "")

set(ENV{DESTDIR} "${WORK_DIR}/stage")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix /usr
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
unset(ENV{DESTDIR})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "DESTDIR install failed:\n${err}")
endif()
check_manifest("" "DESTDIR" "${WORK_DIR}/stage")
if(NOT EXISTS "${WORK_DIR}/stage/etc/spoa-host/spoa-host.toml")
  message(FATAL_ERROR "DESTDIR with prefix /usr: the config is not at DESTDIR/etc/spoa-host")
endif()
message(STATUS "staged installs stay in their tree")
