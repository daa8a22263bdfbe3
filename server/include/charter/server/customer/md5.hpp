#pragma once
// MD5 (RFC 1321), for the one place a protocol demands it: the RubyGems compact index
// (the /versions checksum of each /info file, and the ETag Bundler compares). Not used for
// anything that needs a secure hash.

#include <string>
#include <string_view>

namespace charter::server {

/// Lower-case hex MD5 of `data`.
std::string md5_hex(std::string_view data);

}
