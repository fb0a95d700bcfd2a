"""The dck package on every device present (dck.devices(): the CPU backend, and here OpenCL
on PoCL and Vulkan on lavapipe): launches, pipelines, atomics, checked mode, argument
checks, packages, timing."""
import os
import shutil
import subprocess

import numpy as np
import pytest

import dck

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KERNELS = os.path.join(HERE, "kernels.dck")
DEVICES = dck.devices()


def _id(d):
    return "%s%d" % (d.backend, d.index)


@pytest.fixture(scope="module", params=DEVICES, ids=_id)
def mod(request):
    return dck.compile(KERNELS, device=request.param)


@pytest.fixture(scope="module")
def cpu():
    return dck.compile(KERNELS, backend="cpu")


def test_devices_listed():
    assert DEVICES, "no device at all"
    backends = [d.backend for d in DEVICES]
    assert "cpu" in backends
    for d in DEVICES:
        assert d.name and d.type in ("cpu", "gpu", "other")
        assert d.max_work_group_size >= 1 and len(d.max_work_group_dims) == 3
        assert d in dck.devices(d.backend)
    cpu = dck.devices("cpu")[0]
    assert cpu.compute_units >= 1 and cpu.subgroup_size >= 1
    assert dck.devices("metal") == []


def test_expected_backends_present():
    """The machines this suite runs on have PoCL and lavapipe (scripts/setup.sh installs
    them); DCK_TEST_BACKENDS=cpu,opencl,vulkan says which must be there."""
    want = os.environ.get("DCK_TEST_BACKENDS")
    if not want:
        pytest.skip("DCK_TEST_BACKENDS not set: not checking which backends are present")
    have = {d.backend for d in DEVICES}
    assert set(want.split(",")) <= have, "missing: %s" % (set(want.split(",")) - have)


def test_saxpy(mod):
    n = 1000
    x = np.arange(n, dtype=np.float32)
    y = np.ones(n, np.float32)
    y0 = y
    assert mod.saxpy(2.0, x, y) is None
    assert y is y0
    np.testing.assert_array_equal(y, 2 * np.arange(n, dtype=np.float32) + 1)
    np.testing.assert_array_equal(x, np.arange(n, dtype=np.float32))  # const: untouched


def test_keywords_and_item(mod):
    x = np.full(10, 3, np.float32)
    y = np.zeros(10, np.float32)
    mod["saxpy"](y=y, x=x, a=0.5)
    np.testing.assert_array_equal(y, np.full(10, 1.5, np.float32))
    mod.saxpy(1, x, y=y, global_size=5)  # an int for a float; half the elements
    np.testing.assert_array_equal(y, [4.5] * 5 + [1.5] * 5)


def test_grid_2d(mod):
    rows, cols = 37, 53
    out = np.zeros((rows, cols), np.int32)
    mod.grid2d(-7, cols, out)  # global size from the array's shape: (cols, rows)
    r, c = np.mgrid[0:rows, 0:cols]
    np.testing.assert_array_equal(out, r * 1000 + c - 7)
    out[:] = 0
    mod.grid2d(0, cols, out, global_size=(cols, rows), local_size=(8, 4))
    np.testing.assert_array_equal(out, r * 1000 + c)


def test_range_errors(cpu):
    flat = np.zeros(12, np.int32)
    with pytest.raises(dck.Error, match=r"kernel 'grid2d' is 2-D: give global_size="):
        cpu.grid2d(0, 4, flat)
    with pytest.warns(UserWarning, match=r"reads global_id\(1\) but is launched in 1 dim"):
        cpu.grid2d(0, 12, flat, global_size=12)
    assert flat.tolist() == list(range(12))
    with pytest.raises(dck.Error, match="local_size 2.5"):
        cpu.saxpy(1.0, np.zeros(4, np.float32), np.zeros(4, np.float32), local_size=2.5)
    with pytest.raises(dck.Error) as e:
        cpu.reduce(np.zeros(1, np.uint32), np.zeros(100, np.uint32), local_size=32)
    assert e.value.status == "DCK_ERROR_INVALID_RANGE" and "workgroup" in e.value.message


def test_reduction_atomics(mod):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 100, 64 * 50, dtype=np.uint32)
    total = np.zeros(1, np.uint32)
    mod.reduce(total, x, global_size=len(x))
    assert total[0] == x.sum()


