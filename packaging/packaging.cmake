# Install layout and CPack settings for the .deb package (no .rpm: see
# docs/install.md, "Other distributions"). Included from the top-level
# CMakeLists.txt; `scripts/package` configures with -DCMAKE_INSTALL_PREFIX=/usr
# and runs cpack.
#
#   /usr/bin/etcd-warden
#   /lib/systemd/system/etcd-warden.service
#   /etc/etcd-warden/config.yaml                      a conffile
#   /usr/share/dbus-1/system.d/io.etcdwarden.Warden1.conf
#   /usr/share/man/man8/etcd-warden.8.gz
#   /usr/share/etcd-warden/prometheus/etcd-warden-rules.yml, etcd-warden-rules.test.yml
#   /usr/share/etcd-warden/grafana/etcd-warden-dashboard.json
#   /usr/share/doc/etcd-warden/{README.md,*.md,copyright,changelog.Debian.gz}
#   /usr/share/lintian/overrides/etcd-warden
#   /var/lib/etcd-warden/snapshots (0700): made by the maintainer scripts, not shipped
#
# /etc is an absolute install destination; CPACK_SET_DESTDIR puts it under the
# staging directory.

set(_pkg_dir ${PROJECT_SOURCE_DIR}/packaging)
set(_pkg_gen ${CMAKE_CURRENT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${_pkg_gen})

set(ETCD_WARDEN_PACKAGE_RELEASE 1 CACHE STRING "Package release (the -N of VERSION-N)")

# --- Compressed files: the man page and the Debian changelog ------------------
# gzip -n: no name or timestamp in the header, so builds are reproducible
# (lintian: package-contains-timestamped-gzip).
find_program(GZIP_EXECUTABLE gzip REQUIRED)
add_custom_command(
  OUTPUT ${_pkg_gen}/etcd-warden.8.gz
  COMMAND ${GZIP_EXECUTABLE} -9n -c ${_pkg_dir}/man/etcd-warden.8 > ${_pkg_gen}/etcd-warden.8.gz
  DEPENDS ${_pkg_dir}/man/etcd-warden.8
  COMMENT "Compressing etcd-warden.8")
add_custom_command(
  OUTPUT ${_pkg_gen}/changelog.Debian.gz
  COMMAND ${GZIP_EXECUTABLE} -9n -c ${_pkg_dir}/debian/changelog > ${_pkg_gen}/changelog.Debian.gz
  DEPENDS ${_pkg_dir}/debian/changelog
  COMMENT "Compressing changelog.Debian")
add_custom_target(etcd_warden_package_files ALL
  DEPENDS ${_pkg_gen}/etcd-warden.8.gz ${_pkg_gen}/changelog.Debian.gz)

# The newest changelog entry must name the version being packaged, or lintian
# and `apt changelog` disagree with the package.
file(STRINGS ${_pkg_dir}/debian/changelog _changelog_top LIMIT_COUNT 1)
set(_deb_version "${PROJECT_VERSION}-${ETCD_WARDEN_PACKAGE_RELEASE}")
if(NOT _changelog_top MATCHES "^etcd-warden \\(${_deb_version}\\) ")
  message(WARNING "packaging/debian/changelog: the newest entry is '${_changelog_top}', "
                  "expected version ${_deb_version}; add an entry before packaging")
endif()

# --- Install rules ------------------------------------------------------------
# The binary itself: install(TARGETS etcd-warden ...) in the top-level file.

# The unit goes to /usr/lib/systemd/system (the same directory as
# /lib/systemd/system on merged-/usr Debian). Built on Debian 12,
# package_layout.cmake (a CPack pre-build script) moves it to
# /lib/systemd/system as bookworm's debhelper does; from Debian 13 on, a file
# under /lib is a lintian error (aliased-location: /lib is a symlink to usr/lib
# there) and it stays under /usr. The release is the one this build runs on.
set(_os_id "")
set(_os_version "")
if(EXISTS /etc/os-release)
  file(STRINGS /etc/os-release _os_id REGEX "^ID=")
  file(STRINGS /etc/os-release _os_version REGEX "^VERSION_ID=")
  string(REGEX REPLACE "^ID=\"?([a-z]+).*" "\\1" _os_id "${_os_id}")
  string(REGEX REPLACE "^VERSION_ID=\"?([0-9]+).*" "\\1" _os_version "${_os_version}")
endif()
set(CPACK_ETCD_WARDEN_UNIT_IN_LIB OFF)  # read by package_layout.cmake
if(_os_id STREQUAL "debian" AND _os_version MATCHES "^[0-9]+$" AND _os_version LESS 13)
  set(CPACK_ETCD_WARDEN_UNIT_IN_LIB ON)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/systemd/etcd-warden.service
        DESTINATION lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

install(FILES ${PROJECT_SOURCE_DIR}/config/config.yaml
        DESTINATION /etc/etcd-warden
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Written by the D-Bus control work; packaged once it exists.
install(FILES ${_pkg_dir}/dbus/io.etcdwarden.Warden1.conf
        DESTINATION share/dbus-1/system.d OPTIONAL)

install(FILES ${_pkg_gen}/etcd-warden.8.gz DESTINATION share/man/man8)

install(FILES ${_pkg_dir}/prometheus/etcd-warden-rules.yml
              ${_pkg_dir}/prometheus/etcd-warden-rules.test.yml
        DESTINATION share/etcd-warden/prometheus)
install(FILES ${_pkg_dir}/grafana/etcd-warden-dashboard.json
        DESTINATION share/etcd-warden/grafana)

set(_doc_dir share/doc/etcd-warden)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${_pkg_dir}/debian/copyright
        DESTINATION ${_doc_dir})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${_doc_dir}
        FILES_MATCHING PATTERN "*.md")
