// Argon2id password hashing (libsodium crypto_pwhash_str). Blocking and memory-hungry by design:
// call it only from the hashing worker pool, never from an I/O thread. Also verifies the bcrypt
// hashes of accounts imported from the FastAPI server (signaling-server import), which login
// replaces with Argon2id (needs_rehash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sig::auth {

struct password_cost {
  std::size_t memory_kib = 19456;  // OWASP minimum for Argon2id: 19 MiB ...
  std::uint64_t iterations = 2;    // ... and 2 passes
};

/// True when the cost is below the OWASP recommendation (allowed for tests and benchmarks).
bool is_weak(const password_cost& cost) noexcept;

class password_hasher {
 public:
  /// Throws std::invalid_argument when the cost is outside what libsodium accepts.
  explicit password_hasher(password_cost cost);

  std::string hash(std::string_view password) const;
  /// Argon2id, or bcrypt ($2a$, $2b$, $2y$: libxcrypt's crypt_r, as CPU-heavy as Argon2id).
  bool verify(std::string_view stored_hash, std::string_view password) const;
  /// Spends the time of one verification on a hash of the configured cost, so that a login for
  /// an unknown email takes as long as a wrong password.
  void verify_nothing(std::string_view password) const;
  /// True when a stored hash was made with another cost than the configured one, or is bcrypt.
  bool needs_rehash(std::string_view stored_hash) const;

 private:
  password_cost cost_;
  std::string decoy_hash_;
};

}  // namespace sig::auth
