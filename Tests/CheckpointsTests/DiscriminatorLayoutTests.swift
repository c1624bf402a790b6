import Foundation
import Testing

@testable import Checkpoints

/// A reference discriminator's state_dict keys and shapes, from the fixture script.
private struct DiscriminatorFixture: Decodable {
  let kind: String
  let layers: Int
  let ndf: Int
  let norm: String
  let input_channels: Int
  let keys: [String]
  let shapes: [[Int]]
  let parameters: Int
}

@Suite struct DiscriminatorLayoutTests {
  @Test func expectedShapesMatchTorchForEachKindAndNorm() throws {
    let fixtures = try FixturePaths.json(
      "discriminator_layouts.json", as: [DiscriminatorFixture].self)
    for fixture in fixtures {
      let shapes = Dictionary(uniqueKeysWithValues: zip(fixture.keys, fixture.shapes))
      let layout = try DiscriminatorLayout(inferringFrom: shapes, path: fixture.kind)
      #expect(layout.kind == (fixture.kind == "pixel" ? .pixel : .patch(layers: fixture.layers)))
      #expect(layout.ndf == fixture.ndf && layout.inputChannels == fixture.input_channels)
      #expect(layout.norm.rawValue == fixture.norm)
      #expect(layout.expectedShapes.map(\.key) == fixture.keys)
      #expect(layout.expectedShapes.map(\.shape) == fixture.shapes)
      let parameters = layout.expectedShapes.filter {
        !$0.key.hasSuffix("running_mean") && !$0.key.hasSuffix("running_var")
          && !$0.key.hasSuffix("num_batches_tracked")
      }.reduce(0) { $0 + $1.shape.reduce(1, *) }
      #expect(parameters == fixture.parameters, "\(fixture.kind) \(fixture.norm)")
    }
  }

  @Test func reportsMismatchesByKeyAndShape() throws {
    let fixture = try FixturePaths.json(
      "discriminator_layouts.json", as: [DiscriminatorFixture].self)[0]
    var shapes = Dictionary(uniqueKeysWithValues: zip(fixture.keys, fixture.shapes))
    shapes["model.5.weight"] = [256, 64, 4, 4]
    expectCheckpointError(
      .architectureMismatch, mentioning: "model.5.weight has shape [256, 64, 4, 4], expected"
    ) {
      _ = try DiscriminatorLayout(inferringFrom: shapes, path: "d")
    }
    expectCheckpointError(.architectureMismatch, mentioning: "neither model.0.weight") {
      _ = try DiscriminatorLayout(inferringFrom: ["model.1.weight": [2, 3, 7, 7]], path: "d")
    }
    // A generator is not a discriminator.
    let generator = try SafetensorsFile(contentsOf: FixturePaths.fixture("resnet6.safetensors"))
    expectCheckpointError(.architectureMismatch, mentioning: "neither model.0.weight") {
      _ = try DiscriminatorLayout(inferringFrom: generator.tensors.mapValues(\.shape), path: "g")
    }
  }
}
