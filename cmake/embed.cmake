# sig_embed_file(<target> <symbol> <file>): links <file> into <target> with the assembler's
# .incbin (fast even for megabyte-sized files), visible to C++ through core/embedded.hpp as
# SIG_EMBEDDED(<symbol>), a std::string_view. The target is rebuilt when the file changes.
enable_language(ASM)

function(sig_embed_file target symbol file)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embedded/${symbol}.S")
  file(WRITE "${out}.in" [=[
    .section .rodata
    .global sig_embedded_@SYMBOL@_begin
    .global sig_embedded_@SYMBOL@_end
    .balign 16
sig_embedded_@SYMBOL@_begin:
    .incbin "@FILE@"
sig_embedded_@SYMBOL@_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
]=])
  set(SYMBOL "${symbol}")
  set(FILE "${file}")
  configure_file("${out}.in" "${out}" @ONLY)
  target_sources(${target} PRIVATE "${out}")
  set_source_files_properties("${out}" PROPERTIES OBJECT_DEPENDS "${file}")
endfunction()
