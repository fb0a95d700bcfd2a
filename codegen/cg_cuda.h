/* cg_cuda.h: the CUDA C emitter, for the CUDA target and the PTX target's NVRTC route.
 *
 * cg_cuda_emit() appends CUDA C++ for the module m (every kernel `extern "C" __global__`,
 * DCK GPU kernel ABI, no #include needed: NVRTC compiles it with
 * `--gpu-architecture=compute_XX`) to out. It returns false only for an internal error, with
 * the reason in err. o->checked (or m->checked) adds the out-of-bounds record parameter.
 */
#ifndef DCK_CG_CUDA_H
#define DCK_CG_CUDA_H

#include "cg.h"

bool cg_cuda_emit(const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err);

#endif
