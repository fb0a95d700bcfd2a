"""Builds the dck package. Beside the Python code it installs, from the DCK build next to it
($DCK_BUILD_DIR, else ../build), a copy of libdckrt.so with the stdlib modules and dck.h of
the same tree ($DCK_SOURCE_DIR, else ..), so that the installed package loads the library
its ctypes mirror was written for. Without a build the package uses an installed libdckrt
(docs/python.md)."""
import glob
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DCK_SOURCE_DIR") or os.path.dirname(HERE)


def built_library():
    dirs = [os.environ.get("DCK_BUILD_DIR"), os.path.join(ROOT, "build")]
    for d in dirs:
        if d and os.path.isfile(os.path.join(d, "runtime", "libdckrt.so")):
            return os.path.join(d, "runtime", "libdckrt.so")
    return None


class BuildPy(build_py):
    def run(self):
        super().run()
        lib = built_library()
        dest = os.path.join(self.build_lib, "dck", "_lib")
        if not lib:
            print("dck: no build/runtime/libdckrt.so (set DCK_BUILD_DIR): the package will use "
                  "an installed libdckrt (cmake --install) or $DCK_LIBRARY")
            return
        print("dck: bundling %s" % lib)
        os.makedirs(os.path.join(dest, "stdlib", "dck"), exist_ok=True)
        os.makedirs(os.path.join(dest, "include"), exist_ok=True)
        shutil.copy(lib, os.path.join(dest, "libdckrt.so"))  # follows the symlinks
        for f in glob.glob(os.path.join(ROOT, "stdlib", "dck", "*.dck")):
            shutil.copy(f, os.path.join(dest, "stdlib", "dck"))
        shutil.copy(os.path.join(ROOT, "runtime", "include", "dck.h"),
                    os.path.join(dest, "include"))


class BinaryDistribution(Distribution):
    """The wheel holds a shared library: tag it for this platform."""

    def has_ext_modules(self):
        return built_library() is not None


setup(cmdclass={"build_py": BuildPy}, distclass=BinaryDistribution)
