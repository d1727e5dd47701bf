# Third-party libraries, all from Debian 12 packages (see scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS json url)
find_package(OpenSSL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

# Beast and Asio are compiled once, in src/runtime/asio_src.cpp, instead of in every user.
add_library(sig_boost INTERFACE)
target_link_libraries(sig_boost INTERFACE Boost::headers Boost::json Boost::url Threads::Threads)
target_compile_definitions(sig_boost INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
