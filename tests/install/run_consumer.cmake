# cmake -P driver of the install tests (registered by tests/install/CMakeLists.txt):
#   MODE=package       installs the build tree PTVM_BUILD_DIR into a fresh prefix, component by
#                      component (the core "ptvm" first, then each other component of COMPONENTS: hostsim, cuda, mpi),
#                      and builds and runs the consumer project against it with find_package(ptvm)
#   MODE=subdirectory  configures the consumer with add_subdirectory(PTVM_SOURCE_DIR) (no CUDA, no
#                      host-sim: the host library only), checks that no test, benchmark, fuzz or CLI
#                      target exists, builds and runs it
# Other inputs: CONSUMER_DIR, WORK_DIR (wiped per mode), GENERATOR, CXX_COMPILER, CXX_LAUNCHER,
# CONFIG (of the build tree), COMPONENTS (what the build tree exports, comma-separated), NATIVE
# (the build tree's PTVM_NATIVE), CUDA_TOOLKIT_ROOT, JOBS.
cmake_minimum_required(VERSION 3.25)

foreach(required MODE CONSUMER_DIR WORK_DIR PTVM_SOURCE_DIR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "run_consumer.cmake: -D${required}=... is required")
  endif()
endforeach()
if(NOT JOBS)
  set(JOBS 2)
endif()
string(REPLACE "," ";" COMPONENTS "${COMPONENTS}")

