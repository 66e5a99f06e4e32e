# lib/ is built as one static library per folder (maintd_core, maintd_sqlite, ...), and the
# folders are layers (docs/architecture.md, "Layers"): a file of lib/<folder>/ may include
# (`#include "lib/<other>/..."`) only its own folder and the folders its library depends on,
# directly or through them. The check runs at configure time and again at build time
# whenever a file of the folder changes, so an include that climbs fails the build with the
# file and the line.
#
# In a CMakeLists.txt:
#   include(cmake/Layering.cmake)
#   maintd_layer(<folder> [DEPENDS <folder>...] [LIBS <target>...] SOURCES <file>...)
# declares maintd_<folder> from the files of lib/<folder>/ (every .h and .cc of the folder
# must be listed), linked PUBLIC to maintd_<dep> for each DEPENDS folder (declared before
# it) and to LIBS.
#
# As a script (what the build runs):
#   cmake -DMAINTD_SOURCE_DIR=<dir> -DMAINTD_LAYER=<folder> -DMAINTD_ALLOWED=<a,b,..>
#         -DMAINTD_STAMP=<file> -P cmake/Layering.cmake

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.22)  # policies (IN_LIST) as in the project
endif()

# FATAL_ERROR naming the first include in lib/<folder>/ that goes to a folder other than
# <folder> and the ones in `allowed`.
function(maintd_check_layer_includes source_dir folder allowed)
  file(GLOB files RELATIVE ${source_dir} ${source_dir}/lib/${folder}/*.h
       ${source_dir}/lib/${folder}/*.cc)
  foreach(file IN LISTS files)
    file(STRINGS ${source_dir}/${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"lib/")
    foreach(line IN LISTS lines)
      string(REGEX MATCH "\"lib/([^/\"]+)/" matched "${line}")
      set(to "${CMAKE_MATCH_1}")
      if(matched STREQUAL "" OR to STREQUAL folder OR to IN_LIST allowed)
        continue()
      endif()
      string(STRIP "${line}" line)
      if(allowed)
        string(REPLACE ";" ", " below "${allowed}")
      else()
        set(below "nothing")
      endif()
      message(FATAL_ERROR
        "layering: ${file}: ${line}\n"
        "  lib/${folder}/ may include only lib/${folder}/ and the folders maintd_${folder} "
        "depends on (${below}); lib/${to}/ is not one of them. An include that climbs is a "
        "design question: move the code down, or pass what it needs in "
        "(docs/architecture.md, \"Layers\").")
    endforeach()
  endforeach()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  string(REPLACE "," ";" allowed "${MAINTD_ALLOWED}")
  maintd_check_layer_includes(${MAINTD_SOURCE_DIR} ${MAINTD_LAYER} "${allowed}")
  file(WRITE ${MAINTD_STAMP} "")
  return()
endif()

function(maintd_layer folder)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "DEPENDS;LIBS;SOURCES")
  set(dir ${CMAKE_SOURCE_DIR}/lib/${folder})
  # Every file of the folder belongs to its library: a file left out would escape the build
  # (a .cc) or nothing would say where it belongs (a .h).
  file(GLOB present RELATIVE ${dir} ${dir}/*.h ${dir}/*.cc)
  foreach(file IN LISTS present)
    if(NOT file IN_LIST arg_SOURCES)
      message(FATAL_ERROR "layering: lib/${folder}/${file} is not listed in the SOURCES of "
                          "maintd_${folder} (${CMAKE_CURRENT_LIST_FILE})")
    endif()
  endforeach()
  # What the folder may include: its dependencies and everything they may include.
  set(allowed ${arg_DEPENDS})
  get_property(layers GLOBAL PROPERTY MAINTD_LAYERS)
  foreach(dep IN LISTS arg_DEPENDS)
    if(NOT dep IN_LIST layers)
      message(FATAL_ERROR "layering: maintd_${folder} depends on lib/${dep}/, which is not a "
                          "layer declared before it (${layers})")
    endif()
    get_property(below GLOBAL PROPERTY MAINTD_LAYER_${dep}_ALLOWED)
    list(APPEND allowed ${below})
  endforeach()
  list(REMOVE_DUPLICATES allowed)
  set_property(GLOBAL APPEND PROPERTY MAINTD_LAYERS ${folder})
  set_property(GLOBAL PROPERTY MAINTD_LAYER_${folder}_ALLOWED ${allowed})

  maintd_check_layer_includes(${CMAKE_SOURCE_DIR} ${folder} "${allowed}")

  # The same check at build time, whenever a file of the folder changes.
  list(TRANSFORM arg_SOURCES PREPEND ${dir}/ OUTPUT_VARIABLE sources)
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/layering/${folder}.stamp)
  string(REPLACE ";" "," allowed_arg "${allowed}")
  add_custom_command(
    OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -DMAINTD_SOURCE_DIR=${CMAKE_SOURCE_DIR} -DMAINTD_LAYER=${folder}
            "-DMAINTD_ALLOWED=${allowed_arg}" -DMAINTD_STAMP=${stamp}
            -P ${CMAKE_SOURCE_DIR}/cmake/Layering.cmake
    DEPENDS ${sources} ${CMAKE_SOURCE_DIR}/cmake/Layering.cmake
    COMMENT "Checking the includes of lib/${folder}/ against its layer"
    VERBATIM)

  add_library(maintd_${folder} STATIC ${sources} ${stamp})
  list(TRANSFORM arg_DEPENDS PREPEND maintd_ OUTPUT_VARIABLE dep_targets)
  target_link_libraries(maintd_${folder} PUBLIC ${dep_targets} ${arg_LIBS})
endfunction()
