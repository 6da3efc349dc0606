# forage_embed(<target> <symbol> <file>): compile <file> into <target> as read-only bytes.
# C++ sees them through forage/embedded.h: `FORAGE_EMBEDDED(symbol)` gives a std::string_view.
function(forage_embed target symbol file)
  set(asm ${CMAKE_CURRENT_BINARY_DIR}/embed_${symbol}.S)
  file(WRITE ${asm}.in
    "    .section .rodata\n"
    "    .global forage_embed_${symbol}_begin\n"
    "    .global forage_embed_${symbol}_end\n"
    "    .balign 16\n"
    "forage_embed_${symbol}_begin:\n"
    "    .incbin \"${file}\"\n"
    "forage_embed_${symbol}_end:\n"
    "    .byte 0\n"
    "    .section .note.GNU-stack,\"\",@progbits\n")
  configure_file(${asm}.in ${asm} COPYONLY)
  set_source_files_properties(${asm} PROPERTIES OBJECT_DEPENDS ${file})
  target_sources(${target} PRIVATE ${asm})
endfunction()
