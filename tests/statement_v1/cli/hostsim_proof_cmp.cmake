# ctest statement_v1_hostsim_proof_cmp: `tvm prove PROGRAM --statement statement-v1` on the CPU
# backend and on host-sim (the F128 STARK's CUDA kernels run on the CPU) at PROFILE; the two proof
# files must be byte-identical (cmp). Arguments: -DTVM=... -DPROGRAM=... -DPROFILE=... -DOUT=dir.
file(MAKE_DIRECTORY ${OUT})
foreach(backend cpu hostsim)
  execute_process(COMMAND ${TVM} prove ${PROGRAM} --statement statement-v1 --stark-profile ${PROFILE}
                          --backend ${backend} -o ${OUT}/${backend}.json
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tvm prove --backend ${backend} failed (${rc}): ${err}")
  endif()
endforeach()
execute_process(COMMAND cmp ${OUT}/cpu.json ${OUT}/hostsim.json RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "the host-sim proof file differs from the CPU one (${PROFILE})")
endif()
