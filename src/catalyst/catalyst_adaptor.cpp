// The Catalyst adaptor module: propagon's grid and channels as a vtkImageData named "input",
// handed to ParaView 5.11's Catalyst (vtkCPProcessor + vtkCPPythonScriptV2Pipeline). Built only
// when ParaView is found, as a module that propagon loads on demand.
#define OMPI_SKIP_MPICXX 1  // <mpi.h> from C++ would pull OpenMPI's C++ bindings
#include <fmt/format.h>
#include <vtkCPDataDescription.h>
#include <vtkCPInputDataDescription.h>
#include <vtkCPProcessor.h>
#include <vtkCPPythonScriptV2Pipeline.h>
#include <vtkDoubleArray.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkLogger.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPythonInterpreter.h>
#include <vtkSMProxyManager.h>
#include <vtkSMSessionProxyManager.h>
#include <vtkSmartPointer.h>
#include <vtkUnsignedLongArray.h>

#include <cstdlib>
#include <stdexcept>

#include "propagon/insitu.hpp"
#include "propagon/paraview_geometry.hpp"

namespace propagon {
namespace {

// Catalyst reports a script's import errors only at the first CoProcess, and then with success:
// check every script first, in the same interpreter, and fail before any step.
std::string script_check(const std::filesystem::path& script) {
  std::string code = R"PY(
import ast, importlib, os, sys
_path = r"""@PATH@"""
_input = "@INPUT@"
# A script may import helper modules that live beside it.
if os.path.dirname(_path) not in sys.path:
    sys.path.insert(0, os.path.dirname(_path))
_tree = ast.parse(open(_path).read(), _path)
# Only the unconditional imports at the top level: an import in a try block or a function may be optional.
for _node in _tree.body:
    if isinstance(_node, ast.Import):
        for _alias in _node.names:
            importlib.import_module(_alias.name)
    elif isinstance(_node, ast.ImportFrom) and _node.module and _node.level == 0:
        importlib.import_module(_node.module)
_calls = {getattr(n.func, "id", getattr(n.func, "attr", None)) for n in ast.walk(_tree) if isinstance(n, ast.Call)}
if _calls & {"CreateView", "SaveScreenshot", "Render", "GetActiveViewOrCreate"} and not os.environ.get("DISPLAY"):
    raise RuntimeError(_path + " renders, and ParaView 5.11 renders only through X: no DISPLAY is set. Run propagon "
                       "under xvfb-run -a -s '-screen 0 1280x1024x24' (or on a desktop).")
_names = [kw.value.value for _node in ast.walk(_tree) if isinstance(_node, ast.Call)
          and getattr(_node.func, "id", getattr(_node.func, "attr", None)) == "TrivialProducer"
          for kw in _node.keywords if kw.arg == "registrationName" and isinstance(kw.value, ast.Constant)]
if _input not in _names:
    raise RuntimeError(_path + ": no TrivialProducer(registrationName=" + repr(_input) + "); found " + repr(_names)
                       + ". propagon provides its grid under the name " + repr(_input) + ".")
)PY";
  auto put = [&code](const std::string& key, const std::string& value) {
    for (std::size_t at = code.find(key); at != std::string::npos; at = code.find(key, at + value.size()))
      code.replace(at, key.size(), value);
  };
  put("@PATH@", script.string());
  put("@INPUT@", catalyst_input_name);
  return code;
}

template <class Array, class T>
void add_array(vtkImageData* image, const std::string& name, const T* data, vtkIdType n) {
  vtkNew<Array> a;
  a->SetName(name.c_str());
  a->SetArray(const_cast<T*>(data), n, 1);  // zero-copy; save = 1: the memory stays propagon's
  image->GetPointData()->AddArray(a);
}

class CatalystAdaptor : public InSituAdaptor {
 public:
  explicit CatalystAdaptor(const CatalystSetup& setup) {
    // The folder is only named here; ParaView creates it when a script writes its first extract,
    // so a run refused by the checks below leaves nothing behind.
    const std::filesystem::path out = std::filesystem::absolute(setup.output_dir / "catalyst");
    std::string channels;
    for (const auto& c : setup.channels) channels += (channels.empty() ? "" : ",") + c;
    setenv("PROPAGON_CATALYST_OUTPUT", out.c_str(), 1);
    setenv("PROPAGON_CATALYST_CHANNELS", channels.c_str(), 1);
    const std::string dims = fmt::format("{},{},{}", setup.grid.nx(), setup.grid.ny(), setup.grid.nz());
    setenv("PROPAGON_CATALYST_DIMS", dims.c_str(), 1);  // x, y, z points: lets a script adapt to 1D/2D/3D
    // ParaView's warnings about the first time step of a fresh producer are noise here.
    vtkLogger::SetStderrVerbosity(vtkLogger::VERBOSITY_ERROR);
    if (!processor_->Initialize()) throw std::runtime_error("Catalyst: vtkCPProcessor::Initialize failed");
    for (const auto& script : setup.scripts) {
      if (vtkPythonInterpreter::RunSimpleString(script_check(script).c_str()) != 0)
        throw std::runtime_error(fmt::format(
            "catalyst script {} failed its check (the Python error is printed above); nothing was run", script.string()));
      vtkNew<vtkCPPythonScriptV2Pipeline> pipeline;
      if (!pipeline->Initialize(script.c_str()))
        throw std::runtime_error(fmt::format("catalyst script {} could not be loaded", script.string()));
      processor_->AddPipeline(pipeline);
    }
  }

