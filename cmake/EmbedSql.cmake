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

# vh_schema_version(OUT FILES): write a header defining VH_SCHEMA_VERSION,
# the number that starts the last of FILES (sorted), at configure time;
# the glob of sql/ in CMakeLists.txt reconfigures when a file is added.
function(vh_schema_version out files)
  set(last "")
  foreach(f ${files})
    set(last ${f})
  endforeach()
  if(last STREQUAL "")
    message(FATAL_ERROR "no sql/NNN_*.sql migrations found")
  endif()
  get_filename_component(name ${last} NAME)
  string(REGEX MATCH "^[0-9]+" ver ${name})
  math(EXPR ver "${ver}")
  file(CONFIGURE OUTPUT ${out} CONTENT
"/* generated from sql/ by cmake/EmbedSql.cmake: do not edit */
#ifndef VH_SCHEMA_VERSION_H
#define VH_SCHEMA_VERSION_H
/* the newest migration, ${name} */
#define VH_SCHEMA_VERSION ${ver}
#endif
")
endfunction()
