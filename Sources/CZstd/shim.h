// zstd's C API (Debian: libzstd-dev). The static-linking-only section is not used.
#include <zstd.h>
#include <zstd_errors.h>
