# ParaView Catalyst (5.11, V2 script): renders the concentration to PNG at every step propagon
# hands over (catalyst.every in the config). Needs a display: run propagon under
#   xvfb-run -a -s "-screen 0 1280x1024x24" ./build/propagon run CONFIG
# Files land in <output.dir>/catalyst/png/. Environment (set by propagon unless you set it):
#   PROPAGON_CATALYST_OUTPUT    output folder
#   PROPAGON_CATALYST_CHANNELS  the run's channels; the first is drawn, or PROPAGON_CATALYST_COLOR_BY
#                               (a channel, or <channel>_counts / _mean / _var of a stochastic run)
#   PROPAGON_CATALYST_DIMS      points along x, y, z: 2D grids are drawn whole, 3D grids as the
#                               middle z slice; 1D grids are refused (nothing to draw as a picture)
#   PROPAGON_CATALYST_LIVE      host:port of a ParaView GUI waiting in Catalyst > Connect (optional)
import os

from paraview import catalyst
from paraview.simple import *

channels = os.environ.get("PROPAGON_CATALYST_CHANNELS", "gray").split(",")
color_by = os.environ.get("PROPAGON_CATALYST_COLOR_BY", channels[0])
dims = [int(n) for n in os.environ.get("PROPAGON_CATALYST_DIMS", "2,2,1").split(",")]
if dims[1] == 1 and dims[2] == 1:
    raise RuntimeError("png.py draws 2D and 3D grids; this run is 1D (use vti.py and a line chart)")
known = {c + suffix for c in channels for suffix in ("", "_counts", "_mean", "_var")}
if color_by not in known:
    raise RuntimeError(f"PROPAGON_CATALYST_COLOR_BY={color_by}: not an array of this run (channels: {channels})")

# propagon's grid: a vtkImageData named "input", one point array per channel.
producer = TrivialProducer(registrationName="input")
shown = producer
if dims[2] > 1:  # a volume: its middle slice across z
    shown = Slice(registrationName="middle", Input=producer)
    shown.SliceType = "Plane"
    shown.SliceType.Normal = [0, 0, 1]

view = CreateView("RenderView")
view.ViewSize = [800, 800]
view.OrientationAxesVisibility = 0
view.InteractionMode = "2D"
view.Background = [1, 1, 1]
try:
    view.UseColorPaletteForBackground = 0  # ParaView 5.11: otherwise the palette's background wins
except AttributeError:
    pass
display = Show(shown, view)
display.Representation = "Slice" if shown is producer else "Surface"
ColorBy(display, ("POINTS", color_by))
lut = GetColorTransferFunction(color_by)
lut.ApplyPreset("Inferno (matplotlib)", True)
bar = GetScalarBar(lut, view)
bar.Title = color_by
bar.ComponentTitle = ""
bar.TitleColor = bar.LabelColor = [0, 0, 0]
display.SetScalarBarVisibility(view, True)
label = Text(registrationName="time")
label_display = Show(label, view)
label_display.Color = [0, 0, 0]
label_display.WindowLocation = "Upper Left Corner"

png = CreateExtractor("PNG", view, registrationName="PNG")
png.Trigger = "TimeStep"
png.Writer.FileName = "png/" + color_by + "_{timestep:06d}.png"
png.Writer.ImageResolution = [800, 800]

options = catalyst.Options()
options.ExtractsOutputDirectory = os.environ.get("PROPAGON_CATALYST_OUTPUT", "catalyst")
os.makedirs(os.path.join(options.ExtractsOutputDirectory, "png"), exist_ok=True)  # the PNG writer does not
options.GlobalTrigger = "TimeStep"
live = os.environ.get("PROPAGON_CATALYST_LIVE")
if live:
    options.EnableCatalystLive = 1
    options.CatalystLiveURL = live
    print(f"{__file__}: Catalyst Live on, connecting to {live} (ParaView GUI: Catalyst > Connect)")


def catalyst_execute(info):
    # Fit the picture and the colour range to this step before the extractor renders it.
    label.Text = "step %d   t = %g" % (info.timestep, info.time)
    producer.UpdatePipeline(info.time)
    if shown is not producer:
        b = producer.GetDataInformation().GetBounds()
        shown.SliceType.Origin = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
    view.ResetCamera(False)
    display.RescaleTransferFunctionToDataRange(False, True)