def test_pipeline(mod):
    x = np.linspace(-2, 2, 777, dtype=np.float32)
    y = np.zeros_like(x)
    mod.quad(3.0, -1.0, x, y)
    np.testing.assert_allclose(y, 3 * x * x - 1, rtol=1e-6, atol=1e-6)  # fused: an FMA
    assert mod["quad"].kind == "pipeline" and mod["square"].kind == "kernel"
    with pytest.raises(dck.Error) as e:
        mod.quad(3.0, -1.0, x, y, global_size=10)
    assert e.value.status == "DCK_ERROR_INVALID_RANGE"


def test_noncontiguous_arrays(mod):
    x = np.arange(40, dtype=np.float32)[::2]      # strided view, 20 elements
    big = np.zeros((20, 3), np.float32)
    y = big[:, 1]                                 # strided and written: copied back
    mod.saxpy(1.0, x, y)
    np.testing.assert_array_equal(big[:, 1], np.arange(0, 40, 2))
    np.testing.assert_array_equal(big[:, 0], 0)
    np.testing.assert_array_equal(big[:, 2], 0)


def test_vectors_and_structs(mod):
    v = np.arange(12, dtype=np.float32).reshape(4, 3)  # float3 given as (n, 3): padded
    want = v * np.float32([1, 2, 3]) + np.float32([10, 20, 30])
    mod.vec3((1.0, 2.0, 3.0), (10, 20, 30, 40), v)
    np.testing.assert_array_equal(v, want)
    with pytest.raises(dck.Error, match=r"'s'.*tuple of 3"):
        mod.vec3((1.0, 2.0), (1, 2, 3, 4), v)
    f3 = np.float32
    particle = np.dtype({"names": ["pos", "vel", "mass", "id"],
                         "formats": [(f3, 4), (f3, 4), f3, np.uint32],
                         "offsets": [0, 16, 32, 36], "itemsize": 48})
    p = np.zeros(5, particle)
    p["vel"][:, :3] = [1, 2, 3]
    g = np.zeros((), particle)
    g["vel"][:3] = [0.5, 0, 0]
    g["id"] = 100
    mod.advance(2.0, g[()], p)
    np.testing.assert_array_equal(p["pos"][:, :3], np.tile([2.5, 4, 6], (5, 1)))
    np.testing.assert_array_equal(p["id"], 100 + np.arange(5))
    with pytest.raises(dck.Error, match=r"argument 3 \('p'\).*structured dtype of 48 bytes"):
        mod.advance(2.0, g[()], np.zeros(5, np.float32))


@pytest.mark.parametrize("dev", DEVICES, ids=_id)
def test_checked_out_of_bounds(dev):
    m = dck.compile(KERNELS, device=dev, checked=True)
    assert m.context.checked
    y = np.zeros(16, np.float32)
    m.overrun(0, y)  # in bounds: fine
    assert (y == 1).all()
    with pytest.raises(dck.Error) as e:
        m.overrun(1, y)
    assert e.value.status == "DCK_ERROR_OUT_OF_BOUNDS", e.value
    assert e.value.code == -14
    assert "buffer 'y'" in e.value.message and "'overrun'" in e.value.message, e.value.message
    assert str(e.value).startswith("DCK_ERROR_OUT_OF_BOUNDS: out-of-bounds write")


def test_dtype_mismatch(cpu):
    x = np.zeros(8, np.float64)
    y = np.zeros(8, np.float32)
    with pytest.raises(dck.Error) as e:
        cpu.saxpy(2.0, x, y)
    assert e.value.status == "DCK_ERROR_ARGUMENT_TYPE"
    assert "argument 2 ('x')" in e.value.message and "float32" in e.value.message
    assert "float64" in e.value.message
    with pytest.raises(dck.Error, match=r"argument 3 \('y'\).*NumPy array"):
        cpu.saxpy(2.0, y, [1.0, 2.0])
    with pytest.raises(dck.Error, match=r"argument 1 \('a'\).*got a ndarray|argument 1 \('a'\)"):
        cpu.saxpy(y, y.copy(), y)
    with pytest.raises(dck.Error, match=r"argument 3 \('y'\) .*read-only"):
        ro = np.zeros(8, np.float32)
        ro.flags.writeable = False
        cpu.saxpy(1.0, y, ro)


