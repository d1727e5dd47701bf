# Project-wide warning flags, applied through the sig_warnings interface target.
add_library(sig_warnings INTERFACE)
target_compile_options(sig_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
# GCC 12 reports -Wrestrict inside libstdc++ for `"literal" + std::string` at -O2 and above, a
# known false positive (GCC bug 105651, fixed in GCC 13).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(sig_warnings INTERFACE -Wno-restrict)
endif()
if(SIG_WARNINGS_AS_ERRORS)
  target_compile_options(sig_warnings INTERFACE -Werror)
endif()
