#!/usr/bin/env bash
# Installs aimos with CMake into a temporary prefix, checks the installed files (versioned
# library and its links, SONAME, exported symbols, no Swift runtime needed, pkg-config file,
# CMake package), then builds two programs OUTSIDE the source tree against the install and runs
# them: one with `cc ... $(pkg-config --cflags --libs aimos)`, one as a CMake project using
# find_package(aimos) and aimos::aimos. Last, it moves the install (the CMake package must be
# relocatable) and installs again with `cmake --install --prefix` (the .pc must follow).
#
#   Tests/install/test_install.sh [--work-dir DIR] [--swift-scratch-path DIR | --library-dir DIR]
#                                 [--swift-build-flags FLAGS]
#
#   --work-dir DIR            build/, prefix/ and the consumers go there (default: a temporary
#                             directory, removed afterwards)
#   --swift-scratch-path DIR  reuse this SwiftPM scratch directory (a CMake build's <build>/swift)
#                             instead of building the library from scratch (1-2 minutes)
#   --library-dir DIR         install this prebuilt libaimos.so (default: $AIMOS_LIBRARY_DIR if
#                             set) instead of running swift build
#   --swift-build-flags FLAGS extra swift build arguments (CMake's AIMOS_SWIFT_BUILD_FLAGS); give
#                             the same as the build whose scratch directory is reused
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/Tests/install"

work="" scratch="" library_dir="${AIMOS_LIBRARY_DIR:-}" swift_flags=""
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; }
    case "$1" in
        --work-dir) work=$2; shift 2 ;;
        --swift-scratch-path) scratch=$2; library_dir=""; shift 2 ;;
        --library-dir) library_dir=$2; shift 2 ;;
        --swift-build-flags) swift_flags=$2; shift 2 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
if [ -z "$work" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
build="$work/build" prefix="$work/prefix"
rm -rf "$build" "$prefix" "$work/prefix-moved" "$work/prefix-other" "$work/consumer-pc" \
       "$work/consumer-cmake" "$work/consumer-moved"
mkdir -p "$work/consumer-pc"

checks=0
pass() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; echo "install test: FAILED after $checks checks" >&2; exit 1; }
# Runs a command quietly; shows its output when it fails.
quiet() {
    local log="$work/last_command.log"
    "$@" > "$log" 2>&1 || { cat "$log" >&2; fail "command failed: $*"; }
}
command -v pkg-config > /dev/null || fail "pkg-config is not installed (Debian: pkg-config)"

version=$(sed -n 's/^#define AIMOS_VERSION_STRING "\(.*\)"$/\1/p' "$root/include/aimos.h")
# The SONAME counts ABI breaks, not releases (CMakeLists.txt: AIMOS_SOVERSION).
major=$(sed -n 's/^set(AIMOS_SOVERSION \([0-9][0-9]*\))$/\1/p' "$root/CMakeLists.txt")
[ -n "$major" ] || fail "CMakeLists.txt sets no AIMOS_SOVERSION"
grep -q -- "-soname=libaimos.so.$major\"" "$root/Package.swift" || fail "Package.swift's -soname is not libaimos.so.$major"
model="$root/Tests/AimosCoreTests/Fixtures/unet64_c3_s32_f32.safetensors"
model_classes=3

# 1. Configure, build and install, as a user would (tests and example off: not installed).
configure_args=(-DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_TESTING=OFF -DAIMOS_BUILD_EXAMPLES=OFF)
if [ -n "$library_dir" ]; then
    configure_args+=(-DAIMOS_LIBRARY_DIR="$library_dir")
else
    configure_args+=(-DAIMOS_SWIFT_BUILD_FLAGS="$swift_flags")
    [ -z "$scratch" ] || configure_args+=(-DAIMOS_SWIFT_SCRATCH_PATH="$scratch")
fi
echo "== cmake configure, build, install into $prefix"
quiet cmake -S "$root" -B "$build" "${configure_args[@]}"
quiet cmake --build "$build"
quiet cmake --install "$build"
pass "cmake configure, build and install"

# 2. The installed files.
lib="$prefix/lib"
[ -f "$prefix/include/aimos.h" ] || fail "include/aimos.h not installed"
[ -f "$lib/libaimos.so.$version" ] && [ ! -L "$lib/libaimos.so.$version" ] \
    || fail "lib/libaimos.so.$version is not a regular file"
[ "$(readlink "$lib/libaimos.so.$major")" = "libaimos.so.$version" ] \
    || fail "lib/libaimos.so.$major does not link to libaimos.so.$version"
[ "$(readlink "$lib/libaimos.so")" = "libaimos.so.$major" ] \
    || fail "lib/libaimos.so does not link to libaimos.so.$major"
for f in lib/pkgconfig/aimos.pc lib/cmake/aimos/aimosConfig.cmake lib/cmake/aimos/aimosConfigVersion.cmake; do
    [ -f "$prefix/$f" ] || fail "$f not installed"
done
pass "installed: include/aimos.h, lib/libaimos.so.$version with links .so.$major and .so, aimos.pc, lib/cmake/aimos"

soname=$(readelf -d "$lib/libaimos.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libaimos.so.$major" ] || fail "SONAME is '$soname', want libaimos.so.$major"
pass "SONAME libaimos.so.$major"

