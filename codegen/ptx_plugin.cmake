# ptx_plugin.cmake: the PTX code generator plugin libdckc_ptx.so (cg_ptx.c + LLVM 16).
#
# dckc and libdckrt never link LLVM: codegen/cg_ptx_load.c (in the compiler library) dlopens
# this plugin the first time PTX is asked for. By default LLVM is linked statically into the
# plugin (DCK_PTX_LLVM_STATIC=ON): it loads in about half the time of libLLVM-16.so (see
# docs/ptx.md for the measurements). Only dckc_ptx_plugin() is exported (version script), so
# the plugin's LLVM cannot clash with another LLVM in the process (PoCL, Mesa).
option(DCK_PTX_LLVM_STATIC "Link LLVM statically into the PTX plugin (else libLLVM-16.so)" ON)
find_program(DCK_LLVM_CONFIG NAMES llvm-config-16 llvm-config
             HINTS /usr/lib/llvm-16/bin DOC "llvm-config of LLVM 16 (the PTX backend)")

set(DCK_HAVE_PTX_PLUGIN OFF)
if(DCK_LLVM_CONFIG)
  execute_process(COMMAND ${DCK_LLVM_CONFIG} --version OUTPUT_VARIABLE _llvm_version
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_llvm_version VERSION_GREATER_EQUAL 16)
    set(DCK_HAVE_PTX_PLUGIN ON)
  else()
    message(STATUS "PTX backend: LLVM ${_llvm_version} is too old (sm_90 needs LLVM 16); not built")
  endif()
else()
  message(STATUS "PTX backend: llvm-config-16 not found (apt install llvm-16-dev libzstd-dev); not built")
endif()

if(DCK_HAVE_PTX_PLUGIN)
  execute_process(COMMAND ${DCK_LLVM_CONFIG} --includedir OUTPUT_VARIABLE _llvm_inc OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${DCK_LLVM_CONFIG} --libdir OUTPUT_VARIABLE _llvm_libdir OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(_llvm_components nvptxcodegen nvptxdesc nvptxinfo passes bitreader linker analysis)
  if(DCK_PTX_LLVM_STATIC)
    execute_process(COMMAND ${DCK_LLVM_CONFIG} --link-static --libs ${_llvm_components}
                    OUTPUT_VARIABLE _llvm_libs OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND ${DCK_LLVM_CONFIG} --link-static --system-libs
                    OUTPUT_VARIABLE _llvm_sys OUTPUT_STRIP_TRAILING_WHITESPACE)
  else()
    execute_process(COMMAND ${DCK_LLVM_CONFIG} --link-shared --libs ${_llvm_components}
                    OUTPUT_VARIABLE _llvm_libs OUTPUT_STRIP_TRAILING_WHITESPACE)
    set(_llvm_sys "")
  endif()
  separate_arguments(_llvm_libs UNIX_COMMAND "${_llvm_libs}")
  separate_arguments(_llvm_sys UNIX_COMMAND "${_llvm_sys}")

  add_library(dckc_ptx MODULE
    ${CMAKE_CURRENT_SOURCE_DIR}/cg_ptx.c
    ${PROJECT_SOURCE_DIR}/base/util.c
    ${PROJECT_SOURCE_DIR}/base/builtins.c)
  set_target_properties(dckc_ptx PROPERTIES
    PREFIX "lib" OUTPUT_NAME dckc_ptx
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
  target_include_directories(dckc_ptx PRIVATE ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_include_directories(dckc_ptx SYSTEM PRIVATE ${_llvm_inc})
  target_link_directories(dckc_ptx PRIVATE ${_llvm_libdir})
  target_link_options(dckc_ptx PRIVATE
    "LINKER:--version-script=${CMAKE_CURRENT_SOURCE_DIR}/cg_ptx.map"
    "LINKER:--as-needed" "LINKER:-Bsymbolic" "LINKER:--gc-sections")
  target_link_libraries(dckc_ptx PRIVATE ${_llvm_libs} ${_llvm_sys} stdc++ m Threads::Threads)
  set_property(TARGET dckc_ptx APPEND PROPERTY LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cg_ptx.map)
  install(TARGETS dckc_ptx LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

  # where the loader looks (besides $DCK_PTX_PLUGIN and next to the binary)
  target_compile_definitions(dckcomp PRIVATE
    DCK_PTX_PLUGIN_BUILD_PATH="${CMAKE_BINARY_DIR}/lib/libdckc_ptx.so"
    DCK_PTX_PLUGIN_INSTALL_PATH="${CMAKE_INSTALL_FULL_LIBDIR}/libdckc_ptx.so")
  # whatever links the compiler library can produce PTX once it is built
  add_dependencies(dckcomp dckc_ptx)
endif()
target_link_libraries(dckcomp PUBLIC ${CMAKE_DL_LIBS})
