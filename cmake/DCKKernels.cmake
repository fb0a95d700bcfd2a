# DCKKernels.cmake: dck_add_kernels(), the .dck files of a CMake target (docs/build.md).
#
#   dck_add_kernels(<target>
#                   SOURCES a.dck [b.dck ...]
#                   [TARGETS c ptx opencl spirv msl | all]   (default: c)
#                   [INCLUDE_DIRS dir ...] [DEFINES NAME[=VALUE] ...]
#                   [OPTIONS dckc-option ...]                 (e.g. -O3 --checked --sm=80,90)
#                   [CPU_ISA isa ...]                         (default: every SIMD ISA of
#                                                              the target processor)
#                   [STATIC])                                 (link DCK::dckrt_static)
#
# The CPU code is always optimised (-O3 after the project's flags) and carries a SIMD variant
# per CPU_ISA entry (x86-64: sse4 avx2 avx512; aarch64: neon), the runtime picking the widest
# the machine has: a Debug or untyped build of the program does not make its kernels slow.
# The arguments are checked when CMake configures, not when the build runs dckc.
#
# For each source NAME.dck, dckc runs at build time (one compilation) and writes into
# ${CMAKE_CURRENT_BINARY_DIR}/dck/<target>/:
#   NAME.h        the typed launch API (--emit=header): NAME_<kernel>(...), dck_load_NAME()
#   NAME.embed.c  the .dckpkg of every TARGETS entry as a C array, and with `c` the CPU code
#                 itself, compiled into <target> and registered: no C compiler at run time
# with a depfile (-MD -MF) listing every file the source includes, so editing an included
# .dck rebuilds exactly the sources that include it. The folder is added to <target>'s
# include path and <target> links libdckrt. NAME becomes a C identifier ("my-k" -> my_k).
# Works with an installed DCK (find_package) and with add_subdirectory (the same DCK:: names).
if(CMAKE_VERSION VERSION_LESS 3.20)
  message(FATAL_ERROR "dck_add_kernels needs CMake 3.20 (DEPFILE with the Makefile generators)")
endif()

function(dck_add_kernels target)
  cmake_parse_arguments(PARSE_ARGV 1 DCK "STATIC" "" "SOURCES;TARGETS;INCLUDE_DIRS;DEFINES;OPTIONS;CPU_ISA")
  if(DCK_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "dck_add_kernels(${target}): unknown arguments: ${DCK_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "dck_add_kernels: '${target}' is not a target (add_executable/add_library first)")
  endif()
  if(NOT DCK_SOURCES)
    message(FATAL_ERROR "dck_add_kernels(${target}): no SOURCES")
  endif()
  if(NOT TARGET DCK::dckc)
    message(FATAL_ERROR "dck_add_kernels: DCK::dckc is not defined (find_package(DCK) or add_subdirectory first)")
  endif()
  get_property(_langs GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(NOT "C" IN_LIST _langs)
    message(FATAL_ERROR "dck_add_kernels(${target}): the generated code is C: add C to project(... LANGUAGES)")
  endif()
  if(NOT DCK_TARGETS)
    set(DCK_TARGETS c)
  endif()
  foreach(_t IN LISTS DCK_TARGETS)
    if(NOT _t MATCHES "^(c|ptx|opencl|spirv|msl|cuda|all)$")
      message(FATAL_ERROR "dck_add_kernels(${target}): unknown TARGETS entry '${_t}' "
                          "(expected c, ptx, opencl, spirv, msl, cuda or all)")
    endif()
  endforeach()
  list(JOIN DCK_TARGETS "," _targets)
  if(NOT DCK_CPU_ISA)
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
      set(DCK_CPU_ISA sse4 avx2 avx512)
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
      set(DCK_CPU_ISA neon)
    else()
      set(DCK_CPU_ISA scalar)
    endif()
  endif()
  foreach(_isa IN LISTS DCK_CPU_ISA)
    if(NOT _isa MATCHES "^(scalar|sse4|avx2|avx512|neon|native)$")
      message(FATAL_ERROR "dck_add_kernels(${target}): unknown CPU_ISA entry '${_isa}' "
                          "(expected scalar, sse4, avx2, avx512, neon or native)")
    endif()
  endforeach()
  list(JOIN DCK_CPU_ISA "," _isas)
  foreach(_src IN LISTS DCK_SOURCES)
    get_filename_component(_abs "${_src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_source_file_property(_gen "${_abs}" GENERATED)
    if(NOT EXISTS "${_abs}" AND NOT _gen)
      message(FATAL_ERROR "dck_add_kernels(${target}): source '${_src}' does not exist (${_abs})")
    endif()
  endforeach()

  set(_args --target=${_targets})
  if(NOT "--cpu-isa" IN_LIST DCK_OPTIONS AND NOT DCK_OPTIONS MATCHES "--cpu-isa=")
    list(APPEND _args --cpu-isa=${_isas})
  endif()
  foreach(_dir IN LISTS DCK_INCLUDE_DIRS)
    get_filename_component(_dir "${_dir}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND _args -I "${_dir}")
  endforeach()
  foreach(_def IN LISTS DCK_DEFINES)
    list(APPEND _args "-D${_def}")
  endforeach()
  list(APPEND _args ${DCK_OPTIONS})

  set(_outdir "${CMAKE_CURRENT_BINARY_DIR}/dck/${target}")
  file(MAKE_DIRECTORY "${_outdir}")
  foreach(_src IN LISTS DCK_SOURCES)
    get_filename_component(_abs "${_src}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    get_filename_component(_name "${_abs}" NAME_WLE)
    string(MAKE_C_IDENTIFIER "${_name}" _module)
    if(_module IN_LIST _modules)
      message(FATAL_ERROR "dck_add_kernels(${target}): two sources make module '${_module}' "
                          "(${_src}); give the files distinct names")
    endif()
    list(APPEND _modules ${_module})
    set(_h "${_outdir}/${_name}.h")
    set(_e "${_outdir}/${_name}.embed.c")
    set(_d "${_outdir}/${_name}.d")
    add_custom_command(
      OUTPUT "${_h}" "${_e}"
      COMMAND DCK::dckc --emit=header,embed ${_args} --module-name=${_module}
              -MD -MF "${_d}" -o "${_outdir}" "${_abs}"
      DEPENDS "${_abs}" DCK::dckc
      DEPFILE "${_d}"
      COMMENT "dckc ${_src} (${_targets})"
      VERBATIM)
    target_sources(${target} PRIVATE "${_h}" "${_e}")
    # generated C11 (stdatomic, _Float16): compiled as such whatever the target's standard,
    # and optimised whatever the build type (source options come after the target's flags)
    set_source_files_properties("${_e}" PROPERTIES LANGUAGE C
      COMPILE_OPTIONS "$<$<C_COMPILER_ID:GNU,Clang,AppleClang>:-std=gnu11;-w;-O3>")
  endforeach()
  target_include_directories(${target} PRIVATE "${_outdir}")
  if(DCK_STATIC)
    target_link_libraries(${target} PRIVATE DCK::dckrt_static)
  else()
    target_link_libraries(${target} PRIVATE DCK::dckrt)
  endif()
endfunction()
