// The stores the contract suite runs against. Each factory opens a fresh, empty store and can
// close and reopen it on the same database, to show that what was committed survives.
//
// Adding a store: write a harness like sqlite_harness in store_factories.cpp and append one
// store_factory to store_factories(); every TEST_P of the contract suites then runs against it
// too. A factory returns nullptr when its database is not available here (the test skips).
#pragma once

#include "store/store.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace store_test {

class postgres_schema;

class store_harness {
 public:
  virtual ~store_harness() = default;
  virtual sig::store::store& db() = 0;
  /// Closes the store and opens a new one on the same database.
  virtual void reopen() = 0;
  /// A second, independent store object on the same database (another "process"), or nullptr
  /// when the backend cannot share a database that way.
  virtual std::unique_ptr<sig::store::store> open_another() = 0;
  /// The PostgreSQL schema of this harness, for tests that look at the database directly.
  virtual const postgres_schema* postgres() const { return nullptr; }
};

struct store_factory {
  std::string name;  // a valid gtest name: letters, digits, underscores
  std::function<std::unique_ptr<store_harness>()> create;

  friend std::ostream& operator<<(std::ostream& out, const store_factory& f) { return out << f.name; }
};

std::vector<store_factory> store_factories();

inline std::string factory_name(const testing::TestParamInfo<store_factory>& info) { return info.param.name; }

}  // namespace store_test
