"""pvpython: checks what the ready Catalyst scripts produced during a run.

  pvpython check_catalyst.py vti RUN_DIR   every VTI extract equals the HDF5 snapshot of its step
                                          (fields, counts, ensemble statistics), with the same
                                          geometry as the .xmf gives ParaView
  pvpython check_catalyst.py png RUN_DIR   PNG renderings exist and are not blank
"""
import glob
import os
import re
import sys

import h5py
import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOImage import vtkPNGReader
from vtkmodules.vtkIOXML import vtkXMLPImageDataReader

kind, run = sys.argv[1], sys.argv[2]
out = os.path.join(run, "catalyst")

if kind == "vti":
    files = sorted(glob.glob(os.path.join(out, "vti", "field_*.pvti")))
    assert files, f"no image extracts in {out}/vti"
    checked = 0
    for f in files:
        step = int(re.search(r"field_(\d+)\.pvti$", f).group(1))
        r = vtkXMLPImageDataReader()  # the file a user opens, pieces and all
        r.SetFileName(f)
        r.Update()
        img = r.GetOutput()
        pieces = [f]
        snap = os.path.join(run, "snapshots", f"step_{step:06d}.h5")
        if not os.path.exists(snap):
            continue  # Catalyst ran at a step without a snapshot
        with h5py.File(snap) as h:
            channels = h.attrs["channels"].split(",")
            shape = h[f"fields/{channels[0]}"].shape
            assert img.GetNumberOfPoints() == int(np.prod(shape)), (img.GetNumberOfPoints(), shape)
            nx = shape[-1]
            dims = img.GetDimensions()
            assert dims[0] == nx, dims
            if len(shape) == 2:
                assert img.GetSpacing()[1] < 0, "a 2D picture must have row 0 on top (negative y step)"
            pd = img.GetPointData()
            for c in channels:
                groups = [("fields/" + c, c)]
                if "counts" in h:
                    groups.append(("counts/" + c, c + "_counts"))
                if "ensemble" in h:
                    groups += [("ensemble/mean/" + c, c + "_mean"), ("ensemble/var/" + c, c + "_var")]
                for path, array in groups:
                    a = pd.GetArray(array)
                    assert a is not None, f"step {step}: no array {array} in {pieces[0]}"
                    got = vtk_to_numpy(a)
                    want = h[path][...].reshape(-1)
                    assert got.shape == want.shape, (array, got.shape, want.shape)
                    assert np.array_equal(got, want), f"step {step} {array}: VTI differs from the HDF5 snapshot"
        checked += 1
    assert checked >= 2, f"only {checked} extracts had a matching snapshot"
    print(f"check_catalyst vti: {checked} extracts equal their snapshots")
elif kind in ("png", "frames"):
    # png: the Catalyst renderings of a run; frames: a folder of render.py frames
    files = sorted(glob.glob(os.path.join(out, "png", "*.png") if kind == "png" else os.path.join(run, "*.png")))
    assert len(files) >= 2, f"expected PNG renderings in {out}/png, found {files}"
    for f in files:
        r = vtkPNGReader()
        r.SetFileName(f)
        r.Update()
        pixels = vtk_to_numpy(r.GetOutput().GetPointData().GetScalars())
        assert pixels.size > 0, f
        spread = pixels.astype(float).std(axis=0).max()
        assert spread > 5, f"{f} looks blank (pixel standard deviation {spread})"
    if len(sys.argv) > 3:
        assert len(files) == int(sys.argv[3]), f"expected {sys.argv[3]} images, found {len(files)}"
    print(f"check {kind}: {len(files)} non-blank images")
else:
    sys.exit(f"unknown check {kind}")
