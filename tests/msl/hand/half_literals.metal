// Hand-written MSL with half literals in the forms Metal accepts and dckc does not all emit
// (.5h, 1e-3H, 0x1.8p1h, 3.h, digit separators): the shim's rewriting (gen_driver.py,
// half_literals) must turn each into a half constant of the right value, and leave alone
// what only looks like one: this comment's 2.0h, the identifier k2h. 1'024.5h is a tie
// between two halves and must round to even (1024), as Metal's compiler rounds it.
// DCK: tests/msl/hand/half_literals.dck half_literals
#include <metal_stdlib>
using namespace metal;

struct half_literals_args {
    uint x_len;
    uint y_len;
    uint w_len;
    uint global_size_x;
    uint global_size_y;
    uint global_size_z;
};

kernel void dck_k_half_literals(device const half* x [[buffer(0)]],
                          device half* y [[buffer(1)]],
                          device half2* w [[buffer(2)]],
                          constant half_literals_args& args [[buffer(3)]],
                          uint gid [[thread_position_in_grid]])
{
    if (gid >= args.global_size_x || gid >= args.x_len) return;
    half v = x[gid];
    half k2h = 3.h; /* 2.0h */
    half a = v * .5h;
    a = a + 1e-3H;
    a = a * 0x1.8p1h;
    half b = 1'024.5h - 0x1p10H; // 0, not 1
    y[gid] = a + b - k2h;
    w[gid] = half2(1.0h, -2.5H) * v + half2(0.1h);
}
