"""pytest setup: the project's scripts name the library folder with AIMOS_LIBRARY_DIR; the binding
reads AIMOS_LIBRARY (a file). Translate, so `pytest Examples/python` tests the library the other
test scripts test."""
import os

if "AIMOS_LIBRARY" not in os.environ and os.environ.get("AIMOS_LIBRARY_DIR"):
    os.environ["AIMOS_LIBRARY"] = os.path.join(os.environ["AIMOS_LIBRARY_DIR"], "libaimos.so")
