/* abi.c: the scalar-block layout and the blob-name table (abi.h). */
#include "abi.h"

#include <stdio.h>
#include <string.h>

static uint32_t align_up(uint32_t v, uint32_t a) { return a > 1 ? (v + a - 1) / a * a : v; }

AbiBlock abi_scalar_block(const dck_abi_param *params, uint32_t nparams, uint32_t *value_off,
                          uint32_t *len_off)
{
    AbiBlock b = {0, 0, 4, 0};
    uint32_t off = 0;
    for (uint32_t i = 0; i < nparams; i++) {
        const dck_abi_param *p = &params[i];
        if (p->kind != DCK_ABI_PARAM_VALUE) continue;
        uint32_t al = p->align ? p->align : 1;
        if (al > b.align) b.align = al;
        off = align_up(off, al);
        if (value_off) value_off[i] = off;
        off += p->size;
    }
    for (uint32_t i = 0; i < nparams; i++) {
        if (params[i].kind != DCK_ABI_PARAM_BUFFER) continue;
        off = align_up(off, 4);
        if (len_off) len_off[i] = off;
        off += 4;
    }
    b.gsize_off = align_up(off, 4);
    b.end = b.gsize_off + 12;
    b.size = align_up(b.end, b.align);
    return b;
}

bool abi_block_in_uniform(const AbiBlock *b) { return b->size > ABI_PUSH_CONSTANT_MAX; }

/* Targets compiled once per variant, and the prefix of their blob names. */
static const struct {
    const char *target, *prefix;
} variant_targets[] = {
    {"spirv", "spirv-"},
    {"ptx", "ptx-sm"},
};
/* Targets with one blob, named as the target. */
static const char *const plain_targets[] = {"c", "opencl", "cuda", "msl"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *abi_blob_name(char *buf, size_t n, const char *target, const char *variant)
{
    for (size_t i = 0; i < COUNT(variant_targets); i++)
        if (strcmp(target, variant_targets[i].target) == 0) {
            snprintf(buf, n, "%s%s", variant_targets[i].prefix, variant ? variant : "");
            return buf;
        }
    snprintf(buf, n, "%s", target);
    return buf;
}

bool abi_blob_parse(const char *name, char *target, size_t n, const char **variant)
{
    *variant = NULL;
    for (size_t i = 0; i < COUNT(variant_targets); i++) {
        size_t pl = strlen(variant_targets[i].prefix);
        if (strncmp(name, variant_targets[i].prefix, pl) == 0 && name[pl]) {
            snprintf(target, n, "%s", variant_targets[i].target);
            *variant = name + pl;
            return true;
        }
    }
    for (size_t i = 0; i < COUNT(plain_targets); i++)
        if (strcmp(name, plain_targets[i]) == 0) {
            snprintf(target, n, "%s", name);
            return true;
        }
    snprintf(target, n, "%s", name);
    return false;
}

uint32_t abi_blob_sm(const char *name)
{
    char t[16];
    const char *v;
    if (!abi_blob_parse(name, t, sizeof t, &v) || strcmp(t, "ptx") != 0) return 0;
    uint32_t sm = 0; /* digits only: names come from package files, which may be corrupt */
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || sm > 100000) return 0;
        sm = sm * 10 + (uint32_t)(*v - '0');
    }
    return sm;
}

const char *abi_entry_symbol(char *buf, size_t n, const char *target, const char *name)
{
    bool prefixed =
        strcmp(target, "opencl") == 0 || strcmp(target, "cuda") == 0 || strcmp(target, "msl") == 0;
    snprintf(buf, n, "%s%s", prefixed ? ABI_ENTRY_PREFIX : "", name);
    return buf;
}
