# AddressSanitizer / UndefinedBehaviorSanitizer for every target of the project.
set(SIG_SANITIZERS "")
if(SIG_ENABLE_ASAN)
  list(APPEND SIG_SANITIZERS address)
endif()
if(SIG_ENABLE_UBSAN)
  list(APPEND SIG_SANITIZERS undefined)
endif()
if(SIG_SANITIZERS)
  list(JOIN SIG_SANITIZERS "," SIG_SANITIZER_LIST)
  add_compile_options(-fsanitize=${SIG_SANITIZER_LIST} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SIG_SANITIZER_LIST})
  # The sanitizers' instrumentation makes GCC's flow analysis report uninitialized values inside
  # Boost.Beast that do not exist (boost::optional in basic_parser); the sanitizers check for real.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
endif()
