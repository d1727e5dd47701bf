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
                                    "$2b$04$abcdefghijklmnopqrstuuAbCdEfGhIjKlMnOpQrStUvWxYz01234"s}) {
    EXPECT_FALSE(hasher.verify(stored, "password")) << stored;
    EXPECT_FALSE(hasher.verify(stored, "")) << stored;
  }
  // A truncated real hash.
  const std::string hash = hasher.hash("password");
  EXPECT_FALSE(hasher.verify(hash.substr(0, hash.size() - 4), "password"));
}

// Accounts imported from the FastAPI server keep their bcrypt hashes (passlib, cost 12 there; 4
// here to keep the test fast). These were made by Python's bcrypt 3.2 and passlib 1.7
// (bcrypt.hashpw(b"correct horse", bcrypt.gensalt(4, prefix=b"2a")), passlib's bcrypt with
// ident="2y"), not by the code under test.
const std::string bcrypt_2a = "$2a$04$NFqHr0q9XsxL5lAWw35ZOOKJ4NLh0V/X3t/IBjCfIhK0iOLoevWLG";
const std::string bcrypt_2b = "$2b$04$rbRmATjzzSftBNQZNQ7IOO3ogo2jUvz/oIu0NC91iELoe60YqH232";
const std::string bcrypt_2y = "$2y$04$7OB6VGmoabNkyL/Qhrnc9.1MhcCQO1rz24VEkeoEJju3hKNjR68Du";
const std::string bcrypt_utf8 = "$2b$04$IRTt1mfAVWJgT0RrIIuI7u3lggByUDLNMyjWn0.cimPtaZZ1sjvPW";  // "pässwörd"

TEST(PasswordHasher, BcryptHashesOfEveryPrefixVerify) {
  const password_hasher hasher(cheap);
  for (const auto& stored : {bcrypt_2a, bcrypt_2b, bcrypt_2y}) {
    EXPECT_TRUE(hasher.verify(stored, "correct horse")) << stored;
    EXPECT_FALSE(hasher.verify(stored, "correct hors")) << stored;
    EXPECT_FALSE(hasher.verify(stored, "Correct horse")) << stored;
    EXPECT_FALSE(hasher.verify(stored, "")) << stored;
    EXPECT_FALSE(hasher.verify(stored, "correct horse\0"s)) << stored;
  }
  EXPECT_TRUE(hasher.verify(bcrypt_utf8, "p\xc3\xa4ssw\xc3\xb6rd"));
  EXPECT_FALSE(hasher.verify(bcrypt_utf8, "passwort"));
}

TEST(PasswordHasher, MalformedBcryptHashesNeverVerify) {
  const password_hasher hasher(cheap);
  const std::string good = bcrypt_2b;
  for (const std::string& stored :
       {good.substr(0, good.size() - 1), good + "x", "$2b$"s, "$2b$04$"s, "$2b$99$" + good.substr(7),
        "$2b$04$!!!!!!!!!!!!!!!!!!!!!!" + good.substr(29), "$2c$" + good.substr(4), "$2b$4$" + good.substr(7),
        good.substr(0, 20) + "\0"s + good.substr(21)}) {
    EXPECT_FALSE(hasher.verify(stored, "correct horse")) << stored;
    EXPECT_TRUE(hasher.needs_rehash(stored) || !stored.starts_with("$2")) << stored;
  }
  // Another hash's salt with this hash's digest.
  EXPECT_FALSE(hasher.verify(bcrypt_2a.substr(0, 29) + bcrypt_2b.substr(29), "correct horse"));
}

TEST(PasswordHasher, BcryptHashesNeedRehashToArgon2id) {
  const password_hasher hasher(cheap);
  for (const auto& stored : {bcrypt_2a, bcrypt_2b, bcrypt_2y}) EXPECT_TRUE(hasher.needs_rehash(stored)) << stored;
  EXPECT_FALSE(hasher.needs_rehash(hasher.hash("correct horse")));
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
