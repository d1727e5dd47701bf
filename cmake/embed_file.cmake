# Script mode helper of sig_embed_text: writes INPUT as a hex byte array named SYMBOL.
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${content}")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace sig::embedded {\nstatic constexpr char ${SYMBOL}_bytes[] = {${bytes} '\\0'};\nextern const std::string_view ${SYMBOL}{${SYMBOL}_bytes, ${size}};\n}\n")
