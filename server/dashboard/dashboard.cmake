# Included by server/CMakeLists.txt: embeds the dashboard's files into
# ctxd_server through embed.cmake, at build time, with CMake alone.
set(dashboard_files index.html app.js style.css)
set(dashboard_dir ${CMAKE_CURRENT_SOURCE_DIR}/dashboard)
set(dashboard_source ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.cc)
list(TRANSFORM dashboard_files PREPEND ${dashboard_dir}/ OUTPUT_VARIABLE dashboard_paths)
string(JOIN "|" dashboard_names ${dashboard_files})
add_custom_command(
  OUTPUT ${dashboard_source}
  COMMAND ${CMAKE_COMMAND} -DDIR=${dashboard_dir} -DNAMES=${dashboard_names} -DOUTPUT=${dashboard_source}
          -P ${dashboard_dir}/embed.cmake
  DEPENDS ${dashboard_paths} ${dashboard_dir}/embed.cmake
  COMMENT "Embedding the dashboard"
  VERBATIM)
target_sources(ctxd_server PRIVATE dashboard_routes.cc ${dashboard_source})
