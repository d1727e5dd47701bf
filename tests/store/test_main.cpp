// Entry point of the store tests: libsodium must be initialized before any test hashes, signs or
// draws random bytes.
#include "core/random.hpp"

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  sig::init_crypto();
  return RUN_ALL_TESTS();
}
