// The status of a failed operation (server/src/http/http_util.cpp, send_failure): decided by the
// error's kind, never by searching its message.

#include "charter/server/http/http_util.hpp"

#include <catch2/catch.hpp>

using namespace charter;
using namespace charter::server;

namespace {

nlohmann::json answer(Error const& error, int& status)
{
    httplib::Response response;
    send_failure(response, error);
    status = response.status;
    return nlohmann::json::parse(response.body);
}

}

TEST_CASE("a full disk is 507 storage_full by its kind; any other I/O failure is 503 whatever its text")
{
    int status = 0;
    auto full = answer(make_error(ErrorKind::disk_full, "disk full while writing /srv/charter/charter.db"), status);
    CHECK(status == 507);
    CHECK(full["error"]["code"] == "storage_full");
    CHECK(full["error"]["message"] == "the server's disk is full; nothing was changed");

    // An I/O error whose text happens to say "disk full" (a path, an OS message) is not one.
    auto other = answer(make_error(ErrorKind::io, "cannot write /srv/disk full/charter.db: Input/output error"), status);
    CHECK(status == 503);
    CHECK(other["error"]["code"] == "unavailable");
    CHECK(other["error"]["message"] == "the database is unavailable; nothing was changed");
}
