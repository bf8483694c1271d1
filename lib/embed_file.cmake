# cmake -DINPUT=file -DOUTPUT=file.cpp [-DSYMBOL=name] -P embed_file.cmake
# Writes a C++ file defining `extern const std::string_view shrike::embedded::<SYMBOL>`
# (the bytes of INPUT). SYMBOL defaults to command_specs_json.
if(NOT DEFINED SYMBOL OR SYMBOL STREQUAL "")
  set(SYMBOL command_specs_json)
endif()
file(READ ${INPUT} HEX_CONTENT HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${HEX_CONTENT}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace shrike::embedded {\nstatic const unsigned char data[] = {${BYTES}0x00};\nextern const std::string_view ${SYMBOL}(reinterpret_cast<const char*>(data), sizeof(data) - 1);\n}\n")
