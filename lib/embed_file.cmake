# cmake -DINPUT=file -DOUTPUT=file.cpp -P embed_file.cmake
# Writes a C++ file defining shrike::embedded::command_specs_json (the bytes of INPUT).
file(READ ${INPUT} HEX_CONTENT HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," BYTES "${HEX_CONTENT}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace shrike::embedded {\nstatic const unsigned char data[] = {${BYTES}0x00};\nextern const std::string_view command_specs_json(reinterpret_cast<const char*>(data), sizeof(data) - 1);\n}\n")
