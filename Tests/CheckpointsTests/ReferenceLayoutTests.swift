import Foundation
import Testing

@testable import Checkpoints
@testable import Tensors

@Suite struct ReferenceLayoutTests {
  @Test(arguments: generatorFixtures.map { ($0.name, $0.blocks, $0.dropout) })
  func infersGeneratorFixtures(name: String, blocks: Int, dropout: Bool) throws {
    let file = try SafetensorsFile(contentsOf: FixturePaths.fixture("\(name).safetensors"))
    let layout = try ResnetGeneratorLayout(
      inferringFrom: file.tensors.mapValues(\.shape), path: name)
    #expect(layout.blocks == blocks)
    #expect(layout.dropout == dropout)
    #expect(layout.ngf == 2 && layout.inputChannels == 3 && layout.outputChannels == 3)
    #expect(layout.norm == .instance && layout.upsampling == .transposedConvolution)
    #expect(layout.upIndices == [10 + blocks, 13 + blocks] && layout.outputIndex == 17 + blocks)
    #expect(layout.conflicts(blocks: blocks, ngf: 2).isEmpty)
  }

  @Test func expectedShapesMatchTorchForEachNorm() throws {
    for fixture in try FixturePaths.json("layouts.json", as: [ReferenceLayoutFixture].self) {
      let layout = try ResnetGeneratorLayout(inferringFrom: fixture.shapeMap, path: fixture.norm)
      #expect(layout.norm.rawValue == fixture.norm)
      #expect(layout.blocks == fixture.blocks && layout.ngf == fixture.ngf)
      #expect(layout.dropout == fixture.dropout)
      #expect(layout.inputChannels == fixture.input_channels)
      #expect(layout.outputChannels == fixture.output_channels)
      #expect(layout.expectedShapes.map(\.key) == fixture.keys, "\(fixture.norm)")
      #expect(layout.expectedShapes.map(\.shape) == fixture.shapes, "\(fixture.norm)")
      let parameters = layout.expectedShapes.filter {
        !$0.key.hasSuffix("running_mean") && !$0.key.hasSuffix("running_var")
          && !$0.key.hasSuffix("num_batches_tracked")
      }.reduce(0) { $0 + $1.shape.reduce(1, *) }
      #expect(parameters == fixture.parameters)
    }
  }

  @Test func infersUpsampleThenConvolveStages() throws {
    let fixture = try FixturePaths.json("layouts.json", as: [ReferenceLayoutFixture].self)[0]
    var shapes = fixture.shapeMap
    shapes["model.19.weight"] = [128, 256, 3, 3]
    shapes["model.22.weight"] = [64, 128, 3, 3]
    let layout = try ResnetGeneratorLayout(inferringFrom: shapes, path: "upsample")
    #expect(layout.upsampling == .upsampleConvolution)
    #expect(layout.expectedShapes.first { $0.key == "model.19.weight" }?.shape == [128, 256, 3, 3])
  }

  @Test func namesTheReferencesOtherNetworksWhenGivenOne() {
    let cases: [([String: [Int]], String)] = [
      (
        ["model.model.0.weight": [64, 3, 4, 4], "model.model.1.model.1.weight": [128, 64, 4, 4]],
        "the keys of the reference's U-Net generator (unet_256, unet_128)"
      ),
      (["model.0.weight": [64, 3, 4, 4], "model.0.bias": [64]], "the keys of a discriminator"),
      (["net.0.weight": [64, 3, 1, 1], "net.0.bias": [64]], "the keys of a discriminator"),
    ]
    for (shapes, fragment) in cases {
      expectCheckpointError(.architectureMismatch, mentioning: fragment) {
        _ = try ResnetGeneratorLayout(inferringFrom: shapes, path: "net.pth")
      }
    }
  }

