/* builtins.h: the builtin function table (builtins.def) as an enum and lookups. */
#ifndef DCK_BUILTINS_H
#define DCK_BUILTINS_H

typedef enum BuiltinId {
    BI_NONE = 0,
#define BUILTIN(ID, name, nargs, cls) BI_##ID,
#include "builtins.def"
#undef BUILTIN
    BI_COUNT
} BuiltinId;

typedef enum BuiltinClass {
    BK_WORKITEM,
    BK_BARRIER,
    BK_LEN,
    BK_F1,
    BK_F2,
    BK_F3,
    BK_N1,
    BK_N2,
    BK_N3,
    BK_I1,
    BK_I2,
    BK_FTEST,
    BK_MIX,
    BK_STEP,
    BK_SELECT,
    BK_DOT,
    BK_CROSS,
    BK_LENGTH,
    BK_ANYALL,
    BK_ATOMIC,
    BK_CAS,
    BK_SG0,
    BK_SG1,
    BK_SGLANE,
} BuiltinClass;

typedef struct BuiltinInfo {
    const char *name;
    int nargs;
    BuiltinClass cls;
} BuiltinInfo;

extern const BuiltinInfo builtin_info[BI_COUNT];
BuiltinId builtin_lookup(const char *name); /* BI_NONE if not a builtin */

#endif
