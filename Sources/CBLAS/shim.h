#include <cblas.h>
/* Declared by OpenBLAS but not in every cblas.h. */
void openblas_set_num_threads(int num_threads);
