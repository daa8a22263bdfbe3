// keygen/ops pieces that need no process: time input, CSV and batch parsing, held batch output.

#include "charter/format/rfc3339.hpp"
#include "charter/keygen/ops/batch.hpp"
#include "charter/keygen/ops/csv_reader.hpp"
#include "charter/keygen/ops/licensing.hpp"
#include "charter/keygen/ops/time_input.hpp"
#include "charter/verify.h"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <unistd.h>

using namespace charter;
using namespace charter::ops;

namespace {
constexpr int64_t now = 1795860000; // 2026-11-28T10:00:00Z
}

TEST_CASE("time input: RFC 3339, dates and durations")
{
    CHECK(*parse_time_input("2027-01-31T00:00:00Z", now, "--expires") == 1801353600);
    CHECK(*parse_time_input("2027-01-31", now, "--expires") == 1801353600);
    CHECK(*parse_time_input("12h", now, "--expires") == now + 12 * 3600);
    CHECK(*parse_time_input("30d", now, "--expires") == now + 30 * 86400);
    CHECK(*parse_time_input("2w", now, "--expires") == now + 14 * 86400);
    CHECK(*parse_time_input("1y", now, "--expires") == 1827396000);  // 2027-11-28T10:00:00Z
    CHECK(*parse_time_input("3mo", now, "--expires") == 1803808800); // 2027-02-28T10:00:00Z
    // --since counts durations back from now; absolute times are the same either way.
    CHECK(*parse_time_input("7d", now, "--since", DurationFromNow::ago) == now - 7 * 86400);
    CHECK(*parse_time_input("1mo", now, "--since", DurationFromNow::ago) == 1793181600); // 2026-10-28T10:00:00Z
    CHECK(*parse_time_input("2027-01-31", now, "--since", DurationFromNow::ago) == 1801353600);
    for (auto const* bad : { "", "2027-02-29", "2027-1-01", "30", "d", "30x", "0d", "-1d", "1.5d", "100001d", "2027-01-31T00:00Z" }) {
        auto result = parse_time_input(bad, now, "--expires");
        INFO(bad);
        REQUIRE_FALSE(result);
        CHECK(result.error().kind == ErrorKind::invalid_input);
        CHECK(result.error().message.find("--expires") == 0);
    }
    // The message says what is wrong with it.
    auto why = [](char const* text) { return parse_time_input(text, now, "--expires").error().message; };
    CHECK(why("2027-01-31t10:00:00z").find("is not a valid RFC 3339 time") != std::string::npos);
    CHECK(why("2027-1-31").find("is not a valid RFC 3339 time") != std::string::npos);
    CHECK(why("-5d").find("is negative") != std::string::npos);
    CHECK(why("1.5d").find("whole number") != std::string::npos);
    CHECK(why("30x").find("unknown unit") != std::string::npos);
    CHECK(why("0d").find("out-of-range") != std::string::npos);
    // A license key cannot carry a time past 9999-12-31T23:59:59Z (it was signed clamped to it
    // while the database kept the real one); the largest counts still fit.
    CHECK(why("100000mo").find("past the years 0000-9999") != std::string::npos);
    CHECK(why("100000y").find("past the years 0000-9999") != std::string::npos);
    CHECK(parse_time_input("2500y", now, "--since", DurationFromNow::ago).error().message.find("past the years") != std::string::npos);
    CHECK(*parse_time_input("7973y", now, "--expires") == *format::parse_rfc3339("9999-11-28T10:00:00Z"));
    CHECK(*parse_time_input("100000w", now, "--expires") == now + int64_t(100000) * 7 * 86400);
}

TEST_CASE("time input: every duration unit, ahead and ago")
{
    struct Unit {
        char const* duration;
        int64_t ahead;
        int64_t ago;
    };
    for (auto const& unit : { Unit { "12h", now + 12 * 3600, now - 12 * 3600 }, Unit { "2d", now + 2 * 86400, now - 2 * 86400 },
             Unit { "2w", now + 14 * 86400, now - 14 * 86400 },
             Unit { "2mo", 1801130400, 1790589600 },   // 2027-01-28T10:00:00Z, 2026-09-28T10:00:00Z
             Unit { "2y", 1859018400, 1732788000 } }) { // 2028-11-28T10:00:00Z, 2024-11-28T10:00:00Z
        INFO(unit.duration);
        CHECK(*parse_time_input(unit.duration, now, "--expires") == unit.ahead);
        CHECK(*parse_time_input(unit.duration, now, "--expires", DurationFromNow::ahead) == unit.ahead);
        CHECK(*parse_time_input(unit.duration, now, "--since", DurationFromNow::ago) == unit.ago);
    }
}

TEST_CASE("add_months clamps to the end of the month")
{
    int64_t jan31 = 1801353600 + 3600; // 2027-01-31T01:00:00Z
    CHECK(add_months(jan31, 1) == 1803776400);      // 2027-02-28T01:00:00Z
    CHECK(add_months(jan31, 13) == 1835398800);     // 2028-02-29T01:00:00Z
    CHECK(add_months(jan31, -2) == 1796000400);     // 2026-11-30T01:00:00Z
}

