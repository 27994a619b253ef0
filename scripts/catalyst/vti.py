# ParaView Catalyst (5.11, V2 script): writes every step propagon hands over as a VTK image file
# (all channels, stochastic counts and ensemble statistics included), data only, no display needed.
# Files land in <output.dir>/catalyst/vti/ as field_NNNNNN.pvti (open these in ParaView), each with
# its pieces in field_NNNNNN/. See png.py for the environment variables.
import os

from paraview import catalyst
from paraview.simple import *

producer = TrivialProducer(registrationName="input")

vti = CreateExtractor("VTI", producer, registrationName="VTI")
vti.Trigger = "TimeStep"
vti.Writer.FileName = "vti/field_{timestep:06d}.pvti"  # the VTI extractor writes parallel image data

options = catalyst.Options()
options.ExtractsOutputDirectory = os.environ.get("PROPAGON_CATALYST_OUTPUT", "catalyst")
options.GlobalTrigger = "TimeStep"
live = os.environ.get("PROPAGON_CATALYST_LIVE")
if live:
    options.EnableCatalystLive = 1
    options.CatalystLiveURL = live
    print(f"{__file__}: Catalyst Live on, connecting to {live} (ParaView GUI: Catalyst > Connect)")