def test_scalars_checked(cpu):
    out = np.zeros((3, 4), np.int32)
    with pytest.raises(dck.Error, match=r"argument 2 \('cols'\).*-1, which does not fit"):
        cpu.grid2d(0, -1, out)
    with pytest.raises(dck.Error, match=r"argument 1 \('bias'\) .*expects an integer"):
        cpu.grid2d(1.5, 4, out)
    with pytest.raises(dck.Error, match=r"argument 1 \('a'\).*does not fit"):
        cpu.saxpy(1e300, np.zeros(2, np.float32), np.zeros(2, np.float32))
    cpu.grid2d(np.int64(2), np.uint8(4), out)
    assert out[2, 3] == 2003 + 2


def test_scalar_types():
    src = """
kernel void types(short s, ushort us, long l, double d, uchar flag, half h, long[] out) {
    out[0] = (long)s;
    out[1] = (long)us;
    out[2] = l;
    out[3] = (long)(d * 2.0);
    out[4] = flag ? 1 : 0;
    out[5] = (long)((float)h * 4.0);
}"""
    m = dck.compile(src, backend="cpu")
    out = np.zeros(6, np.int64)
    m.types(-5, 65535, -(2 ** 40), 1.25, True, 0.75, out, global_size=1)
    assert out.tolist() == [-5, 65535, -(2 ** 40), 2, 1, 3]
    with pytest.raises(dck.Error, match=r"'us'.*65536, which does not fit"):
        m.types(0, 65536, 0, 0.0, False, 0.0, out, global_size=1)
    with pytest.raises(dck.Error, match=r"'flag'.*256, which does not fit"):
        m.types(0, 0, 0, 0.0, 256, 0.0, out, global_size=1)
    with pytest.raises(dck.Error, match=r"'s'.*expects an integer \('short'\), got a float"):
        m.types(2.5, 0, 0, 0.0, 1, 0.0, out, global_size=1)
    with pytest.raises(dck.Error, match=r"'d'.*expects a 'double', got a str"):
        m.types(0, 0, 0, "1", 1, 0.0, out, global_size=1)


def test_argument_count(cpu):
    x = np.zeros(4, np.float32)
    with pytest.raises(dck.Error) as e:
        cpu.saxpy(2.0, x)
    assert e.value.status == "DCK_ERROR_ARGUMENT_COUNT"
    assert "expects 3 arguments (float a, const float[] x, float[] y), got 2" in e.value.message
    assert "missing: y" in e.value.message
    with pytest.raises(dck.Error, match="expects 3 arguments"):
        cpu.saxpy(2.0, x, x.copy(), x.copy())
    with pytest.raises(dck.Error, match="has no parameter 'z'"):
        cpu.saxpy(2.0, x, z=x)
    with pytest.raises(dck.Error, match="given twice"):
        cpu.saxpy(2.0, x, x.copy(), a=1.0)


def test_aliasing(cpu):
    y = np.zeros(8, np.float32)
    with pytest.raises(dck.Error) as e:
        cpu.saxpy(1.0, y, y)
    assert e.value.status == "DCK_ERROR_ALIASING" and "'x'" in e.value.message


def test_names_and_errors(cpu):
    assert cpu.names[:2] == ["saxpy", "grid2d"] and "quad" in cpu
    assert "saxpy" in dir(cpu)
    k = cpu.saxpy
    assert k.signature == "kernel saxpy(float a, const float[] x, float[] y)"
    assert [p.writable for p in k.params] == [False, False, True]
    assert cpu["reduce"].workgroup == (64, 1, 1) and cpu["reduce"].uses_barrier
    assert cpu["grid2d"].dims == 2
    with pytest.raises(dck.Error) as e:
        cpu["nope"]
    assert e.value.status == "DCK_ERROR_NOT_FOUND" and "saxpy" in e.value.message
    with pytest.raises(AttributeError):
        cpu.nope
    with pytest.raises(dck.Error) as e:
        dck.compile("kernel void f(float[] y) { y[0] = undefined_name; }", backend="cpu")
    assert e.value.status == "DCK_ERROR_COMPILE" and "undefined_name" in e.value.message
    with pytest.raises(dck.Error) as e:
        dck.compile("kernel void f(float[] y) {}", backend="metal")
    assert e.value.status == "DCK_ERROR_BACKEND_UNAVAILABLE"
    with pytest.raises(dck.Error) as e:
        dck.compile("nonexistent.dck")
    assert e.value.status == "DCK_ERROR_IO"


