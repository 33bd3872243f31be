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
 * The norm is kept in two factors, norm_i = m_i * r_i with m_i = max_j
 * |x_ij| and r_i = sqrt(sum (x_ij / m_i)^2) in [1, sqrt(cols)], and the
 * kernels divide by m_i and then by r_i. Neither the squares nor the norm
 * are formed, so a row of subnormal numbers or one whose norm exceeds the
 * largest finite REAL is normalised like any other. The goodness sum_j
 * x_ij^2 is returned in the same two factors, m_i and sum (x_ij / m_i)^2,
 * for the host to multiply in float64.
 *
 * Memory layout. x, u and g are row-major (rows, cols); norms and the
 * goodness output have 2 * rows elements: m_i at index i and r_i (or the
 * scaled sum) at index rows + i. Both normalisation kernels work in place:
 * normalize_rows overwrites x with u, normalize_backward overwrites g with
 * dL/dx.
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

/*
 * row_scale returns the largest magnitude m of a row, 0 for a zero row, and
 * sets *scaled_sum to sum_j (x_j / m)^2, compensated (0 for a zero row).
 * It divides by m rather than multiplying by 1 / m, which overflows when
 * m is subnormal.
 */
static REAL row_scale(__global const REAL *row, const int cols, REAL *scaled_sum)
{
    REAL largest = 0;
    for (int j = 0; j < cols; j++) {
        largest = fmax(largest, fabs(row[j]));
    }
    REAL sum = 0;
    REAL carry = 0;
    if (largest > 0) {
        for (int j = 0; j < cols; j++) {
            const REAL scaled = row[j] / largest;
            kahan_add(&sum, &carry, scaled * scaled);
        }
    }
    *scaled_sum = sum;
    return largest;
}

/* clamped reports whether the norm largest * root is at most NORM_EPS.
 * The product overflows to +inf only for norms far above NORM_EPS. */
static int clamped(const REAL largest, const REAL root)
{
    return largest * root <= (REAL)NORM_EPS;
}

__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void normalize_rows(__global REAL *x, __global REAL *norms, const int rows, const int cols)
{
    const int row = get_global_id(0);
    if (row >= rows) {
        return;
    }
    __global REAL *xr = x + (size_t)row * cols;
    REAL sum;
    const REAL largest = row_scale(xr, cols, &sum);
    const REAL root = sqrt(sum);
    norms[row] = largest;
    norms[rows + row] = root;
    if (clamped(largest, root)) {
        for (int j = 0; j < cols; j++) {
            xr[j] = xr[j] / (REAL)NORM_EPS;
        }
        return;
    }
    for (int j = 0; j < cols; j++) {
        xr[j] = (xr[j] / largest) / root;
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
    const REAL largest = norms[row];
    const REAL root = norms[rows + row];
    if (clamped(largest, root)) {
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
    for (int j = 0; j < cols; j++) {
        gr[j] = ((gr[j] - ur[j] * projection) / largest) / root;
    }
}

/*
 * Goodness of each row, goodness_i = sum_j x_ij^2, in two factors: out[i]
 * = m_i and out[rows + i] = sum_j (x_ij / m_i)^2, so that a goodness beyond
 * the range of REAL still reaches the host, which forms m_i^2 times the sum
 * in float64. Layout: x is row-major (rows, cols); out has 2 * rows
 * elements.
 */
__kernel __attribute__((reqd_work_group_size(NORM_WG, 1, 1)))
void goodness_rows(__global const REAL *x, __global REAL *out, const int rows, const int cols)
{
    const int row = get_global_id(0);
    if (row >= rows) {
        return;
    }
    REAL sum;
    out[row] = row_scale(x + (size_t)row * cols, cols, &sum);
    out[rows + row] = sum;
}