# Without LD_LIBRARY_PATH: the library must find everything in the system paths.
needed=$(env -u LD_LIBRARY_PATH ldd "$lib/libaimos.so")
! grep -q "not found" <<< "$needed" || fail "ldd: missing libraries:"$'\n'"$needed"
! grep -Eiq "libswift|libFoundation|libdispatch|libBlocksRuntime" <<< "$needed" \
    || fail "libaimos.so needs Swift runtime libraries:"$'\n'"$needed"
pass "ldd libaimos.so: no Swift libraries, nothing missing"

# Exported: exactly the functions of the installed header (and the version node AIMOS_0).
exported=$(nm -D --defined-only --extern-only "$lib/libaimos.so" \
           | awk '$3 !~ /^AIMOS_[0-9]+$/ {sub(/@.*/, "", $3); print $3}' | sort -u)
declared=$(grep -vE '^(#define| \*|/\*)' "$prefix/include/aimos.h" | grep -oE '\baimos_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u)
[ -n "$declared" ] && [ "$exported" = "$declared" ] \
    || fail "exported symbols differ from the header's functions:"$'\n'"$(diff <(echo "$declared") <(echo "$exported"))"
pass "libaimos.so exports exactly the $(wc -l <<< "$declared") functions of aimos.h"

if grep -Eq '\.executable\([^)]*name: *"aimos-cli"' "$root/Package.swift" \
   && { [ -z "$library_dir" ] || [ -f "$library_dir/aimos-cli" ]; }; then
    [ -x "$prefix/bin/aimos" ] || fail "Package.swift declares aimos-cli but bin/aimos is not installed"
    cli_needed=$(env -u LD_LIBRARY_PATH ldd "$prefix/bin/aimos")
    ! grep -q "not found" <<< "$cli_needed" || fail "ldd bin/aimos: missing libraries:"$'\n'"$cli_needed"
    ! grep -Eiq "libswift|libFoundation|libdispatch|libBlocksRuntime" <<< "$cli_needed" \
        || fail "bin/aimos needs Swift runtime libraries:"$'\n'"$cli_needed"
    pass "bin/aimos installed; needs no Swift libraries"
fi

cmp -s "$root/Examples/slicer/load_aimos_results.py" "$prefix/share/aimos/slicer/load_aimos_results.py" \
    || fail "share/aimos/slicer/load_aimos_results.py is not installed"
pass "the 3D Slicer loader installed in share/aimos/slicer"

# 3. Consumer through pkg-config, compiled outside the tree.
export PKG_CONFIG_PATH="$lib/pkgconfig"
[ "$(pkg-config --modversion aimos)" = "$version" ] || fail "pkg-config --modversion aimos is not $version"
read -ra flag_words <<< "$(pkg-config --cflags --libs aimos)"
flags="${flag_words[*]}"
[ "$flags" = "-I$prefix/include -L$lib -laimos" ] || fail "pkg-config flags: '$flags'"
cp "$here/consumer/consumer.c" "$work/consumer-pc/"
# shellcheck disable=SC2086  # the flags are words
quiet cc -std=c99 -Wall -Wextra -Werror "$work/consumer-pc/consumer.c" -o "$work/consumer-pc/consumer" \
    $flags -Wl,-rpath,"$lib" -lm
"$work/consumer-pc/consumer" "$model" "$model_classes" || fail "the pkg-config consumer failed"
pass "pkg-config consumer: cc consumer.c \$(pkg-config --cflags --libs aimos) builds and runs"

# 4. Consumer as a CMake project: find_package(aimos) and aimos::aimos.
cmake_consumer() { # BUILD_DIR PREFIX
    quiet cmake -S "$here/consumer" -B "$1" -DCMAKE_PREFIX_PATH="$2"
    quiet cmake --build "$1"
    "$1/consumer" "$model" "$model_classes" || fail "the CMake consumer in $1 failed"
    # It must use the library of that prefix (CMake puts the prefix's lib in its RUNPATH).
    local loaded
    loaded=$(env -u LD_LIBRARY_PATH ldd "$1/consumer")
    grep -Fq "libaimos.so.$major => $2/lib/libaimos.so.$major " <<< "$loaded" \
        || fail "$1/consumer does not load libaimos from $2/lib"
}
cmake_consumer "$work/consumer-cmake" "$prefix"
pass "CMake consumer: find_package(aimos) + aimos::aimos builds and runs"

# 5. The CMake package is relocatable: move the install and build against it again.
mv "$prefix" "$work/prefix-moved"
cmake_consumer "$work/consumer-moved" "$work/prefix-moved"
pass "CMake consumer against the moved install"

# 6. `cmake --install --prefix` writes a .pc for that prefix.
quiet cmake --install "$build" --prefix "$work/prefix-other"
grep -qx "prefix=$work/prefix-other" "$work/prefix-other/lib/pkgconfig/aimos.pc" \
    || fail "cmake --install --prefix: aimos.pc does not name the new prefix"
pass "cmake --install --prefix: aimos.pc follows the prefix"

echo "install test: PASSED ($checks checks; aimos $version installed, found by pkg-config and find_package)"
