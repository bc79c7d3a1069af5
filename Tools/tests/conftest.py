"""Shared setup of the aimostools tests: the package is importable from this checkout (also
when it is not installed), in this process and in the tools the tests start."""
import os
import sys

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(TOOLS)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (TOOLS, os.environ.get("PYTHONPATH")) if p)
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

