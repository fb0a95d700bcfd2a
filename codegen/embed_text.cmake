# embed_text.cmake: cmake -DIN=file -DOUT=file.c -P embed_text.cmake
# Writes `const char cg_dck_abi_h[]` holding IN's bytes (NUL-terminated) to OUT.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
string(REPLACE "0x0a," "0x0a,\n    " hex "${hex}")
file(WRITE ${OUT}.tmp "/* Generated from ${IN} by codegen/embed_text.cmake. Do not edit. */\n"
     "const char cg_dck_abi_h[] = {\n    ${hex}0x00\n};\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
