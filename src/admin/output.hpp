// How the administration commands print: rows of JSON objects, as a table for a person or as
// JSON for a script (--json), so that both always show the same values.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <iosfwd>
#include <string>

namespace sig::admin {

/// `rows` as an aligned table with a header of their keys (the first row's, in order), or as a
/// JSON array. An empty list prints a header-less "(none)" line, or [].
void print_rows(std::ostream& out, const boost::json::array& rows, bool json);
/// One record: "key: value" lines, or a JSON object.
void print_record(std::ostream& out, const boost::json::object& record, bool json);

/// Microseconds since the epoch as ISO 8601 UTC, e.g. 2026-12-02T14:03:00Z.
std::string iso_time(std::int64_t micros);

}  // namespace sig::admin
