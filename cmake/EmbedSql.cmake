# vh_embed_sql(OUT FILES): write a C file holding every migration in sql/
# as a NUL-terminated byte array, in file-name order, so the binaries carry
# the schema and no SQL text lives in C sources.
function(vh_embed_sql out files)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} "-DFILES=${files}"
            -P ${CMAKE_SOURCE_DIR}/cmake/EmbedSqlRun.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/cmake/EmbedSqlRun.cmake
    COMMENT "Embedding sql/ migrations"
    VERBATIM)
endfunction()
