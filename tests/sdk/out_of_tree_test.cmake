# The SDK as a plugin author outside this repository gets it: install the `sdk` component
# (what spoa-host-dev ships) into a temporary prefix, move that prefix (the files must be
# relocatable), build plugins against it with CMake and with pkg-config, and load every
# built .so: into the fake host, and into spoa-host --test when this build has it.
#
#   cmake -DBUILD_DIR=... -DSOURCE_ROOT=... -DPROJECT_DIR=... -DWORK_DIR=... -DGENERATOR=...
#         -DC_COMPILER=... -DCXX_COMPILER=... -DPKG_CONFIG=... -DLIBDIR=...
#         -DPLUGIN_INSTALL_DIR=... -DFAKE_HOST=... [-DSPOA_HOST=...] -P out_of_tree_test.cmake
cmake_minimum_required(VERSION 3.18)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n  ${ARGN}\n${out}\n${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

function(expect_line text line where)
  string(FIND "${text}" "${line}\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${where}: expected the line\n  ${line}\nin:\n${text}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(stage "${WORK_DIR}/stage")
set(prefix "${WORK_DIR}/moved prefix")  # a space, because real paths have them

# ---- 1. install, check, move -------------------------------------------------------------
run("installing the sdk component" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${stage}
    --component sdk)
set(expected include/spoa/plugin.h include/spoa/plugin.hpp
    ${LIBDIR}/pkgconfig/spoa-host-sdk.pc
    ${LIBDIR}/cmake/spoa-host-sdk/spoa-host-sdkConfig.cmake
    ${LIBDIR}/cmake/spoa-host-sdk/spoa-host-sdkConfigVersion.cmake
    ${LIBDIR}/cmake/spoa-host-sdk/spoa-host-sdkTargets.cmake
    ${LIBDIR}/cmake/spoa-host-sdk/SpoaAddPlugin.cmake)
# An absolute plugin directory would be installed outside the temporary prefix.
if(NOT IS_ABSOLUTE "${PLUGIN_INSTALL_DIR}")
  run("installing the plugins component" ${CMAKE_COMMAND} --install ${BUILD_DIR}
      --prefix ${stage} --component plugins)
  list(APPEND expected ${PLUGIN_INSTALL_DIR}/echo.so ${PLUGIN_INSTALL_DIR}/delay.so
       ${PLUGIN_INSTALL_DIR}/example-c.so)
endif()
foreach(file IN LISTS expected)
  if(NOT EXISTS "${stage}/${file}")
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()

# Relocatable: no installed text file may name the build or source tree, or the prefix.
file(GLOB_RECURSE installed_text "${stage}/*.cmake" "${stage}/*.pc" "${stage}/*.h"
     "${stage}/*.hpp")
foreach(file IN LISTS installed_text)
  file(READ "${file}" content)
  foreach(forbidden IN ITEMS "${BUILD_DIR}" "${SOURCE_ROOT}" "${stage}")
    string(FIND "${content}" "${forbidden}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} contains the absolute path ${forbidden}")
    endif()
  endforeach()
endforeach()

file(RENAME "${stage}" "${prefix}")
if(IS_ABSOLUTE "${PLUGIN_INSTALL_DIR}")
  set(plugin_dir "${PLUGIN_INSTALL_DIR}")
else()
  set(plugin_dir "${prefix}/${PLUGIN_INSTALL_DIR}")
endif()

# ---- 2. CMake: find_package(spoa-host-sdk) + spoa_add_plugin() -----------------------------
set(cmake_build "${WORK_DIR}/cmake-build")
run("configuring the out-of-tree project" ${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${cmake_build}
    -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=${C_COMPILER}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DEXPECTED_PLUGIN_DIR=${plugin_dir}")
run("building the out-of-tree project" ${CMAKE_COMMAND} --build ${cmake_build})
set(built "${cmake_build}/greeter-c.so" "${cmake_build}/greeter-cpp.so")

# ---- 3. pkg-config + plain compiler commands ---------------------------------------------
if(NOT PKG_CONFIG)
  message(WARNING "SKIPPED: the pkg-config half (no pkg-config program); the CMake half passed")
else()
  set(pc_env ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${prefix}/${LIBDIR}/pkgconfig")
  run("pkg-config --cflags" ${pc_env} ${PKG_CONFIG} --cflags spoa-host-sdk)
  string(STRIP "${output}" cflags_text)
  separate_arguments(cflags UNIX_COMMAND "${cflags_text}")
  run("pkg-config --variable=plugindir" ${pc_env} ${PKG_CONFIG} --variable=plugindir
      spoa-host-sdk)
  string(STRIP "${output}" pc_plugin_dir)
  string(REPLACE "\\ " " " pc_plugin_dir "${pc_plugin_dir}")  # pkg-config escapes spaces
  file(REAL_PATH "${pc_plugin_dir}" pc_plugin_dir)
  file(REAL_PATH "${plugin_dir}" want_plugin_dir)
  if(NOT pc_plugin_dir STREQUAL want_plugin_dir)
    message(FATAL_ERROR "pkg-config plugindir is ${pc_plugin_dir}, expected ${want_plugin_dir}")
  endif()
  run("pkg-config --modversion" ${pc_env} ${PKG_CONFIG} --modversion spoa-host-sdk)
  if(NOT output MATCHES "^[0-9]+\\.[0-9]+\n$")
    message(FATAL_ERROR "pkg-config --modversion: '${output}' is not MAJOR.MINOR")
  endif()

  set(pc_build "${WORK_DIR}/pkg-config-build")
  file(MAKE_DIRECTORY "${pc_build}")
  set(shared -shared -fPIC -fvisibility=hidden)
  run("cc with pkg-config" ${C_COMPILER} -std=c99 -Wall -Wextra -pedantic -Werror ${shared}
      ${cflags} ${PROJECT_DIR}/greeter.c -o ${pc_build}/greeter-c.so)
  run("c++ with pkg-config" ${CXX_COMPILER} -std=c++17 -Wall -Wextra -Wpedantic -Werror
      ${shared} ${cflags} ${PROJECT_DIR}/greeter.cpp -o ${pc_build}/greeter-cpp.so)
  list(APPEND built "${pc_build}/greeter-c.so" "${pc_build}/greeter-cpp.so")
endif()

# ---- 4. load every built plugin ----------------------------------------------------------
foreach(plugin IN LISTS built)
  run("loading ${plugin} into the fake host" ${FAKE_HOST} --plugin ${plugin} --test greet
      ip=ipv4:192.0.2.1)
  expect_line("${output}" "set-var txn.greeting string \"hello\"" "spoa-fake-host ${plugin}")
  expect_line("${output}" "set-var txn.ip_seen bool true" "spoa-fake-host ${plugin}")
  expect_line("${output}" "result done" "spoa-fake-host ${plugin}")
endforeach()

if(SPOA_HOST)
  if(NOT EXISTS "${SPOA_HOST}")
    message(FATAL_ERROR "this build has a spoa-host target, but ${SPOA_HOST} is not built")
  endif()
  foreach(plugin IN LISTS built)
    get_filename_component(dir "${plugin}" DIRECTORY)
    get_filename_component(file "${plugin}" NAME)
    set(config "${WORK_DIR}/${file}.toml")
    file(WRITE "${config}" "[plugins.greeter]\npath = \"${file}\"\nmessages = [\"greet\"]\n")
    run("loading ${plugin} into spoa-host --test" ${SPOA_HOST} -c ${config} --plugin-dir ${dir}
        --test greet ip=ipv4:192.0.2.1)
    expect_line("${output}" "set-var txn.greeting string \"hello\"" "spoa-host --test ${plugin}")
    expect_line("${output}" "set-var txn.ip_seen bool true" "spoa-host --test ${plugin}")
  endforeach()
  message(STATUS "loaded ${built} into spoa-host --test")
else()
  message(STATUS "no spoa-host target in this build: plugins loaded into the fake host only")
endif()
