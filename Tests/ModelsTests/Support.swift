/// Fixture access and tolerance checks for the Models tests.
import Checkpoints
import Foundation
import Testing

@testable import Models
@testable import NeuralNet
@testable import Tensors

/// The folder of this target's fixtures (written by scripts/make_model_fixtures.py).
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// Decodes a JSON fixture.
func loadJSONFixture<Value: Decodable>(_ name: String, as type: Value.Type) throws -> Value {
  let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent(name))
  return try JSONDecoder().decode(Value.self, from: data)
}

/// The tensors of a safetensors fixture.
func loadTensors(_ name: String) throws -> [String: Tensor] {
  try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent(name)).tensors
}

/// Expects equal shapes and `|actual − expected| ≤ atol + rtol·|expected|` everywhere; a
/// failure names the worst element.
func expectClose(
  _ actual: Tensor, _ expected: Tensor, rtol: Float, atol: Float, _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    actual.shape == expected.shape, "\(what): shape \(actual.shape) ≠ \(expected.shape)",
    sourceLocation: sourceLocation)
  guard actual.shape == expected.shape else { return }
  let values = actual.scalars
  let targets = expected.scalars
  var worstIndex = -1
  var worstExcess: Float = 0
  for index in targets.indices {
    let difference = abs(values[index] - targets[index])
    let excess = difference.isNaN ? .infinity : difference - (atol + rtol * abs(targets[index]))
    if excess > worstExcess {
      worstExcess = excess
      worstIndex = index
    }
  }
  let detail =
    worstIndex < 0
    ? ""
    : "worst at index \(worstIndex): \(values[worstIndex]) vs \(targets[worstIndex]) "
      + "(|difference| exceeds atol + rtol·|expected| by \(worstExcess))"
  #expect(worstIndex < 0, "\(what): \(detail)", sourceLocation: sourceLocation)
}

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "transmute-models-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}
