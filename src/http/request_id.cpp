// Request ids; see request_id.hpp.
#include "http/request_id.hpp"

#include "core/random.hpp"

#include <algorithm>

namespace sig::http {

std::string request_id_of(std::string_view header) {
  const bool usable = !header.empty() && header.size() <= max_request_id_size &&
                      std::all_of(header.begin(), header.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
  return usable ? std::string(header) : random_hex(16);
}

}  // namespace sig::http
