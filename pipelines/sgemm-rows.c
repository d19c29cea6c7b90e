// Does OpenBLAS's sgemm give a row of C = A B^T the same bits wherever the row sits and whatever M
// is? 64 fixed rows of A are placed at row offsets 0..23 of an M-row matrix of other random rows
// (M = 1024), and alone (M = 64, 17, 1 leading rows); each line counts the values of those rows
// that differ from the offset-0 product. K = N = 128 (a main-job layer).
//   gcc -O2 pipelines/sgemm-rows.c -o /tmp/sgemm-rows -lopenblas
//   for t in Haswell Zen SkylakeX; do OPENBLAS_CORETYPE=$t /tmp/sgemm-rows; done
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K = 128, N = 128, M = 1024, R = 64 };

static float uniform(void) { return (float)rand() / RAND_MAX * 2 - 1; }

// C (m, N) = A (m, K) B^T; returns how many of the R rows at `offset` differ from `reference`.
static int differing(const float *rows, int offset, int m, const float *b, const float *reference, int count) {
    float *a = malloc(sizeof(float) * m * K), *c = malloc(sizeof(float) * m * N);
    for (int i = 0; i < m * K; i++) a[i] = uniform();
    memcpy(a + offset * K, rows, sizeof(float) * count * K);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, N, K, 1, a, K, b, K, 0, c, N);
    int n = 0;
    for (int i = 0; i < count * N; i++) n += c[offset * N + i] != reference[i];
    free(a); free(c);
    return n;
}

int main(void) {
    srand(1);
    float *rows = malloc(sizeof(float) * R * K), *b = malloc(sizeof(float) * N * K), *reference = malloc(sizeof(float) * M * N);
    for (int i = 0; i < R * K; i++) rows[i] = uniform();
    for (int i = 0; i < N * K; i++) b[i] = uniform();
    float *a = malloc(sizeof(float) * M * K);
    for (int i = 0; i < M * K; i++) a[i] = uniform();
    memcpy(a, rows, sizeof(float) * R * K);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, reference, N);
    const char *core = getenv("OPENBLAS_CORETYPE");
    printf("%s, M = %d: values of 64 rows (of %d) that differ from offset 0, by offset:", core ? core : "unset", M, R * N);
    for (int offset = 1; offset < 24; offset++) printf(" %d", differing(rows, offset, M, b, reference, R));
    printf("\n  alone, M = 64: %d;  M = 17: %d (of %d);  M = 1: %d (of %d)\n", differing(rows, 0, 64, b, reference, R),
           differing(rows, 0, 17, b, reference, 17), 17 * N, differing(rows, 0, 1, b, reference, 1), N);
    return 0;
}
