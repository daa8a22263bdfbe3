// The data directory at rest (issue 12): every file Charter creates there or as a backup is
// 0600 and every folder 0700 whatever the umask (artifacts 0640, for nginx's group), and a
// `charter` command run as root on a data directory another user owns refuses, naming the
// user to run as, before it creates anything. The cases tagged [root] need root (they create
// a second system user) and are registered as their own ctest, skipped when not root.

#include "support/server_harness.hpp"

#include <catch2/catch.hpp>

#include <pwd.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

using namespace charter::testing;
namespace fs = std::filesystem;

namespace {

std::string mode_of(fs::path const& path)
{
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0)
        return "missing";
    char text[8];
    std::snprintf(text, sizeof text, "%04o", unsigned(info.st_mode & 07777));
    return text;
}

uid_t owner_of(fs::path const& path)
{
    struct stat info {};
    REQUIRE(::lstat(path.c_str(), &info) == 0);
    return info.st_uid;
}

// Sets the process umask (inherited by every child) for the scope.
class Umask {
public:
    explicit Umask(mode_t mask) : m_saved(::umask(mask)) { }
    ~Umask() { ::umask(m_saved); }

private:
    mode_t m_saved;
};

// A system user for the scope, made with Debian's useradd and removed with userdel.
class SystemUser {
public:
    SystemUser()
        : m_name("charter-t" + std::to_string(::getpid()))
    {
        auto added = run_process({ "/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", m_name });
        if (added.exit_code != 0)
            throw std::runtime_error("useradd failed: " + added.err);
        passwd* entry = ::getpwnam(m_name.c_str());
        if (!entry)
            throw std::runtime_error("the new user is not found");
        m_uid = entry->pw_uid;
        m_gid = entry->pw_gid;
    }
    ~SystemUser() { run_process({ "/usr/sbin/userdel", m_name }); }
    SystemUser(SystemUser const&) = delete;
    SystemUser& operator=(SystemUser const&) = delete;

    std::string const& name() const { return m_name; }
    uid_t uid() const { return m_uid; }
    gid_t gid() const { return m_gid; }

    // `charter --data-dir DIR ARGS` as this user, with runuser as the docs show.
    ProcessResult charter(std::string const& data_dir, std::vector<std::string> args) const
    {
        args.insert(args.begin(), { "/usr/sbin/runuser", "-u", m_name, "--", CHARTER_CLI_PATH, "--data-dir", data_dir });
        return run_process(args, clean_env());
    }

private:
    std::string m_name;
    uid_t m_uid { 0 };
    gid_t m_gid { 0 };
};

}

