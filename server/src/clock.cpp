#include "charter/server/clock.hpp"

#include "charter/format/rfc3339.hpp"

#include <chrono>
#include <cstdlib>

namespace charter::server {

int64_t server_now()
{
    if (char const* pinned = std::getenv("CHARTER_NOW"); pinned && *pinned) {
        if (auto parsed = format::parse_rfc3339(pinned))
            return *parsed;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}
