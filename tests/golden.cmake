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
  add_test(NAME cli_dckc COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/run.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()

# The CPU runtime under valgrind: a kernel, a barrier kernel and a pipeline through dckrun
# (the JIT's compiler child processes are not traced). Skipped in sanitizer builds.
find_program(VALGRIND valgrind)
if(VALGRIND AND TARGET dckrun AND NOT DCK_SANITIZE)
  set(_vg ${VALGRIND} --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect -q)
  add_test(NAME valgrind_dckrun_saxpy
           COMMAND ${_vg} $<TARGET_FILE:dckrun> tests/exec/saxpy.dck saxpy a=2 x=rand:1000:1 y=rand:1000:2 --print=y
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME valgrind_dckrun_reduce
           COMMAND ${_vg} $<TARGET_FILE:dckrun> tests/exec/reduce.dck reduce usum=zeros:1 fsum=zeros:1 x=rand:4096:3 --print=usum
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  add_test(NAME valgrind_dckrun_pipeline
           COMMAND ${_vg} $<TARGET_FILE:dckrun> tests/exec/pipeline3.dck pipe3 a=3 b=-1 x=rand:1000:9 y=zeros:1000 --print=y --checked
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()

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

# Pathological sizes (huge expressions, deep nesting, thousands of statements, variables,
# kernels and inlined calls): each finishes with a result or a clean error, never a crash.
if(TARGET dckc)
  add_test(NAME cli_stress COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli/stress.sh $<TARGET_FILE:dckc>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
endif()
