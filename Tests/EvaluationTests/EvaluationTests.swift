/// Evaluation: cycle L1 of generators with a known output, the domain classifier on toy
/// domains, and the errors for bad inputs.
import Foundation
import ImageIO
import Models
import NeuralNet
import Tensors
import Testing

@testable import Evaluation

/// The fixtures of this target (written by scripts/make_evaluation_fixtures.py).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// A fresh empty folder under the temporary directory.
func temporaryFolder(_ name: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("transmute-evaluation-\(name)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// Writes a model directory whose generators output the constants `tanh(biasA)` (G_A) and
/// `tanh(biasB)` (G_B) per channel: every weight zero but the last convolution's bias.
func writeConstantModel(biasA: [Float], biasB: [Float], to url: URL) throws {
  let configuration = ModelConfiguration(
    generator: GeneratorConfiguration(filters: 2, residualBlocks: 1), discriminator: nil,
    domainA: "red", domainB: "blue", networks: [.generatorA, .generatorB])
  var networks: [NetworkRole: any Layer] = [:]
  for (role, bias) in [(NetworkRole.generatorA, biasA), (.generatorB, biasB)] {
    let network = configuration.makeNetwork(role)
    let lastBias = try #require(network.namedParameters().last)
    #expect(lastBias.name.hasSuffix(".bias"))
    lastBias.parameter.assign(Tensor(shape: [3], scalars: bias))
    networks[role] = network
  }
  try ModelDirectory.save(configuration: configuration, networks: networks, to: url)
}

/// Checks `actual` against `expected` within `atol + rtol·|expected|`, naming `what`.
func expectClose(
  _ actual: Double, _ expected: Double, rtol: Double, atol: Double, _ what: String
) {
  let difference = abs(actual - expected)
  #expect(
    difference <= atol + rtol * abs(expected),
    "\(what): got \(actual), expected \(expected), difference \(difference)")
}

@Suite struct ReconstructionTests {
  struct Expected: Decodable {
    struct Split: Decodable {
      var reconstruction_l1: Double
      var worst_reconstruction_l1: Double
      var worst_file: String
    }
    var bias_G_A: [Float]
    var bias_G_B: [Float]
    var splits: [String: Split]
  }

  @Test func constantGeneratorsGiveTheClosedFormL1() throws {
    let root = fixtures.appendingPathComponent("constant")
    let expected = try JSONDecoder().decode(
      Expected.self, from: Data(contentsOf: root.appendingPathComponent("expected.json")))
    let modelURL = try temporaryFolder("constant-model")
    defer { try? FileManager.default.removeItem(at: modelURL) }
    try writeConstantModel(biasA: expected.bias_G_A, biasB: expected.bias_G_B, to: modelURL)

    let evaluation = try CycleEvaluation(model: modelURL, size: .original, classifier: nil)
    for split in ["A", "B"] {
      let folder = try ImageFolder(root.appendingPathComponent(split), role: "--\(split)")
      var done: [Int] = []
      let result = try evaluation.evaluate(split: split, folder: folder) { done.append($0) }
      let reference = try #require(expected.splits[split])
      #expect(result.images == folder.count)
      #expect(done == Array(1...folder.count))
      expectClose(
        result.reconstructionL1, reference.reconstruction_l1, rtol: 1e-6, atol: 1e-6,
        "split \(split) mean L1")
      expectClose(
        result.worstReconstructionL1, reference.worst_reconstruction_l1, rtol: 1e-6,
        atol: 1e-6, "split \(split) worst L1")
      #expect(result.worstImage.hasSuffix(reference.worst_file), "worst \(result.worstImage)")
      #expect(result.translatedCalledTarget == nil && result.realCalledSource == nil)
    }
  }

  @Test func paddingReachesMultiplesOfFourAndAtLeastEight() {
    #expect(generatorPadding(width: 8, height: 8) == .zero)
    #expect(generatorPadding(width: 10, height: 5) == Padding(left: 1, right: 1, top: 1, bottom: 2))
    #expect(generatorPadding(width: 13, height: 1) == Padding(left: 1, right: 2, top: 3, bottom: 4))
  }

  @Test func meanAbsoluteDifferenceIgnoresThePadding() {
    // [1, 1, 3, 4]: inside padding (left 1, right 1, top 1, bottom 1) are the two middle
    // elements of the middle row, differing by 0.5 and 1.5.
    let a = Tensor(shape: [1, 1, 3, 4], scalars: [9, 9, 9, 9, 9, 1, 2, 9, 9, 9, 9, 9])
    let b = Tensor(shape: [1, 1, 3, 4], scalars: [0, 0, 0, 0, 0, 0.5, 3.5, 0, 0, 0, 0, 0])
    let padding = Padding(left: 1, right: 1, top: 1, bottom: 1)
    #expect(meanAbsoluteDifference(a, b, inside: padding) == 1.0)
  }
}

/// Toy domains: noisy images where red dominates (A) or blue does (B), each with its own
/// brightness, `side`×`side`.
func toyImages(redDominant: Bool, count: Int, side: Int, seed: UInt64) -> [Image] {
  var generator = RandomGenerator(seed: seed)
  return (0..<count).map { _ in
    let brightness = 0.3 + 0.5 * generator.nextUniformFloat()
    let planeSize = side * side
    var pixels = [Float](repeating: 0, count: 3 * planeSize)
    for index in 0..<planeSize {
      let strong = min(1, brightness + 0.25 + 0.25 * generator.nextUniformFloat())
      let weak = max(0, brightness - 0.25 + 0.3 * generator.nextUniformFloat())
      let green = brightness * generator.nextUniformFloat()
      pixels[index] = redDominant ? strong : weak
      pixels[planeSize + index] = green
      pixels[2 * planeSize + index] = redDominant ? weak : strong
    }
    return Image(width: side, height: side, colorChannels: 3, pixels: pixels)
  }
}

@Suite struct ClassifierTests {
  let configuration = ClassifierConfiguration(
    imageSize: 16, loadSize: 20, filters: [8, 16], domainA: "red", domainB: "blue")

  func trainToyClassifier() -> DomainClassifier {
    let imagesA = toyImages(redDominant: true, count: 48, side: 20, seed: 1)
    let imagesB = toyImages(redDominant: false, count: 64, side: 20, seed: 2)
    return trainClassifier(
      imagesA: imagesA, imagesB: imagesB, configuration: configuration,
      options: ClassifierTrainingOptions(epochs: 4, batchSize: 16, learningRate: 3e-3, seed: 5))
  }

  @Test func learnsToTellToyDomainsApart() throws {
    var reports: [ClassifierEpochReport] = []
    let imagesA = toyImages(redDominant: true, count: 48, side: 20, seed: 1)
    let imagesB = toyImages(redDominant: false, count: 64, side: 20, seed: 2)
    let classifier = trainClassifier(
      imagesA: imagesA, imagesB: imagesB, configuration: configuration,
      options: ClassifierTrainingOptions(epochs: 4, batchSize: 16, learningRate: 3e-3, seed: 5)
    ) { reports.append($0) }
    #expect(reports.map(\.epoch) == [1, 2, 3, 4])
    let first = try #require(reports.first)
    let last = try #require(reports.last)
    #expect(last.loss < first.loss, "loss went from \(first.loss) to \(last.loss)")

    // Held-out images (other seeds, other sizes: resized to the load size first).
    let testA = toyImages(redDominant: true, count: 40, side: 24, seed: 11)
    let testB = toyImages(redDominant: false, count: 40, side: 24, seed: 12)
    let accuracy = measureAccuracy(
      of: classifier, inputsA: testA.map(configuration.input(for:)),
      inputsB: testB.map(configuration.input(for:)))
    #expect(accuracy.countA == 40 && accuracy.countB == 40)
    #expect(accuracy.accuracyA >= 0.95, "accuracy on A \(accuracy.accuracyA)")
    #expect(accuracy.accuracyB >= 0.95, "accuracy on B \(accuracy.accuracyB)")
  }

  @Test func savesAndLoadsWithTheSameLogits() throws {
    let classifier = trainToyClassifier()
    let folder = try temporaryFolder("classifier")
    defer { try? FileManager.default.removeItem(at: folder) }
    try classifier.save(to: folder)
    let loaded = try DomainClassifier.load(from: folder)
    #expect(loaded.configuration == classifier.configuration)

    let inputs = toyImages(redDominant: true, count: 6, side: 20, seed: 9).map(
      configuration.input(for:))
    let batch = concatenate(inputs, alongAxis: 0)
    let before = withoutGradients { classifier.logits(batch) }.scalars
    let after = withoutGradients { loaded.logits(batch) }.scalars
    #expect(before == after)
  }

  @Test func translationsToTheOtherColourAreCalledTheOtherDomain() throws {
    let classifier = trainToyClassifier()

    // G_A paints everything blue (domain B), G_B red (domain A).
    let modelURL = try temporaryFolder("colour-model")
    let photos = try temporaryFolder("colour-photos")
    defer {
      try? FileManager.default.removeItem(at: modelURL)
      try? FileManager.default.removeItem(at: photos)
    }
    try writeConstantModel(biasA: [-1, -0.5, 1], biasB: [1, -0.5, -1], to: modelURL)
    for (split, red) in [("A", true), ("B", false)] {
      let folder = photos.appendingPathComponent(split)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      for (index, image) in toyImages(redDominant: red, count: 5, side: 16, seed: 40).enumerated() {
        try image.write(to: folder.appendingPathComponent("\(index).png"), as: .png(bitDepth: 8))
      }
    }

    let evaluation = try CycleEvaluation(
      model: modelURL, size: .square(16), classifier: classifier)
    for split in ["A", "B"] {
      let result = try evaluation.evaluate(
        split: split,
        folder: ImageFolder(photos.appendingPathComponent(split), role: split))
      #expect(result.images == 5)
      #expect(result.translatedCalledTarget == 5, "split \(split): \(result)")
      #expect(result.realCalledSource == 5, "split \(split): \(result)")
      #expect(result.translatedFraction == 1 && result.realAccuracy == 1)
    }
  }

  @Test func spatialMeanAveragesEachPlaneAndSpreadsTheGradient() {
    // [2, 2, 2, 3]: planes 0…3 hold 0…5, 6…11, 12…17, 18…23; each mean is its middle.
    let input = Tensor(
      shape: [2, 2, 2, 3], scalars: (0..<24).map(Float.init), requiresGradient: true)
    let means = SpatialMean()(input)
    #expect(means.shape == [2, 2])
    #expect(means.scalars == [2.5, 8.5, 14.5, 20.5])
    means.sum().backward()
    let gradient = input.gradient?.scalars ?? []
    #expect(gradient.count == 24)
    #expect(gradient.allSatisfy { abs($0 - 1.0 / 6) < 1e-7 }, "gradient \(gradient)")
  }
}

@Suite struct BadInputTests {
  @Test func missingFolderIsNamed() throws {
    let url = URL(fileURLWithPath: "/nonexistent/transmute/testA")
    let error = #expect(throws: EvaluationError.self) { try ImageFolder(url, role: "--a") }
    #expect(error?.kind == .missingFolder)
    #expect(error?.description == "/nonexistent/transmute/testA: no such folder (given as --a)")
  }

  @Test func emptyFolderIsNamed() throws {
    let url = try temporaryFolder("empty")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data("not an image".utf8).write(to: url.appendingPathComponent("notes.txt"))
    let error = #expect(throws: EvaluationError.self) { try ImageFolder(url, role: "--b") }
    #expect(error?.kind == .emptyFolder)
    #expect(error?.reason == "holds no PNG or JPEG images (given as --b)")
  }

  @Test func fileInsteadOfFolderIsRefused() throws {
    let file = fixtures.appendingPathComponent("constant/A/a0.png")
    let error = #expect(throws: EvaluationError.self) { try ImageFolder(file, role: "--a") }
    #expect(error?.kind == .missingFolder)
  }

  @Test func modelWithoutConfigurationIsRefused() throws {
    let url = try temporaryFolder("no-config")
    defer { try? FileManager.default.removeItem(at: url) }
    let error = #expect(throws: EvaluationError.self) {
      try CycleEvaluation(model: url, size: .original, classifier: nil)
    }
    #expect(error?.kind == .unusableModel)
    #expect(error?.path == url.appendingPathComponent("config.json").path)
  }

  @Test func classifierWithoutConfigurationIsRefused() throws {
    let url = try temporaryFolder("no-classifier")
    defer { try? FileManager.default.removeItem(at: url) }
    let error = #expect(throws: EvaluationError.self) { try DomainClassifier.load(from: url) }
    #expect(error?.kind == .unusableClassifier)
    #expect(error?.path == url.appendingPathComponent("config.json").path)
  }

  @Test func classifierOfANewerFormatIsRefused() throws {
    let url = try temporaryFolder("newer-classifier")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data(#"{"format": "transmute-classifier", "format_version": 99}"#.utf8).write(
      to: url.appendingPathComponent("config.json"))
    let error = #expect(throws: EvaluationError.self) { try DomainClassifier.load(from: url) }
    #expect(error?.kind == .unsupportedVersion)
  }

  @Test func unreadableImageIsNamed() throws {
    let url = try temporaryFolder("damaged")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(
      to: url.appendingPathComponent("broken.png"))
    let folder = try ImageFolder(url, role: "--a")
    let error = #expect(throws: EvaluationError.self) { try folder.image(at: 0) }
    #expect(error?.kind == .unreadableImage)
    #expect(error?.path.hasSuffix("broken.png") == true)
  }
}
