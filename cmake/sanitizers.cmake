# AddressSanitizer / UndefinedBehaviorSanitizer, or ThreadSanitizer, for every target of the
# project. TSan cannot be combined with ASan (both own the shadow memory), so asking for both stops
# the configuration instead of building something that would not start.
option(SIG_ENABLE_TSAN "Build with ThreadSanitizer (not with ASan)" OFF)
set(SIG_SANITIZERS "")
if(SIG_ENABLE_TSAN AND SIG_ENABLE_ASAN)
  message(FATAL_ERROR "SIG_ENABLE_TSAN and SIG_ENABLE_ASAN are exclusive: use the tsan or the asan preset")
endif()
if(SIG_ENABLE_ASAN)
  list(APPEND SIG_SANITIZERS address)
endif()
if(SIG_ENABLE_UBSAN)
  list(APPEND SIG_SANITIZERS undefined)
endif()
if(SIG_ENABLE_TSAN)
  list(APPEND SIG_SANITIZERS thread)
endif()
if(SIG_SANITIZERS)
  list(JOIN SIG_SANITIZERS "," SIG_SANITIZER_LIST)
  add_compile_options(-fsanitize=${SIG_SANITIZER_LIST} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SIG_SANITIZER_LIST})
  # UBSan's vptr check opens a pipe each time it meets a new dynamic type, to learn whether it may
  # read the vtable; with no descriptor left it calls every such object invalid and stops the
  # process. The end-to-end suite runs the server at its file limit on purpose, and its runtime
  # loads its suppressions only at the first report, when no descriptor is left to read them. ASan
  # still catches the use of a destroyed object, which is what the vptr check would find here.
  if(SIG_ENABLE_UBSAN)
    add_compile_options(-fno-sanitize=vptr)
  endif()
  # LLVM's lld links the instrumented executables much faster than GNU ld (lld is in
  # scripts/install-deps.sh); GNU ld, the default, where it is missing.
  find_program(SIG_LLD ld.lld)
  if(SIG_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
  # A sanitizer report needs function, file and line of each frame, not the types and variables
  # of full debug information, which for this Boost-heavy code costs much of the compile time and
  # most of the link time (the asan and tsan presets build RelWithDebInfo). Placed after the
  # configuration's -g, these win: Clang's line tables, GCC's -g1 (also lines only).
  if(CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
      add_compile_options(-gline-tables-only)
    else()
      add_compile_options(-g1)
    endif()
  endif()
  # The sanitizers' instrumentation makes GCC's flow analysis report uninitialized values inside
  # Boost.Beast that do not exist (boost::optional in basic_parser); the sanitizers check for real.
  # Likewise, GCC pairs Asio's coroutine-frame allocator (aligned_alloc behind its own operator
  # new) with the wrong deallocation when sanitizers change its inlining, and warns about a
  # mismatch that is not there (seen at -O2 with ASan + UBSan).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized -Wno-mismatched-new-delete)
  endif()
endif()
if(SIG_ENABLE_TSAN)
  # Asio's fenced blocks (std::atomic_thread_fence around handler invocations) are invisible to
  # TSan, and GCC refuses them under -fsanitize=thread (-Werror=tsan). Every hand-off of a handler
  # between threads already goes through the scheduler's mutex or an atomic, which TSan does see.
  add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
  # One fence remains in Asio: the acquire fence of its reference counts (detail/atomic_count.hpp,
  # the usual release-decrement-then-fence idiom). GCC warns that TSan does not model it; should
  # TSan ever report the destruction of a shared executor, it belongs in tests/tsan.supp.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
endif()
