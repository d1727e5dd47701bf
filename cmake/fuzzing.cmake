# libFuzzer (SIG_BUILD_FUZZERS): every library of the project gets libFuzzer's coverage
# instrumentation, so the fuzz targets of fuzz/ see the edges of the code they drive; only those
# targets link libFuzzer's main (-fsanitize=fuzzer, in fuzz/CMakeLists.txt). Meant to be combined
# with SIG_ENABLE_ASAN and SIG_ENABLE_UBSAN, as scripts/fuzz.sh does.
if(NOT SIG_BUILD_FUZZERS)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "SIG_BUILD_FUZZERS needs Clang (libFuzzer); configure with CMAKE_CXX_COMPILER=clang++-19")
endif()
# Clang before 19 cannot compile the project: it reports __cpp_concepts < 202002L, so libstdc++ 12
# leaves std::expected out (and Clang 14 lacks the conditionally trivial destructors it needs).
if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
  message(FATAL_ERROR "SIG_BUILD_FUZZERS needs Clang 19 or newer (std::expected of libstdc++); found ${CMAKE_CXX_COMPILER_VERSION}")
endif()
add_compile_options(-fsanitize=fuzzer-no-link)
