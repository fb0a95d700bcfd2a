#!/usr/bin/env python3
"""gen_driver.py: the per-kernel part of the Metal shim's driver, generated from the kernel's
MSL signature (attributes are ignored by the C++ compiler, so the driver must know which
parameter is which).

    gen_driver.py KERNEL.metal NAME OUT_DIR [--args-size N]
    gen_driver.py --half-literals IN.metal OUT.metal

writes OUT_DIR/kernel.metal (the MSL with the kernel's `threadgroup` declarations made
`static`: the work-items of a group are fibers of one thread and must share them, and half
literals spelled as the shim can take them, 2.0h as 2.0_h (half_literals); nothing else
changes) and OUT_DIR/thunk.cpp, which defines msl_shim_item(): it calls the kernel for
one work-item with [[buffer(k)]] bound to blocks[k] and the position attributes taken from
MslIds (include/msl_shim/ids.h). With --args-size, it asserts that the argument struct (the
`constant T&` parameter) has the size of the ABI's scalar block.
--half-literals writes a copy of IN.metal with only its half literals respelled (what the
shim's compilers need of any .metal file; see half_literals)."""
import argparse
import os
import re
import sys

# [[attribute]] -> (MslIds field, components)
POSITION_ATTRS = {
    "thread_position_in_grid": "gid",
    "thread_position_in_threadgroup": "lid",
    "threadgroup_position_in_grid": "tgid",
    "threads_per_threadgroup": "tptg",
    "dispatch_threads_per_threadgroup": "tptg",
    "threadgroups_per_grid": "tgpg",
    "threads_per_grid": "tpgrid",
    "dispatch_threads_per_grid": "tpgrid",
}
SCALAR_ATTRS = {
    "thread_index_in_threadgroup": "lindex",
    "thread_index_in_simdgroup": "lane",
    "thread_index_in_quadgroup": "lane",
    "simdgroup_index_in_threadgroup": "sgindex",
    "threads_per_simdgroup": "width",
    "thread_execution_width": "width",
    "simdgroups_per_threadgroup": "nsg",
}


class GenError(Exception):
    pass


def matching(text, i, open_ch, close_ch):
    """index of the bracket closing the one at text[i]"""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == open_ch:
            depth += 1
        elif text[j] == close_ch:
            depth -= 1
            if depth == 0:
                return j
    raise GenError("unbalanced '%s'" % open_ch)


