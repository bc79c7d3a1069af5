# The C tests, run by ctest: the C ABI test, the header as strict C99, and the install test
# (install to a temporary prefix, then build and run outside consumers). The C example's test
# is registered by Examples/c.
find_package(Threads REQUIRED)

set(AIMOS_FIXTURES_DIR "${PROJECT_SOURCE_DIR}/Tests/AimosCoreTests/Fixtures")

# The public header compiles as pedantic C99 without warnings (compiled with the build).
file(WRITE "${CMAKE_BINARY_DIR}/aimos_header_check.c"
     "#include <aimos.h>\nint aimos_header_check(void) { return aimos_version() != 0; }\n")
add_library(aimos_header_check OBJECT "${CMAKE_BINARY_DIR}/aimos_header_check.c")
target_include_directories(aimos_header_check PRIVATE "${PROJECT_SOURCE_DIR}/include")
set_target_properties(aimos_header_check PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON
                                                    C_EXTENSIONS OFF)
target_compile_options(aimos_header_check PRIVATE -Wall -Wextra -Wpedantic -Werror)

# Every C ABI function and error path, and 8 threads sharing one model.
add_executable(aimos_abi_test "${PROJECT_SOURCE_DIR}/Tests/c/abi_test.c")
set_target_properties(aimos_abi_test PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON
                                                C_EXTENSIONS OFF)
target_compile_definitions(aimos_abi_test PRIVATE _POSIX_C_SOURCE=200809L)
target_compile_options(aimos_abi_test PRIVATE -Wall -Wextra -Werror)
target_link_libraries(aimos_abi_test PRIVATE aimos::aimos Threads::Threads m)
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/abi_test_scratch")
add_test(NAME c_abi
         COMMAND aimos_abi_test "${AIMOS_FIXTURES_DIR}" "${CMAKE_BINARY_DIR}/abi_test_scratch")

# Install into a temporary prefix and build two consumers (pkg-config, find_package) against it.
# It reuses this build's SwiftPM products (or prebuilt library), so it takes seconds, not minutes.
if(AIMOS_LIBRARY_DIR)
  set(aimos_install_test_reuse --library-dir "${AIMOS_LIBRARY_DIR}")
else()
  set(aimos_install_test_reuse --swift-scratch-path "${AIMOS_SWIFT_SCRATCH_PATH}")
  if(AIMOS_SWIFT_BUILD_FLAGS)
    # The same flags, or SwiftPM would rebuild this build's products with others.
    list(APPEND aimos_install_test_reuse --swift-build-flags "${AIMOS_SWIFT_BUILD_FLAGS}")
  endif()
endif()
add_test(NAME install_and_consume
         COMMAND bash "${PROJECT_SOURCE_DIR}/Tests/install/test_install.sh"
                 --work-dir "${CMAKE_BINARY_DIR}/install_test" ${aimos_install_test_reuse})
set_tests_properties(install_and_consume PROPERTIES TIMEOUT 900)
