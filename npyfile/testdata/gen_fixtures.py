#!/usr/bin/python3
"""Write the NumPy-made .npy fixtures and fixtures.json, which lists each
file's dtype, shape, Fortran order and values in C order, or the error that
reading it must return.

Run from this directory with Debian's python3-numpy (written with NumPy
1.24.2):

    /usr/bin/python3 gen_fixtures.py
"""

import json
import math

import numpy as np
from numpy.lib import format as npformat

manifest = {}


def value(x):
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    f = float(x)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f == 0 and math.copysign(1, f) < 0:
        return "-0"
    return f


def save(name, arr, version=None):
    with open(name + ".npy", "wb") as f:
        npformat.write_array(f, arr, version=version)
    manifest[name] = {
        "dtype": arr.dtype.str,
        "shape": list(arr.shape),
        "fortran": bool(arr.flags.f_contiguous and not arr.flags.c_contiguous),
        "values": [value(x) for x in np.ravel(arr, order="C")],
    }


def save_unsupported(name, arr):
    with open(name + ".npy", "wb") as f:
        npformat.write_array(f, arr)
    manifest[name] = {"error": "dtype"}


floats = [1.5, -2.25, 0.0, 1e-3, 3.0e4, -65504.0]
for order, tag in (("<", "le"), (">", "be")):
    save("f2_" + tag, np.array(floats + [2.0 ** -24, -0.0, np.inf, np.nan], dtype=order + "f2").reshape(2, 5))
    save("f4_" + tag, np.array(floats + [np.float32(1e-40), 3.4e38], dtype=order + "f4").reshape(2, 4))
    save("f8_" + tag, np.array(floats + [5e-324, -1.7e308, np.nan, -np.inf], dtype=order + "f8").reshape(2, 5))
    for bits in (16, 32, 64):
        info = np.iinfo("i%d" % (bits // 8))
        save("i%d_%s" % (bits // 8, tag), np.array([[info.min, -1, 0], [1, 1000, info.max]], dtype="%si%d" % (order, bits // 8)))
        uinfo = np.iinfo("u%d" % (bits // 8))
        save("u%d_%s" % (bits // 8, tag), np.array([[0, 1, 255], [256, 1000, uinfo.max]], dtype="%su%d" % (order, bits // 8)))

save("i1", np.array([[-128, -1, 0], [1, 100, 127]], dtype="i1"))
save("u1", np.array([[0, 1, 2], [128, 200, 255]], dtype="u1"))
save("b1", np.array([[True, False, True], [True, False, False]]))

save("f8_1d", np.arange(5, dtype="<f8") * 0.5)
save("f8_3d", (np.arange(24, dtype="<f8") - 10).reshape(2, 3, 4))
save("f8_0d", np.array(3.5))
save("f8_empty_2d", np.zeros((0, 3)))
save("f4_empty_1d", np.zeros((0,), dtype="<f4"))
save("f8_fortran_2d", np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4)))
save("i4_be_fortran_2d", np.asfortranarray(np.arange(6, dtype=">i4").reshape(2, 3) * -7))
save("f4_fortran_3d", np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
save("f8_v2", np.arange(4, dtype="<f8").reshape(2, 2), version=(2, 0))
save("f8_v3", np.arange(4, dtype="<f8").reshape(2, 2) + 0.25, version=(3, 0))

save_unsupported("c16", np.array([1 + 2j, 3 - 4j]))
save_unsupported("unicode", np.array(["ab", "cde"]))
save_unsupported("bytes", np.array([b"ab", b"cde"]))
save_unsupported("object", np.array([1, "x", None], dtype=object))
save_unsupported("structured", np.array([(1.0, 2)], dtype=[("a", "<f4"), ("b", "<i4")]))
save_unsupported("datetime", np.array(["2024-01-02"], dtype="datetime64[s]"))
save_unsupported("longdouble", np.array([1.0, 2.0], dtype=np.longdouble))

with open("fixtures.json", "w") as f:
    json.dump(manifest, f, indent=1, sort_keys=True)
    f.write("\n")
