#pragma once
// The time charter-server answers at, in Unix seconds: the system clock, or CHARTER_NOW
// (RFC 3339) when set, so that tests and documented examples are reproducible.

#include <cstdint>

namespace charter::server {

int64_t server_now();

}
