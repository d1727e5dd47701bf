# Debian package of the server: in a build directory where the server is built, `cpack -G DEB`
# writes signaling-server_<version>_<arch>.deb with the binary as it is (cpack builds nothing);
# tests/package/test_deb.sh installs and runs it. These are the project's only install() rules,
# so neither the tests nor the benchmark tools reach the package.

set(SIG_DOC_DIR share/doc/signaling-server)

install(TARGETS signaling-server RUNTIME DESTINATION bin)
# The unit and the environment file go to absolute paths, where Debian 12 looks for them. The DEB
# generator stages them under DESTDIR; anything else (`cmake --install`, `cpack -G TGZ`) would
# write them into this machine's /lib and /etc, next to a binary under another prefix than the
# unit's /usr/bin: refused.
install(CODE [[
  if("$ENV{DESTDIR}" STREQUAL "")
    message(FATAL_ERROR "signaling-server installs as a Debian package: cpack -G DEB (or set DESTDIR)")
  endif()
]])
install(FILES ${PROJECT_SOURCE_DIR}/deploy/signaling-server.service DESTINATION /lib/systemd/system)
# 0640: it may hold SECRET_KEY; postinst gives it to the signaling-server group.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/signaling.env DESTINATION /etc/signaling-server
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)

# The documentation keeps the repository's layout, so that the README's relative links still work.
file(GLOB SIG_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/BENCHMARKS.md DESTINATION ${SIG_DOC_DIR})
install(FILES ${SIG_DOCS} ${PROJECT_SOURCE_DIR}/docs/openapi.json DESTINATION ${SIG_DOC_DIR}/docs)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/bench/ DESTINATION ${SIG_DOC_DIR}/docs/bench FILES_MATCHING PATTERN "*.png")
install(FILES ${PROJECT_SOURCE_DIR}/deploy/nginx-tls.conf ${PROJECT_SOURCE_DIR}/deploy/journald.md
        DESTINATION ${SIG_DOC_DIR}/deploy)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/nginx/signaling-cluster.conf DESTINATION ${SIG_DOC_DIR}/deploy/nginx)

set(SIG_DEB_MAINTAINER "signaling-server maintainers <maintainers@example.com>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME signaling-server)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "control plane and signaling server of a peer-to-peer mesh VPN")
# One string: a `;` in a list of strings would split it.
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "Users register and log in, create organizations that each own an IPv4 subnet and get virtual IPs "
       "inside it; their agents keep a WebSocket to the server to learn the endpoints of their peers and "
       "exchange signaling messages. REST and WebSocket on one port, SQLite or PostgreSQL. Runs as the "
       "signaling-server.service systemd unit, configured in /etc/signaling-server/signaling.env.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SIG_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries the binary links (OpenSSL, Boost, SQLite, libpq, …), found by
# dpkg-shlibdeps (dpkg-dev); adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/deb/conffiles ${PROJECT_SOURCE_DIR}/cmake/deb/postinst
    ${PROJECT_SOURCE_DIR}/cmake/deb/prerm ${PROJECT_SOURCE_DIR}/cmake/deb/postrm)
# Maintainer scripts 0755 and conffiles 0644 whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
