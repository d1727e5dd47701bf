// Argon2id through libsodium; see password_hasher.hpp.
#include "auth/password_hasher.hpp"

#include <sodium.h>

#include <new>
#include <stdexcept>

namespace sig::auth {
namespace {

std::size_t memory_bytes(const password_cost& cost) { return cost.memory_kib * 1024; }

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
  const std::string terminated(stored_hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

void password_hasher::verify_nothing(std::string_view password) const { (void)verify(decoy_hash_, password); }

bool password_hasher::needs_rehash(std::string_view stored_hash) const {
  const std::string terminated(stored_hash);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), cost_.iterations, memory_bytes(cost_)) != 0;
}

}  // namespace sig::auth
