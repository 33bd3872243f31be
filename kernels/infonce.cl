/*
 * InfoNCE over L2-normalised views, forward and backward, in tiles.
 *
 * Maths. u and v are the normalised views (see rows.cl), each (batch,
 * features). The logits are s_ij = u_i . v_j / temperature. The forward
 * kernel computes, for every row i, the log-sum-exp in two parts,
 *   lse_i  = max_i + log1p(rest_i),   max_i = max_j s_ij,
 *   rest_i = sum_j exp(s_ij - max_i) - 1   (the terms other than the max)
 * online, with a running max and a rescaled running rest, and
 *   diag_i = s_ii.
 * The host forms loss = mean_i((max_i - diag_i) + log1p(rest_i)). When
 * the positive pair dominates a row, max_i = diag_i exactly and the row's
 * loss is log1p(rest_i), accurate to rounding however small it is, where
 * lse_i - diag_i would cancel. The column log-sum-exp of the symmetric
 * loss, log sum_i exp(s_ij), is the same kernel with the views swapped.
 *
 * The backward kernel recomputes each tile of logits and accumulates
 *   grad_own_i += sum_j g_ij y_j
 *   g_ij = scale * (use_own   ? p(s_ij - lse_own_i)   : 0
 *                 + use_other ? p(s_ij - lse_other_j) : 0)
 *   p(t) = exp(t) off the diagonal, expm1(t) = exp(t) - 1 on it,
 * with t formed as (s_ij - max) - log1p(rest), so that the diagonal term,
 * P_ii - 1, keeps its accuracy when P_ii is close to 1. With x = u, y = v,
 * lse_own = row lse and lse_other = column lse it gives dL/du; with x = v,
 * y = u and the roles of the two lse swapped it gives dL/dv. The host sets
 * scale = 1 / (batch * temperature), halved for the symmetric loss. This is
 * dL/ds_ij / temperature as the CPU reference defines it.
 *
 * Memory layout. x, y and grad are row-major (batch, features); diag has
 * batch elements, and lse, lse_own and lse_other have 2 * batch: max_i at
 * index i and log1p(rest_i) at index batch + i. With several column
 * splits, infonce_lse writes 2 * batch partial values per split, max_i and
 * rest_i (not its log1p), and infonce_grad writes a (batch, features)
 * partial gradient per split. No batch x batch buffer exists: a
 * work-group holds one TILE x TILE tile of logits at a time.
 *
 * Work decomposition. Work-groups of WG x WG work-items; dimension 0 is the
 * column, dimension 1 the row. Work-group (s, b) owns rows
 * [b*TILE, (b+1)*TILE) of x, with TILE = WG * BLOCK, and walks over the
 * column tiles of its column split s: columns [s*col_split,
 * (s+1)*col_split), where col_split is a multiple of TILE. Launch with
 * global size (splits * WG, ceil(batch / TILE) * WG), where splits =
 * ceil(batch / col_split). With one split, the kernels write their results
 * directly. With more, which keeps a large device busy at small batches,
 * each split writes partial results that infonce_lse_merge and sum_splits
 * combine in split order, so the result does not depend on the schedule.
 * Work-item (lr, lc) computes the BLOCK x BLOCK logits of rows
 * lr + m*WG and columns lc + n*WG of the tile (m, n < BLOCK), so each value
 * loaded from local memory feeds BLOCK multiply-adds. It keeps the online
 * log-sum-exp of its BLOCK rows over the columns it visits, and the WG
 * partial results of a row are merged at the end. In the backward kernel
 * work-item (lr, lc) owns the gradient elements (row, k) of its rows with
 * k = lc mod WG, so no two work-items write the same element.
 *
 * NOTE: these tunables, and the number of splits the host chooses, have
 * not been timed on a GPU.
 *
 * Local memory per work-group, in REAL elements: TILE*(TILE_K+1) +
 * TILE_K*(TILE+1) for the operand tiles of the dot products, 2*TILE*WG for
 * the merge of the forward kernel, and TILE*(TILE+1) for the gradient tile
 * of the backward kernel, whose second operand tile reuses the first ones.
 */

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* Element type: float or double (double needs USE_FP64). */
#ifndef REAL
#define REAL float
#endif
/* Work-items along each edge of a work-group; WG * WG is its size. */
#ifndef WG
#define WG 16
#endif
/* Logits per work-item along each edge of the tile. */
#ifndef BLOCK
#define BLOCK 4
#endif
/* Features loaded into local memory per step of the dot products. */
#ifndef TILE_K
#define TILE_K 16
#endif

