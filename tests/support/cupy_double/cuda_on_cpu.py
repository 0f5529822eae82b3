"""Run the CUDA sources of minigrad/kernels/cuda.py on the CPU, so every CI run checks their arithmetic.

Each source is compiled as C++ by g++ with a stand-in for CUDA's thread indices, IEEE float/double arithmetic
as on the GPU (x86-64 SSE, -ffp-contract=off and no fast-math: no FMA contraction, as --fmad=false; correctly
rounded division and sqrt, as NVRTC's defaults), and launched as cuLaunchKernel would: every block of the grid,
every thread of a block, each argument passed by its address. What it cannot reproduce is CUDA's math library:
exp/log/log1p come from glibc here, so kernels calling them match to an ulp or so, not bit for bit.
"""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

from minigrad.kernels import cuda

GXX = shutil.which("g++")
PRELUDE = """
#include <cmath>
using std::sqrt; using std::exp; using std::log; using std::log1p; using std::fabs; using std::nan;
struct Dim3 { unsigned x, y, z; };
static Dim3 blockIdx, blockDim, gridDim, threadIdx;
#define __global__
static int atomicExch(int* a, int v) { int old = *a; *a = v; return old; }
"""
_C = {"float": ctypes.c_float, "double": ctypes.c_double, "bool": ctypes.c_bool, "long long": ctypes.c_longlong,
      "int": ctypes.c_int}
_libs = {}


def signature(code, fn):
    """[(C type, is pointer)] of kernel fn's parameters, T resolved."""
    typedef = re.search(r"typedef (\w+) T;", code).group(1)
    sig = re.search(rf'extern "C" __global__ void {fn}\((.*?)\)\s*{{', code, re.S).group(1)
    out = []
    for p in (s.strip() for s in sig.split(",")):
        decl = re.match(r"(.*?)\s*(\w+)$", p).group(1).replace("const ", "").strip()
        base = decl.rstrip("*").strip()
        out.append((typedef if base == "T" else base, decl.endswith("*")))
    return out


def _library(code, fn):
    key = hashlib.sha1(code.encode()).hexdigest()[:16]
    if key in _libs:
        return _libs[key]
    params = signature(code, fn)
    call = ", ".join(f"*({t}{'*' if ptr else ''}*)a[{i}]" for i, (t, ptr) in enumerate(params))
    harness = f"""
extern "C" void launch(unsigned gx, unsigned gy, unsigned bx, void** a) {{
    gridDim = {{gx, gy, 1}}; blockDim = {{bx, 1, 1}};
    for (unsigned y = 0; y < gy; ++y) for (unsigned x = 0; x < gx; ++x) for (unsigned t = 0; t < bx; ++t) {{
        blockIdx = {{x, y, 0}}; threadIdx = {{t, 0, 0}};
        {fn}({call});
    }}
}}
"""
    folder = tempfile.mkdtemp(prefix="minigrad_cuda_on_cpu_")
    src, lib = os.path.join(folder, f"{fn}.cpp"), os.path.join(folder, f"{fn}.so")
    with open(src, "w") as f:
        f.write(PRELUDE + code + harness)
    subprocess.run([GXX, "-O1", "-std=c++14", "-shared", "-fPIC", "-ffp-contract=off", "-fno-fast-math",
                    "-o", lib, src], check=True, capture_output=True)
    _libs[key] = (ctypes.CDLL(lib), params)
    return _libs[key]


def launch(code, fn, grid, block, args):
    """Run kernel fn of `code` over grid x block threads on host arrays (anything with a NumPy array in `_a`)."""
    lib, params = _library(code, fn)
    assert len(args) == len(params), (fn, len(args), len(params))
    keep = []
    for a, (ctype, ptr) in zip(args, params):
        if ptr:
            arr = a._a
            assert arr.flags.c_contiguous or arr.flags.f_contiguous
            keep.append(ctypes.c_void_p(arr.ctypes.data))
        else:
            keep.append(_C[ctype](a.item() if isinstance(a, np.generic) else a))
    argv = (ctypes.c_void_p * len(keep))(*[ctypes.cast(ctypes.pointer(k), ctypes.c_void_p) for k in keep])
    gx, gy = (tuple(grid) + (1,))[:2]
    lib.launch(ctypes.c_uint(gx), ctypes.c_uint(gy), ctypes.c_uint(block[0]), argv)


def available():
    return GXX is not None and bool(cuda.SOURCES)
