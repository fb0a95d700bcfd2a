/* test_abi.c: the ABI facts codegen and the runtime share (abi/abi.h): the GPU scalar-block
 * layout and the blob-name table. */
#include <criterion/criterion.h>
#include <string.h>

#include "abi/abi.h"

#define VAL(sz, al)                                          \
    {                                                        \
        NULL, DCK_ABI_PARAM_VALUE, 0, 0, 1, (sz), (al), NULL \
    }
#define BUF(sz, al)                                           \
    {                                                         \
        NULL, DCK_ABI_PARAM_BUFFER, 0, 0, 1, (sz), (al), NULL \
    }

Test(abi, scalar_block_c_layout)
{
    /* float a; buffer x; double d; float3 v; buffer y: values in order, then lengths, then
     * the global size */
    dck_abi_param ps[] = {VAL(4, 4), BUF(4, 4), VAL(8, 8), VAL(16, 16), BUF(2, 2)};
    uint32_t vo[5] = {0}, lo[5] = {0};
    AbiBlock b = abi_scalar_block(ps, 5, vo, lo);
    cr_expect_eq(vo[0], 0);
    cr_expect_eq(vo[2], 8);
    cr_expect_eq(vo[3], 16);
    cr_expect_eq(lo[1], 32);
    cr_expect_eq(lo[4], 36);
    cr_expect_eq(b.gsize_off, 40);
    cr_expect_eq(b.end, 52);
    cr_expect_eq(b.align, 16);
    cr_expect_eq(b.size, 64);
    cr_expect(!abi_block_in_uniform(&b));
}

Test(abi, scalar_block_edges)
{
    AbiBlock e = abi_scalar_block(NULL, 0, NULL, NULL); /* no parameters: the global size only */
    cr_expect_eq(e.gsize_off, 0);
    cr_expect_eq(e.size, 12);
    dck_abi_param odd[] = {VAL(1, 1), VAL(2, 2), BUF(4, 4)}; /* char, short, buffer */
    uint32_t vo[3], lo[3];
    AbiBlock b = abi_scalar_block(odd, 3, vo, lo);
    cr_expect_eq(vo[1], 2);
    cr_expect_eq(lo[2], 4);
    cr_expect_eq(b.size, 20);
    /* push constants hold 128 bytes; one more word goes to a uniform buffer */
    dck_abi_param big[30];
    for (int i = 0; i < 30; i++) big[i] = (dck_abi_param)VAL(4, 4);
    AbiBlock fits = abi_scalar_block(big, 29, NULL, NULL);
    AbiBlock over = abi_scalar_block(big, 30, NULL, NULL);
    cr_expect_eq(fits.size, 128);
    cr_expect(!abi_block_in_uniform(&fits));
    cr_expect_eq(over.size, 132);
    cr_expect(abi_block_in_uniform(&over));
}

Test(abi, blob_names_round_trip)
{
    static const char *const cases[][3] = {
        {"c", NULL, "c"},
        {"opencl", NULL, "opencl"},
        {"cuda", NULL, "cuda"},
        {"msl", NULL, "msl"},
        {"spirv", "vulkan", "spirv-vulkan"},
        {"spirv", "opencl", "spirv-opencl"},
        {"ptx", "80", "ptx-sm80"},
        {"ptx", "90", "ptx-sm90"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32], target[16];
        const char *variant;
        cr_expect_str_eq(abi_blob_name(name, sizeof name, cases[i][0], cases[i][1]), cases[i][2]);
        cr_expect(abi_blob_parse(cases[i][2], target, sizeof target, &variant));
        cr_expect_str_eq(target, cases[i][0]);
        if (cases[i][1])
            cr_expect_str_eq(variant, cases[i][1]);
        else
            cr_expect_null(variant);
    }
}

Test(abi, blob_sm_is_strict)
{
    cr_expect_eq(abi_blob_sm("ptx-sm90"), 90);
    cr_expect_eq(abi_blob_sm("ptx-sm75"), 75);
    cr_expect_eq(abi_blob_sm("ptx-sm"), 0);
    cr_expect_eq(abi_blob_sm("ptx-sm8x"), 0);
    cr_expect_eq(abi_blob_sm("ptx-sm99999999999"), 0);
    cr_expect_eq(abi_blob_sm("spirv-vulkan"), 0);
    cr_expect_eq(abi_blob_sm("cuda"), 0);
    char target[16];
    const char *variant;
    cr_expect(!abi_blob_parse("hip", target, sizeof target, &variant));
    cr_expect(!abi_blob_parse("spirv-", target, sizeof target, &variant));
}
