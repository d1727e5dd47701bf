// auth/password_hasher: Argon2id through libsodium, with the configured cost. A low cost keeps the
// tests fast except where the cost itself is under test.
#include "auth/password_hasher.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::string_literals;
using sig::auth::password_cost;
using sig::auth::password_hasher;

constexpr password_cost cheap{8, 1};

TEST(PasswordHasher, HashAndVerify) {
  const password_hasher hasher(cheap);
  const std::string hash = hasher.hash("correct horse battery staple");
  EXPECT_TRUE(hasher.verify(hash, "correct horse battery staple"));
  EXPECT_FALSE(hasher.verify(hash, "correct horse battery stapl"));
  EXPECT_FALSE(hasher.verify(hash, "Correct horse battery staple"));
  EXPECT_FALSE(hasher.verify(hash, ""));
}

TEST(PasswordHasher, HashIsArgon2idWithTheConfiguredCost) {
  const password_hasher hasher(cheap);
  const std::string hash = hasher.hash("s3cret-password");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << hash;
  EXPECT_EQ(hash.find("s3cret"), std::string::npos);

  const password_hasher costlier(password_cost{16, 2});
  const std::string other = costlier.hash("s3cret-password");
  EXPECT_TRUE(other.starts_with("$argon2id$v=19$m=16,t=2,p=1$")) << other;
}

TEST(PasswordHasher, SaltMakesEveryHashDifferent) {
  const password_hasher hasher(cheap);
  const std::string a = hasher.hash("same password");
  const std::string b = hasher.hash("same password");
  EXPECT_NE(a, b);
  EXPECT_TRUE(hasher.verify(a, "same password"));
  EXPECT_TRUE(hasher.verify(b, "same password"));
}

TEST(PasswordHasher, EveryByteOfThePasswordCounts) {
  const password_hasher hasher(cheap);
  const std::string with_nul = "pass\0word"s;
  const std::string hash = hasher.hash(with_nul);
  EXPECT_TRUE(hasher.verify(hash, with_nul));
  EXPECT_FALSE(hasher.verify(hash, "pass"));
  const std::string unicode = hasher.hash("p\xc3\xa4ssw\xc3\xb6rd-\xe6\x97\xa5");
  EXPECT_TRUE(hasher.verify(unicode, "p\xc3\xa4ssw\xc3\xb6rd-\xe6\x97\xa5"));
  EXPECT_FALSE(hasher.verify(unicode, "pässwörd-"));
}

TEST(PasswordHasher, HashesOfAnotherCostStillVerify) {
  const password_hasher cheap_hasher(cheap);
  const password_hasher costlier(password_cost{16, 2});
  EXPECT_TRUE(costlier.verify(cheap_hasher.hash("migrating user"), "migrating user"));
  EXPECT_TRUE(cheap_hasher.verify(costlier.hash("migrating user"), "migrating user"));
}

TEST(PasswordHasher, GarbageHashesNeverVerify) {
  const password_hasher hasher(cheap);
  for (const std::string& stored : {""s, "not a hash"s, "$argon2id$"s, "$argon2id$v=19$m=8,t=1,p=1$"s, "password"s,
                                    "$2b$12$abcdefghijklmnopqrstuuAbCdEfGhIjKlMnOpQrStUvWxYz01234"s}) {
    EXPECT_FALSE(hasher.verify(stored, "password")) << stored;
    EXPECT_FALSE(hasher.verify(stored, "")) << stored;
  }
  // A truncated real hash.
  const std::string hash = hasher.hash("password");
  EXPECT_FALSE(hasher.verify(hash.substr(0, hash.size() - 4), "password"));
}

TEST(PasswordHasher, NeedsRehashWhenTheCostChanges) {
  const password_hasher hasher(cheap);
  const std::string hash = hasher.hash("password");
  EXPECT_FALSE(hasher.needs_rehash(hash));
  EXPECT_TRUE(password_hasher(password_cost{16, 1}).needs_rehash(hash));  // more memory
  EXPECT_TRUE(password_hasher(password_cost{8, 2}).needs_rehash(hash));   // more passes
  EXPECT_FALSE(password_hasher(cheap).needs_rehash(hash));
  const std::string stronger = password_hasher(password_cost{16, 2}).hash("password");
  EXPECT_TRUE(hasher.needs_rehash(stronger));  // less is a change too
  EXPECT_TRUE(hasher.needs_rehash("garbage"));
  EXPECT_TRUE(hasher.needs_rehash(""));
}

TEST(PasswordHasher, VerifyNothingReturnsWithoutThrowing) {
  const password_hasher hasher(cheap);
  EXPECT_NO_THROW(hasher.verify_nothing("anything"));
  EXPECT_NO_THROW(hasher.verify_nothing(""));
  EXPECT_NO_THROW(hasher.verify_nothing("decoy password, never matches anything"));
}

TEST(PasswordHasher, ConstructorRefusesOutOfRangeCost) {
  EXPECT_THROW(password_hasher(password_cost{7, 1}), std::invalid_argument);
  EXPECT_THROW(password_hasher(password_cost{0, 1}), std::invalid_argument);
  EXPECT_THROW(password_hasher(password_cost{8, 0}), std::invalid_argument);
  EXPECT_THROW(password_hasher(password_cost{8, 1001}), std::invalid_argument);
  EXPECT_THROW(password_hasher(password_cost{4 * 1024 * 1024 + 1, 1}), std::invalid_argument);
  EXPECT_NO_THROW(password_hasher(password_cost{8, 1}));
  EXPECT_NO_THROW(password_hasher(password_cost{8, 1000}));
}

TEST(PasswordHasher, DefaultCostFollowsOwaspAndWeakCostsAreFlagged) {
  const password_cost recommended;
  EXPECT_EQ(recommended.memory_kib, 19456u);
  EXPECT_EQ(recommended.iterations, 2u);
  EXPECT_FALSE(sig::auth::is_weak(recommended));
  EXPECT_FALSE(sig::auth::is_weak(password_cost{65536, 3}));
  EXPECT_TRUE(sig::auth::is_weak(cheap));
  EXPECT_TRUE(sig::auth::is_weak(password_cost{19456, 1}));
  EXPECT_TRUE(sig::auth::is_weak(password_cost{19455, 2}));
}

}  // namespace
