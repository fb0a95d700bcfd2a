"""Shared set-up of the dck package's tests: run from the source tree (python/ on sys.path
unless DCK_TEST_INSTALLED=1 tests the installed package) against the library of
$DCK_LIBRARY (ctest passes the build's), with lavapipe's runtime dir and no warnings."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if os.environ.get("DCK_TEST_INSTALLED") != "1":
    sys.path.insert(0, os.path.dirname(HERE))
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
os.environ.setdefault("DCK_QUIET", "1")