string(TIMESTAMP start_seconds "%s")
# run(<step> COMMAND ...): runs it, prints its output, stops the test when it fails.
function(run step)
  string(TIMESTAMP t0 "%s")
  execute_process(${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(TIMESTAMP t1 "%s")
  math(EXPR seconds "${t1} - ${t0}")
  message("---- ${step} (${seconds} s, exit ${rc})\n${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test (${MODE}): step '${step}' failed")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

# The installed package files name no internal target, no build flag and no build-tree path.
function(check_package_files)
  file(GLOB_RECURSE package_files ${prefix}/*.cmake)
  foreach(file ${package_files})
    file(READ ${file} text)
    string(FIND "${text}" "${PTVM_SOURCE_DIR}" at_source)
    string(FIND "${text}" "${PTVM_BUILD_DIR}" at_build)
    get_filename_component(name ${file} NAME)
    if(name MATCHES "[Tt]argets" AND text MATCHES "-march|-W")  # build flags (Config's text may name them)
      message(FATAL_ERROR "${file} passes a build flag on")
    endif()
    if(text MATCHES "ptvm_options" OR NOT at_source EQUAL -1 OR NOT at_build EQUAL -1)
      message(FATAL_ERROR "${file} names the internal ptvm_options or a build-tree path")
    endif()
  endforeach()
endfunction()

set(consumer_args -G "${GENERATOR}")
if(CXX_COMPILER)
  list(APPEND consumer_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(CXX_LAUNCHER)
  list(APPEND consumer_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER})
endif()

if(MODE STREQUAL "package")
  set(prefix ${WORK_DIR}/prefix)
  set(build ${WORK_DIR}/package-build)
  file(REMOVE_RECURSE ${prefix} ${build})
  set(install_args --prefix ${prefix})
  if(CONFIG)
    list(APPEND install_args --config ${CONFIG})
  endif()

  # 1. The core component alone: library, headers, package files; nothing else.
  run("install component ptvm" COMMAND ${CMAKE_COMMAND} --install ${PTVM_BUILD_DIR} ${install_args} --component ptvm)
  if(NATIVE AND NOT run_output MATCHES "-march=native")
    message(FATAL_ERROR "installing a -march=native build printed no warning")
  elseif(NOT NATIVE AND run_output MATCHES "march=native")
    message(FATAL_ERROR "installing a portable build warned about -march=native")
  endif()
  file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
  foreach(expected include/ptvm/ptvm.hpp include/ptvm/version.hpp include/ptvm/gpu/cuda_backend.hpp
          ptvmConfig.cmake ptvmConfigVersion.cmake ptvmTargets.cmake libptvm.a)
    if(NOT installed MATCHES "(^|;|/)${expected}(;|$)")
      message(FATAL_ERROR "component ptvm did not install ${expected} (installed: ${installed})")
    endif()
  endforeach()
  if(installed MATCHES "ptvm_cuda|ptvm_hostsim|ptvm_mpi|-targets.cmake|bin/")
    message(FATAL_ERROR "component ptvm installed more than the core: ${installed}")
  endif()
  check_package_files()

  set(configure ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${build} ${consumer_args}
      -DCMAKE_PREFIX_PATH=${prefix} -DPTVM_CONSUMER_MODE=package)
  if(CONFIG)
    list(APPEND configure -DCMAKE_BUILD_TYPE=${CONFIG})
  endif()
  run("configure consumer (core only)" COMMAND ${configure} -DPTVM_CONSUMER_GPU_COMPONENTS=)
  run("build consumer" COMMAND ${CMAKE_COMMAND} --build ${build} -j ${JOBS})
  run("run consumer" COMMAND ${build}/consumer)

  # 2. The other components this build exports (GPU, MPI), installed on top; each consumer_<c> links one.
  set(gpu_components ${COMPONENTS})
  list(REMOVE_ITEM gpu_components ptvm)
  if(gpu_components)
    foreach(component ${gpu_components})
      run("install component ${component}"
          COMMAND ${CMAKE_COMMAND} --install ${PTVM_BUILD_DIR} ${install_args} --component ${component})
    endforeach()
    check_package_files()
    if(CUDA_TOOLKIT_ROOT)
      list(APPEND configure -DCUDAToolkit_ROOT=${CUDA_TOOLKIT_ROOT})
    endif()
    string(REPLACE ";" "," gpu_list "${gpu_components}")  # run() would split a ;-list
    run("configure consumer (${gpu_list})" COMMAND ${configure} -DPTVM_CONSUMER_GPU_COMPONENTS=${gpu_list})
    run("build GPU consumers" COMMAND ${CMAKE_COMMAND} --build ${build} -j ${JOBS})
    foreach(component ${gpu_components})
      run("run consumer_${component}" COMMAND ${build}/consumer_${component})
    endforeach()
  endif()
elseif(MODE STREQUAL "subdirectory")
  set(build ${WORK_DIR}/subdirectory-build)
  file(REMOVE_RECURSE ${build})
  # No CMAKE_BUILD_TYPE: ptvm must leave the parent's (empty) choice alone.
  run("configure consumer with add_subdirectory(ptvm)"
      COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${build} ${consumer_args} -DPTVM_CONSUMER_MODE=subdirectory
              -DPTVM_SOURCE_DIR=${PTVM_SOURCE_DIR} -DPTVM_ENABLE_CUDA=OFF -DPTVM_ENABLE_HOSTSIM=OFF)
  run("list targets" COMMAND ${CMAKE_COMMAND} --build ${build} --target help)
  if(run_output MATCHES "(^|\n)([A-Za-z0-9_]*(_tests|bench)[A-Za-z0-9_]*|fuzz_[A-Za-z0-9_]*|tvm): ")
    message(FATAL_ERROR "the subproject build has test/bench/fuzz/CLI target '${CMAKE_MATCH_0}'")
  endif()
  if(NOT run_output MATCHES "(^|\n)ptvm: ")
    message(FATAL_ERROR "the subproject build has no ptvm library target")
  endif()
  run("build consumer and ptvm" COMMAND ${CMAKE_COMMAND} --build ${build} -j ${JOBS})
  run("run consumer" COMMAND ${build}/consumer)
else()
  message(FATAL_ERROR "run_consumer.cmake: MODE must be package or subdirectory")
endif()

string(TIMESTAMP end_seconds "%s")
math(EXPR total "${end_seconds} - ${start_seconds}")
message("install test (${MODE}): passed in ${total} s")
