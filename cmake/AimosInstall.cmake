# Installs the header, the versioned library with its links, the `aimos` command (when built),
# lib/pkgconfig/aimos.pc and the CMake package lib/cmake/aimos (target aimos::aimos).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(FILES "${PROJECT_SOURCE_DIR}/include/aimos.h" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

# libaimos.so.X.Y.Z, and the links libaimos.so.X (the SONAME) and libaimos.so (for -laimos);
# install(FILES) copies the links as links.
install(FILES "${AIMOS_STAGED_LIBRARY}"
              "${CMAKE_BINARY_DIR}/lib/libaimos.so.${AIMOS_SOVERSION}"
              "${CMAKE_BINARY_DIR}/lib/libaimos.so"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                    WORLD_READ WORLD_EXECUTE)

if(AIMOS_HAS_COMMAND)
  install(PROGRAMS "${AIMOS_STAGED_COMMAND}" DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()

# The bundled models, where `aimos` looks when no --model is given (micro-CT) and for
# --model lightsheet.
foreach(AIMOS_BUNDLED_MODEL aimos-demo.safetensors aimos-lightsheet.safetensors)
  if(EXISTS "${PROJECT_SOURCE_DIR}/models/${AIMOS_BUNDLED_MODEL}")
    install(FILES "${PROJECT_SOURCE_DIR}/models/${AIMOS_BUNDLED_MODEL}"
            DESTINATION "${CMAKE_INSTALL_DATADIR}/aimos/models")
  endif()
endforeach()

# The 3D Slicer loader (README: viewing the results), for installs without the source tree.
install(FILES "${PROJECT_SOURCE_DIR}/Examples/slicer/load_aimos_results.py"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/aimos/slicer")

# pkg-config: written at install time for the prefix installed to.
install(CODE "
  set(AIMOS_PC_TEMPLATE \"${PROJECT_SOURCE_DIR}/pkgconfig/aimos.pc.in\")
  set(AIMOS_PC_WORK_FILE \"${CMAKE_BINARY_DIR}/pkgconfig/aimos.pc\")
  set(AIMOS_PC_VERSION \"${PROJECT_VERSION}\")
  set(AIMOS_PC_LIBDIR_NAME \"${CMAKE_INSTALL_LIBDIR}\")
  set(AIMOS_PC_INCLUDEDIR_NAME \"${CMAKE_INSTALL_INCLUDEDIR}\")")
install(SCRIPT "${PROJECT_SOURCE_DIR}/cmake/AimosInstallPkgConfig.cmake")
install(FILES "${CMAKE_BINARY_DIR}/pkgconfig/aimos.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# CMake package: paths relative to the config file's own location (relocatable).
set(aimos_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/aimos")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/aimosConfig.cmake.in"
  "${CMAKE_BINARY_DIR}/cmake/aimosConfig.cmake"
  INSTALL_DESTINATION "${aimos_cmake_dir}"
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
# Every release so far keeps the ABI of the ones before (one SONAME, libaimos.so.0), so this
# version satisfies a request for any earlier one.
write_basic_package_version_file("${CMAKE_BINARY_DIR}/cmake/aimosConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY AnyNewerVersion)
install(FILES "${CMAKE_BINARY_DIR}/cmake/aimosConfig.cmake"
              "${CMAKE_BINARY_DIR}/cmake/aimosConfigVersion.cmake"
        DESTINATION "${aimos_cmake_dir}")
