#include "charter/server/customer/md5.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace charter::server {

std::string md5_hex(std::string_view data)
{
    // OpenSSL's EVP interface (its low-level MD5() is deprecated in 3.0). MD5 is in the default
    // provider; only an OpenSSL configured to offer FIPS algorithms alone lacks it.
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_md5(), nullptr) != 1 || size != 16)
        throw std::runtime_error("OpenSSL offers no MD5, which the RubyGems compact index needs; enable OpenSSL's default provider");
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * size);
    for (unsigned int i = 0; i < size; ++i) {
        hex += digits[digest[i] >> 4];
        hex += digits[digest[i] & 15];
    }
    return hex;
}

}
