# The installed package, as a vendor uses it (ctest runs one STEP per test):
#
#   STEP=install             cmake --install of the build (component "verify") into PREFIX
#   STEP=find-package        configure, build and run find-package/ against PREFIX (shared)
#   STEP=find-package-static the same with Charter::verify_static
#   STEP=pkg-config          build pkg-config/ with `pkg-config charter-verify` and run it
#
# Each consumer is run with a fresh license key from make_test_license.

cmake_minimum_required(VERSION 3.25)

foreach(variable STEP PREFIX LIBDIR WORK_DIR)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "consumer_test.cmake: -D${variable}=… is required")
  endif()
endforeach()
set(here ${CMAKE_CURRENT_LIST_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${result}): ${command}\n${output}")
  endif()
endfunction()

function(run_with_license program)
  execute_process(COMMAND ${CMAKE_COMMAND} -DMAKE_LICENSE=${MAKE_LICENSE} -DPRODUCT=acme-pro -DPROGRAM=${program}
    -P ${here}/../run_with_license.cmake RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${program} did not verify a license key")
  endif()
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  set(config_args "")
  if(CONFIG)
    set(config_args --config ${CONFIG})
  endif()
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} --component verify ${config_args})
  foreach(file IN ITEMS
      include/charter/verify.h include/charter/verify.hpp include/charter/verify_version.h
      ${LIBDIR}/libcharter-verify.so ${LIBDIR}/libcharter-verify.a
      ${LIBDIR}/cmake/Charter/CharterConfig.cmake ${LIBDIR}/cmake/Charter/CharterConfigVersion.cmake
      ${LIBDIR}/cmake/Charter/CharterTargets.cmake ${LIBDIR}/pkgconfig/charter-verify.pc)
    if(NOT EXISTS ${PREFIX}/${file})
      message(FATAL_ERROR "cmake --install did not install ${file}")
    endif()
  endforeach()
  # The component holds the library alone: no tool of the project comes with it.
  if(EXISTS ${PREFIX}/bin)
    file(GLOB tools ${PREFIX}/bin/*)
    message(FATAL_ERROR "component \"verify\" installed programs: ${tools}")
  endif()
  return()
endif()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

if(STEP MATCHES "^find-package")
  set(static OFF)
  if(STEP STREQUAL "find-package-static")
    set(static ON)
  endif()
  run(${CMAKE_COMMAND} -S ${here}/find-package -B ${WORK_DIR} -G ${GENERATOR}
    -DCMAKE_C_COMPILER=${C_COMPILER} "-DCMAKE_C_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}"
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${PREFIX} -DCharter_ROOT=${PREFIX} -DCONSUMER_STATIC=${static})
  # It must be the package just installed, not one in /usr/local.
  file(STRINGS ${WORK_DIR}/CMakeCache.txt charter_dir REGEX "^Charter_DIR:")
  if(NOT charter_dir STREQUAL "Charter_DIR:PATH=${PREFIX}/${LIBDIR}/cmake/Charter")
    message(FATAL_ERROR "find_package(Charter) found another package: ${charter_dir}")
  endif()
  run(${CMAKE_COMMAND} --build ${WORK_DIR})
  set(program ${WORK_DIR}/consumer)
  if(READELF)
    execute_process(COMMAND ${READELF} -d ${program} OUTPUT_VARIABLE dynamic)
    if(static AND dynamic MATCHES "libcharter-verify")
      message(FATAL_ERROR "the static consumer depends on the shared library:\n${dynamic}")
    endif()
    if(NOT static AND NOT dynamic MATCHES "libcharter-verify\\.so\\.0")
      message(FATAL_ERROR "the shared consumer does not depend on libcharter-verify.so.0:\n${dynamic}")
    endif()
  endif()
  run_with_license(${program})
elseif(STEP STREQUAL "pkg-config")
  set(ENV{PKG_CONFIG_PATH} ${PREFIX}/${LIBDIR}/pkgconfig)
  set(ENV{CXX} ${CXX_COMPILER})
  set(ENV{CXXFLAGS} "${EXTRA_FLAGS}")
  set(ENV{LDFLAGS} "${EXTRA_FLAGS}")
  run(sh ${here}/pkg-config/build.sh ${WORK_DIR}/consumer)
  # No rpath from pkg-config: the loader finds the library as it would in a non-default prefix.
  set(ENV{LD_LIBRARY_PATH} ${PREFIX}/${LIBDIR})
  run_with_license(${WORK_DIR}/consumer)
else()
  message(FATAL_ERROR "consumer_test.cmake: unknown STEP ${STEP}")
endif()
