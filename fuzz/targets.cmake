# The fuzz targets, one harness fuzz/<name>.cpp each. Included by fuzz/CMakeLists.txt (the
# libFuzzer programs) and tests/CMakeLists.txt (the same harnesses as ctest replay programs).
set(charter_fuzz_targets
  fuzz_base64url
  fuzz_rfc3339
  fuzz_claims
  fuzz_paserk
  fuzz_verify
  fuzz_revocation_list
)
