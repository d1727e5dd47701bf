// Unpredictable identifiers from libsodium's CSPRNG: UUIDv4s, hex strings and url-safe tokens.
#pragma once

#include <cstddef>
#include <string>

namespace sig {

/// Must run once before any other function here (initializes libsodium); throws on failure.
void init_crypto();

std::string random_hex(std::size_t bytes);
std::string random_uuid4();
/// `bytes` random bytes, base64url without padding.
std::string random_token(std::size_t bytes);

}  // namespace sig
