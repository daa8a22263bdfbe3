#pragma once
// One table of verify.h's status codes: the stable snake_case name JSON clients read
// (charter-server's "status", the conformance suite, the generated verifiers) and the sentence
// charter_status_string() returns. A new status gets its row here and nowhere else.

namespace charter::format {

/// "bad_signature" for CHARTER_E_BAD_SIGNATURE; "unknown" for a code verify.h does not define.
char const* status_name(int status);

/// charter_status_string()'s sentence: "license key signature is invalid"; "unknown status"
/// for a code verify.h does not define.
char const* status_text(int status);

}
