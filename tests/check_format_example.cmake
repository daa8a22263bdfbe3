# docs/format.md's worked example is the output of format_example, verbatim: every value it
# prints ("name: value" lines) must appear in the document.
#
#   cmake -DFORMAT_EXAMPLE=… -DDOCUMENT=docs/format.md -P check_format_example.cmake

cmake_minimum_required(VERSION 3.25)

foreach(variable FORMAT_EXAMPLE DOCUMENT)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "check_format_example.cmake: -D${variable}=… is required")
  endif()
endforeach()

execute_process(COMMAND ${FORMAT_EXAMPLE} OUTPUT_VARIABLE output ERROR_VARIABLE errors RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "format_example failed (${result}): ${errors}")
endif()
file(READ ${DOCUMENT} document)

# Line by line by hand: values hold '[' and ']', which CMake's list splitting treats specially.
set(missing "")
set(count 0)
set(rest "${output}")
while(NOT rest STREQUAL "")
  string(FIND "${rest}" "\n" newline)
  if(newline EQUAL -1)
    set(line "${rest}")
    set(rest "")
  else()
    string(SUBSTRING "${rest}" 0 ${newline} line)
    math(EXPR next "${newline} + 1")
    string(SUBSTRING "${rest}" ${next} -1 rest)
  endif()
  if(line STREQUAL "")
    continue()
  endif()
  string(FIND "${line}" ": " colon)
  if(colon LESS 1)
    message(FATAL_ERROR "format_example printed an unexpected line: ${line}")
  endif()
  string(SUBSTRING "${line}" 0 ${colon} name)
  math(EXPR start "${colon} + 2")
  string(SUBSTRING "${line}" ${start} -1 value)
  string(FIND "${document}" "${value}" found)
  if(found EQUAL -1)
    string(APPEND missing "  ${name}: ${value}\n")
  endif()
  math(EXPR count "${count} + 1")
endwhile()

if(count LESS 20)
  message(FATAL_ERROR "format_example printed only ${count} values")
endif()
if(missing)
  message(FATAL_ERROR "${DOCUMENT} does not contain these values of the worked example "
    "(regenerate them with format_example and update the document):\n${missing}")
endif()
message(STATUS "all ${count} values of the worked example appear in ${DOCUMENT}")
