# The fuzz targets, one harness fuzz/<name>.cpp each. Included by fuzz/CMakeLists.txt (the
# libFuzzer programs) and tests/CMakeLists.txt (the same harnesses as ctest replay programs);
# scripts/fuzz reads the list from here too.
set(charter_fuzz_targets
  fuzz_base64url
  fuzz_rfc3339
  fuzz_claims
  fuzz_paserk
  fuzz_verify
  fuzz_revocation_list
  fuzz_csv_batch
  fuzz_request_bodies
  fuzz_gem
)

# The library a harness tests (it links libsodium as well): keygen's signing library unless
# set here.
set(charter_fuzz_library_fuzz_csv_batch Charter::ops)
set(charter_fuzz_library_fuzz_request_bodies Charter::server)
set(charter_fuzz_library_fuzz_gem Charter::ops)

# charter_fuzz_library(NAME OUT_VAR): the library of harness NAME.
function(charter_fuzz_library name out_var)
  if(DEFINED charter_fuzz_library_${name})
    set(${out_var} ${charter_fuzz_library_${name}} PARENT_SCOPE)
  else()
    set(${out_var} Charter::signing PARENT_SCOPE)
  endif()
endfunction()
