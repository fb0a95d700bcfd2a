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
