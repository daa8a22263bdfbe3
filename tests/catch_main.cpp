// The main() of every Catch2 test program. A program registered by charter_test(... ROOT
// NEEDS) runs its [root] cases as a ctest of their own with CHARTER_TEST_NEEDS set; when this
// machine cannot give what they need, it exits 77 (SKIP_RETURN_CODE) so that ctest lists the
// test as skipped rather than passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// Why the [root] cases cannot run here, or empty when they can. `needs` is "root" (a second
// user, file ownership), "tmpfs" (root that may also mount a small tmpfs), "aiosmtpd" (the
// mail tests' SMTP sink) or "strace" (counting a child's system calls).
std::string unmet(std::string const& needs)
{
    if (needs == "aiosmtpd") // the SMTP sink of the mail tests, on Debian's Python
        return std::system("/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1") == 0
            ? ""
            : "python3-aiosmtpd is not installed (/usr/bin/python3 cannot import aiosmtpd)";
    if (needs == "strace") // system calls of a child process, counted (tests that prove an fsync)
        return std::system("strace -qq -o /dev/null true >/dev/null 2>&1") == 0
            ? ""
            : "strace is not installed or may not trace processes here";
    if (::geteuid() != 0)
        return needs == "tmpfs" ? "mounting a small tmpfs needs root" : "these cases need root";
    if (needs != "tmpfs")
        return {};
    char pattern[] = "/tmp/charter-mount-XXXXXX";
    char* point = ::mkdtemp(pattern);
    if (!point)
        return "cannot create a folder under /tmp";
    bool mounted = ::mount("tmpfs", point, "tmpfs", 0, "size=1m") == 0;
    if (mounted)
        ::umount2(point, MNT_DETACH);
    ::rmdir(point);
    return mounted ? "" : "cannot mount a tmpfs here";
}

}

int main(int argc, char** argv)
{
    if (char const* needs = std::getenv("CHARTER_TEST_NEEDS")) {
        if (auto reason = unmet(needs); !reason.empty()) {
            std::printf("skipped: %s\n", reason.c_str());
            return 77;
        }
    }
    return Catch::Session().run(argc, argv);
}
