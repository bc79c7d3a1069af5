#!/usr/bin/env bash
# Builds and runs the C ABI test against .build/release/libaimos.so, checks that the header
# compiles as C and C++ without warnings, and (where valgrind exists) that nothing leaks.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/.build/c-tests"
mkdir -p "$build/scratch"
lib="$root/.build/release"
test -f "$lib/libaimos.so" || { echo "build the library first: swift build -c release" >&2; exit 2; }
# The library's SONAME is libaimos.so.0 (as installed); give the build output that name too.
# valgrind cannot read the debug info of a --static-swift-stdlib build ("possibly corrupted
# debuginfo"), so the test links a copy without it: the same code, minus debug sections.
mkdir -p "$build/lib"
rm -f "$build/lib/libaimos.so" "$build/lib/libaimos.so.0"
strip --strip-debug -o "$build/lib/libaimos.so.0" "$lib/libaimos.so"
ln -sf libaimos.so.0 "$build/lib/libaimos.so"
lib="$build/lib"

# The header alone, as C99 and as C++, warnings as errors.
printf '#include <aimos.h>\nint main(void) { return aimos_version() == 0; }\n' > "$build/header.c"
cc -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$root/include" -c "$build/header.c" -o "$build/header_c.o"
c++ -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$root/include" -c "$build/header.c" -o "$build/header_cpp.o"

cc -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 -g -pthread -I"$root/include" \
   "$root/Tests/c/abi_test.c" -L"$lib" -laimos -Wl,-rpath,"$lib" -lm -o "$build/abi_test"
fixtures="$root/Tests/AimosCoreTests/Fixtures"
"$build/abi_test" "$fixtures" "$build/scratch"

if command -v valgrind >/dev/null; then
    echo "valgrind: checking the C ABI test for leaks and memory errors"
    AIMOS_TEST_QUICK=1 valgrind --quiet --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=3 \
        "$build/abi_test" "$fixtures" "$build/scratch" >/dev/null
    echo "valgrind: no definite leaks, no memory errors"
else
    echo "valgrind not installed: leak check skipped" >&2
fi

# Allocation failure anywhere: a clean AIMOS_ERROR_OUT_OF_MEMORY under a swept address-space limit.
cc -std=c99 -Wall -Wextra -Werror -O1 -I"$root/include" "$root/Tests/c/oom_test.c" -L"$lib" -laimos -Wl,-rpath,"$lib" \
   -o "$build/oom_test"
"$build/oom_test" "$fixtures/unet64_c3_s32_f32.safetensors"
