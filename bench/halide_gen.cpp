// halide_gen.cpp: builds the Halide 14 peers of the benchmark suite ahead of time
// (bench/run.sh): halide_saxpy, halide_jacobi, halide_transpose as static libraries with
// one shared runtime. Usage: halide_gen OUTDIR
#include "Halide.h"

#include <cstdio>
#include <string>

using namespace Halide;

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: halide_gen OUTDIR\n");
        return 2;
    }
    std::string dir = argv[1];
    Target host = get_host_target();
    Target t = host.with_feature(Target::NoRuntime);
    {
        Param<float> a("a");
        ImageParam x(Float(32), 1, "x"), y(Float(32), 1, "y");
        Var i("i"), io("io"), ii("ii");
        Func f("halide_saxpy");
        f(i) = a * x(i) + y(i);
        f.split(i, io, ii, 1 << 14).parallel(io).vectorize(ii, 16);
        f.compile_to_static_library(dir + "/halide_saxpy", {a, x, y}, "halide_saxpy", t);
    }
    {
        ImageParam in(Float(32), 2, "src");
        Func c = BoundaryConditions::repeat_edge(in);
        Var x("x"), y("y"), yo("yo"), yi("yi");
        Func f("halide_jacobi");
        f(x, y) = 0.25f * (c(x - 1, y) + c(x + 1, y) + c(x, y - 1) + c(x, y + 1));
        f.split(y, yo, yi, 16).parallel(yo).vectorize(x, 16);
        f.compile_to_static_library(dir + "/halide_jacobi", {in}, "halide_jacobi", t);
    }
    {
        ImageParam in(Float(32), 2, "src");
        Var x("x"), y("y"), xo("xo"), yo("yo"), xi("xi"), yi("yi");
        Func f("halide_transpose");
        f(x, y) = in(y, x);
        f.tile(x, y, xo, yo, xi, yi, 16, 16).vectorize(xi, 16).unroll(yi, 4).parallel(yo);
        f.compile_to_static_library(dir + "/halide_transpose", {in}, "halide_transpose", t);
    }
    compile_standalone_runtime(dir + "/halide_runtime.a", host);
    return 0;
}
