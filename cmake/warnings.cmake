# Project-wide warning flags, applied through the sig_warnings interface target.
add_library(sig_warnings INTERFACE)
target_compile_options(sig_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
if(SIG_WARNINGS_AS_ERRORS)
  target_compile_options(sig_warnings INTERFACE -Werror)
endif()
