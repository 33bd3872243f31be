/*
 * InfoNCE over L2-normalised views, forward and backward, in tiles.
 *
 * Maths. u and v are the normalised views (see rows.cl), each (batch,
 * features). The logits are s_ij = u_i . v_j / temperature. The forward
 * kernel computes, for every row i,
 *   lse_i  = log sum_j exp(s_ij)     (online: running max and rescaled sum)
 *   diag_i = s_ii
 * and the host forms loss = mean_i(lse_i - diag_i). The column log-sum-exp
 * of the symmetric loss, log sum_i exp(s_ij), is the same kernel with the
 * two views swapped.
 *
 * The backward kernel recomputes each tile of logits and accumulates
 *   grad_own_i += sum_j g_ij y_j
 *   g_ij = scale * (use_own   ? exp(s_ij - lse_own_i)   : 0
 *                 + use_other ? exp(s_ij - lse_other_j) : 0
 *                 - diag_weight * [i == j])
 * With x = u, y = v, lse_own = row lse and lse_other = column lse it gives
 * dL/du; with x = v, y = u and the roles of the two lse swapped it gives
 * dL/dv. The host sets scale = 1 / (batch * temperature), halved for the
 * symmetric loss, and diag_weight = 1, or 2 for the symmetric loss. This is
 * dL/ds_ij / temperature as the CPU reference defines it.
 *
 * Memory layout. x, y and grad are row-major (batch, features); lse, diag,
 * lse_own and lse_other have batch elements. No batch x batch buffer
 * exists: a work-group holds one TILE x TILE tile of logits at a time.
 *
 * Work decomposition. Work-groups of TILE x TILE work-items; dimension 0 is
 * the column within the tile, dimension 1 the row. Work-group b (dimension
 * 1) owns rows [b*TILE, (b+1)*TILE) of x and walks over every column tile.
 * Launch with global size (TILE, ceil(batch / TILE) * TILE). Each work-item
 * keeps the online log-sum-exp of one row over the columns it visits; the
 * TILE partial results of a row are merged at the end. In the backward
 * kernel a work-item owns the gradient elements (row, k) with
 * k = local column + m * TILE, so no two work-items write the same element.
 */

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* Element type: float or double (double needs USE_FP64). */
#ifndef REAL
#define REAL float
#endif
/* Rows and columns of a tile of logits; TILE * TILE is the work-group size. */
#ifndef TILE
#define TILE 16
#endif
/* Features loaded into local memory per step of a tile's dot products. */
#ifndef TILE_K
#define TILE_K 16
#endif

/*
 * tile_dot returns x_row . y_col for this work-item's row r0 + local row
 * and column c0 + local column, summing over the features in steps of
 * TILE_K through the local tiles xs (TILE x (TILE_K + 1), row-major) and ys
 * (TILE_K x (TILE + 1), transposed so that consecutive work-items read
 * consecutive words). Out-of-range rows, columns and features read as 0.
 * Every work-item of the group must call it.
 */
