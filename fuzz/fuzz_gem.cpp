// The .gem reader (keygen/ops/gem_reader): libarchive's tar reader, zlib and yaml-cpp behind
// read_gem_from_memory, the same code `charter release add` runs on a file. Random bytes rarely
// survive gzip's checksum, so most modes wrap the fuzz bytes into a well-formed gem first.
//
// Byte 0, bits 0-1: 0 = the rest is a .gem file; 1 = it is the gem's metadata YAML (gzipped
// and put into a tar as metadata.gz, after a data.tar.gz); 2 = it is metadata.gz itself (put
// into a tar); 3 = as 1, with metadata.gz before data.tar.gz, the order `gem build` writes
// (the reader walks the whole archive: a gem needs data.tar.gz wherever it is).

#include "charter/keygen/ops/compression.hpp"
#include "charter/keygen/ops/gem_reader.hpp"
#include "fuzz_support.hpp"

#include <algorithm>
#include <cstring>

using namespace charter;
using namespace charter::fuzz;

namespace {

constexpr char const* file_name = "fuzz.gem";

// One ustar member (POSIX.1-1988): a 512-byte header, the data padded to 512 bytes.
void append_tar_member(std::string& tar, std::string_view name, std::string_view data)
{
    char header[512] = {};
    std::memcpy(header, name.data(), std::min<size_t>(name.size(), 99));
    std::snprintf(header + 100, 8, "%07o", 0444u);
    std::snprintf(header + 108, 8, "%07o", 0u);
    std::snprintf(header + 116, 8, "%07o", 0u);
    std::snprintf(header + 124, 12, "%011llo", static_cast<unsigned long long>(data.size()));
    std::snprintf(header + 136, 12, "%011llo", static_cast<unsigned long long>(t0));
    header[156] = '0';
    std::memcpy(header + 257, "ustar", 6);
    std::memcpy(header + 263, "00", 2);
    // The checksum is the byte sum of the header with its own field read as eight spaces.
    std::memset(header + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : header)
        sum += c;
    std::snprintf(header + 148, 8, "%06o", sum);
    tar.append(header, sizeof header);
    tar.append(data);
    tar.append((512 - data.size() % 512) % 512, '\0');
}

enum class Order {
    data_first,
    metadata_first,
};

std::string tar_with_metadata(std::string_view metadata_gz, Order order)
{
    std::string tar;
    if (order == Order::data_first)
        append_tar_member(tar, "data.tar.gz", ops::gzip(""));
    append_tar_member(tar, "metadata.gz", metadata_gz);
    if (order == Order::metadata_first)
        append_tar_member(tar, "data.tar.gz", ops::gzip(""));
    tar.append(1024, '\0'); // the end-of-archive marker
    return tar;
}

bool valid_name(std::string const& text)
{
    return !text.empty() && text.size() <= 200
        && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_'; });
}

void check_gem(db::GemMetadata const& gem)
{
    FUZZ_CHECK(valid_name(gem.name) && valid_name(gem.version) && valid_name(gem.platform));
    for (auto const& dependency : gem.dependencies)
        FUZZ_CHECK(valid_name(dependency.name));
    FUZZ_CHECK(gem.date.size() <= 10);
    FUZZ_CHECK(gem.sha256.empty() && gem.release_id.empty());
    auto full_name = ops::gem_full_name(gem);
    FUZZ_CHECK(full_name.rfind(gem.name + "-" + gem.version, 0) == 0);
    FUZZ_CHECK(gem.platform == "ruby" ? full_name == gem.name + "-" + gem.version
                                      : full_name == gem.name + "-" + gem.version + "-" + gem.platform);
    FUZZ_CHECK(ops::gem_filename(gem) == full_name + ".gem");
}

}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    Input input(data, size);
    uint8_t mode = input.take_byte() & 3;
    std::string_view rest = input.rest();
    std::string bytes;
    switch (mode) {
    case 0: bytes = std::string(rest); break;
    case 1: bytes = tar_with_metadata(ops::gzip(rest), Order::data_first); break;
    case 2: bytes = tar_with_metadata(rest, Order::data_first); break;
    case 3: bytes = tar_with_metadata(ops::gzip(rest), Order::metadata_first); break;
    }
    auto gem = ops::read_gem_from_memory(bytes, file_name);
    if (!gem) {
        FUZZ_CHECK(gem.error().kind == ErrorKind::invalid_input);
        FUZZ_CHECK(gem.error().message.rfind(std::string(file_name) + " is not a gem: ", 0) == 0);
        return 0;
    }
    check_gem(*gem);
    return 0;
}
