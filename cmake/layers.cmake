# The architecture as build targets: one static library per src/ folder.
#
#   warden_layer(NAME [USES layer...] [LINKS target...] [PRIVATE_LINKS target...])
#
# builds src/NAME/*.cpp into warden_NAME. USES names the lower layers whose
# headers NAME's headers and sources may include (linked PUBLIC: a layer's
# headers are part of its interface); LINKS are third-party libraries its
# public headers expose, PRIVATE_LINKS those only its sources use.
# warden_check_layers() then adds a build step that reads every #include of
# "etcd_warden/<layer>/..." in src/ and include/ and fails the build when a
# layer includes one it does not use, directly or through a layer it uses.

set_property(GLOBAL PROPERTY WARDEN_LAYERS "")

function(warden_layer name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "USES;LINKS;PRIVATE_LINKS")
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(warden_${name} STATIC ${sources})
  target_include_directories(warden_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                                   ${PROJECT_BINARY_DIR}/generated)
  target_compile_options(warden_${name} PRIVATE ${WARDEN_WARNINGS})
  target_compile_definitions(warden_${name} PUBLIC BOOST_ASIO_NO_DEPRECATED)
  set(uses "")
  foreach(lower IN LISTS arg_USES)
    if(NOT TARGET warden_${lower})
      message(FATAL_ERROR "layer ${name} uses ${lower}, which is not declared below it")
    endif()
    list(APPEND uses warden_${lower})
  endforeach()
  target_link_libraries(warden_${name} PUBLIC ${uses} ${arg_LINKS} PRIVATE ${arg_PRIVATE_LINKS})
  add_dependencies(warden_${name} warden_layer_check)

  # What it may include: itself, what it uses, and what those may include.
  set(allowed ${name})
  foreach(lower IN LISTS arg_USES)
    get_property(lower_allowed GLOBAL PROPERTY WARDEN_ALLOWED_${lower})
    list(APPEND allowed ${lower_allowed})
  endforeach()
  list(REMOVE_DUPLICATES allowed)
  set_property(GLOBAL PROPERTY WARDEN_ALLOWED_${name} "${allowed}")
  set_property(GLOBAL APPEND PROPERTY WARDEN_LAYERS ${name})
endfunction()

# The check target is created before the layers (they depend on it) and its
# rules filled in at the end, when every layer is known.
add_custom_target(warden_layer_check)

function(warden_check_layers)
  get_property(layers GLOBAL PROPERTY WARDEN_LAYERS)
  set(rules "")
  set(files "")
  foreach(layer IN LISTS layers)
    get_property(allowed GLOBAL PROPERTY WARDEN_ALLOWED_${layer})
    string(REPLACE ";" "," allowed "${allowed}")
    list(APPEND rules "${layer}=${allowed}")
    file(GLOB_RECURSE layer_files CONFIGURE_DEPENDS
         ${PROJECT_SOURCE_DIR}/src/${layer}/* ${PROJECT_SOURCE_DIR}/include/etcd_warden/${layer}/*)
    list(APPEND files ${layer_files})
  endforeach()
  string(REPLACE ";" " " rules "${rules}")
  set(WARDEN_LAYER_RULES "${rules}" PARENT_SCOPE)  # for the layer check's own test
  set(stamp ${PROJECT_BINARY_DIR}/layer_check.stamp)
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} "-DRULES=${rules}" -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
            -DSTAMP=${stamp} -P ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    COMMENT "Checking that every include follows the layer order"
    VERBATIM)
  add_custom_target(warden_layer_check_run DEPENDS ${stamp})
  add_dependencies(warden_layer_check warden_layer_check_run)
endfunction()