def test_defines_and_includes(tmp_path):
    m = dck.compile(KERNELS, backend="cpu", defines={"SCALE": 10})
    out = np.zeros((2, 3), np.int32)
    m.grid2d(1, 3, out)
    assert out[1, 2] == 1002 + 10
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "k.h.dck").write_text("#define K 42\n")
    m = dck.compile('#include "k.h.dck"\n#include <dck/math.dck>\n'
                    "kernel void f(float[] y) { y[0] = K + M_PI; }", backend="cpu",
                    include_dirs=[str(tmp_path / "inc")], defines=["UNUSED=1"])
    y = np.zeros(1, np.float32)
    m.f(y)
    assert abs(y[0] - (42 + np.pi)) < 1e-5


def _dckc():
    path = os.environ.get("DCKC") or os.path.join(ROOT, "build", "driver", "dckc")
    if not os.path.exists(path) and not shutil.which(path):
        pytest.skip("dckc not found (set DCKC): cannot build a package")
    return path


def test_package(tmp_path):
    pkg = tmp_path / "k.dckpkg"
    subprocess.run([_dckc(), "--emit=package", "--target=c,opencl,spirv", KERNELS, "-o",
                    str(pkg)], check=True)
    for d in DEVICES:
        m = dck.load(str(pkg), device=d)
        y = np.ones(100, np.float32)
        m.saxpy(3.0, np.ones(100, np.float32), y)
        assert (y == 4).all(), d
        assert m.target, d
    m = dck.load(pkg.read_bytes(), backend="cpu")
    assert m.target == "c" and "quad" in m
    with pytest.raises(dck.Error) as e:
        dck.load(b"not a package" * 10, backend="cpu")
    assert e.value.status in ("DCK_ERROR_INVALID_MODULE", "DCK_ERROR_UNSUPPORTED")


def test_checked_package(tmp_path):
    """A package built with dckc --checked reports out-of-bounds accesses on every device."""
    pkg = tmp_path / "checked.dckpkg"
    subprocess.run([_dckc(), "--checked", "--emit=package", "--target=c,opencl,spirv",
                    KERNELS, "-o", str(pkg)], check=True)
    for d in DEVICES:
        m = dck.load(str(pkg), device=d, checked=True)
        with pytest.raises(dck.Error) as e:
            m.overrun(1, np.zeros(8, np.float32))
        assert e.value.status == "DCK_ERROR_OUT_OF_BOUNDS" and "buffer 'y'" in e.value.message


def test_timing_and_bench(mod):
    n = 1 << 16
    x = np.ones(n, np.float32)
    y = np.zeros(n, np.float32)
    t = mod.saxpy(1.0, x, y, timed=True)
    assert isinstance(t, float) and 0 < t < 10
    xb, yb = mod.buffer(x), mod.buffer(y)
    b = dck.bench(mod.saxpy, 1.0, xb, yb, repeat=5)
    assert len(b.times) == 5 and 0 < b.min <= b.median <= b.max < 10
    assert (yb.numpy() == 1 + 5 + 1).all()  # the first timed launch, warm-up, 5 repeats
    assert (y == 1).all()  # the array itself was not passed


def test_buffers_stay_on_device(mod):
    x = mod.buffer(np.arange(10, dtype=np.float32))
    t = mod.buffer(shape=10, dtype=np.float32)
    mod.square(x, t)
    y = np.zeros(10, np.float32)
    mod.axpb(1.0, 1.0, t, y)
    np.testing.assert_array_equal(y, np.arange(10) ** 2 + 1)
    t.write(np.zeros(10, np.float32))
    assert (t.numpy() == 0).all() and len(t) == 10
    with pytest.raises(dck.Error, match="argument 4 \\('y'\\).*double"):
        mod.axpb(1.0, 1.0, t, mod.buffer(np.zeros(10, np.float64)))
    other = dck.compile(KERNELS, backend="cpu", checked=True)
    if other.context is not mod.context:
        with pytest.raises(dck.Error, match="another context"):
            mod.square(other.buffer(np.zeros(10, np.float32)), t)


def test_auto_backend():
    m = dck.compile(KERNELS)
    assert m.device in DEVICES
    y = np.zeros(3, np.float32)
    m.saxpy(1.0, np.ones(3, np.float32), y)
    assert (y == 1).all()
    assert isinstance(m.context.auto_reason, str)
    stats = m.context.pool_stats()
    assert stats["allocations"] >= 2


def test_edge_values(mod):
    e = np.zeros(0, np.float32)
    mod.saxpy(2.0, e, e.copy())  # empty arrays: an empty launch
    v = np.zeros((3, 4), np.float32)  # float3 elements given padded, (n, 4): no copy
    v[:, 3] = 99
    mod.vec3(np.float32([1, 1, 1]), (1, 2, 3, 4), v)
    np.testing.assert_array_equal(v[:, :3], np.tile([1, 2, 3], (3, 1)))


