#!/usr/bin/env pvbatch
"""Renders a Propagon run to PNG frames, one per snapshot, with a colour bar and a time label, and
an MP4 when ffmpeg is installed. Runs in ParaView's pvbatch, which needs a display:

  xvfb-run -a -s "-screen 0 1280x1024x24" pvbatch scripts/paraview/render.py RUN [options]

RUN is a run folder (output/astronaut-gaussian) or its .xmf. Options:
  --channel NAME   the array to draw (default: the first channel); "rgb" draws r, g, b as a colour
                   picture (values in [0, 1] = [black, full])
  --output DIR     where the frames go (default: RUN/frames)
  --size W H       frame size in pixels (default 800 800)
  --no-mp4         frames only
  --colormap NAME  a ParaView colour map preset (default "Inferno (matplotlib)")
  --rescale        fit the colour range to every frame (default: one range for the whole run,
                   from the first and last snapshots, so that frames compare)
Frames are numbered by frame (frame_000000.png is the first snapshot); the MP4 lands beside them.
3D runs are drawn as a slice through the middle of the volume; 1D runs are refused (use a line
chart: ParaView's Plot Data or Plot Over Line).
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys

from paraview.simple import *  # noqa: F401,F403  (pvbatch's own module)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("--channel")
    p.add_argument("--output")
    p.add_argument("--size", type=int, nargs=2, default=[800, 800])
    p.add_argument("--no-mp4", action="store_true")
    p.add_argument("--colormap", default="Inferno (matplotlib)")
    p.add_argument("--rescale", action="store_true")
    args = p.parse_args()

    def fail(message):
        print(f"render.py: {message}", file=sys.stderr)
        sys.exit(2)

    xmf = args.run
    if os.path.isdir(xmf):
        found = sorted(glob.glob(os.path.join(xmf, "*.xmf")))
        if not found:
            fail(f"no .xmf file in {args.run}")
        xmf = found[0]
    if not os.path.isfile(xmf):
        fail(f"no such run folder or .xmf file: {args.run}")
    xmf = os.path.abspath(xmf)  # the Xdmf3 readers crash on a bare relative name
    out = os.path.abspath(args.output or os.path.join(os.path.dirname(xmf), "frames"))
    os.makedirs(out, exist_ok=True)

    reader = Xdmf3ReaderS(registrationName="run", FileName=[xmf])
    times = list(reader.TimestepValues) or [0.0]
    reader.UpdatePipeline(times[0])
    arrays = list(reader.PointData.keys())
    channel = args.channel or arrays[0]
    rgb = channel == "rgb"
    if rgb and not all(c in arrays for c in ("r", "g", "b")):
        fail(f"--channel rgb needs arrays r, g and b; this run has {arrays}")
    if not rgb and channel not in arrays:
        fail(f"no array '{channel}' in this run; it has {arrays}")

    source = reader
    info = reader.GetDataInformation().GetBounds()
    volume = info[4] != info[5]
    if info[2] == info[3]:
        fail("this is a 1D run: draw it as a line chart (ParaView: Plot Data, or Plot Over Line)")
    if volume:
        source = Slice(registrationName="slice", Input=reader)
        source.SliceType = "Plane"
        source.SliceType.Origin = [(info[0] + info[1]) / 2, (info[2] + info[3]) / 2, (info[4] + info[5]) / 2]
        source.SliceType.Normal = [0, 0, 1]
    if rgb:
        source = Calculator(registrationName="rgb", Input=source)
        source.ResultArrayName = "rgb"
        source.Function = "r*iHat + g*jHat + b*kHat"

    view = CreateView("RenderView")
    view.ViewSize = args.size
    view.OrientationAxesVisibility = 0
    view.Background = [1, 1, 1]
    try:
        view.UseColorPaletteForBackground = 0
    except AttributeError:
        pass
    view.InteractionMode = "2D"
    view.CameraParallelProjection = 1
    display = Show(source, view)
    display.Representation = "Surface" if (rgb or volume) else "Slice"
    if rgb:
        ColorBy(display, ("POINTS", "rgb"))
        display.MapScalars = 0  # the three components are the colour itself
    else:
        ColorBy(display, ("POINTS", channel))
        lut = GetColorTransferFunction(channel)
        if not lut.ApplyPreset(args.colormap, True):
            fail(f"no colour map preset named '{args.colormap}'")
        bar = GetScalarBar(lut, view)
        bar.Title = channel
        bar.ComponentTitle = ""
        bar.TitleColor = bar.LabelColor = [0, 0, 0]
        bar.WindowLocation = "Any Location"  # in the right margin the camera leaves free
        bar.Orientation = "Vertical"
        bar.Position = [0.86, 0.12]
        bar.ScalarBarLength = 0.76
        display.SetScalarBarVisibility(view, True)
    label = Text(registrationName="time")
    label_display = Show(label, view)
    label_display.Color = [0, 0, 0]
    label_display.WindowLocation = "Upper Left Corner"
    label_display.FontSize = 14

    scene = GetAnimationScene()
    scene.UpdateAnimationUsingDataTimeSteps()
    name = os.path.splitext(os.path.basename(xmf))[0]
    if not rgb and not args.rescale:
        # One colour range for the run: the union of the first and last snapshots' ranges.
        lo, hi = float("inf"), float("-inf")
        for t in (times[0], times[-1]):
            source.UpdatePipeline(t)
            a, b = source.PointData[channel].GetRange()
            lo, hi = min(lo, a), max(hi, b)
        lut.RescaleTransferFunction(lo, hi if hi > lo else lo + 1)
        lut.AutomaticRescaleRangeMode = "Never"
    # One camera for every frame, fitted to the grid (not to the label), so frames do not jump.
    view.ResetCamera(info[0], info[1], info[2], info[3], info[4], info[5])
    width, height = info[1] - info[0], info[3] - info[2]
    margin = 0 if rgb else 0.2  # room on the right for the colour bar
    scale = 0.55 * max(height, width * (1 + margin) * args.size[1] / args.size[0])
    view.CameraParallelScale = scale
    shift = margin / 2 * width * (1 + margin) / (1 + margin / 2)
    cam = GetActiveCamera()
    focal, position = list(cam.GetFocalPoint()), list(cam.GetPosition())
    focal[0] += shift
    position[0] += shift
    cam.SetFocalPoint(focal)
    cam.SetPosition(position)
    for i, t in enumerate(times):
        scene.AnimationTime = t
        label.Text = f"{name}   t = {t:g}"
        if not rgb and args.rescale:
            display.RescaleTransferFunctionToDataRange(False, True)
        SaveScreenshot(os.path.join(out, f"frame_{i:06d}.png"), view, ImageResolution=args.size)
    print(f"render.py: {len(times)} frames of '{channel}' in {out}")

    if not args.no_mp4 and shutil.which("ffmpeg") and len(times) > 1:
        mp4 = os.path.join(out, f"{name}_{channel}.mp4")
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-framerate", "5", "-i", os.path.join(out, "frame_%06d.png"),
                        "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", mp4], check=True)
        print(f"render.py: {mp4}")


main()
