/*
 * Row-wise kernels: the normalisation of InfoNCE (forward and backward) and
 * the goodness of CSDP.
 *
 * Maths. For each row x_i of the (rows, cols) matrix x:
 *   norm_i = ||x_i||_2                        (unclamped, kept for the backward pass)
 *   u_i    = x_i / max(norm_i, NORM_EPS)
 * Backward, given g_i = dL/du_i:
 *   dL/dx_i = (g_i - u_i (u_i . g_i)) / norm_i   when norm_i > NORM_EPS
 *   dL/dx_i = g_i / NORM_EPS                    otherwise (u_i = x_i / NORM_EPS
 *                                                is linear in x_i there)
 * The norm is computed as m * sqrt(sum (x_ij / m)^2) with m = max_j |x_ij|,
 * so that squaring neither overflows nor underflows in float.
 *
 * Memory layout. x, u and g are row-major (rows, cols); norms has rows
 * elements. Both kernels work in place: normalize_rows overwrites x with u,
 * normalize_backward overwrites g with dL/dx.
 *
 * Work decomposition. One work-item per row, in work-groups of NORM_WG
 * work-items; launch with global size rows rounded up to a multiple of
 * NORM_WG. These kernels cost O(rows * cols), next to the O(batch^2 *
 * features) of the tiled InfoNCE kernels, so they favour simplicity: sums
 * are compensated (Kahan), which keeps a float32 sum of any length within
 * a few units in the last place.
 */

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* Element type: float or double (double needs USE_FP64). */
#ifndef REAL
#define REAL float
#endif
/* Work-items per work-group. */
#ifndef NORM_WG
#define NORM_WG 64
#endif
/* Lower clamp on a row's norm, as in the CPU reference. */
#ifndef NORM_EPS
#define NORM_EPS 1e-8f
#endif

/* Compensated running sum: *sum + *carry holds the exact total to within
 * a few units in the last place of *sum. */
static void kahan_add(REAL *sum, REAL *carry, const REAL value)
{
    const REAL y = value - *carry;
    const REAL t = *sum + y;
    *carry = (t - *sum) - y;
    *sum = t;
}

/* Euclidean norm of a row, as largest * sqrt(sum (x_j / largest)^2). */
static REAL row_norm(__global const REAL *row, const int cols)
{
    REAL largest = 0;
    for (int j = 0; j < cols; j++) {
        largest = fmax(largest, fabs(row[j]));
    }
    if (largest == 0) {
        return 0;
    }
    const REAL inv = (REAL)1 / largest;
    REAL sum = 0;
    REAL carry = 0;
    for (int j = 0; j < cols; j++) {
        const REAL scaled = row[j] * inv;
        kahan_add(&sum, &carry, scaled * scaled);
    }
    return largest * sqrt(sum);
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void normalize_rows(__global REAL *x, __global REAL *norms, const int rows, const int cols)
{
    const int row = get_global_id(0);
    if (row >= rows) {
        return;
    }
    __global REAL *xr = x + (size_t)row * cols;
    const REAL norm = row_norm(xr, cols);
    norms[row] = norm;
    const REAL inv = (REAL)1 / fmax(norm, (REAL)NORM_EPS);
    for (int j = 0; j < cols; j++) {
        xr[j] *= inv;
    }
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void normalize_backward(__global REAL *g, __global const REAL *u, __global const REAL *norms,
                        const int rows, const int cols)
{
    const int row = get_global_id(0);
    if (row >= rows) {
        return;
    }
    __global REAL *gr = g + (size_t)row * cols;
    __global const REAL *ur = u + (size_t)row * cols;
    const REAL norm = norms[row];
    if (norm <= (REAL)NORM_EPS) {
        for (int j = 0; j < cols; j++) {
            gr[j] = gr[j] / (REAL)NORM_EPS;
        }
        return;
    }
    REAL projection = 0;
    REAL carry = 0;
    for (int j = 0; j < cols; j++) {
        kahan_add(&projection, &carry, ur[j] * gr[j]);
    }
    const REAL inv = (REAL)1 / norm;
    for (int j = 0; j < cols; j++) {
        gr[j] = (gr[j] - ur[j] * projection) * inv;
    }
}

/*
 * Goodness of each row: goodness_i = sum_j x_ij^2, compensated.
 * Layout: x is row-major (rows, cols); out has rows elements.
 */
__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void goodness_rows(__global const REAL *x, __global REAL *out, const int rows, const int cols)
{
    const int row = get_global_id(0);
    if (row >= rows) {
        return;
    }
    __global const REAL *xr = x + (size_t)row * cols;
    REAL sum = 0;
    REAL carry = 0;
    for (int j = 0; j < cols; j++) {
        kahan_add(&sum, &carry, xr[j] * xr[j]);
    }
    out[row] = sum;
}
