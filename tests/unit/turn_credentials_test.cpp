// auth/turn_credentials: coturn's REST credentials against a vector computed independently:
//   printf '1700000000:42' | openssl dgst -sha1 -hmac 'turn-shared-secret' -binary | base64
#include "auth/turn_credentials.hpp"

#include <gtest/gtest.h>

namespace {

using sig::auth::make_turn_credential;

TEST(TurnCredentials, MatchTheIndependentlyComputedVector) {
  const auto issued = make_turn_credential("turn-shared-secret", 42, 1'699'913'600, 86'400);
  EXPECT_EQ(issued.expires_at, 1'700'000'000);
  EXPECT_EQ(issued.username, "1700000000:42");
  EXPECT_EQ(issued.credential, "VrMjI5lKa5CAV3iS5Y6wmuNZ1LY=");
}

TEST(TurnCredentials, DependOnTheSecretTheUserAndTheExpiry) {
  const auto base = make_turn_credential("turn-shared-secret", 42, 1'699'913'600, 86'400);
  EXPECT_NE(make_turn_credential("another-secret", 42, 1'699'913'600, 86'400).credential, base.credential);
  EXPECT_NE(make_turn_credential("turn-shared-secret", 43, 1'699'913'600, 86'400).credential, base.credential);
  const auto later = make_turn_credential("turn-shared-secret", 42, 1'699'913'601, 86'400);
  EXPECT_EQ(later.username, "1700000001:42");
  EXPECT_NE(later.credential, base.credential);
}

}  // namespace