def test_half_and_u64():
    m = dck.compile("kernel void hx(half s, const half[] x, half[] y, ulong big, ulong[] o) {"
                    " uint i = global_id(0); if (i < len(y)) y[i] = x[i] * s; o[0] = big; }",
                    backend="cpu")
    x = np.arange(4, dtype=np.float16)
    y = np.zeros(4, np.float16)
    o = np.zeros(1, np.uint64)
    m.hx(0.5, x, y, 2 ** 64 - 1, o, global_size=4)
    assert y.tolist() == [0, 0.5, 1, 1.5] and int(o[0]) == 2 ** 64 - 1
    with pytest.raises(dck.Error, match=r"'big'.*-1, which does not fit"):
        m.hx(0.5, x, y, -1, o, global_size=4)
    with pytest.raises(dck.Error, match=r"'d'.*an integer of 401 digits, which does not fit"):
        g = dck.compile("kernel void g(double d, double[] o) { o[0] = d; }", backend="cpu")
        g.g(10 ** 400, np.zeros(1))
    with pytest.raises(dck.Error, match=r"'s'.*70000.0, which does not fit"):
        m.hx(70000.0, x, y, 0, o, global_size=4)
    with pytest.raises(dck.Error, match=r"argument 2 \('x'\).*float16.*float32"):
        m.hx(0.5, x.astype(np.float32), y, 0, o, global_size=4)


STDLIB = sorted(os.listdir(os.path.join(ROOT, "stdlib", "dck")))


@pytest.mark.parametrize("name", STDLIB)
def test_stdlib_modules(name):
    """Each standard library module compiles from an #include <dck/...> and its kernels and
    pipelines are callable attributes."""
    m = dck.compile("#include <dck/%s>\n" % name, backend="cpu")
    for n in m.names:
        k = getattr(m, n)
        assert isinstance(k, dck.Kernel) and k.name == n and k.kind in ("kernel", "pipeline")


def test_library_lookup(tmp_path):
    import sys
    assert dck.library_found_by == "$DCK_LIBRARY" and os.path.exists(dck.library_path)
    env = dict(os.environ, DCK_LIBRARY=str(tmp_path / "libnothere.so"),
               PYTHONPATH=os.path.dirname(os.path.dirname(dck.__file__)))
    r = subprocess.run([sys.executable, "-c", "import dck"], env=env, capture_output=True,
                       text=True)
    assert r.returncode != 0
    assert "cannot find libdckrt" in r.stderr and "libnothere.so" in r.stderr, r.stderr


def test_events(mod):
    n = 4096
    x = np.ones(n, np.float32)
    ys = [np.zeros(n, np.float32) for _ in range(3)]
    evs = [mod.saxpy(float(k + 1), x, y, wait=False) for k, y in enumerate(ys)]
    assert all(isinstance(e, dck.Event) for e in evs)
    for k, (e, y) in enumerate(zip(evs, ys)):
        assert e.wait() is e and e.done
        assert (y == k + 1).all()
        start, end = e.times
        assert 0 < start <= end and e.elapsed == pytest.approx((end - start) * 1e-9)
    assert evs[0].times[1] <= evs[1].times[0] + 1  # one in-order queue
    e = mod.quad(1.0, 0.0, x, ys[0], wait=False)  # a pipeline
    del e  # dropped unwaited: its destructor waits and copies back
    assert (ys[0] == 1).all()


def test_closed_context():
    """Objects of a closed context raise dck.Error instead of touching freed handles."""
    ctx = dck.Context("cpu", num_threads=1)
    m = dck.compile("kernel void f(float[] y) { y[0] = 1.0; }\nkernel void g(int v) {}\n",
                    context=ctx)
    assert m.context is ctx and ctx is not dck.context("cpu")
    y = np.zeros(4, np.float32)
    m.f(y)
    assert y[0] == 1
    b = ctx.buffer(np.zeros(4, np.float32))
    ev = m.f(y, wait=False)
    ev.wait()
    ev2 = m.f(y, wait=False)
    ctx.close()
    ctx.close()  # idempotent
    for call in (lambda: m.f(np.zeros(4, np.float32)), lambda: m.g(1), b.numpy,
                 lambda: b.write(np.zeros(4, np.float32)), lambda: ev.elapsed, ev2.wait):
        with pytest.raises(dck.Error, match="the context was closed"):
            call()
    del m, b, ev, ev2  # their destructors must not touch the released handles
