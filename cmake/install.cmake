# What `cmake --install BUILD [--prefix DIR]` puts where (GNUInstallDirs,
# relative to the prefix; DESTDIR is honoured): the program, the libvirt
# helper, the man pages, bash completion and the documentation. Debian's
# packaging (debian/) installs exactly this.
include(GNUInstallDirs)

# bash-completion's completionsdir, relative to the prefix as its .pc file
# has it (${datadir}/bash-completion/completions), so --prefix moves it.
set(QSNAPFIX_BASH_COMPLETION_DIR
    ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    CACHE STRING "Where bash completion scripts go (relative: to the prefix)")

install(TARGETS qsnapfix RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS ${QSNAPFIX_LIBVIRT_HELPER}
        DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME qsnapfix-libvirt)

file(GLOB QSNAPFIX_MAN1 CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/docs/man/*.1)
install(FILES ${QSNAPFIX_MAN1} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES ${PROJECT_SOURCE_DIR}/contrib/bash-completion/qsnapfix
        DESTINATION ${QSNAPFIX_BASH_COMPLETION_DIR})

file(GLOB QSNAPFIX_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${QSNAPFIX_DOCS}
              ${PROJECT_SOURCE_DIR}/docs/schema/qsnapfix-report.schema.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Ansible collection, once the project has one.
if(EXISTS ${PROJECT_SOURCE_DIR}/contrib/ansible)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/contrib/ansible/
          DESTINATION ${CMAKE_INSTALL_DATADIR}/qsnapfix/ansible)
endif()
