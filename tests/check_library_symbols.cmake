# libcharter-verify contains no signing code, and its shared library exports the C ABI only.
#
#   cmake -DNM=nm -DSHARED=libcharter-verify.so -DSTATIC=libcharter-verify.a -P check_library_symbols.cmake
#
# Neither library may reference an Ed25519 signing or key-generation function of libsodium:
# the only crypto_sign_* symbol allowed is crypto_sign_verify_detached (which must be there, or
# we are not looking at the right files). The shared library's dynamic symbol table may define
# charter_* functions and nothing else (no C++-mangled symbol, no runtime template statics).

cmake_minimum_required(VERSION 3.25)

foreach(variable NM SHARED STATIC)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "check_library_symbols.cmake: -D${variable}=… is required")
  endif()
endforeach()

set(problems "")

function(symbol_lines output)
  execute_process(COMMAND ${NM} ${ARGN} OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} ${ARGN} failed (${result}): ${errors}")
  endif()
  string(REPLACE "\n" ";" lines "${listing}")
  set(${output} "${lines}" PARENT_SCOPE)
endfunction()

# `nm` lines are "[address] TYPE name"; archives add "member.o:" headers and blank lines.
foreach(kind IN ITEMS SHARED STATIC)
  set(library "${${kind}}")
  if(kind STREQUAL "SHARED")
    symbol_lines(lines -D "${library}")
  else()
    symbol_lines(lines "${library}")
  endif()
  set(saw_verify FALSE)
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^[0-9a-fA-F ]* ([A-Za-z]) (crypto_sign[A-Za-z0-9_]*)")
      continue()
    endif()
    set(symbol "${CMAKE_MATCH_2}")
    if(symbol STREQUAL "crypto_sign_verify_detached")
      set(saw_verify TRUE)
    else()
      string(APPEND problems "${library} references ${symbol}: libcharter-verify must contain no signing code\n")
    endif()
  endforeach()
  if(NOT saw_verify)
    string(APPEND problems "${library} does not reference crypto_sign_verify_detached: is it libcharter-verify?\n")
  endif()
endforeach()

symbol_lines(exported -D --defined-only "${SHARED}")
set(charter_functions 0)
foreach(line IN LISTS exported)
  if(line STREQUAL "")
    continue()
  endif()
  if(line MATCHES "^[0-9a-fA-F]+ T charter_[a-z0-9_]+$")
    math(EXPR charter_functions "${charter_functions} + 1")
  else()
    string(APPEND problems "${SHARED} exports a symbol outside the C ABI: ${line}\n")
  endif()
endforeach()
# Functions added to the ABI later must be exported too (exports.map exports charter_*; this
# catches one that the header declares but no source defines, or that lost its visibility).
foreach(required IN ITEMS charter_verify charter_startup_check charter_verify_activation charter_activation_free
    charter_activation_copy charter_activation_id charter_activation_license_id charter_activation_seat
    charter_activation_lease_ends_at)
  if(NOT exported MATCHES "T ${required};" AND NOT exported MATCHES "T ${required}$")
    string(APPEND problems "${SHARED} does not export ${required}\n")
  endif()
endforeach()
if(charter_functions LESS 20)
  string(APPEND problems "${SHARED} exports only ${charter_functions} charter_* functions; the C ABI has more\n")
endif()

if(problems)
  message(FATAL_ERROR "${problems}")
endif()
message(STATUS "no signing code; ${charter_functions} charter_* functions exported and nothing else")
