# spoa_add_plugin(<name> SOURCES <file>...
#                 [OUTPUT_NAME <stem>] [OUTPUT_DIRECTORY <dir>]
#                 [INSTALL_DESTINATION <dir> [COMPONENT <component>]])
#
# Builds the spoa-host plugin <stem>.so (stem defaults to <name>) as a MODULE library:
#  - no "lib" prefix, because spoa-host configs name plugins by file ("echo.so");
#  - hidden symbol visibility, so the only export is the entry symbol the SDK marks with
#    SPOA_PLUGIN_EXPORT, and two plugins loaded in one process cannot interpose each
#    other's internals;
#  - linked to spoa::sdk, which is headers only: a plugin never links the host, it calls
#    it through the function table handed to init();
#  - with GCC on ELF platforms, --no-undefined, so a plugin that calls a host symbol by
#    name fails at link time instead of at dlopen() on the server;
#  - with g++, -fno-gnu-unique: libstdc++'s inline statics otherwise become STB_GNU_UNIQUE
#    symbols, which make dlclose() a no-op, so a reload (SIGHUP) would keep running the
#    old code of a rebuilt plugin.
# Used in-tree for the bundled plugins and shipped with the SDK for plugin authors.
include_guard(GLOBAL)
if(CMAKE_VERSION VERSION_LESS 3.18)
  message(FATAL_ERROR "spoa_add_plugin() needs CMake 3.18 or later ($<LINK_LANG_AND_ID>)")
endif()

function(spoa_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg ""
                        "OUTPUT_NAME;OUTPUT_DIRECTORY;INSTALL_DESTINATION;COMPONENT" "SOURCES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "spoa_add_plugin(${name}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "spoa_add_plugin(${name}): SOURCES is required")
  endif()
  if(arg_COMPONENT AND NOT arg_INSTALL_DESTINATION)
    message(FATAL_ERROR "spoa_add_plugin(${name}): COMPONENT needs INSTALL_DESTINATION")
  endif()
  if(NOT TARGET spoa::sdk)
    message(FATAL_ERROR "spoa_add_plugin(${name}): target spoa::sdk not found; "
                        "call find_package(spoa-host-sdk REQUIRED) first")
  endif()

  add_library(${name} MODULE ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE spoa::sdk)
  set_target_properties(${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden
                                           CXX_VISIBILITY_PRESET hidden
                                           VISIBILITY_INLINES_HIDDEN ON)
  if(arg_OUTPUT_NAME)
    set_target_properties(${name} PROPERTIES OUTPUT_NAME ${arg_OUTPUT_NAME})
  endif()
  if(NOT APPLE AND NOT WIN32)
    # Clang does not link the sanitizer runtimes into shared objects, so there the flag
    # would reject every sanitized plugin; GCC does, so the check stays on with GCC.
    target_link_options(
      ${name} PRIVATE
      "$<$<OR:$<LINK_LANG_AND_ID:C,GNU>,$<LINK_LANG_AND_ID:CXX,GNU>>:-Wl,--no-undefined>")
  endif()
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-gnu-unique>)
  if(arg_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${arg_OUTPUT_DIRECTORY})
  endif()
  if(arg_INSTALL_DESTINATION)
    if(NOT arg_COMPONENT)
      set(arg_COMPONENT plugins)
    endif()
    install(TARGETS ${name} LIBRARY DESTINATION ${arg_INSTALL_DESTINATION}
            COMPONENT ${arg_COMPONENT})
  endif()
endfunction()
