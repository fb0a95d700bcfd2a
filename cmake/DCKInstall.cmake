# DCKInstall.cmake: how other projects use DCK (docs/build.md).
#
#  - installed: find_package(DCK) loads DCKConfig.cmake: the imported targets DCK::dckc,
#    DCK::dckrt (shared), DCK::dckrt_static, DCK::dckrun and dck_add_kernels();
#  - as a subdirectory: add_subdirectory(dck) gives the same names (aliases) and function;
#  - pkg-config: dckrt.pc (relocatable: its prefix is found from the file's own place).
#
# The installed static libdckrt.a carries the compiler library (dckcomp) inside it, as the
# shared library does, so linking it needs nothing else from DCK.
include(CMakePackageConfigHelpers)

# What the compiler library links (SPIRV-Tools, libstdc++, ...) becomes part of the installed
# static library's interface and of dckrt.pc's Libs.private.
set(DCK_PC_LIBS_PRIVATE "-lpthread -ldl -lm")
if(TARGET dckrt_static AND TARGET dckcomp)
  target_sources(dckrt_static PRIVATE $<TARGET_OBJECTS:dckcomp>)
  get_target_property(_dck_comp_libs dckcomp INTERFACE_LINK_LIBRARIES)
  foreach(_dck_lib IN LISTS _dck_comp_libs)
    if(TARGET "${_dck_lib}" OR _dck_lib MATCHES "\\$<" OR _dck_lib MATCHES "^::@" OR _dck_lib MATCHES "^(m|dl|pthread)$")
      continue()
    endif()
    target_link_libraries(dckrt_static INTERFACE "$<INSTALL_INTERFACE:${_dck_lib}>")
    if(IS_ABSOLUTE "${_dck_lib}")
      # -L<dir> -l<name>, not the build machine's path: the .pc file travels with the install;
      # a directory the linker searches anyway is left out
      get_filename_component(_dck_dir "${_dck_lib}" DIRECTORY)
      get_filename_component(_dck_name "${_dck_lib}" NAME_WE)
      string(REGEX REPLACE "^lib" "" _dck_name "${_dck_name}")
      if(NOT _dck_dir IN_LIST CMAKE_C_IMPLICIT_LINK_DIRECTORIES)
        string(APPEND DCK_PC_LIBS_PRIVATE " -L${_dck_dir}")
      endif()
      string(APPEND DCK_PC_LIBS_PRIVATE " -l${_dck_name}")
    else()
      string(APPEND DCK_PC_LIBS_PRIVATE " -l${_dck_lib}")
    endif()
  endforeach()
endif()

# ---- add_subdirectory: the names an installed DCK has ----
if(TARGET dckc AND NOT TARGET DCK::dckc)
  add_executable(DCK::dckc ALIAS dckc)
endif()
foreach(_dck_t dckrt dckrt_static dckrun)
  if(TARGET ${_dck_t} AND NOT TARGET DCK::${_dck_t})
    get_target_property(_dck_type ${_dck_t} TYPE)
    if(_dck_type STREQUAL "EXECUTABLE")
      add_executable(DCK::${_dck_t} ALIAS ${_dck_t})
    else()
      add_library(DCK::${_dck_t} ALIAS ${_dck_t})
    endif()
  endif()
endforeach()
include(${CMAKE_CURRENT_LIST_DIR}/DCKKernels.cmake)

# ---- install ----
set(DCK_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/DCK)
install(EXPORT DCKTargets NAMESPACE DCK:: DESTINATION ${DCK_CMAKE_INSTALL_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/DCKConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/DCKConfig.cmake
  INSTALL_DESTINATION ${DCK_CMAKE_INSTALL_DIR})
# 0.x: a new minor version may change the ABI (dck_abi.h), so only the same minor matches
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/DCKConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/DCKConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/DCKConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/DCKKernels.cmake
  DESTINATION ${DCK_CMAKE_INSTALL_DIR})
# the ABI header, for programs that link code of `dckc --target=c` themselves
install(FILES ${PROJECT_SOURCE_DIR}/abi/dck_abi.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# pkg-config: prefix relative to the .pc file (LIBDIR/pkgconfig), so the tree can move
set(_dck_pc_up "..")
string(REPLACE "/" ";" _dck_libdir_parts "${CMAKE_INSTALL_LIBDIR}")
foreach(_dck_part ${_dck_libdir_parts})
  string(APPEND _dck_pc_up "/..")
endforeach()
set(DCK_PC_PREFIX "\${pcfiledir}/${_dck_pc_up}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/dckrt.pc.in ${CMAKE_CURRENT_BINARY_DIR}/dckrt.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/dckrt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# man pages: dckc(1), dckrun(1)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/dckc.1 ${PROJECT_SOURCE_DIR}/docs/man/dckrun.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
