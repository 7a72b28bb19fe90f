cmake_minimum_required(VERSION 3.25)
# cmake -DRULES="layer=allowed,allowed ..." -DSOURCE_DIR=... -DSTAMP=... -P check_layers.cmake
#
# For every layer, every file under src/<layer>/ and include/etcd_warden/<layer>/
# may include "etcd_warden/<other>/..." only when <other> is in its allowed
# list. Prints one line per offending include (file:line: what and why) and
# fails; touches STAMP when all is well.
separate_arguments(rules UNIX_COMMAND "${RULES}")
set(problems 0)
foreach(rule IN LISTS rules)
  string(REPLACE "=" ";" parts "${rule}")
  list(GET parts 0 layer)
  list(GET parts 1 allowed)
  string(REPLACE "," ";" allowed "${allowed}")
  file(GLOB_RECURSE files ${SOURCE_DIR}/src/${layer}/* ${SOURCE_DIR}/include/etcd_warden/${layer}/*)
  foreach(file IN LISTS files)
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"etcd_warden/[a-z_]+/")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"etcd_warden/([a-z_]+)/.*$" "\\1" used "${line}")
      if(NOT used IN_LIST allowed)
        file(RELATIVE_PATH shown ${SOURCE_DIR} ${file})
        string(STRIP "${line}" line)
        message("${shown}: ${line}: layer '${layer}' may not use '${used}' "
                "(it uses: ${allowed}; see docs/architecture.md)")
        math(EXPR problems "${problems} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()
if(problems GREATER 0)
  message(FATAL_ERROR "layer check: ${problems} include(s) against the layer order")
endif()
file(TOUCH ${STAMP})