  @Test func reportsMismatchesByKeyAndShape() throws {
    let fixture = try FixturePaths.json("layouts.json", as: [ReferenceLayoutFixture].self)[0]
    func expectMismatch(_ fragments: [String], _ edit: (inout [String: [Int]]) -> Void) {
      var shapes = fixture.shapeMap
      edit(&shapes)
      do {
        _ = try ResnetGeneratorLayout(inferringFrom: shapes, path: "net_G.pth")
        Issue.record("accepted a state_dict that should not fit: \(fragments)")
      } catch {
        #expect(error.kind == .architectureMismatch)
        for fragment in fragments { #expect(error.reason.contains(fragment), "\(error)") }
      }
    }
    expectMismatch([
      "model.13.conv_block.5.weight has shape [256, 128, 3, 3], expected [256, 256, 3, 3]"
    ]) {
      $0["model.13.conv_block.5.weight"] = [256, 128, 3, 3]
    }
    expectMismatch(["model.26.bias is missing, expected [3]"]) { $0["model.26.bias"] = nil }
    expectMismatch(["model.3.weight (shape [64]) is not part of this architecture"]) {
      $0["model.3.weight"] = [64]
    }
    expectMismatch(["model.1.weight is missing"]) { $0["model.1.weight"] = nil }
    expectMismatch(["residual blocks found at model.[10, 11, 12, 14"]) {
      $0["model.13.conv_block.1.weight"] = nil
      $0["model.13.conv_block.5.weight"] = nil
    }
    expectMismatch(["conv_block.[[1, 5], [1, 6]]"]) {
      $0["model.12.conv_block.6.weight"] = $0["model.12.conv_block.5.weight"]
      $0["model.12.conv_block.5.weight"] = nil
    }
    expectMismatch(["model.19.weight has shape [256, 256, 3, 3]"]) {
      $0["model.19.weight"] = [256, 256, 3, 3]
    }
    expectMismatch(["encoder.weight (shape [1]) is not under model.N"]) {
      $0["encoder.weight"] = [1]
    }
  }

  @Test func conflictsWithRequestedArchitectureNameTheEvidence() throws {
    let fixture = try FixturePaths.json("layouts.json", as: [ReferenceLayoutFixture].self)[0]
    let layout = try ResnetGeneratorLayout(inferringFrom: fixture.shapeMap, path: "x")
    let conflicts = layout.conflicts(blocks: 6, ngf: 32)
    #expect(conflicts.count == 2)
    #expect(
      conflicts[0].contains("resnet_6blocks") && conflicts[0].contains("model.10 to model.18"))
    #expect(conflicts[1].contains("--ngf 32") && conflicts[1].contains("[64, 3, 7, 7]"))
  }
}

@Suite struct GeneratorWeightsTests {
  @Test(
    arguments: generatorFixtures.flatMap { fixture in
      ["\(fixture.name).pth", "\(fixture.name)_legacy.pth", "\(fixture.name).safetensors"].map {
        ($0, fixture.name, fixture.blocks, fixture.dropout)
      }
    })
  func readsEveryFormat(file: String, name: String, blocks: Int, dropout: Bool) throws {
    let weights = try GeneratorWeights(
      contentsOf: FixturePaths.fixture(file), blocks: blocks, ngf: 2)
    let reference = try SafetensorsFile(contentsOf: FixturePaths.fixture("\(name).safetensors"))
    expectIdentical(weights.tensors, reference.tensors, file)
    #expect(weights.layout.blocks == blocks && weights.layout.dropout == dropout)
    #expect(weights.droppedKeys.isEmpty)
    let format: GeneratorWeights.SourceFormat =
      file.hasSuffix(".safetensors") ? .safetensors : file.contains("legacy") ? .pthLegacy : .pthZip
    #expect(weights.sourceFormat == format)
  }

  @Test func refusesAFileThatDisagreesWithTheFlags() {
    expectCheckpointError(.architectureMismatch, mentioning: "resnet_6blocks was asked for") {
      _ = try GeneratorWeights(contentsOf: FixturePaths.fixture("resnet9.pth"), blocks: 6)
    }
    expectCheckpointError(.architectureMismatch, mentioning: "[2, 3, 7, 7] (ngf 2)") {
      _ = try GeneratorWeights(contentsOf: FixturePaths.fixture("resnet9.pth"), ngf: 64)
    }
    expectCheckpointError(
      .architectureMismatch, mentioning: "starts with broadcast [2, 3], expanded_row [5]"
    ) {
      _ = try GeneratorWeights(contentsOf: FixturePaths.fixture("views.pth"))
    }
  }

  @Test func oldDataParallelFileLoads() throws {
    let weights = try GeneratorWeights(
      contentsOf: FixturePaths.fixture("old_dataparallel_legacy.pth"))
    #expect(weights.layout.blocks == 6)
    #expect(weights.droppedKeys.count == 51)
    #expect(weights.tensors.keys.allSatisfy { !$0.hasPrefix("module.") })
  }
}