TEST_CASE("CSV: quotes, escaped quotes, CRLF, embedded newlines, truncation")
{
    std::istringstream in("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",,x\nlast");
    CsvReader reader(in);
    auto first = reader.next();
    REQUIRE(first);
    CHECK(first->line == 1);
    CHECK(first->fields == std::vector<std::string> { "a", "b,c", "say \"hi\"" });
    auto second = reader.next();
    REQUIRE(second);
    CHECK(second->line == 2);
    CHECK(second->fields == std::vector<std::string> { "multi\nline", "", "x" });
    auto third = reader.next();
    REQUIRE(third);
    CHECK(third->line == 4);
    CHECK(third->fields == std::vector<std::string> { "last" });
    CHECK(reader.at_end());

    std::istringstream cut("a,\"unterminated\n");
    CsvReader truncated(cut);
    auto error = truncated.next();
    REQUIRE_FALSE(error);
    CHECK(error.error().message == "line 1: unterminated quoted field (the file looks truncated)");

    std::istringstream stray("\"a\"b\n");
    CsvReader after(stray);
    CHECK_FALSE(after.next());
}

TEST_CASE("batch rows become issue requests; bad rows name their line")
{
    std::istringstream in("customer,seats,entitlements,meta\njane@example.com,3,a;b,k=v;x=y\n\nbob@example.com,,,\n");
    auto batch = BatchReader::open(in, std::string("acme-pro"));
    REQUIRE(batch);
    auto row = batch->next();
    REQUIRE(row);
    REQUIRE(*row);
    CHECK((*row)->line == 2);
    CHECK((*row)->request.product == "acme-pro");
    CHECK((*row)->request.seats == 3);
    CHECK((*row)->request.entitlements == std::vector<std::string> { "a", "b" });
    CHECK((*row)->request.meta["x"] == "y");
    auto second = batch->next();
    REQUIRE(second);
    REQUIRE(*second);
    CHECK((*second)->line == 4);
    CHECK_FALSE((*second)->request.seats);
    auto end = batch->next();
    REQUIRE(end);
    CHECK_FALSE(*end);

    auto error_of = [](std::string const& text, std::optional<std::string> product = std::nullopt) -> std::string {
        std::istringstream input(text);
        auto opened = BatchReader::open(input, product);
        if (!opened)
            return opened.error().message;
        while (true) {
            auto next = opened->next();
            if (!next)
                return next.error().message;
            if (!*next)
                return "";
        }
    };
    CHECK(error_of("") .find("empty") != std::string::npos);
    CHECK(error_of("product\nacme-pro\n") == "line 1: the header has no \"customer\" column");
    CHECK(error_of("customer\njane@example.com\n") == "line 1: the header has no \"product\" column (or pass --product)");
    CHECK(error_of("customer,customer\n", "p") == "line 1: column \"customer\" appears twice");
    CHECK(error_of("customer,seats\nj@x.com,many\n", "p") == "line 2: seats \"many\" is not a whole number");
    CHECK(error_of("customer,seats\nj@x.com\n", "p") == "line 2: has 1 fields, the header has 2");
    CHECK(error_of("customer,meta\nj@x.com,novalue\n", "p").find("line 2: --meta") == 0);
    CHECK(error_of("customer,product\n,acme\n") == "line 2: the customer is empty");
    CHECK(error_of("customer,product\nj@x.com,acme\n").empty());
}

TEST_CASE("held output: kept out of memory until copied, then all of it, in order")
{
    char directory_template[] = "/tmp/charter-test-ops-XXXXXX";
    REQUIRE(mkdtemp(directory_template));
    std::filesystem::path directory = directory_template;
    {
        auto held = HeldOutput::create(directory);
        REQUIRE(held);
        // Nothing named is left in the directory: the file is unlinked from the start.
        CHECK(std::filesystem::is_empty(directory));
        std::string expected;
        for (int i = 0; i < 20000; ++i) { // ~ 600 KiB, several times the write buffer
            std::string line = "v4.public.line-" + std::to_string(i) + std::string(20, 'x') + "\n";
            REQUIRE(held->append(line));
            expected += line;
        }
        char output_template[] = "/tmp/charter-test-ops-out-XXXXXX";
        int fd = mkstemp(output_template);
        REQUIRE(fd >= 0);
        REQUIRE(held->copy_to(fd));
        ::close(fd);
        CHECK(charter::testing::read_file(output_template) == expected);
        std::filesystem::remove(output_template);
        // A closed descriptor: an error, not a crash.
        auto failed = held->copy_to(fd);
        REQUIRE_FALSE(failed);
        CHECK(failed.error().kind == ErrorKind::io);
    }
    CHECK(std::filesystem::is_empty(directory));
    std::filesystem::remove(directory);

    auto nowhere = HeldOutput::create("/nonexistent/charter");
    REQUIRE_FALSE(nowhere);
    CHECK(nowhere.error().message.find("/nonexistent/charter") != std::string::npos);
}

TEST_CASE("a revocation list longer than verifiers accept is refused, not signed")
{
    auto key = keygen::SigningKey::generate();
    REQUIRE(key);
    std::vector<std::string> revoked;
    char id[40];
    for (int i = 0; i < 25000; ++i) {
        std::snprintf(id, sizeof id, "lic_%026d", i);
        revoked.emplace_back(id);
    }
    auto refused = revocation_list_token(*key, "Acme Inc.", "acme-pro", 1800000000, revoked);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::invalid_input);
    CHECK(refused.error().message.find("25000 revoked licenses") != std::string::npos);
    CHECK(refused.error().message.find("split the product") != std::string::npos);

    revoked.resize(5000); // still far more than a license key's 16 KiB could hold
    auto signed_list = revocation_list_token(*key, "Acme Inc.", "acme-pro", 1800000000, revoked);
    REQUIRE(signed_list);
    CHECK(signed_list->size() > CHARTER_MAX_TOKEN_SIZE);
    CHECK(signed_list->size() <= CHARTER_MAX_REVOCATION_LIST_SIZE);
}
