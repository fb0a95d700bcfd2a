"""Installing works. `pip install ./python` into a fresh virtual environment (system
site-packages visible for numpy; no network: --no-index --no-build-isolation), then a NumPy
user's three lines from another folder with no DCK_LIBRARY use the copy of libdckrt the
package carries; and a package built with no build to copy from uses the library of
`cmake --install`, found through pkg-config. Opt in with DCK_TEST_INSTALL=1 (ctest does)."""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

THREE_LINES = """
import dck, numpy as np
x, y = np.arange(4, dtype=np.float32), np.ones(4, np.float32)
dck.compile("kernel void saxpy(float a, const float[] x, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = a * x[i] + y[i]; }").saxpy(2.0, x, y)
assert y.tolist() == [1, 3, 5, 7], y
assert dck.library_found_by == "the copy installed with the package", dck.library_found_by
assert dck.__file__.startswith(%r), dck.__file__
m = dck.compile('#include <dck/math.dck>\\nkernel void f(float[] y) { y[0] = M_PI; }', backend="cpu")
m.f(y, global_size=1)
print("installed ok", dck.library_path)
"""


def test_pip_install(tmp_path):
    if os.environ.get("DCK_TEST_INSTALL") != "1":
        pytest.skip("DCK_TEST_INSTALL=1 not set (ctest's python_install sets it)")
    lib = os.environ.get("DCK_LIBRARY")
    if not lib:
        pytest.skip("DCK_LIBRARY not set: no build to install from")
    build = os.path.dirname(os.path.dirname(os.path.abspath(lib)))  # BUILD/runtime/lib...
    try:
        import venv  # noqa: F401
        import ensurepip  # noqa: F401
    except ImportError as e:
        pytest.skip("no venv/ensurepip in %s (Debian: python3-venv): %s" % (sys.executable, e))
    try:
        import setuptools  # noqa: F401
        try:
            import wheel  # noqa: F401
        except ImportError:
            import setuptools.command.bdist_wheel  # noqa: F401  (setuptools >= 70.1)
    except ImportError as e:
        pytest.skip("%s cannot build a wheel offline (Debian: python3-setuptools python3-wheel): "
                    "%s" % (sys.executable, e))
    # a copy of python/, so the build leaves nothing in the source tree
    src = tmp_path / "python"
    shutil.copytree(os.path.join(ROOT, "python"), src,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "_lib", "__pycache__"))
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)],
                   check=True)
    py = str(env_dir / "bin" / "python")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DCK_LIBRARY", "PYTHONPATH", "DCK_STDLIB_DIR")}
    env.update(DCK_BUILD_DIR=build, DCK_SOURCE_DIR=ROOT, PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run([py, "-m", "pip", "install", "--no-index", "--no-build-isolation",
                        str(src)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
    work = tmp_path / "elsewhere"
    work.mkdir()
    r = subprocess.run([py, "-c", THREE_LINES % site], env=env, cwd=str(work),
                       capture_output=True, text=True)
    assert r.returncode == 0 and "installed ok" in r.stdout, r.stdout + r.stderr
    assert os.path.exists(os.path.join(site, "dck", "_lib", "stdlib", "dck", "math.dck"))


def test_installed_library(tmp_path):
    """A package installed without a build to copy from uses the library of
    `cmake --install`, found through pkg-config when the prefix is not in the loader's path."""
    import ctypes.util

    if os.environ.get("DCK_TEST_INSTALL") != "1":
        pytest.skip("DCK_TEST_INSTALL=1 not set (ctest's python_install sets it)")
    lib = os.environ.get("DCK_LIBRARY")
    if not lib or not shutil.which("cmake") or not shutil.which("pkg-config"):
        pytest.skip("needs DCK_LIBRARY (a build), cmake and pkg-config")
    build = os.path.dirname(os.path.dirname(os.path.abspath(lib)))
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", build, "--prefix", str(prefix)], check=True,
                   capture_output=True)
    src = tmp_path / "python"
    shutil.copytree(os.path.join(ROOT, "python"), src,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "_lib", "__pycache__"))
    target = tmp_path / "site"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DCK_LIBRARY", "PYTHONPATH", "DCK_BUILD_DIR", "DCK_STDLIB_DIR")}
    env.update(DCK_SOURCE_DIR=str(tmp_path), PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps",
                        "--no-build-isolation", "--target", str(target), str(src)], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0 and "bdist_wheel" in r.stderr:
        pytest.skip("%s cannot build a wheel offline (python3-wheel)" % sys.executable)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (target / "dck" / "_lib").exists()  # nothing to copy: no bundled library
    env.update(PYTHONPATH=str(target), PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    code = ("import dck, numpy as np\n"
            "y = np.zeros(3, np.float32)\n"
            "dck.compile('kernel void f(float[] y) { uint i = global_id(0); "
            "if (i < len(y)) y[i] = 7.0; }', backend='cpu').f(y)\n"
            "assert (y == 7).all()\n"
            "print(dck.library_found_by, '|', dck.library_path)\n")
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(tmp_path),
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    how, path = [s.strip() for s in r.stdout.strip().split("|")]
    if ctypes.util.find_library("dckrt"):
        return  # a libdckrt installed on this machine comes first
    assert how == "pkg-config dckrt", r.stdout
    assert os.path.realpath(path).startswith(os.path.realpath(str(prefix))), path
