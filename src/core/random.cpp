// CSPRNG helpers on libsodium; see random.hpp.
#include "core/random.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace sig {

void init_crypto() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
}

std::string random_hex(std::size_t bytes) {
  if (bytes == 0) return {};
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

std::string random_uuid4() {
  std::array<unsigned char, 16> raw{};
  randombytes_buf(raw.data(), raw.size());
  raw[6] = static_cast<unsigned char>((raw[6] & 0x0F) | 0x40);  // version 4
  raw[8] = static_cast<unsigned char>((raw[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(digits[raw[i] >> 4]);
    text.push_back(digits[raw[i] & 0x0F]);
  }
  return text;
}

std::string random_token(std::size_t bytes) {
  if (bytes == 0) return {};
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string text(sodium_base64_encoded_len(bytes, variant), '\0');
  sodium_bin2base64(text.data(), text.size(), raw.data(), raw.size(), variant);
  text.resize(text.find('\0'));
  return text;
}

}  // namespace sig