/* Rows and columns of a tile of logits. */
#define TILE (WG * BLOCK)
/* Local memory of the operand tiles xs (TILE x (TILE_K + 1)) and ys
 * (TILE_K x (TILE + 1)), or of the backward kernel's tile yk
 * (TILE x (TILE + 1)), which reuses it. */
#define OPERANDS_XS (TILE * (TILE_K + 1))
#define OPERANDS (OPERANDS_XS + TILE_K * (TILE + 1) > TILE * (TILE + 1) ? \
                  OPERANDS_XS + TILE_K * (TILE + 1) : TILE * (TILE + 1))

/*
 * tile_dot sets acc[m * BLOCK + n] to x_row . y_col for rows r0 + lr + m*WG
 * and columns c0 + lc + n*WG, summing over the features in steps of TILE_K
 * through the local tiles xs (row-major) and ys (transposed, so that
 * neighbouring work-items read neighbouring words). Out-of-range rows,
 * columns and features read as 0. Every work-item of the group must call
 * it; it ends with a barrier, after which xs and ys may be reused.
 */
static void tile_dot(__global const REAL *x, __global const REAL *y, const int batch, const int features,
                     const int r0, const int c0, __local REAL *operands, REAL *acc)
{
    __local REAL *xs = operands;
    __local REAL *ys = operands + OPERANDS_XS;
    const int lr = get_local_id(1);
    const int lc = get_local_id(0);
    const int flat = lr * WG + lc;

    for (int i = 0; i < BLOCK * BLOCK; i++) {
        acc[i] = 0;
    }
    for (int k0 = 0; k0 < features; k0 += TILE_K) {
        for (int e = flat; e < TILE * TILE_K; e += WG * WG) {
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
            REAL xv[BLOCK];
            REAL yv[BLOCK];
            for (int m = 0; m < BLOCK; m++) {
                xv[m] = xs[(lr + m * WG) * (TILE_K + 1) + k];
            }
            for (int n = 0; n < BLOCK; n++) {
                yv[n] = ys[k * (TILE + 1) + lc + n * WG];
            }
            for (int m = 0; m < BLOCK; m++) {
                for (int n = 0; n < BLOCK; n++) {
                    acc[m * BLOCK + n] += xv[m] * yv[n];
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

/*
 * add_partial adds one partial log-sum-exp, a maximum and the rest, to a
 * merge whose overall maximum is largest. The partial's rest is rescaled to
 * largest, and its maximum joins the rest too unless it is the first one
 * equal to largest, which *largest_seen records. A partial that saw no
 * column has max -inf and adds nothing.
 */
static void add_partial(const REAL partial_max, const REAL partial_rest, const REAL largest, REAL *rest,
                        int *largest_seen)
{
    if (partial_max == -INFINITY) {
        return;
    }
    const REAL factor = exp(partial_max - largest);
    *rest += partial_rest * factor;
    if (partial_max == largest && !*largest_seen) {
        *largest_seen = 1;
    } else {
        *rest += factor;
    }
}

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void infonce_lse(__global const REAL *x, __global const REAL *y, const int batch, const int features,
                 const REAL inv_temp, __global REAL *lse, __global REAL *diag, const int write_diag,
                 const int col_split)
{
    __local REAL operands[OPERANDS];
    __local REAL part_max[TILE * WG];
    __local REAL part_rest[TILE * WG];

    const int lr = get_local_id(1);
    const int lc = get_local_id(0);
    const int r0 = get_group_id(1) * TILE;
    const int split = get_group_id(0);
    const int partial = get_num_groups(0) > 1;
    const int c_end = min(batch, (split + 1) * col_split);

    REAL acc[BLOCK * BLOCK];
    REAL running_max[BLOCK];
    REAL running_rest[BLOCK];
    for (int m = 0; m < BLOCK; m++) {
        running_max[m] = -INFINITY;
        running_rest[m] = 0;
    }
    for (int c0 = split * col_split; c0 < c_end; c0 += TILE) {
        tile_dot(x, y, batch, features, r0, c0, operands, acc);
        for (int m = 0; m < BLOCK; m++) {
            const int row = r0 + lr + m * WG;
            for (int n = 0; n < BLOCK; n++) {
                const int col = c0 + lc + n * WG;
                if (row >= batch || col >= c_end) {
                    continue;
                }
                const REAL logit = acc[m * BLOCK + n] * inv_temp;
                if (write_diag && col == row) {
                    diag[row] = logit;
                }
                if (logit > running_max[m]) {
                    /* The old maximum joins the rest, and the rest is
                     * rescaled to the new maximum. */
                    const REAL factor = exp(running_max[m] - logit);
                    running_rest[m] = running_rest[m] * factor + factor;
                    running_max[m] = logit;
                } else {
                    running_rest[m] += exp(logit - running_max[m]);
                }
            }
        }
    }

    for (int m = 0; m < BLOCK; m++) {
        part_max[(lr + m * WG) * WG + lc] = running_max[m];
        part_rest[(lr + m * WG) * WG + lc] = running_rest[m];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lc == 0) {
        for (int m = 0; m < BLOCK; m++) {
            const int r = lr + m * WG;
            if (r0 + r >= batch) {
                continue;
            }
            REAL largest = -INFINITY;
            for (int c = 0; c < WG; c++) {
                largest = fmax(largest, part_max[r * WG + c]);
            }
            REAL rest = 0;
            int largest_seen = 0;
            for (int c = 0; c < WG; c++) {
                add_partial(part_max[r * WG + c], part_rest[r * WG + c], largest, &rest, &largest_seen);
            }
            if (partial) {
                lse[2 * split * batch + r0 + r] = largest;
                lse[2 * split * batch + batch + r0 + r] = rest;
            } else {
                lse[r0 + r] = largest;
                lse[batch + r0 + r] = log1p(rest);
            }
        }
    }
}

/*
 * infonce_lse_merge combines the partial log-sum-exps of infonce_lse's
 * column splits, in split order, into lse, with one work-item per row.
 */
__kernel void infonce_lse_merge(__global const REAL *partial, const int splits, const int batch,
                                __global REAL *lse)
{
    const int row = get_global_id(0);
    if (row >= batch) {
        return;
    }
    REAL largest = -INFINITY;
    for (int s = 0; s < splits; s++) {
        largest = fmax(largest, partial[2 * s * batch + row]);
    }
    REAL rest = 0;
    int largest_seen = 0;
    for (int s = 0; s < splits; s++) {
        add_partial(partial[2 * s * batch + row], partial[2 * s * batch + batch + row], largest, &rest, &largest_seen);
    }
    lse[row] = largest;
    lse[batch + row] = log1p(rest);
}

/*
 * sum_splits sets out[i] to the sum of partial[s * n + i] over the splits,
 * added in split order.
 */
__kernel void sum_splits(__global const REAL *partial, const int splits, const int n, __global REAL *out)
{
    const int i = get_global_id(0);
    if (i >= n) {
        return;
    }
    REAL sum = 0;
    for (int s = 0; s < splits; s++) {
        sum += partial[(size_t)s * n + i];
    }
    out[i] = sum;
}

__kernel __attribute__((reqd_work_group_size(WG, WG, 1)))
void infonce_grad(__global const REAL *x, __global const REAL *y, const int batch, const int features,
                  const REAL inv_temp, __global const REAL *lse_own, __global const REAL *lse_other,
                  const int use_own, const int use_other, const REAL scale, __global REAL *grad,
                  const int col_split)
{
    __local REAL operands[OPERANDS];
    __local REAL gs[TILE * (TILE + 1)];
    __local REAL *yk = operands;

    const int lr = get_local_id(1);
    const int lc = get_local_id(0);
    const int r0 = get_group_id(1) * TILE;
    const int flat = lr * WG + lc;
    const int split = get_group_id(0);
    const int c_end = min(batch, (split + 1) * col_split);
    /* Each split accumulates into its own partial gradient. */
    grad += (size_t)split * batch * features;

    REAL own_max[BLOCK];
    REAL own_log[BLOCK];
    for (int m = 0; m < BLOCK; m++) {
        const int row = r0 + lr + m * WG;
        const int valid = use_own && row < batch;
        own_max[m] = valid ? lse_own[row] : 0;
        own_log[m] = valid ? lse_own[batch + row] : 0;
        if (row < batch) {
            for (int k = lc; k < features; k += WG) {
                grad[(size_t)row * features + k] = 0;
            }
        }
    }

    REAL acc[BLOCK * BLOCK];
    for (int c0 = split * col_split; c0 < c_end; c0 += TILE) {
        tile_dot(x, y, batch, features, r0, c0, operands, acc);
        for (int m = 0; m < BLOCK; m++) {
            const int row = r0 + lr + m * WG;
            for (int n = 0; n < BLOCK; n++) {
                const int col = c0 + lc + n * WG;
                REAL g = 0;
                if (row < batch && col < c_end) {
                    const REAL logit = acc[m * BLOCK + n] * inv_temp;
                    if (use_own) {
                        const REAL t = (logit - own_max[m]) - own_log[m];
                        g += row == col ? expm1(t) : exp(t);
                    }
                    if (use_other) {
                        const REAL t = (logit - lse_other[col]) - lse_other[batch + col];
                        g += row == col ? expm1(t) : exp(t);
                    }
                    g *= scale;
                }
                gs[(lr + m * WG) * (TILE + 1) + lc + n * WG] = g;
            }
        }

        /* grad[row, k0 + kk] += sum_c gs[row][c] * y[c0 + c, k0 + kk] over
         * the TILE columns c, for TILE features kk at a time held in yk. */
        for (int k0 = 0; k0 < features; k0 += TILE) {
            for (int e = flat; e < TILE * TILE; e += WG * WG) {
                const int c = e / TILE;
                const int kk = e % TILE;
                const int gy = c0 + c;
                const int gk = k0 + kk;
                yk[c * (TILE + 1) + kk] = (gy < c_end && gk < features) ? y[(size_t)gy * features + gk] : 0;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            REAL sums[BLOCK * BLOCK];
            for (int i = 0; i < BLOCK * BLOCK; i++) {
                sums[i] = 0;
            }
            for (int c = 0; c < TILE; c++) {
                REAL gv[BLOCK];
                REAL yv[BLOCK];
                for (int m = 0; m < BLOCK; m++) {
                    gv[m] = gs[(lr + m * WG) * (TILE + 1) + c];
                }
                for (int n = 0; n < BLOCK; n++) {
                    yv[n] = yk[c * (TILE + 1) + lc + n * WG];
                }
                for (int m = 0; m < BLOCK; m++) {
                    for (int n = 0; n < BLOCK; n++) {
                        sums[m * BLOCK + n] += gv[m] * yv[n];
                    }
                }
            }
            for (int m = 0; m < BLOCK; m++) {
                const int row = r0 + lr + m * WG;
                for (int n = 0; n < BLOCK; n++) {
                    const int k = k0 + lc + n * WG;
                    if (row < batch && k < features) {
                        grad[(size_t)row * features + k] += sums[m * BLOCK + n];
                    }
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
}
