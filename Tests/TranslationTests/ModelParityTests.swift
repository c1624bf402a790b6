import Checkpoints
import Models
import Foundation
import ImageIO
import Tensors
import Testing

@testable import Translation

/// torch's outputs for the fixture models, written by scripts/make_translation_fixtures.py.
func expectedOutputs() throws -> [String: Tensor] {
  try SafetensorsFile(
    contentsOf: URL(fileURLWithPath: fixturesFolder.appending("expected.safetensors").description)
  ).tensors
}

/// The four (model, direction, input) cases of the fixture script.
let parityCases: [(model: String, direction: TranslationDirection, input: String)] = [
  ("tiny_rgb", .aToB, "input_rgb.png"),
  ("tiny_rgb", .bToA, "input_rgb.png"),
  ("tiny_grey", .aToB, "input_rgb.png"),
  ("tiny_grey", .bToA, "input_grey.png"),
]

@Test(arguments: parityCases.indices)
func aModelWithKnownWeightsMatchesPyTorch(_ caseIndex: Int) throws {
  let (name, direction, inputName) = parityCases[caseIndex]
  let modelURL = URL(
    fileURLWithPath: fixturesFolder.appending(FilePath("models/\(name)")).description)
  let model = try TranslationModel.load(from: modelURL, direction: direction, toDomain: nil)
  let expected = try #require(try expectedOutputs()["\(name).\(direction.rawValue)"])

  // In memory: the image at its own 45×30 size, padded to 48×32 and cropped back.
  let image = try Image(contentsOf: fixturesFolder.appending(FilePath(inputName)))
  let translation = ImageTranslation(translator: model.translator, options: .init())
  let result = try translation.translate(image, with: model.translator)
  #expect(result.width == 45 && result.height == 30)
  #expect(result.colorChannels == expected.shape[1])
  let reference = expected.scalars.map { ($0 + 1) / 2 }
  let check = closeness(result.pixels, reference, rtol: 1e-5, atol: 2e-5)
  #expect(
    check.excess <= 0,
    "\(name) \(direction.rawValue): beyond atol 2e-5 + rtol 1e-5 by \(check.excess) at \(check.index): \(check.actual) vs torch \(check.expected)"
  )
  // The head in bands of 3 rows (4 channels × 54 padded columns × 9 rows a band) gives the
  // same result: 11 bands over the 32 padded rows, reflected at the top and bottom.
  model.translator.headBandFloats = 4 * 54 * 9
  let banded = try translation.translate(image, with: model.translator)
  let bandCheck = closeness(banded.pixels, reference, rtol: 1e-5, atol: 2e-5)
  #expect(
    bandCheck.excess <= 0,
    "banded \(name) \(direction.rawValue): by \(bandCheck.excess) at \(bandCheck.index)")
}

@Test func theWrittenFileHoldsTorchsOutputRounded() throws {
  let folder = temporaryFolder()
  let modelURL = URL(fileURLWithPath: fixturesFolder.appending("models/tiny_rgb").description)
  let model = try TranslationModel.load(from: modelURL, direction: nil, toDomain: "painting")
  #expect(model.direction == .aToB)
  let input = fixturesFolder.appending("input_rgb.png")
  let output = folder.appending("painted.png")
  let plan = try TranslationPlanner.plan(input: input, output: output, format: nil)
  let bulk = BulkTranslation(
    translation: ImageTranslation(translator: model.translator, options: .init()))
  let summary = bulk.run(plan, with: model.translator)
  #expect(summary.translated == 1 && summary.failed == 0)

  let written = try Image(contentsOf: output)
  let expected = try #require(try expectedOutputs()["tiny_rgb.AtoB"])
  let reference = expected.scalars.map { (($0 + 1) / 2 * 255).rounded() / 255 }
  let worst = worstDifference(written.pixels, reference)
  // At most one level where torch's value lies within float error of a rounding boundary.
  #expect(worst.value <= 1.01 / 255, "worst \(worst.value * 255) levels at \(worst.index)")
  let exact = zip(written.pixels, reference).filter { abs($0 - $1) < 0.1 / 255 }.count
  #expect(exact >= reference.count * 99 / 100, "\(exact) of \(reference.count) samples exact")
}

@Test func theDirectionFollowsTheDomainNames() throws {
  let url = URL(fileURLWithPath: fixturesFolder.appending("models/tiny_grey").description)
  let configuration = try Models.ModelDirectory.readConfiguration(at: url)
  #expect(
    try TranslationModel.chooseDirection(nil, toDomain: nil, configuration: configuration) == .aToB)
  #expect(
    try TranslationModel.chooseDirection(nil, toDomain: "sketch", configuration: configuration)
      == .aToB)
  #expect(
    try TranslationModel.chooseDirection(nil, toDomain: "photo", configuration: configuration)
      == .bToA)
  #expect(throws: ModelChoiceError.unknownDomain("zebra", domainA: "photo", domainB: "sketch")) {
    try TranslationModel.chooseDirection(nil, toDomain: "zebra", configuration: configuration)
  }
  #expect(throws: ModelChoiceError.directionContradictsDomain(.aToB, domain: "photo")) {
    try TranslationModel.chooseDirection(.aToB, toDomain: "photo", configuration: configuration)
  }

  // A model whose two domains share a name (as two folders both called train give) cannot
  // be steered by --to, and says to use --direction.
  var twins = configuration
  twins.domainB = twins.domainA
  let error = ModelChoiceError.unknownDomain("photo", domainA: "photo", domainB: "photo")
  #expect(throws: error) {
    try TranslationModel.chooseDirection(nil, toDomain: "photo", configuration: twins)
  }
  #expect(
    error.description
      == "the model names both its domains 'photo', so --to photo cannot choose a direction; "
      + "write --direction AtoB or --direction BtoA instead")

  // The grey domain's generator reads one channel and writes three.
  let model = try TranslationModel.load(from: url, direction: nil, toDomain: "photo")
  #expect(model.translator.inputChannels == 1 && model.translator.outputChannels == 3)
  #expect(model.domains == ("sketch", "photo"))
}

@Test func aReferencePthGeneratorTranslatesLikeItsModelDirectory() throws {
  let pth = URL(
    fileURLWithPath: fixturesFolder.appending("models/tiny_rgb_latest_net_G_A.pth").description)
  let model = try TranslationModel.load(from: pth, direction: nil, toDomain: nil)
  #expect(model.translator.generator.configuration.filters == 4)
  #expect(model.translator.generator.configuration.residualBlocks == 2)

  let image = try Image(contentsOf: fixturesFolder.appending("input_rgb.png"))
  let translation = ImageTranslation(translator: model.translator, options: .init())
  let result = try translation.translate(image, with: model.translator)
  let expected = try #require(try expectedOutputs()["tiny_rgb.AtoB"])
  let check = closeness(
    result.pixels, expected.scalars.map { ($0 + 1) / 2 }, rtol: 1e-5, atol: 2e-5)
  #expect(
    check.excess <= 0, "by \(check.excess) at \(check.index): \(check.actual) vs \(check.expected)")

  #expect(throws: ModelChoiceError.directionOfSingleGenerator(pth.path)) {
    try TranslationModel.load(from: pth, direction: .bToA, toDomain: nil)
  }
}