TEST_CASE("under umask 022 every file Charter creates is 0600 and every folder 0700; artifacts 0640")
{
    Umask umask(022);
    TempDir temp;
    std::string data_dir = temp / "data";
    std::string admin = make_vendor(data_dir);
    // The server keeps the database open, so its -wal and -shm files stay while we look.
    ServerChild server(data_dir, temp.path());
    RawConnection connection(server.port());
    REQUIRE(connection.send_all("GET /v1/licenses HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + admin
        + "\r\nConnection: close\r\n\r\n"));
    bool closed = false;
    REQUIRE(RawConnection::status_of(connection.read_until_close(10000, closed)) == 200);
    auto ok = [&](std::vector<std::string> args) {
        auto result = charter_cli(data_dir, args);
        INFO("charter " << args[0] << ": " << result.err);
        REQUIRE(result.exit_code == 0);
    };
    ok({ "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    ok({ "key", "rotate" });
    std::string artifact = temp / "acme-pro-1.0.0.tar.gz";
    std::ofstream(artifact) << "release";
    ok({ "release", "add", "--product", "acme-pro", "--version", "1.0.0", artifact });
    std::string backup = temp / "backup.db";
    ok({ "db", "backup", backup });
    CHECK(mode_of(backup) == "0600");
    CHECK(mode_of(backup + ".partial") == "missing");

    REQUIRE(fs::exists(data_dir + "/charter.db-wal"));
    REQUIRE(fs::exists(data_dir + "/charter.db-shm"));
    CHECK(mode_of(data_dir) == "0700");
    size_t files = 0;
    for (auto const& entry : fs::recursive_directory_iterator(data_dir)) {
        auto path = entry.path().string();
        INFO(path);
        if (entry.is_directory())
            CHECK(mode_of(path) == "0700");
        else if (entry.path().parent_path() == fs::path(data_dir + "/artifacts"))
            CHECK(mode_of(path) == "0640");
        else
            CHECK(mode_of(path) == "0600");
        ++files;
    }
    CHECK(files >= 6); // charter.db, -wal, -shm, two keys, an artifact
}

TEST_CASE("as root on a data directory another user owns, charter refuses and names the user; as that user it works", "[root]")
{
    REQUIRE(::geteuid() == 0);
    SystemUser user;
    TempDir temp;
    ::chmod(temp.path().c_str(), 0755);
    std::string data_dir = temp / "data";
    fs::create_directory(data_dir);
    REQUIRE(::chown(data_dir.c_str(), user.uid(), user.gid()) == 0);

    // Root cannot even initialise it for the user.
    auto init_as_root = charter_cli(data_dir, { "init", "--issuer", "Acme Inc." });
    CHECK(init_as_root.exit_code == 6);
    CHECK(contains(init_as_root.err, "belongs to " + user.name()));
    CHECK(fs::is_empty(data_dir));

    auto init = user.charter(data_dir, { "init", "--issuer", "Acme Inc." });
    INFO(init.err);
    REQUIRE(init.exit_code == 0);
    REQUIRE(user.charter(data_dir, { "product", "add", "acme-pro" }).exit_code == 0);
    auto listing = [&] {
        std::set<std::string> names;
        for (auto const& entry : fs::recursive_directory_iterator(data_dir))
            names.insert(entry.path().string());
        return names;
    };
    auto before = listing();

    // The command that once left a root-owned key behind, and the read-only ones (which would
    // create root-owned -wal and -shm files): each refuses before touching anything.
    for (auto const& args : std::vector<std::vector<std::string>> { { "key", "rotate" }, { "list" }, { "customer", "add",
             "--email", "jane@example.com" }, { "db", "backup", temp / "backup.db" } }) {
        auto refused = charter_cli(data_dir, args);
        INFO("charter " << args[0] << ": " << refused.err);
        CHECK(refused.exit_code == 6);
        CHECK(refused.out.empty());
        CHECK(contains(refused.err, "data directory " + data_dir + " belongs to " + user.name()));
        CHECK(contains(refused.err, "runuser -u " + user.name() + " -- charter"));
        CHECK(listing() == before);
    }
    CHECK_FALSE(fs::exists(temp / "backup.db"));
    // charter-server as root refuses to start on it too (bounded: a server that started would
    // be stopped by timeout, exit 124).
    auto server = run_process({ "/usr/bin/timeout", "10", CHARTER_SERVER_PATH, "--data-dir", data_dir, "--listen", "127.0.0.1:0" },
        clean_env());
    CHECK(server.exit_code == 1);
    CHECK(contains(server.err, "belongs to " + user.name()));
    CHECK(listing() == before);

    // As the user, as docs/deploy/charter-server.service says: everything stays the user's.
    auto rotated = user.charter(data_dir, { "key", "rotate" });
    INFO(rotated.err);
    REQUIRE(rotated.exit_code == 0);
    REQUIRE(user.charter(data_dir, { "customer", "add", "--email", "jane@example.com" }).exit_code == 0);
    auto issued = user.charter(data_dir, { "issue", "--product", "acme-pro", "--customer", "jane@example.com" });
    REQUIRE(issued.exit_code == 0);
    CHECK(contains(user.charter(data_dir, { "verify", trimmed(issued.out) }).out, "valid"));
    for (auto const& path : listing()) {
        INFO(path);
        CHECK(owner_of(path) == user.uid());
    }
    CHECK(listing().size() == before.size() + 1); // the rotated key
}
