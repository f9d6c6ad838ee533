# ptvm_add_test(NAME SOURCES src... [LIBS lib...] [LABELS label...])
# One GoogleTest executable registered as one ctest entry (fast CI: one process per suite).
function(ptvm_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ptvm::ptvm GTest::gtest GTest::gtest_main ptvm_options ${T_LIBS})
  target_compile_definitions(${name} PRIVATE
    PTVM_SOURCE_DIR="${PROJECT_SOURCE_DIR}" PTVM_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared")
  add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()

# ptvm_add_bench(NAME SOURCES src... [LIBS lib...])
function(ptvm_add_bench name)
  cmake_parse_arguments(B "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  target_link_libraries(${name} PRIVATE ptvm::ptvm benchmark::benchmark ptvm_options ${B_LIBS})
  target_compile_definitions(${name} PRIVATE PTVM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endfunction()

# ptvm_add_fuzzer(NAME SOURCES src...): a libFuzzer binary in ${CMAKE_BINARY_DIR}/fuzz/, built only
# in the fuzz/sanitizer tree (-DPTVM_BUILD_FUZZ=ON with clang; tools/build.sh makes it as
# build/sanitize), where the whole library is compiled with ASan, UBSan and coverage
# instrumentation (see the top-level CMakeLists.txt).
function(ptvm_add_fuzzer name)
  cmake_parse_arguments(F "" "" "SOURCES" ${ARGN})
  if(NOT PTVM_BUILD_FUZZ)
    return()
  endif()
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ptvm::ptvm ptvm_options)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
endfunction()

# ptvm_add_fuzz_run(NAME CORPUS dir SECONDS s): a ctest entry of the ordinary tree that runs the
# fuzz tree's libFuzzer binary NAME for `s` seconds from its kept corpus (tools/run_fuzzer.sh;
# skipped, exit 77, when the fuzz tree was not built).
function(ptvm_add_fuzz_run name)
  cmake_parse_arguments(R "" "CORPUS;SECONDS" "" ${ARGN})
  if(PTVM_BUILD_FUZZ)
    return()
  endif()
  add_test(NAME fuzz_run_${name}
           COMMAND bash ${PROJECT_SOURCE_DIR}/tools/run_fuzzer.sh ${PTVM_FUZZ_TREE}/fuzz/${name} ${R_CORPUS} ${R_SECONDS})
  set_tests_properties(fuzz_run_${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS fuzz TIMEOUT 600)
endfunction()
