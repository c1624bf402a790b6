import Foundation
import Testing

@testable import Checkpoints
@testable import Tensors

/// The generator fixtures: name, residual blocks, dropout, whether stored as float16.
let generatorFixtures: [(name: String, blocks: Int, dropout: Bool, half: Bool)] = [
  ("resnet9", 9, false, false), ("resnet9_dropout", 9, true, false),
  ("resnet6", 6, false, false), ("resnet6_dropout", 6, true, true),
]

/// Expects `actual` to equal `expected` key for key and bit for bit, naming the first difference.
func expectIdentical(
  _ actual: [String: Tensor], _ expected: [String: Tensor], _ label: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    Set(actual.keys) == Set(expected.keys),
    "\(label): keys differ: \(Set(actual.keys).symmetricDifference(expected.keys).sorted())",
    sourceLocation: sourceLocation)
  for (key, want) in expected {
    guard let got = actual[key] else { continue }
    #expect(
      got.shape == want.shape, "\(label) \(key): shape \(got.shape) vs \(want.shape)",
      sourceLocation: sourceLocation)
    let firstDifference = zip(got.scalars, want.scalars).enumerated().first {
      $0.element.0.bitPattern != $0.element.1.bitPattern
    }
    let detail = firstDifference.map { "\($0.element.0) vs \($0.element.1)" } ?? "counts differ"
    #expect(
      got.scalars.count == want.scalars.count && firstDifference == nil,
      "\(label) \(key): first difference at \(firstDifference?.offset ?? -1): \(detail)",
      sourceLocation: sourceLocation)
  }
}

@Suite struct PyTorchCheckpointTests {
  @Test(arguments: ["views", "views_legacy"])
  func readsViewsWithOffsetsAndStrides(name: String) throws {
    let checkpoint = try PyTorchCheckpoint(contentsOf: FixturePaths.fixture("\(name).pth"))
    let expected = try SafetensorsFile(
      contentsOf: FixturePaths.fixture("views_expected.safetensors"))
    expectIdentical(checkpoint.tensors, expected.tensors, name)
    #expect(checkpoint.format == (name == "views" ? .zip : .legacy))
    #expect(
      checkpoint.keys == [
        "sliced", "transposed", "strided", "whole", "half", "scalar", "expanded_row",
      ])
    #expect(checkpoint.storedTypes["half"] == .float16)
    #expect(checkpoint.storedTypes["whole"] == .float32)
  }

  @Test(
    arguments: generatorFixtures.flatMap { [($0.name, $0.half), ($0.name + "_legacy", $0.half)] })
  func readsGenerators(name: String, half: Bool) throws {
    let checkpoint = try PyTorchCheckpoint(contentsOf: FixturePaths.fixture("\(name).pth"))
    let reference = name.replacingOccurrences(of: "_legacy", with: "")
    let expected = try SafetensorsFile(contentsOf: FixturePaths.fixture("\(reference).safetensors"))
    expectIdentical(checkpoint.tensors, expected.tensors, name)
    #expect(checkpoint.keys.first == "model.1.weight")
    #expect(Set(checkpoint.storedTypes.values) == [half ? .float16 : .float32])
  }
}
