// Open MPI's C interface for Swift. MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM and friends are macros that
// cast the addresses of library globals, which Swift cannot import, so every call Plumbline makes
// goes through one of these wrappers on the world communicator. Counts are C ints, as in MPI.
// pkg-config (ompi-c) gives the include directory; without it, Debian's multiarch link to it.
#if __has_include(<mpi.h>)
#include <mpi.h>
#else
#include <mpi/mpi.h>
#endif

/// Initialises MPI once (a process not started by mpirun becomes a singleton of one rank); the
/// calling thread alone makes MPI calls. Errors return instead of aborting: Swift reports them.
static inline int plumb_mpi_init(void) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised) return MPI_SUCCESS;
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc == MPI_SUCCESS) MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return rc;
}

static inline int plumb_mpi_finalize(void) {
    int finalised = 0;
    MPI_Finalized(&finalised);
    return finalised ? MPI_SUCCESS : MPI_Finalize();
}

static inline int plumb_mpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int plumb_mpi_size(void) { int n = 1; MPI_Comm_size(MPI_COMM_WORLD, &n); return n; }

static inline int plumb_mpi_allreduce_sum_float(float *buffer, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

static inline int plumb_mpi_allreduce_sum_double(double *buffer, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static inline int plumb_mpi_broadcast_bytes(void *buffer, int count, int root) {
    return MPI_Bcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD);
}

/// Gathers one int from every rank into `counts` (size entries) on `root`.
static inline int plumb_mpi_gather_int(int value, int *counts, int root) {
    return MPI_Gather(&value, 1, MPI_INT, counts, 1, MPI_INT, root, MPI_COMM_WORLD);
}

/// Gathers `count` bytes from every rank into `buffer` on `root`, rank r's at `displacements[r]`.
static inline int plumb_mpi_gatherv_bytes(const void *bytes, int count, void *buffer, const int *counts,
                                          const int *displacements, int root) {
    return MPI_Gatherv(bytes, count, MPI_BYTE, buffer, counts, displacements, MPI_BYTE, root, MPI_COMM_WORLD);
}

static inline int plumb_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

static inline void plumb_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static inline int plumb_mpi_success(void) { return MPI_SUCCESS; }

/// The library's text for an error code, into `text` (at least MPI_MAX_ERROR_STRING bytes).
static inline void plumb_mpi_error_string(int code, char *text, int capacity) {
    char buffer[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, buffer, &length);
    if (capacity <= 0) return;
    if (length >= capacity) length = capacity - 1;
    for (int i = 0; i < length; i++) text[i] = buffer[i];
    text[length] = 0;
}
