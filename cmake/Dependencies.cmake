# Third-party libraries, all from Debian bookworm packages (scripts/install-deps.sh).
# Each becomes an INTERFACE target `dep::<name>`; with FORAGE_STATIC every executable is linked
# with -static, so the plain -l names below resolve to the .a archives.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 2.1 REQUIRED)

pkg_check_modules(YARA REQUIRED yara)
pkg_check_modules(PCAP REQUIRED libpcap)
pkg_check_modules(MAGIC REQUIRED libmagic)
pkg_check_modules(OPENSSL REQUIRED libcrypto libssl)
pkg_check_modules(ZSTD REQUIRED libzstd)

if(FORAGE_STATIC)
  add_link_options(-static)
endif()

function(forage_dep name)
  add_library(dep_${name} INTERFACE)
  add_library(dep::${name} ALIAS dep_${name})
  cmake_parse_arguments(D "" "" "INCLUDES;LIBS" ${ARGN})
  if(D_INCLUDES)
    target_include_directories(dep_${name} SYSTEM INTERFACE ${D_INCLUDES})
  endif()
  target_link_libraries(dep_${name} INTERFACE ${D_LIBS})
endfunction()

# libpcap.a pulls libdbus-1.a, which calls sd_listen_fds/sd_is_socket from libsystemd; Debian
# has no libsystemd.a, so the static build drops -lsystemd and cmake/systemd_stubs.c defines both
# for every executable that links dep::pcap (the binary, tests, fuzzers, bench tools).
set(_pcap_libs pcap)
if(FORAGE_STATIC)
  list(APPEND _pcap_libs dbus-1)
endif()

forage_dep(json LIBS nlohmann_json::nlohmann_json)
forage_dep(cli11 LIBS CLI11::CLI11)
forage_dep(spdlog LIBS Threads::Threads)
forage_dep(crypto INCLUDES ${OPENSSL_INCLUDE_DIRS} LIBS ssl crypto ${CMAKE_DL_LIBS} Threads::Threads)
forage_dep(magic INCLUDES ${MAGIC_INCLUDE_DIRS} LIBS magic lzma bz2 z zstd)
forage_dep(zstd INCLUDES ${ZSTD_INCLUDE_DIRS} LIBS zstd)
forage_dep(zlib LIBS z)
forage_dep(pcap INCLUDES ${PCAP_INCLUDE_DIRS} LIBS ${_pcap_libs} Threads::Threads)
if(FORAGE_STATIC)
  # An interface source is compiled into each target that links dep::pcap, so the stubs sit in
  # the executable's own objects and no archive order can lose them.
  target_sources(dep_pcap INTERFACE ${CMAKE_CURRENT_LIST_DIR}/systemd_stubs.c)
endif()
forage_dep(yara INCLUDES ${YARA_INCLUDE_DIRS} LIBS yara jansson dep::magic dep::crypto m ${CMAKE_DL_LIBS})

# The magic database file compiled into the binary (magic_load_buffers), so a host without
# /usr/share/misc/magic.mgc still gets file types.
find_file(FORAGE_MAGIC_MGC magic.mgc PATHS /usr/share/misc /usr/lib/file /usr/share/file NO_DEFAULT_PATH REQUIRED)
# The public suffix list gives the set of real top-level domains (IoC domain validation).
find_file(FORAGE_PUBLIC_SUFFIX_LIST public_suffix_list.dat PATHS /usr/share/publicsuffix NO_DEFAULT_PATH REQUIRED)
