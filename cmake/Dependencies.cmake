# Every dependency comes from Debian 12's archive (see deps/debian-packages.txt).
# The notes in ../shared/notes/build.md explain each call below.
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)            # module mode: Debian ships no protobuf-config.cmake
find_package(gRPC CONFIG REQUIRED)         # gRPC::grpc++, gRPC::grpc++_reflection, gRPC::grpc_cpp_plugin
find_package(absl CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)     # target: yaml-cpp
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CURL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(benchmark CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(ESPEAK REQUIRED IMPORTED_TARGET espeak-ng)
pkg_check_modules(POCKETSPHINX REQUIRED IMPORTED_TARGET pocketsphinx)
# Debian's pocketsphinx.pc names /usr/include/sphinxbase, which does not exist; drop it.
get_target_property(_ps_inc PkgConfig::POCKETSPHINX INTERFACE_INCLUDE_DIRECTORIES)
list(FILTER _ps_inc EXCLUDE REGEX "^/usr/include/sphinxbase$")
set_target_properties(PkgConfig::POCKETSPHINX PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_ps_inc}")
pkg_get_variable(POCKETSPHINX_MODELDIR pocketsphinx modeldir)
include(GoogleTest)
