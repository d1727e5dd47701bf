// The connection registry that graceful shutdown waits on (runtime/connection_registry.hpp).
#include "runtime/connection_registry.hpp"

#include <gtest/gtest.h>

namespace {

using sig::runtime::connection_registry;

TEST(connection_registry, shutdown_asks_every_connection_and_waits_for_their_entries) {
  connection_registry registry;
  int asked = 0;
  {
    auto first = registry.add([&] { ++asked; });
    auto second = registry.add([&] { ++asked; });
    EXPECT_EQ(registry.size(), 2u);
    registry.shutdown_all();
    EXPECT_EQ(asked, 2);
    EXPECT_EQ(registry.size(), 2u);  // asked, not gone: their sessions still answer
  }
  EXPECT_EQ(registry.size(), 0u);
}

// The listener takes on what waits in its backlog after shutdown began: those connections are asked
// to wind down at once and must be waited for like the others (the process used to stop before they
// were answered).
TEST(connection_registry, a_connection_added_after_shutdown_began_is_asked_at_once_and_counted) {
  connection_registry registry;
  registry.shutdown_all();
  int asked = 0;
  {
    auto late = registry.add([&] { ++asked; });
    EXPECT_EQ(asked, 1);
    EXPECT_EQ(registry.size(), 1u);
  }
  EXPECT_EQ(registry.size(), 0u);
}

}  // namespace