  void execute(const InSituFrame& f) override {
    vtkNew<vtkCPDataDescription> description;
    description->AddInput(catalyst_input_name);
    description->SetTimeData(f.time, f.step);
    if (processor_->RequestDataDescription(description) == 0) return;
    const ParaViewGeometry g = paraview_geometry(f.grid);
    vtkNew<vtkImageData> image;
    image->SetDimensions(int(g.dims[0]), int(g.dims[1]), int(g.dims[2]));
    image->SetOrigin(g.origin.data());
    image->SetSpacing(g.spacing.data());
    const vtkIdType n = f.grid.cells();
    for (const SnapshotChannel& c : *f.channels) {
      if (f.float32) add_array<vtkFloatArray>(image, c.name, static_cast<const float*>(c.field), n);
      else add_array<vtkDoubleArray>(image, c.name, static_cast<const double*>(c.field), n);
      if (c.counts) add_array<vtkUnsignedLongArray>(image, c.name + "_counts", c.counts, n);  // uint64_t is unsigned long here
      if (c.mean && f.float32) {
        add_array<vtkFloatArray>(image, c.name + "_mean", static_cast<const float*>(c.mean), n);
        add_array<vtkFloatArray>(image, c.name + "_var", static_cast<const float*>(c.var), n);
      } else if (c.mean) {
        add_array<vtkDoubleArray>(image, c.name + "_mean", static_cast<const double*>(c.mean), n);
        add_array<vtkDoubleArray>(image, c.name + "_var", static_cast<const double*>(c.var), n);
      }
    }
    vtkCPInputDataDescription* input = description->GetInputDescriptionByName(catalyst_input_name);
    input->SetGrid(image);
    input->SetWholeExtent(0, int(g.dims[0]) - 1, 0, int(g.dims[1]) - 1, 0, int(g.dims[2]) - 1);
    processor_->CoProcess(description);
    if (!checked_) {
      // A producer under another name silently receives nothing: refuse at the first frame.
      vtkSMSessionProxyManager* pxm = vtkSMProxyManager::GetProxyManager()->GetActiveSessionProxyManager();
      if (!pxm || !pxm->GetProxy("sources", catalyst_input_name))
        throw std::runtime_error(fmt::format(
            "Catalyst: after the first frame no pipeline source is named '{}' (a script raised an error, printed "
            "above, or reads another name)",
            catalyst_input_name));
      checked_ = true;
    }
  }

  void finalize() override {
    if (!finalized_) processor_->Finalize();
    finalized_ = true;
  }
  ~CatalystAdaptor() override { finalize(); }

 private:
  vtkNew<vtkCPProcessor> processor_;
  bool checked_ = false;
  bool finalized_ = false;
};

}  // namespace
}  // namespace propagon

extern "C" propagon::InSituAdaptor* propagon_catalyst_create(const propagon::CatalystSetup* setup) {
  return new propagon::CatalystAdaptor(*setup);
}
