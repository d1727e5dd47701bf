// Files compiled into the binary (cmake/embed.cmake: sig_embed_file), so that it needs no data
// files at run time: migrations, the OpenAPI document, the API documentation pages.
#pragma once

#include <string_view>

/// Declares and names the embedded file `symbol` as a std::string_view. Use at namespace scope
/// for the declaration (SIG_DECLARE_EMBEDDED) and anywhere for the value (SIG_EMBEDDED).
#define SIG_DECLARE_EMBEDDED(symbol)                     \
  extern "C" const char sig_embedded_##symbol##_begin[]; \
  extern "C" const char sig_embedded_##symbol##_end[]
#define SIG_EMBEDDED(symbol)                      \
  std::string_view(sig_embedded_##symbol##_begin, \
                   static_cast<std::size_t>(sig_embedded_##symbol##_end - sig_embedded_##symbol##_begin))
