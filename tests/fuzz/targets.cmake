# The fuzz targets, named (no glob): tests/fuzz/fuzz_NAME.c with its seed
# corpus in tests/fuzz/corpus/NAME/. Included by tests/fuzz (libFuzzer,
# VH_FUZZ=ON) and tests/fuzz/replay (every other build).
set(VH_FUZZ_TARGETS addr clienthello elf inetd ixfmt legacy proxy)
