# golden.cmake - compile SRC, disassemble it and compare with EXPECTED.
#   cmake -DDNAC=... -DSRC=... -DOUT=... -DEXPECTED=... [-DUPDATE=1] -P golden.cmake
# Run in the source tree so the paths recorded in the bundle are relative.
execute_process(COMMAND ${DNAC} compile ${SRC} -o ${OUT}.dnab RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dnac compile ${SRC} failed (${rc}):\n${err}")
endif()
execute_process(COMMAND ${DNAC} disasm --stdlib stdlib ${OUT}.dnab RESULT_VARIABLE rc OUTPUT_FILE ${OUT}.disasm
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dnac disasm failed (${rc}):\n${err}")
endif()
if(UPDATE OR DEFINED ENV{DNA_UPDATE_GOLDEN})
  configure_file(${OUT}.disasm ${EXPECTED} COPYONLY)
  message(STATUS "updated ${EXPECTED}")
  return()
endif()
execute_process(COMMAND diff -u ${EXPECTED} ${OUT}.disasm RESULT_VARIABLE rc OUTPUT_VARIABLE diff)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "disassembly of ${SRC} differs from ${EXPECTED} (DNA_UPDATE_GOLDEN=1 ctest to accept):\n${diff}")
endif()