# Debian: the changelog next to the copyright file, and lintian overrides.
install(FILES ${_pkg_gen}/changelog.Debian.gz DESTINATION ${_doc_dir})
install(FILES ${_pkg_dir}/lintian-overrides DESTINATION share/lintian/overrides
        RENAME etcd-warden)

# --- CPack: common ------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME etcd-warden)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "etcd-warden")
set(CPACK_PACKAGE_CONTACT "etcd-warden developers <dev@etcd-warden.invalid>")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/etcd-warden/etcd-warden")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "maintenance daemon for etcd members")
set(CPACK_PACKAGE_DESCRIPTION
"etcd-warden runs beside every etcd member (Kubernetes control-plane nodes
or plain etcd hosts) and keeps etcd small, fast, backed up and correctly
tuned: it compacts the key history, defragments one member of the cluster
at a time when it pays, saves verified snapshots with retention, recovers
from the NOSPACE alarm, and checks heartbeat and election timeouts against
the measured disk and network latency. It reports through systemd status,
the journal, D-Bus and its own Prometheus endpoint.")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_PRE_BUILD_SCRIPTS ${_pkg_dir}/package_layout.cmake)
set(CPACK_ETCD_WARDEN_LICENSE_FILE ${PROJECT_SOURCE_DIR}/LICENSE)  # read by package_layout.cmake
# Everything is in one package.
set(CPACK_DEB_COMPONENT_INSTALL OFF)

# --- CPack: Debian --------------------------------------------------------------
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${ETCD_WARDEN_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The D-Bus policy and `etcd-warden ctl` need a system bus; the daemon runs without one.
# zstd: decompressing a .zst snapshot for a restore (the restore plan prints
# `zstd -d`); etcd-client: etcdctl (and, on Debian 13, etcdutl) for restores.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "default-dbus-system-bus | dbus-system-bus, zstd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "etcd-client, prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
configure_file(${_pkg_dir}/debian/conffiles ${_pkg_gen}/deb/conffiles COPYONLY)
foreach(_script postinst prerm postrm)
  configure_file(${_pkg_dir}/debian/${_script} ${_pkg_gen}/deb/${_script} COPYONLY)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${_pkg_gen}/deb/conffiles ${_pkg_gen}/deb/postinst ${_pkg_gen}/deb/prerm
  ${_pkg_gen}/deb/postrm)

include(CPack)
