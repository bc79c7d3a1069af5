# Install-time script: fills in aimos.pc for the prefix actually installed to, so
# `cmake --install <build> --prefix <dir>` gets a correct file too; the install(FILES) after it
# in AimosInstall.cmake installs it (DESTDIR and the install manifest included).
# Set by the install(CODE) before it: AIMOS_PC_TEMPLATE, AIMOS_PC_WORK_FILE, AIMOS_PC_VERSION,
# AIMOS_PC_LIBDIR_NAME, AIMOS_PC_INCLUDEDIR_NAME (GNUInstallDirs names, relative or absolute).

function(aimos_pc_dir name out_var)
  if(IS_ABSOLUTE "${name}")
    set(${out_var} "${name}" PARENT_SCOPE)
  else()
    set(${out_var} "\${prefix}/${name}" PARENT_SCOPE)
  endif()
endfunction()

set(AIMOS_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
aimos_pc_dir("${AIMOS_PC_LIBDIR_NAME}" AIMOS_PC_LIBDIR)
aimos_pc_dir("${AIMOS_PC_INCLUDEDIR_NAME}" AIMOS_PC_INCLUDEDIR)
configure_file("${AIMOS_PC_TEMPLATE}" "${AIMOS_PC_WORK_FILE}" @ONLY)