def split_params(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([<":
            depth += 1
        elif ch in ")]>":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [p.strip() for p in out]


def find_kernel(text, name):
    m = re.search(r"\bkernel\s+void\s+" + re.escape(name) + r"\s*\(", text)
    if not m:
        raise GenError("no 'kernel void %s(' in the MSL" % name)
    open_paren = m.end() - 1
    close_paren = matching(text, open_paren, "(", ")")
    body_open = text.index("{", close_paren)
    body_close = matching(text, body_open, "{", "}")
    return text[open_paren + 1:close_paren], body_open, body_close


def parse_params(sig):
    params = []
    for p in split_params(sig):
        attrs = re.findall(r"\[\[\s*([A-Za-z_]\w*)\s*(?:\(\s*(\d+)\s*\))?\s*\]\]", p)
        decl = re.sub(r"\[\[.*?\]\]", "", p).strip()
        m = re.match(r"^(.*?)([A-Za-z_]\w*)$", decl, re.S)
        if not m or not attrs:
            raise GenError("kernel parameter without a name or an attribute: '%s'" % p)
        ptype = " ".join(m.group(1).split())
        params.append({"type": ptype, "name": m.group(2), "attr": attrs[0][0],
                       "index": int(attrs[0][1]) if attrs[0][1] else None})
    return params


def bind_expr(p):
    t, a = p["type"], p["attr"]
    if a == "buffer":
        if t.endswith("&"):
            return "*(%s*)blocks[%d]" % (t[:-1].strip(), p["index"])
        if t.endswith("*"):
            return "(%s)blocks[%d]" % (t, p["index"])
        raise GenError("[[buffer]] parameter '%s' is neither a pointer nor a reference" % p["name"])
    base = re.sub(r"\b(const|thread)\b", "", t).strip()
    if a in POSITION_ATTRS:
        f = "id->" + POSITION_ATTRS[a]
        m = re.match(r"^(uint|ushort)([23]?)$", base)
        if not m:
            raise GenError("[[%s]] parameter of type '%s'" % (a, t))
        n = int(m.group(2) or 1)
        if n == 1:
            return "(%s)%s[0]" % (base, f)
        return "%s(%s)" % (base, ", ".join("(%s)%s[%d]" % (m.group(1), f, k) for k in range(n)))
    if a in SCALAR_ATTRS:
        return "(%s)id->%s" % (base, SCALAR_ATTRS[a])
    raise GenError("unsupported kernel parameter attribute [[%s]]" % a)


def static_threadgroup(body):
    """`threadgroup T name[..];` declarations at the start of a line -> `static threadgroup ...`"""
    out, n = [], 0
    for line in body.split("\n"):
        if re.match(r"^\s*threadgroup\b[^;(){}=]*;\s*(//.*)?$", line):
            line = re.sub(r"^(\s*)threadgroup\b", r"\1static threadgroup", line)
            n += 1
        elif re.match(r"^\s*threadgroup\b", line):
            raise GenError("threadgroup declaration the driver cannot share between work-items: " + line.strip())
        out.append(line)
    return "\n".join(out), n


# the tokens that may hold something looking like a number: comments, string and character
# literals, identifiers (x2h), then preprocessing numbers (C++ [lex.ppnumber])
TOKENS = re.compile(r"""//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|[A-Za-z_]\w*"""
                    r"""|\.?[0-9](?:[eEpP][+-]|['.\w])*""", re.S)
_DIGITS = r"[0-9](?:'?[0-9])*"
_HEX = r"[0-9a-fA-F](?:'?[0-9a-fA-F])*"
HALF_LITERAL = re.compile(r"^(?:(?:{d}\.(?:{d})?|\.{d})(?:[eE][+-]?{d})?|{d}[eE][+-]?{d}"
                          r"|0[xX](?:(?:{x})?\.{x}|{x}\.?)[pP][+-]?{d})[hH]$".format(d=_DIGITS, x=_HEX))


def half_literals(text):
    """Metal's half literals (2.0h, .5H, 1e-3h, 0x1.8p1h) -> 2.0_h ... (the shim defines the
    operators ""_h and ""_H): C++ rejects suffixes without '_'. Comments, strings, character
    literals and identifiers are left alone, and so is anything else, e.g. `2h`, which is not
    a floating literal: the compiler rejects it as Metal's does."""
    def one(m):
        tok = m.group(0)
        return tok[:-1] + "_" + tok[-1] if HALF_LITERAL.match(tok) else tok
    return TOKENS.sub(one, text)


def write_shim_source(metal_path, out_path):
    """out_path: the .metal file as the shim's compilers take it (half_literals), whose
    diagnostics name the original file and lines"""
    with open(metal_path) as f:
        text = half_literals(f.read())
    with open(out_path, "w") as f:
        f.write('#line 1 "%s"\n%s' % (metal_path, text))


def generate(metal_text, name, args_size=None):
    metal_text = half_literals(metal_text)
    sig, body_open, body_close = find_kernel(metal_text, name)
    params = parse_params(sig)
    body, _ = static_threadgroup(metal_text[body_open:body_close])
    rewritten = metal_text[:body_open] + body + metal_text[body_close:]
    lines = ["// Generated by tests/msl/gen_driver.py for kernel '%s': do not edit." % name,
             '#include "kernel.metal"', '#include "msl_shim/ids.h"', ""]
    for p in params:
        if p["attr"] == "buffer" and p["type"].startswith("constant") and p["type"].endswith("&"):
            st = p["type"][len("constant"):-1].strip()
            if args_size is not None:
                lines.append('static_assert(sizeof(%s) == %d, "%s: the argument block must have the '
                             'size of the ABI scalar block (%d bytes)");' % (st, args_size, st, args_size))
    lines.append("extern \"C\" void msl_shim_item(void *const *blocks, const MslIds *id) {")
    lines.append("    (void)blocks;")
    lines.append("    (void)id;")
    args = ",\n        ".join(bind_expr(p) for p in params)
    lines.append("    %s(\n        %s);" % (name, args))
    lines.append("}")
    return rewritten, "\n".join(lines) + "\n", params


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--half-literals":
        write_shim_source(sys.argv[2], sys.argv[3])
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("metal")
    ap.add_argument("name")
    ap.add_argument("out_dir")
    ap.add_argument("--args-size", type=int)
    a = ap.parse_args()
    with open(a.metal) as f:
        text = f.read()
    try:
        rewritten, thunk, _ = generate(text, a.name, a.args_size)
    except GenError as e:
        print("gen_driver.py: %s: %s" % (a.metal, e), file=sys.stderr)
        return 1
    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, "kernel.metal"), "w") as f:
        f.write(rewritten)
    with open(os.path.join(a.out_dir, "thunk.cpp"), "w") as f:
        f.write(thunk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
