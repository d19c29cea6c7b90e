#include "csentencepiece.h"
extern "C" int spm_shim_version(void) { return 0; }
