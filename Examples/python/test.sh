#!/usr/bin/env bash
# Runs the tests of the Python binding against libaimos.so from $AIMOS_LIBRARY_DIR if set, else
# from <repo>/.build/release (swift build -c release). Needs numpy and pytest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export AIMOS_LIBRARY="${AIMOS_LIBRARY_DIR:-$root/.build/release}/libaimos.so"
test -f "$AIMOS_LIBRARY" || { echo "no $AIMOS_LIBRARY: build the library first (swift build -c release)" >&2; exit 2; }
cd "$here"
exec python3 -m pytest -q -p no:cacheprovider test_aimos.py "$@"
