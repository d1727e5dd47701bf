// Table-driven checks: every row of a table runs through one check, and a failure names the row
// (its index and its printed value). One test per table keeps the test count, and so the time
// CTest spends starting processes, small.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <string>

namespace table_test {

template <class Rows, class Check>
void for_each_row(const Rows& rows, Check&& check) {
  std::size_t index = 0;
  for (const auto& row : rows) {
    SCOPED_TRACE("row " + std::to_string(index++) + ": " + testing::PrintToString(row));
    check(row);
  }
}

}  // namespace table_test
