// Argon2id through libsodium, and bcrypt (imported accounts) through libxcrypt; see
// password_hasher.hpp.
#include "auth/password_hasher.hpp"

#include <crypt.h>
#include <sodium.h>

#include <memory>
#include <new>
#include <stdexcept>

namespace sig::auth {
namespace {

std::size_t memory_bytes(const password_cost& cost) { return cost.memory_kib * 1024; }

// A bcrypt hash of the FastAPI server (passlib): "$2b$12$" + 22 characters of salt + 31 of hash.
bool is_bcrypt(std::string_view stored_hash) noexcept {
  return stored_hash.starts_with("$2a$") || stored_hash.starts_with("$2b$") || stored_hash.starts_with("$2y$");
}

// libxcrypt recomputes the hash with the stored salt and cost; a malformed hash gives NULL or a
// failure token ("*0"), which the comparison refuses.
bool verify_bcrypt(std::string_view stored_hash, std::string_view password) {
  // crypt_r reads C strings: a password with a NUL byte would be cut there, so it never matches.
  if (password.find('\0') != std::string_view::npos || stored_hash.find('\0') != std::string_view::npos) return false;
  const std::string key(password);
  const std::string setting(stored_hash);
  auto data = std::make_unique<crypt_data>();  // ~32 KiB of scratch space: on the heap, zeroed
  const char* computed = ::crypt_r(key.c_str(), setting.c_str(), data.get());
  if (computed == nullptr) return false;
  const std::string_view result(computed);
  return result.size() == stored_hash.size() &&
         sodium_memcmp(result.data(), stored_hash.data(), stored_hash.size()) == 0;
}

}  // namespace

bool is_weak(const password_cost& cost) noexcept {
  const password_cost recommended;
  return cost.memory_kib < recommended.memory_kib || cost.iterations < recommended.iterations;
}

password_hasher::password_hasher(password_cost cost) : cost_(cost) {
  if (memory_bytes(cost) < crypto_pwhash_argon2id_MEMLIMIT_MIN || cost.memory_kib > 4 * 1024 * 1024 ||
      cost.iterations < crypto_pwhash_argon2id_OPSLIMIT_MIN || cost.iterations > 1000)
    throw std::invalid_argument("password hash cost out of range (memory 8 KiB-4 GiB, 1-1000 passes)");
  decoy_hash_ = hash("decoy password, never matches anything");
}

std::string password_hasher::hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost_.iterations, memory_bytes(cost_),
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::bad_alloc();  // libsodium fails only when it cannot get the memory
  return out;
}

bool password_hasher::verify(std::string_view stored_hash, std::string_view password) const {
  if (is_bcrypt(stored_hash)) return verify_bcrypt(stored_hash, password);
  const std::string terminated(stored_hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

void password_hasher::verify_nothing(std::string_view password) const { (void)verify(decoy_hash_, password); }

bool password_hasher::needs_rehash(std::string_view stored_hash) const {
  if (is_bcrypt(stored_hash)) return true;  // an imported account: Argon2id from its next login on
  const std::string terminated(stored_hash);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), cost_.iterations, memory_bytes(cost_)) != 0;
}

}  // namespace sig::auth
