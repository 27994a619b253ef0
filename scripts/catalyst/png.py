# ParaView Catalyst (5.11, V2 script): renders the concentration to PNG at every step propagon
# hands over (catalyst.every in the config). Needs a display: run propagon under
#   xvfb-run -a -s "-screen 0 1280x1024x24" ./build/propagon run CONFIG
# Files land in <output.dir>/catalyst/png/. Environment (set by propagon unless you set it):
#   PROPAGON_CATALYST_OUTPUT    output folder
#   PROPAGON_CATALYST_CHANNELS  the run's channels; the first is drawn, or PROPAGON_CATALYST_COLOR_BY
#   PROPAGON_CATALYST_LIVE      host:port of a ParaView GUI waiting in Catalyst > Connect (optional)
import os

from paraview import catalyst
from paraview.simple import *

channels = os.environ.get("PROPAGON_CATALYST_CHANNELS", "gray").split(",")
color_by = os.environ.get("PROPAGON_CATALYST_COLOR_BY", channels[0])

# propagon's grid: a vtkImageData named "input", one point array per channel.
producer = TrivialProducer(registrationName="input")

view = CreateView("RenderView")
view.ViewSize = [800, 800]
view.OrientationAxesVisibility = 0
view.InteractionMode = "2D"
view.Background = [1, 1, 1]
try:
    view.UseColorPaletteForBackground = 0  # ParaView 5.11: otherwise the palette's background wins
except AttributeError:
    pass
display = Show(producer, view)
display.Representation = "Slice"
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


def catalyst_execute(info):
    # Fit the picture and the colour range to this step before the extractor renders it.
    label.Text = "step %d   t = %g" % (info.timestep, info.time)
    producer.UpdatePipeline(info.time)
    view.ResetCamera(False)
    display.RescaleTransferFunctionToDataRange(False, True)
