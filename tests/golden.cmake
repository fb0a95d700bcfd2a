# Golden-file tests driven by scripts (each script also takes --update to regenerate).
if(TARGET dckc)
  add_test(NAME lang_diagnostics_goldens
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/lang/run.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/ir/run.sh)
    add_test(NAME ir_pass_goldens
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/ir/run.sh $<TARGET_FILE:dckc>
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  endif()
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/codegen/c/run.sh)
    add_test(NAME codegen_c_goldens
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/c/run.sh $<TARGET_FILE:dckc>
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  endif()
endif()

if(TARGET dckc)
  add_test(NAME fusion_goldens
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fusion/run.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
# Random pipelines agree bit for bit at -O0 (unfused) and -O2 (fused where legal); run it
# by hand with a larger --count.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET dckc AND TARGET dckrun)
  add_test(NAME difftest_fusion
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/fusion/difftest.py
                   $<TARGET_FILE:dckrun> $<TARGET_FILE:dckc> --count 6 --seed 1
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()

# The SIMD variants (--cpu-isa): goldens (gcc and clang -Werror on every x86 ISA), the NEON
# output through the aarch64 cross compiler (77: not installed), and the execution corpus
# run on each ISA this CPU has (77: the CPU lacks it).
if(TARGET dckc AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/codegen/simd/run.sh)
  add_test(NAME codegen_simd_goldens
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/simd/run.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME codegen_simd_neon
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/simd/neon.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(codegen_simd_neon PROPERTIES SKIP_RETURN_CODE 77)
  if(TARGET test_exec)
    foreach(isa scalar sse4 avx2 avx512)
      add_test(NAME exec_simd_${isa}
               COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/simd/exec_isa.sh ${isa} $<TARGET_FILE:test_exec> -j1
               WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
      set_tests_properties(exec_simd_${isa} PROPERTIES SKIP_RETURN_CODE 77)
    endforeach()
  endif()
endif()
# random kernels (tests/fuzz/difftest.py's generator): every SIMD ISA of this CPU agrees
# with scalar, bit for bit, plain and checked
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET dckrun AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/codegen/simd/isadiff.py)
  add_test(NAME simd_isadiff
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/codegen/simd/isadiff.py
                   $<TARGET_FILE:dckrun> --count 4 --seed 7
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(simd_isadiff PROPERTIES SKIP_RETURN_CODE 77)
endif()
# grid-stride loops and shared-memory atomics: every SIMD ISA agrees with scalar, bit for bit
if(TARGET dckrun AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/codegen/simd/stride_exec.sh)
  add_test(NAME simd_stride_exec
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/simd/stride_exec.sh $<TARGET_FILE:dckrun>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(simd_stride_exec PROPERTIES SKIP_RETURN_CODE 77)
endif()

if(TARGET dckc)
  add_test(NAME cli_dckc COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/run.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
# docs/tutorial.md run verbatim (its commands use build/ of the source tree, and the C program
# it builds links the installed runtime: a plain build only)
if(TARGET dckc AND TARGET dckrun AND Python3_FOUND AND NOT DCK_SANITIZE)
  add_test(NAME docs_tutorial COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/docs/tutorial.py ${PROJECT_BINARY_DIR}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
# bench/history.py: the three regression levels and the exit status, on made-up histories
if(Python3_FOUND)
  add_test(NAME bench_history COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/bench/history_test.py
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
if(TARGET dckc AND TARGET dckrun)
  add_test(NAME docs_manpages COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/docs/manpages.sh $<TARGET_FILE:dckc> $<TARGET_FILE:dckrun>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
if(TARGET dckrun)
  add_test(NAME cli_dckrun COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/dckrun.sh $<TARGET_FILE:dckrun>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  if(TARGET dckc)
    set_tests_properties(cli_dckrun PROPERTIES ENVIRONMENT "DCKC=$<TARGET_FILE:dckc>")
  endif()
endif()

# The CPU runtime under valgrind: a kernel, a barrier kernel and a pipeline through dckrun
# (the JIT's compiler child processes are not traced). Skipped in sanitizer builds.
find_program(VALGRIND valgrind)
if(VALGRIND AND TARGET dckrun AND NOT DCK_SANITIZE)
  set(_vg ${VALGRIND} --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect -q)
  add_test(NAME valgrind_dckrun_saxpy
           COMMAND ${_vg} $<TARGET_FILE:dckrun> --backend=cpu tests/exec/saxpy.dck saxpy a=2 x=rand:1000:1 y=rand:1000:2 --print=y
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME valgrind_dckrun_reduce
           COMMAND ${_vg} $<TARGET_FILE:dckrun> --backend=cpu tests/exec/reduce.dck reduce usum=zeros:1 fsum=zeros:1 x=rand:4096:3 --print=usum
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME valgrind_dckrun_pipeline
           COMMAND ${_vg} $<TARGET_FILE:dckrun> --backend=cpu tests/exec/pipeline3.dck pipe3 a=3 b=-1 x=rand:1000:9 y=zeros:1000 --print=y --checked
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  # valgrind 3.19 cannot decode AVX-512: on a machine that has it, the JIT's -march=native
  # code would stop valgrind with SIGILL, so these runs compile for x86-64-v3 (AVX2) instead.
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    set_tests_properties(valgrind_dckrun_saxpy valgrind_dckrun_reduce valgrind_dckrun_pipeline
                         PROPERTIES ENVIRONMENT "DCK_JIT_MARCH=x86-64-v3")
  endif()
endif()

# The folders import one way (base, abi < lang < compiler < codegen < driver < runtime; the
# runtime reaches the compiler only through driver/dckc.h): every #include "..." checked.
add_test(NAME layering COMMAND python3 ${PROJECT_SOURCE_DIR}/scripts/check-layers.py)

# The installed tree on its own (stdlib found under the prefix, dckrun runs).
if(TARGET dckc AND TARGET dckrun)
  add_test(NAME install_tree COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/run.sh ${PROJECT_BINARY_DIR}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()

# The optimizer against itself: random kernels agree bit for bit at -O0, -O2 and -O3, and
# compile deterministically (tests/fuzz/difftest.py; run it by hand with a larger --count).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET dckc AND TARGET dckrun)
  add_test(NAME difftest_opt_levels
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/difftest.py
                   $<TARGET_FILE:dckrun> --dckc $<TARGET_FILE:dckc> --count 12 --seed 1
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()

# The backends against the CPU backend: 40 random kernels (difftest.py --backends) on OpenCL C
# and OpenCL-env SPIR-V (PoCL), Vulkan (lavapipe) and MSL (the Metal shim, -Werror), bit for
# bit; a route absent here is skipped and said so. About 45 s of CPU time with a cold PoCL
# cache; by hand with a larger --count (and another --seed) for a longer search.
if(Python3_FOUND AND TARGET dckc AND TARGET dckrun)
  add_test(NAME difftest_backends
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/difftest.py
                   $<TARGET_FILE:dckrun> --dckc $<TARGET_FILE:dckc> --backends --count 40 --seed 1
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(difftest_backends PROPERTIES TIMEOUT 600 ENVIRONMENT "XDG_RUNTIME_DIR=/tmp")
endif()

# Pathological sizes (huge expressions, deep nesting, thousands of statements, variables,
# kernels and inlined calls): each finishes with a result or a clean error, never a crash.
if(TARGET dckc)
  add_test(NAME cli_stress COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/stress.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()

# PTX backend (LLVM plugin): goldens for sm_80 with a determinism check, and every kernel of
# the corpus assembled by ptxas for sm_80 and sm_90 by both routes (LLVM; CUDA C + NVRTC).
# Skipped (77) where the plugin, ptxas or the NVRTC route is absent.
# SPIR-V: goldens (disassembly, both environments) checked by spirv-val; every exec test and
# sample in both environments, plain/checked, -O0/-O2, through spirv-val and llvm-spirv-15 -r.
if(TARGET dckc AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/codegen/spirv/run.sh)
  add_test(NAME codegen_spirv_goldens
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/spirv/run.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME spirv_all_kernels_val
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/spirv/all.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME spirv_all_kernels_llvm_spirv
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/spirv/all.sh --llvm-spirv $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  # a module without a kernel: Vulkan refuses it clearly, OpenCL has a library module,
  # packages leave spirv-vulkan out; no fuzzer corpus input is an internal error
  add_test(NAME spirv_no_kernel
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/spirv/nokernel.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(codegen_spirv_goldens spirv_all_kernels_val spirv_all_kernels_llvm_spirv
                       PROPERTIES SKIP_RETURN_CODE 77)
  set_tests_properties(spirv_no_kernel PROPERTIES TIMEOUT 600)
endif()
# Structured control flow (compiler/ir_cfg.c): seeded random control flow (cfgfuzz.py) compiled
# for SPIR-V (both environments, validated), OpenCL C, CUDA C and MSL, each checked by its own
# compiler (llvm-spirv, PoCL, NVRTC, clang++ with the Metal shim where present); seeds 15 and 30
# also run on Vulkan, OpenCL (OpenCL C and SPIR-V) and the MSL shim against the CPU. The full
# range (docs/backends.md) is a script run: cfgfuzz.py --seeds=1000:2999 --check-every=2
# --exec-every=25.
if(TARGET dckc AND TARGET dckrun AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/codegen/cfgfuzz.py)
  add_test(NAME cfgfuzz
           COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/codegen/cfgfuzz.py
                   $<TARGET_FILE:dckc> $<TARGET_FILE:dckrun> --seeds=1:30 --exec-every=15
                   --clbuild=$<TARGET_FILE:clbuild> --nvrtc=$<TARGET_FILE:nvrtc_check>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(cfgfuzz PROPERTIES TIMEOUT 600)
endif()

# Time and memory bounds of the structured backends on large control flow (cfgfuzz's seeds of
# issue 21, thousands of inlined loops): each compile under an address-space limit and a
# timeout; SPIR-V refuses a function of more than 16384 blocks with a clear error.
if(TARGET dckc AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/codegen/cfg_bounds.py)
  if(DCK_SANITIZE)
    set(_cfgb_opts --sanitized)
  else()
    set(_cfgb_opts)
  endif()
  add_test(NAME cfg_bounds
           COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/codegen/cfg_bounds.py $<TARGET_FILE:dckc> ${_cfgb_opts}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(cfg_bounds PROPERTIES TIMEOUT 900)
endif()

if(TARGET dckc AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/codegen/ptx/run.sh)
  add_test(NAME codegen_ptx_goldens
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/ptx/run.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME ptx_ptxas_llvm
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/ptx/assemble.sh --via=llvm $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME ptx_ptxas_nvrtc
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/ptx/assemble.sh --via=nvrtc $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(codegen_ptx_goldens ptx_ptxas_llvm ptx_ptxas_nvrtc PROPERTIES SKIP_RETURN_CODE 77)
endif()

# MSL through the Metal shim (tests/msl): every exec kernel emitted as MSL, compiled as C++
# with clang++-16, run on the CPU and compared with the CPU backend; the address-space check.
# Skipped (77) without clang++-16.
if(TARGET dckc AND TARGET dckrun AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/msl/run.sh)
  add_test(NAME msl_shim_exec
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/msl/run.sh $<TARGET_FILE:dckc> $<TARGET_FILE:dckrun>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(msl_shim_exec PROPERTIES SKIP_RETURN_CODE 77)
endif()

# Execution tests per runtime backend (tests/unit/test_exec.c: DCK_TEST_BACKEND selects it,
# DCK_TEST_TARGET the code), plus OpenCL-env SPIR-V run on OpenCL through llvm-spirv -r, and
# the OpenCL/Vulkan backends with hand-written kernels (test_rt_gpu). Vulkan runs under the
# Khronos validation layer: any validation message fails the test. A backend or target
# missing here exits 77 (skipped).
if(TARGET test_exec)
  foreach(_b opencl vulkan cuda)
    add_test(NAME test_exec_${_b} COMMAND test_exec -j1 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(test_exec_${_b} PROPERTIES SKIP_RETURN_CODE 77
      ENVIRONMENT "DCK_TEST_BACKEND=${_b};XDG_RUNTIME_DIR=/tmp;VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation")
  endforeach()
  # Vulkan with buffers never mapped: the staging-buffer path of discrete GPUs, on lavapipe
  add_test(NAME test_exec_vulkan_staging COMMAND test_exec -j1 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(test_exec_vulkan_staging PROPERTIES SKIP_RETURN_CODE 77
    ENVIRONMENT "DCK_TEST_BACKEND=vulkan;DCK_VULKAN_STAGING=1;XDG_RUNTIME_DIR=/tmp;VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation")
  add_test(NAME test_exec_opencl_spirv COMMAND test_exec -j1 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(test_exec_opencl_spirv PROPERTIES SKIP_RETURN_CODE 77
    ENVIRONMENT "DCK_TEST_BACKEND=opencl;DCK_TEST_TARGET=spirv-opencl")
endif()

# DCK in users' builds (tests/buildsys): every generated header compiled as C99 -pedantic,
# C11 and C++17 and its functions called; then an installed prefix used by the CMake sample
# (Ninja, Make, add_subdirectory) and the Makefile sample (pkg-config), with the check that
# touching an included .dck rebuilds only its dependents. 77 = a tool is missing.
# In a sanitizer build the runtime these programs link needs the sanitizer runtime loaded
# first, which user programs built as users build them do not do: there the two tests say
# SKIPPED (the plain build runs them).
if(TARGET dckc AND TARGET dckrt)
  if(DCK_SANITIZE)
    foreach(_t buildsys_headers buildsys_consumers)
      add_test(NAME ${_t} COMMAND sh -c "echo 'SKIPPED: build-system tests need a build without sanitizers (consumer programs do not load the ASan runtime first)'; exit 77")
    endforeach()
  else()
    add_test(NAME buildsys_headers COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/buildsys/headers.sh ${PROJECT_BINARY_DIR}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    add_test(NAME buildsys_consumers COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/buildsys/run.sh ${PROJECT_BINARY_DIR}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(buildsys_consumers PROPERTIES TIMEOUT 1200 RUN_SERIAL TRUE)
  endif()
  set_tests_properties(buildsys_headers buildsys_consumers PROPERTIES SKIP_RETURN_CODE 77)
  if(TARGET dckrun)
    add_test(NAME buildsys_package_cli
             COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/buildsys/package.sh $<TARGET_FILE:dckc> $<TARGET_FILE:dckrun>
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  endif()
endif()

# The C-like GPU text backends (OpenCL C, CUDA C, MSL): goldens, then every kernel of
# tests/exec and samples built by the target's own compiler (PoCL through clbuild, NVRTC
# through nvrtc_check, clang++-16 with the Metal shim). 77 = that compiler is absent here.
add_executable(clbuild ${CMAKE_CURRENT_SOURCE_DIR}/codegen/opencl/clbuild.c)
target_link_libraries(clbuild PRIVATE ${CMAKE_DL_LIBS})
add_executable(nvrtc_check ${CMAKE_CURRENT_SOURCE_DIR}/codegen/cuda/nvrtc_check.c)
target_link_libraries(nvrtc_check PRIVATE ${CMAKE_DL_LIBS})
if(TARGET dckc)
  find_program(DCK_CLANGXX16 clang++-16)
  set(_msl_cxx ${DCK_CLANGXX16})
  if(NOT _msl_cxx)
    set(_msl_cxx clang++-16)
  endif()
  add_test(NAME codegen_opencl_goldens
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/opencl/run.sh $<TARGET_FILE:dckc> $<TARGET_FILE:clbuild>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME codegen_cuda_goldens
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/cuda/run.sh $<TARGET_FILE:dckc> $<TARGET_FILE:nvrtc_check>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME codegen_msl_goldens
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/msl/run.sh $<TARGET_FILE:dckc> ${_msl_cxx}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME codegen_opencl_build_all
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/text/build_all.sh opencl $<TARGET_FILE:dckc> $<TARGET_FILE:clbuild>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME codegen_cuda_build_all
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/text/build_all.sh cuda $<TARGET_FILE:dckc> $<TARGET_FILE:nvrtc_check>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME codegen_msl_build_all
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/codegen/text/build_all.sh msl $<TARGET_FILE:dckc> ${_msl_cxx}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(codegen_opencl_build_all codegen_cuda_build_all codegen_msl_build_all
                       PROPERTIES SKIP_RETURN_CODE 77)
endif()

# The execution corpus on an NVIDIA GPU through the CUDA backend, both PTX routes, against the
# CPU backend (tests/gpu/run.sh; skipped where there is no CUDA device, i.e. everywhere but a
# GPU machine).
if(TARGET dckrun AND TARGET dckc AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/gpu/run.sh)
  add_test(NAME gpu_exec_corpus_cuda
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/gpu/run.sh $<TARGET_FILE:dckrun> $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(gpu_exec_corpus_cuda PROPERTIES SKIP_RETURN_CODE 77)
endif()
