# Runs a program with a freshly signed license key: `PROGRAM KEY TOKEN`, where KEY (k4.public)
# and TOKEN come from make_test_license for PRODUCT. Fails when either program fails.
#
#   cmake -DMAKE_LICENSE=… -DPRODUCT=acme-pro -DPROGRAM=… -P run_with_license.cmake

cmake_minimum_required(VERSION 3.25)

foreach(variable MAKE_LICENSE PRODUCT PROGRAM)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "run_with_license.cmake: -D${variable}=… is required")
  endif()
endforeach()

execute_process(COMMAND ${MAKE_LICENSE} ${PRODUCT}
  OUTPUT_VARIABLE license ERROR_VARIABLE errors RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "make_test_license failed (${result}): ${errors}")
endif()
string(REGEX MATCH "^(k4\\.public\\.[A-Za-z0-9_-]+)\n(v4\\.public\\.[A-Za-z0-9_.-]+)\n$" matched "${license}")
if(NOT matched)
  message(FATAL_ERROR "make_test_license printed something unexpected:\n${license}")
endif()
set(key "${CMAKE_MATCH_1}")
set(token "${CMAKE_MATCH_2}")

execute_process(COMMAND ${PROGRAM} ${key} ${token} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} failed (${result}) for key ${key} and token ${token}")
endif()
