/*
 * Scaled outer-product update, the one primitive behind every CSDP rule.
 *
 * Maths.
 *   out[p][q] = beta * w[p][q] + alpha * sum_s scale_s * post[s][p] * pre[s][q]
 * that is, out = beta W + alpha post^T diag(scale) pre. scale_s is 1 when
 * use_scale is 0. The plain rules use alpha = +-lr / batch and beta = 1 -
 * decay or 1; the goodness-modulated rule passes per-sample scales.
 *
 * Memory layout. post is row-major (batch, n_post), pre is (batch, n_pre),
 * w and out are (n_post, n_pre); scale has batch elements. out may be the
 * same buffer as w: each element is read and then written by one work-item.
 *
 * Work decomposition. Work-groups of TILE x TILE work-items compute one
 * TILE x TILE tile of out (dimension 0: column q, dimension 1: row p),
 * walking over the samples TILE at a time through local tiles of post and
 * pre. Launch with global size (ceil(n_pre / TILE) * TILE,
 * ceil(n_post / TILE) * TILE).
 */

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

/* Element type: float or double (double needs USE_FP64). */
#ifndef REAL
#define REAL float
#endif
/* Edge of the output tile and of the sample step; TILE * TILE is the
 * work-group size. */
#ifndef TILE
#define TILE 16
#endif

__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void outer_update(__global const REAL *w, __global const REAL *post, __global const REAL *pre,
                  __global const REAL *scale, const int use_scale, const int batch,
                  const int n_post, const int n_pre, const REAL alpha, const REAL beta,
                  __global REAL *out)
{
    __local REAL post_tile[TILE * (TILE + 1)]; /* [s][p] */
    __local REAL pre_tile[TILE * (TILE + 1)];  /* [s][q] */

    const int lq = get_local_id(0);
    const int lp = get_local_id(1);
    const int p0 = get_group_id(1) * TILE;
    const int q0 = get_group_id(0) * TILE;
    const int p = p0 + lp;
    const int q = q0 + lq;

    REAL acc = 0;
    for (int s0 = 0; s0 < batch; s0 += TILE) {
        const int s = s0 + lp;
        REAL post_value = 0;
        REAL pre_value = 0;
        if (s < batch) {
            if (p0 + lq < n_post) {
                post_value = post[(size_t)s * n_post + p0 + lq];
                if (use_scale) {
                    post_value *= scale[s];
                }
            }
            if (q < n_pre) {
                pre_value = pre[(size_t)s * n_pre + q];
            }
        }
        post_tile[lp * (TILE + 1) + lq] = post_value;
        pre_tile[lp * (TILE + 1) + lq] = pre_value;
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int k = 0; k < TILE; k++) {
            acc += post_tile[k * (TILE + 1) + lp] * pre_tile[k * (TILE + 1) + lq];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (p < n_post && q < n_pre) {
        const size_t idx = (size_t)p * n_pre + q;
        out[idx] = beta * w[idx] + alpha * acc;
    }
}
