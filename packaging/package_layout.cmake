# CPack pre-build script (CPACK_PRE_BUILD_SCRIPTS): runs on the staged tree,
# after the install rules and before the package is made.
#
# Built on Debian 12 (CPACK_ETCD_WARDEN_UNIT_IN_LIB, packaging.cmake), the
# unit moves from /usr/lib/systemd/system to /lib/systemd/system, where Debian
# 12's own packages keep units (dpkg does not know that the two are one
# directory on merged-/usr systems, so mixing them invites trouble). From
# Debian 13 on it stays under /usr.
set(_root "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")

if(CPACK_GENERATOR STREQUAL "DEB" AND CPACK_ETCD_WARDEN_UNIT_IN_LIB)
  file(GLOB _units "${_root}/usr/lib/systemd/system/*")
  file(MAKE_DIRECTORY "${_root}/lib/systemd/system")
  foreach(_unit IN LISTS _units)
    get_filename_component(_name "${_unit}" NAME)
    file(RENAME "${_unit}" "${_root}/lib/systemd/system/${_name}")
  endforeach()
  # usr/lib/systemd/system, then usr/lib/systemd and usr/lib if nothing else is in them.
  foreach(_dir usr/lib/systemd/system usr/lib/systemd usr/lib)
    file(GLOB _left "${_root}/${_dir}/*")
    if(NOT _left)
      file(REMOVE_RECURSE "${_root}/${_dir}")
    endif()
  endforeach()
endif()
