// OpenBLAS's CBLAS interface (Debian: libopenblas-dev installs cblas.h on the default include path).
#include <cblas.h>
// Thread control, declared by OpenBLAS; used to pin BLAS threads to the core count.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
