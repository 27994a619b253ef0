"""pvpython: opens a run's .xmf in ParaView's XDMF readers and checks it against the HDF5 snapshots:
time values, array names, dimensions, bounds, spacing, value ranges per step, and orientation.

  pvpython check_xdmf.py RUN_DIR NAME
"""
import glob
import os
import sys

import h5py
import numpy as np
from paraview import servermanager as sm
from paraview.simple import XDMFReader, Xdmf3ReaderS, Xdmf3ReaderT

run, name = sys.argv[1], sys.argv[2]
xmf = os.path.abspath(os.path.join(run, name + ".xmf"))
snaps = sorted(glob.glob(os.path.join(run, "snapshots", "step_*.h5")))
assert snaps, "no snapshots"
with h5py.File(snaps[0]) as f:
    channels = f.attrs["channels"].split(",")
    shape = f[f"fields/{channels[0]}"].shape
    spacing = list(f.attrs["spacing"])
    origin = list(f.attrs["origin"])
    stochastic = "counts" in f
    ensemble = "ensemble" in f
rank = len(shape)
nz, ny, nx = ([1] * (3 - rank) + list(shape))
dz, dy, dx = ([1.0] * (3 - rank) + spacing)
z0, y0, x0 = ([0.0] * (3 - rank) + origin)
expected_arrays = set(channels)
if stochastic:
    expected_arrays |= {c + "_counts" for c in channels}
if ensemble:
    expected_arrays |= {c + s for c in channels for s in ("_mean", "_var")}

times, steps = [], []
for s in snaps:
    with h5py.File(s) as f:
        times.append(float(f.attrs["time"]))
        steps.append(int(f.attrs["step"]))


def block(data):
    return data.GetBlock(0) if data.IsA("vtkMultiBlockDataSet") else data


readers = {
    "XDMFReader": lambda: XDMFReader(FileNames=[xmf]),
    "Xdmf3ReaderS": lambda: Xdmf3ReaderS(FileName=[xmf]),
    "Xdmf3ReaderT": lambda: Xdmf3ReaderT(FileName=[xmf]),
}
for reader_name, make in readers.items():
    r = make()
    assert np.allclose(list(r.TimestepValues), times), f"{reader_name}: times {list(r.TimestepValues)} != {times}"
    for t, snap in zip(times, snaps):
        r.UpdatePipeline(t)
        img = block(sm.Fetch(r))
        pd = img.GetPointData()
        names = {pd.GetArrayName(i) for i in range(pd.GetNumberOfArrays())}
        assert names == expected_arrays, f"{reader_name}: arrays {names} != {expected_arrays}"
        assert tuple(img.GetDimensions()) == (nx, ny, nz), f"{reader_name}: dims {img.GetDimensions()}"
        # A 2D picture is flipped (row 0 on top); 1D and 3D grids are not.
        sy = -dy if rank == 2 else dy
        assert np.allclose(img.GetSpacing(), (dx, sy, dz)), f"{reader_name}: spacing {img.GetSpacing()}"
        b = img.GetBounds()
        assert np.allclose(b, (x0, x0 + (nx - 1) * dx, y0, y0 + (ny - 1) * dy, z0, z0 + (nz - 1) * dz)), \
            f"{reader_name}: bounds {b}"
        with h5py.File(snap) as f:
            for c in channels:
                field = f[f"fields/{c}"][...]
                lo, hi = pd.GetArray(c).GetRange()
                assert np.isclose(lo, field.min(), rtol=1e-6, atol=1e-30) and np.isclose(hi, field.max(), rtol=1e-6), \
                    f"{reader_name} t={t} {c}: range ({lo}, {hi}) != ({field.min()}, {field.max()})"
                # Orientation: array element [0, 0] (top-left of a picture) sits at the highest y and
                # the lowest x; for a volume, element [0, 0, 0] at the lowest x, y and z.
                corner = (b[0], b[3] if rank == 2 else b[2], b[4])
                value = pd.GetArray(c).GetValue(img.FindPoint(corner))
                first = field.reshape(-1)[0]
                assert np.isclose(value, first, rtol=1e-6, atol=1e-30), f"{reader_name} {c}: corner {value} != {first}"
                if rank == 2:
                    bottom = pd.GetArray(c).GetValue(img.FindPoint((b[0], b[2], b[4])))
                    assert np.isclose(bottom, field[-1, 0], rtol=1e-6, atol=1e-30), "bottom-left is not the last row"
    print(f"{reader_name}: {len(times)} steps, arrays {sorted(names)}, dims {(nx, ny, nz)}: ok")
print("check_xdmf: ok")
