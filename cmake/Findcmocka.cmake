# Findcmocka.cmake - find_package(cmocka): the unit tests' framework.
# Sets cmocka_FOUND, CMOCKA_INCLUDE_DIR and CMOCKA_LIBRARY. Only a build
# with -DVH_TESTS=ON asks for it (tests/CMakeLists.txt): an install needs
# no cmocka. Being a package, it can be hidden on purpose with
# -DCMAKE_DISABLE_FIND_PACKAGE_cmocka=ON (tests/integration/test_install.sh
# builds the README's install that way).
find_path(CMOCKA_INCLUDE_DIR cmocka.h)
find_library(CMOCKA_LIBRARY NAMES cmocka)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(cmocka REQUIRED_VARS CMOCKA_LIBRARY CMOCKA_INCLUDE_DIR)
mark_as_advanced(CMOCKA_INCLUDE_DIR CMOCKA_LIBRARY)
