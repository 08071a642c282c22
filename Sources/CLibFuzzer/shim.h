// libFuzzer's entry for a program that keeps its own main (libclang_rt.fuzzer_no_main); only the fuzz build,
// linked with -sanitize=fuzzer, calls it.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
