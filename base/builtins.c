/* builtins.c: the builtin table from builtins.def. */
#include "builtins.h"

#include <string.h>

const BuiltinInfo builtin_info[BI_COUNT] = {
    [BI_NONE] = {"<none>", 0, BK_F1},
#define BUILTIN(ID, nm, n, c) [BI_##ID] = {nm, n, c},
#include "builtins.def"
#undef BUILTIN
};

BuiltinId builtin_lookup(const char *name)
{
    for (int i = 1; i < BI_COUNT; i++)
        if (strcmp(builtin_info[i].name, name) == 0) return (BuiltinId)i;
    return BI_NONE;
}
