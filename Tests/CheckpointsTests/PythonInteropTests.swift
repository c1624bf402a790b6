import Foundation
import Testing

@testable import Checkpoints
@testable import Tensors

/// Files written here, read by the Python packages users have (`safetensors`, `torch.load` with
/// `weights_only=True`, then `load_state_dict` into the reference's generator). One Python
/// process checks them all, so that torch is imported once.
@Suite struct PythonInteropTests {
  @Test(.enabled(if: pythonCanVerify, "needs python3 with torch, numpy and safetensors"))
  func filesWrittenHereLoadInPython() throws {
    let scratch = try ScratchFolder()
    defer { scratch.remove() }
    var checks: [[String: Any]] = []

    // Safetensors: the reference file's tensors and metadata, stored as F32 and as F16.
    let expectedPath = FixturePaths.fixture("reference_safetensors.json").path
    let reference = try FixturePaths.json("reference_safetensors.json", as: ReferenceContents.self)
    var tensors: [String: Tensor] = [:]
    for (name, entry) in reference.tensors {
      tensors[name] = Tensor(shape: entry.shape, scalars: entry.bits.map { Float(bitPattern: $0) })
    }
    for (type, dtype) in [(StoredScalarType.float32, "F32"), (.float16, "F16")] {
      let url = scratch.file("reference-\(dtype).safetensors")
      try SafetensorsFile(tensors: tensors, metadata: reference.metadata).write(to: url, as: type)
      checks.append([
        "check": "safetensors", "file": url.path, "expected": expectedPath, "dtype": dtype,
      ])
    }

    // .pth: each generator fixture, imported from its legacy file, exported as float32 and float16.
    for fixture in generatorFixtures {
      let imported = try PyTorchCheckpoint(
        contentsOf: FixturePaths.fixture("\(fixture.name)_legacy.pth"))
      for type in [StoredScalarType.float32, .float16] {
        let url = scratch.file("\(fixture.name)-\(type.rawValue).pth")
        try PyTorchCheckpoint.write(
          imported.keys.map { ($0, imported.tensors[$0]!) }, to: url, as: type)
        checks.append([
          "check": "pth", "file": url.path,
          "reference": FixturePaths.fixture("\(fixture.name).safetensors").path,
          "blocks": fixture.blocks, "ngf": 2, "dropout": fixture.dropout,
          // A float16 fixture exported as float32 still holds float16 values exactly.
          "half": type == .float16,
        ])
      }
    }

    // .pth dtypes: an int64 counter beside float32 and float16 tensors, a scalar, a strided shape.
    let mixed: [(key: String, tensor: Tensor)] = [
      ("model.2.num_batches_tracked", Tensor(shape: [], scalars: [7])),
      ("weights", Tensor(shape: [2, 3], scalars: [1, -2, 0.5, 3, 4.25, -0])),
    ]
    for (type, dtype) in [(StoredScalarType.float32, "float32"), (.float16, "float16")] {
      let url = scratch.file("mixed-\(dtype).pth")
      try PyTorchCheckpoint.write(
        mixed, to: url, as: type, integerKeys: ["model.2.num_batches_tracked"])
      checks.append([
        "check": "pth_values", "file": url.path,
        "expected": [
          "model.2.num_batches_tracked": ["int64", [Int](), [7]],
          "weights": [dtype, [2, 3], [1, -2, 0.5, 3, 4.25, 0]],
        ],
      ])
    }

    let manifest = scratch.file("manifest.json")
    try JSONSerialization.data(withJSONObject: checks).write(to: manifest)
    let (status, errors) = runPython([FixturePaths.script.path, "verify-all", manifest.path])
    #expect(status == 0, "Python could not read what Transmute wrote:\n\(errors)")
  }
}