static REAL tile_dot(__global const REAL *x, __global const REAL *y, const int batch, const int features,
                     const int r0, const int c0, __local REAL *xs, __local REAL *ys)
{
    const int lr = get_local_id(1);
    const int lc = get_local_id(0);
    const int flat = lr * TILE + lc;
    REAL acc = 0;
    for (int k0 = 0; k0 < features; k0 += TILE_K) {
        for (int e = flat; e < TILE * TILE_K; e += TILE * TILE) {
            const int r = e / TILE_K;
            const int k = e % TILE_K;
            const int gk = k0 + k;
            const int gx = r0 + r;
            const int gy = c0 + r;
            xs[r * (TILE_K + 1) + k] = (gx < batch && gk < features) ? x[(size_t)gx * features + gk] : 0;
            ys[k * (TILE + 1) + r] = (gy < batch && gk < features) ? y[(size_t)gy * features + gk] : 0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TILE_K; k++) {
            acc += xs[lr * (TILE_K + 1) + k] * ys[k * (TILE + 1) + lc];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return acc;
}

__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void infonce_lse(__global const REAL *x, __global const REAL *y, const int batch, const int features,
                 const REAL inv_temp, __global REAL *lse, __global REAL *diag, const int write_diag)
{
    __local REAL xs[TILE * (TILE_K + 1)];
    __local REAL ys[TILE_K * (TILE + 1)];
    __local REAL part_max[TILE * TILE];
    __local REAL part_sum[TILE * TILE];

    const int lr = get_local_id(1);
    const int lc = get_local_id(0);
    const int r0 = get_group_id(1) * TILE;
    const int row = r0 + lr;

    REAL running_max = -INFINITY;
    REAL running_sum = 0;
    for (int c0 = 0; c0 < batch; c0 += TILE) {
        const REAL dot = tile_dot(x, y, batch, features, r0, c0, xs, ys);
        const int col = c0 + lc;
        if (row < batch && col < batch) {
            const REAL logit = dot * inv_temp;
            if (write_diag && col == row) {
                diag[row] = logit;
            }
            if (logit > running_max) {
                /* Rescale the running sum to the new maximum. */
                running_sum = running_sum * exp(running_max - logit) + 1;
                running_max = logit;
            } else {
                running_sum += exp(logit - running_max);
            }
        }
    }

    part_max[lr * TILE + lc] = running_max;
    part_sum[lr * TILE + lc] = running_sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lc == 0 && row < batch) {
        REAL m = -INFINITY;
        for (int c = 0; c < TILE; c++) {
            m = fmax(m, part_max[lr * TILE + c]);
        }
        REAL sum = 0;
        for (int c = 0; c < TILE; c++) {
            if (part_sum[lr * TILE + c] > 0) {
                sum += part_sum[lr * TILE + c] * exp(part_max[lr * TILE + c] - m);
            }
        }
        lse[row] = m + log(sum);
    }
}

__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void infonce_grad(__global const REAL *x, __global const REAL *y, const int batch, const int features,
                  const REAL inv_temp, __global const REAL *lse_own, __global const REAL *lse_other,
                  const int use_own, const int use_other, const REAL scale, const REAL diag_weight,
                  __global REAL *grad)
{
    __local REAL xs[TILE * (TILE_K + 1)];
    __local REAL ys[TILE_K * (TILE + 1)];
    __local REAL gs[TILE * (TILE + 1)];
    __local REAL yk[TILE * (TILE + 1)];

    const int lr = get_local_id(1);
    const int lc = get_local_id(0);
    const int r0 = get_group_id(1) * TILE;
    const int row = r0 + lr;

    if (row < batch) {
        for (int k = lc; k < features; k += TILE) {
            grad[(size_t)row * features + k] = 0;
        }
    }
    const REAL own = (use_own && row < batch) ? lse_own[row] : 0;

    for (int c0 = 0; c0 < batch; c0 += TILE) {
        const REAL dot = tile_dot(x, y, batch, features, r0, c0, xs, ys);
        const int col = c0 + lc;
        REAL g = 0;
        if (row < batch && col < batch) {
            const REAL logit = dot * inv_temp;
            if (use_own) {
                g += exp(logit - own);
            }
            if (use_other) {
                g += exp(logit - lse_other[col]);
            }
            if (row == col) {
                g -= diag_weight;
            }
            g *= scale;
        }
        gs[lr * (TILE + 1) + lc] = g;
        barrier(CLK_LOCAL_MEM_FENCE);

        /* grad[row, k0 + lc] += sum_c g[lr][c] * y[c0 + c, k0 + lc] */
        for (int k0 = 0; k0 < features; k0 += TILE) {
            const int gy = c0 + lr;
            const int gk = k0 + lc;
            yk[lr * (TILE + 1) + lc] = (gy < batch && gk < features) ? y[(size_t)gy * features + gk] : 0;
            barrier(CLK_LOCAL_MEM_FENCE);
            if (row < batch && gk < features) {
                REAL acc = 0;
                for (int c = 0; c < TILE; c++) {
                    acc += gs[lr * (TILE + 1) + c] * yk[c * (TILE + 1) + lc];
                }
                grad[(size_t)row * features + gk] += acc;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
}
