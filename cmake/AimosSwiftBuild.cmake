# Builds libaimos.so (and the `aimos` command when Package.swift declares it) with SwiftPM, and
# stages them in the CMake build tree as an installed system would see them:
#   <build>/lib/libaimos.so.X.Y.Z, libaimos.so.X -> (its SONAME), libaimos.so -> libaimos.so.X
#   <build>/bin/aimos
# SwiftPM works in its own scratch directory inside the CMake build tree, never in <source>/.build.
#
# Provides the target aimos_swift_build and the variables AIMOS_STAGED_LIBRARY (the real file),
# AIMOS_STAGED_COMMAND and AIMOS_HAS_COMMAND.
#
# -DAIMOS_LIBRARY_DIR=<dir> uses a libaimos.so (and aimos-cli) built elsewhere instead of running
# SwiftPM, as the project's test scripts do with $AIMOS_LIBRARY_DIR.

set(AIMOS_LIBRARY_DIR "" CACHE PATH
    "Directory with a prebuilt libaimos.so (and aimos-cli); empty: build them with swift build")
set(AIMOS_SWIFT_SCRATCH_PATH "${CMAKE_BINARY_DIR}/swift" CACHE PATH
    "SwiftPM scratch directory (its build products and dependency checkouts)")
set(AIMOS_SWIFT_BUILD_FLAGS "" CACHE STRING
    "Extra arguments for swift build, e.g. --jobs 2 or --disable-automatic-resolution")

# The command is built only when the package declares it (it is added after the library).
file(READ "${PROJECT_SOURCE_DIR}/Package.swift" aimos_manifest)
if(aimos_manifest MATCHES "\\.executable\\([^)]*name: *\"aimos-cli\"")
  set(AIMOS_HAS_COMMAND TRUE)
else()
  set(AIMOS_HAS_COMMAND FALSE)
endif()
# Re-run this check whenever the manifest changes.
set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${PROJECT_SOURCE_DIR}/Package.swift")

set(aimos_soname "libaimos.so.${AIMOS_SOVERSION}")
set(aimos_stage_lib "${CMAKE_BINARY_DIR}/lib")
set(aimos_stage_bin "${CMAKE_BINARY_DIR}/bin")
set(AIMOS_STAGED_LIBRARY "${aimos_stage_lib}/libaimos.so.${PROJECT_VERSION}")
set(AIMOS_STAGED_COMMAND "${aimos_stage_bin}/aimos")
file(MAKE_DIRECTORY "${aimos_stage_lib}" "${aimos_stage_bin}")
# The usual chain of names; the links dangle until the first build.
file(CREATE_LINK "libaimos.so.${PROJECT_VERSION}" "${aimos_stage_lib}/${aimos_soname}" SYMBOLIC)
file(CREATE_LINK "${aimos_soname}" "${aimos_stage_lib}/libaimos.so" SYMBOLIC)

if(AIMOS_LIBRARY_DIR)
  # A prebuilt directory may hold the library alone.
  if(NOT EXISTS "${AIMOS_LIBRARY_DIR}/aimos-cli")
    set(AIMOS_HAS_COMMAND FALSE)
  endif()
  set(aimos_products_dir "${AIMOS_LIBRARY_DIR}")
  set(aimos_build_commands "")
  set(aimos_build_depends "${AIMOS_LIBRARY_DIR}/libaimos.so")
  if(AIMOS_HAS_COMMAND)
    list(APPEND aimos_build_depends "${AIMOS_LIBRARY_DIR}/aimos-cli")
  endif()
  set(aimos_build_comment "Staging the prebuilt libaimos.so from ${AIMOS_LIBRARY_DIR}")
  message(STATUS "aimos: using the prebuilt library in ${AIMOS_LIBRARY_DIR}")
else()
  find_program(AIMOS_SWIFT_EXECUTABLE swift)
  if(NOT AIMOS_SWIFT_EXECUTABLE)
    message(FATAL_ERROR "swift not found: install the Swift toolchain, or pass "
                        "-DAIMOS_LIBRARY_DIR=<dir with a prebuilt libaimos.so>")
  endif()
  set(aimos_products_dir "${AIMOS_SWIFT_SCRATCH_PATH}/release")
  set(aimos_build_comment "Building libaimos.so with swift build -c release")
  separate_arguments(aimos_extra_flags UNIX_COMMAND "${AIMOS_SWIFT_BUILD_FLAGS}")
  # --static-swift-stdlib: installed binaries must not need the Swift toolchain's runtime. The
  # library gets it from its own linker flags too, but the command would otherwise link
  # libswiftCore.so and libFoundationEssentials.so from the toolchain.
  set(aimos_swift_build "${AIMOS_SWIFT_EXECUTABLE}" build -c release --static-swift-stdlib
      --package-path "${PROJECT_SOURCE_DIR}" --scratch-path "${AIMOS_SWIFT_SCRATCH_PATH}"
      ${aimos_extra_flags})
  set(aimos_build_commands COMMAND ${aimos_swift_build} --product aimos)
  if(AIMOS_HAS_COMMAND)
    list(APPEND aimos_build_commands COMMAND ${aimos_swift_build} --product aimos-cli)
  endif()
  # Rebuild when a source, the manifest or the header changes (new files re-run the glob).
  file(GLOB_RECURSE aimos_build_depends CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/Sources/*")
  list(APPEND aimos_build_depends "${PROJECT_SOURCE_DIR}/Package.swift"
       "${PROJECT_SOURCE_DIR}/include/aimos.h")
endif()

set(aimos_stage_outputs "${AIMOS_STAGED_LIBRARY}")
if(AIMOS_HAS_COMMAND)
  list(APPEND aimos_stage_outputs "${AIMOS_STAGED_COMMAND}")
endif()
set(aimos_copy_commands
    COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${aimos_products_dir}/libaimos.so"
            "${AIMOS_STAGED_LIBRARY}")
if(AIMOS_HAS_COMMAND)
  list(APPEND aimos_copy_commands
       COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${aimos_products_dir}/aimos-cli"
               "${AIMOS_STAGED_COMMAND}")
endif()

# The linker flags in Package.swift name Sources/AimosABI/exports.map relative to the package
# root, so SwiftPM runs from there. The stamp marks a finished build (SwiftPM leaves an
# up-to-date product untouched, so the product's own time stamp cannot serve).
add_custom_command(
  OUTPUT "${CMAKE_BINARY_DIR}/aimos_swift_build.stamp"
  BYPRODUCTS ${aimos_stage_outputs}
  ${aimos_build_commands}
  ${aimos_copy_commands}
  COMMAND "${CMAKE_COMMAND}" -E touch "${CMAKE_BINARY_DIR}/aimos_swift_build.stamp"
  DEPENDS ${aimos_build_depends}
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  COMMENT "${aimos_build_comment}"
  USES_TERMINAL
  VERBATIM)
add_custom_target(aimos_swift_build ALL DEPENDS "${CMAKE_BINARY_DIR}/aimos_swift_build.stamp")

# The library for targets of this build; an installed aimos provides the same name.
add_library(aimos::aimos SHARED IMPORTED GLOBAL)
set_target_properties(aimos::aimos PROPERTIES
  IMPORTED_LOCATION "${AIMOS_STAGED_LIBRARY}"
  IMPORTED_SONAME "${aimos_soname}"
  INTERFACE_INCLUDE_DIRECTORIES "${PROJECT_SOURCE_DIR}/include")
add_dependencies(aimos::aimos aimos_swift_build)
