// TURN REST credentials; see turn_credentials.hpp. libsodium has no HMAC-SHA1, OpenSSL does.
#include "auth/turn_credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>
#include <stdexcept>

namespace sig::auth {
namespace {

std::string base64(const unsigned char* bytes, std::size_t size) {
  constexpr int variant = sodium_base64_VARIANT_ORIGINAL;  // coturn decodes standard, padded base64
  std::string text(sodium_base64_encoded_len(size, variant), '\0');
  sodium_bin2base64(text.data(), text.size(), bytes, size, variant);
  text.resize(text.find('\0'));
  return text;
}

}  // namespace

turn_credential make_turn_credential(std::string_view secret, std::int64_t user_id, std::int64_t now_unix,
                                     std::int64_t ttl_seconds) {
  turn_credential issued;
  issued.expires_at = now_unix + ttl_seconds;
  issued.username = std::to_string(issued.expires_at) + ":" + std::to_string(user_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(issued.username.data()), issued.username.size(), digest.data(),
            &length))
    throw std::runtime_error("HMAC-SHA1 failed");
  issued.credential = base64(digest.data(), length);
  return issued;
}

}  // namespace sig::auth
