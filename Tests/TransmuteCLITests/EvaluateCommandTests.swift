/// `transmute evaluate` and `transmute classifier`: the table, the report, and usage errors.
import Foundation
import ImageIO
import Models
import NeuralNet
import Tensors
import Testing

@testable import TransmuteCLI

@Suite struct EvaluateCommandTests {
  let fixtures = packageRoot.appendingPathComponent("Tests/EvaluationTests/Fixtures/constant")

  struct Expected: Decodable {
    struct Split: Decodable {
      var reconstruction_l1: Double
      var worst_reconstruction_l1: Double
    }
    var bias_G_A: [Float]
    var bias_G_B: [Float]
    var splits: [String: Split]
  }

  /// The fixture's `expected.json`: the constant model's biases and the figures it scores.
  func expectedFigures() throws -> Expected {
    try JSONDecoder().decode(
      Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
  }

  /// A fresh folder under the temporary directory.
  func temporaryFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("transmute-cli-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// A model whose generators output `tanh(bias)` per channel whatever their input.
  func writeConstantModel(_ expected: Expected, to url: URL) throws {
    let configuration = ModelConfiguration(
      generator: GeneratorConfiguration(filters: 2, residualBlocks: 1), discriminator: nil,
      domainA: "horse", domainB: "zebra", networks: [.generatorA, .generatorB])
    var networks: [NetworkRole: any Layer] = [:]
    for (role, bias) in [
      (NetworkRole.generatorA, expected.bias_G_A), (.generatorB, expected.bias_G_B),
    ] {
      let network = configuration.makeNetwork(role)
      let last = try #require(network.namedParameters().last)
      last.parameter.assign(Tensor(shape: [3], scalars: bias))
      networks[role] = network
    }
    try ModelDirectory.save(configuration: configuration, networks: networks, to: url)
  }

  @Test func printsTheTableAndWritesTheReport() throws {
    let expected = try expectedFigures()
    let work = try temporaryFolder("evaluate")
    defer { try? FileManager.default.removeItem(at: work) }
    let model = work.appendingPathComponent("model")
    try writeConstantModel(expected, to: model)
    let reportURL = work.appendingPathComponent("report.json")

    let captured = CapturedConsole()
    let status = Transmute.main(
      [
        "evaluate", "--model", model.path, "--a", fixtures.appendingPathComponent("A").path,
        "--b", fixtures.appendingPathComponent("B").path, "--size", "original", "--report",
        reportURL.path, "--quiet",
      ], console: captured.console)
    #expect(status == 0, "stderr: \(captured.error)")

    // One row per split, the figures rounded to four places.
    let lines = captured.out.split(separator: "\n").map(String.init)
    let reference = try #require(expected.splits["A"])
    let referenceB = try #require(expected.splits["B"])
    let rowA = try #require(lines.first { $0.hasPrefix("A ") })
    let rowB = try #require(lines.first { $0.hasPrefix("B ") })
    #expect(rowA.contains("horse → zebra"))
    #expect(rowA.contains(String(format: "%.4f", reference.reconstruction_l1)), "\(rowA)")
    #expect(rowA.contains(String(format: "%.4f", reference.worst_reconstruction_l1)))
    #expect(rowB.contains("zebra → horse"))
    #expect(rowB.contains(String(format: "%.4f", referenceB.reconstruction_l1)), "\(rowB)")
    #expect(lines.contains("size        each photo's own size, padded to ×4"))
    #expect(captured.error == "report written to \(reportURL.path)\n")

    // The report holds the unrounded figures.
    struct Report: Decodable {
      struct Split: Decodable {
        var split: String
        var images: Int
        var reconstruction_l1: Double
        var translated_called_target: Int?
      }
      var size: String
      var splits: [Split]
    }
    let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportURL))
    #expect(report.size == "original")
    #expect(report.splits.map(\.split) == ["A", "B"])
    #expect(report.splits.map(\.images) == [3, 2])
    #expect(abs(report.splits[0].reconstruction_l1 - reference.reconstruction_l1) < 1e-6)
    #expect(abs(report.splits[1].reconstruction_l1 - referenceB.reconstruction_l1) < 1e-6)
    #expect(report.splits[0].translated_called_target == nil)
  }

  @Test func damagedPhotoIsLeftOutAndListed() throws {
    let expected = try expectedFigures()
    let work = try temporaryFolder("evaluate-damaged")
    defer { try? FileManager.default.removeItem(at: work) }
    let model = work.appendingPathComponent("model")
    try writeConstantModel(expected, to: model)

    // The three fixture photos of A and, sorted among them, a PNG cut short after its
    // signature.
    let photos = work.appendingPathComponent("A")
    try FileManager.default.copyItem(at: fixtures.appendingPathComponent("A"), to: photos)
    let broken = photos.appendingPathComponent("0_broken.png")
    try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(to: broken)
    let reportURL = work.appendingPathComponent("report.json")

    let captured = CapturedConsole()
    let status = Transmute.main(
      [
        "evaluate", "--model", model.path, "--a", photos.path, "--size", "original",
        "--report", reportURL.path, "--quiet",
      ], console: captured.console)
    #expect(status == 1, "a photo was left out: \(captured.error)")

    // The figures are those of the three good photos; the damaged one is named after them.
    let reference = try #require(expected.splits["A"])
    let lines = captured.out.split(separator: "\n").map(String.init)
    let rowA = try #require(lines.first { $0.hasPrefix("A ") })
    #expect(rowA.contains(" 3  horse → zebra"), "\(rowA)")
    #expect(rowA.contains(String(format: "%.4f", reference.reconstruction_l1)), "\(rowA)")
    #expect(lines.contains("left out of the figures, 1 photo that could not be decoded:"))
    let listed = try #require(lines.last)
    #expect(listed.hasPrefix("  \(broken.path): "), "\(listed)")

    struct Report: Decodable {
      struct Split: Decodable {
        struct Unreadable: Decodable { var path: String }
        var images: Int
        var reconstruction_l1: Double
        var unreadable: [Unreadable]
      }
      var splits: [Split]
    }
    let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: reportURL))
    #expect(report.splits[0].images == 3)
    #expect(report.splits[0].unreadable.map(\.path) == [broken.path])
    #expect(abs(report.splits[0].reconstruction_l1 - reference.reconstruction_l1) < 1e-6)
  }

  @Test func folderOfDamagedPhotosIsAnError() throws {
    let expected = try expectedFigures()
    let work = try temporaryFolder("evaluate-all-damaged")
    defer { try? FileManager.default.removeItem(at: work) }
    let model = work.appendingPathComponent("model")
    try writeConstantModel(expected, to: model)
    let photos = work.appendingPathComponent("A")
    try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
    try Data([0xFF, 0xD8, 0xFF]).write(to: photos.appendingPathComponent("cut.jpg"))

    let captured = CapturedConsole()
    let status = Transmute.main(
      ["evaluate", "--model", model.path, "--a", photos.path, "--quiet"],
      console: captured.console)
    #expect(status != 0)
    #expect(
      captured.error.hasPrefix(
        "transmute evaluate: \(photos.path): its one image, cut.jpg, could not be decoded: "
          + "damaged JPEG"),
      "\(captured.error)")
    #expect(captured.out.isEmpty)
  }

  @Test func missingModelIsAUsageError() {
    let captured = CapturedConsole()
    let status = Transmute.main(["evaluate", "--a", "x"], console: captured.console)
    #expect(status == 2)
    #expect(
      captured.error == """
        transmute evaluate: missing option '--model'
        write --model DIR
        Run 'transmute evaluate --help' for its options.

        """)
  }

  @Test func missingFolderIsNamed() throws {
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["evaluate", "--model", "/nonexistent/model", "--a", "/nonexistent/testA"],
      console: captured.console)
    #expect(status == 1)
    #expect(
      captured.error
        == "transmute evaluate: /nonexistent/testA: no such folder (given as --a)\n")
  }

  @Test func reportFolderIsCheckedBeforeTheWork() throws {
    let captured = CapturedConsole()
    let status = Transmute.main(
      [
        "evaluate", "--model", "/nonexistent/model", "--a",
        fixtures.appendingPathComponent("A").path,
        "--report", "/nonexistent/folder/report.json",
      ], console: captured.console)
    #expect(status == 1)
    #expect(
      captured.error
        == "transmute evaluate: /nonexistent/folder/report.json: its folder "
        + "/nonexistent/folder does not exist\n")
  }

  @Test func modelWithoutConfigurationIsNamed() throws {
    let work = try temporaryFolder("no-config")
    defer { try? FileManager.default.removeItem(at: work) }
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["evaluate", "--model", work.path, "--a", fixtures.appendingPathComponent("A").path],
      console: captured.console)
    #expect(status == 1)
    #expect(captured.error.hasPrefix("transmute evaluate: \(work.path)/config.json: cannot read"))
  }

  @Test func badSizeIsAUsageError() {
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["evaluate", "--model", "m", "--a", "a", "--size", "huge"], console: captured.console)
    #expect(status == 2)
    #expect(
      captured.error.hasPrefix(
        "transmute evaluate: option '--size' must be model, original or a side from 8 to 4096"))
  }

  @Test func emptyFilterCountsAreAUsageError() {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent(
      "filters-\(UUID().uuidString)"
    ).path
    for filters in ["8,,16", "8,", ",8"] {
      let captured = CapturedConsole()
      let status = Transmute.main(
        ["classifier", "train", "--a-train", "a", "--b-train", "b", "--output", output]
          + ["--filters", filters], console: captured.console)
      #expect(status == 2, "\(filters)")
      #expect(
        captured.error.hasPrefix(
          "transmute classifier: option '--filters' needs counts from 1 to 1024 separated by "
            + "commas, got '\(filters)'"), "\(captured.error)")
    }
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  @Test func classifierNeedsAnAction() {
    let captured = CapturedConsole()
    let status = Transmute.main(["classifier", "--a-train", "x"], console: captured.console)
    #expect(status == 2)
    #expect(captured.error.hasPrefix("transmute classifier: 'classifier' needs one action"))
  }

  @Test func trainsAndTestsAClassifier() throws {
    // Red photos against blue ones, 16×16, written as PNG files.
    let work = try temporaryFolder("classifier")
    defer { try? FileManager.default.removeItem(at: work) }
    var generator = RandomGenerator(seed: 3)
    for (folder, red) in [("A", true), ("B", false)] {
      let url = work.appendingPathComponent(folder)
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
      for index in 0..<24 {
        var pixels = [Float](repeating: 0, count: 3 * 256)
        for pixel in 0..<256 {
          let strong = 0.6 + 0.4 * generator.nextUniformFloat()
          let weak = 0.4 * generator.nextUniformFloat()
          pixels[pixel] = red ? strong : weak
          pixels[256 + pixel] = 0.5 * generator.nextUniformFloat()
          pixels[512 + pixel] = red ? weak : strong
        }
        let image = Image(width: 16, height: 16, colorChannels: 3, pixels: pixels)
        try image.write(to: url.appendingPathComponent("\(index).png"), as: .png(bitDepth: 8))
      }
    }
    let output = work.appendingPathComponent("classifier")
    let folderA = work.appendingPathComponent("A").path
    let folderB = work.appendingPathComponent("B").path

    let training = CapturedConsole()
    let trained = Transmute.main(
      [
        "classifier", "train", "--a-train", folderA, "--b-train", folderB, "--a-test", folderA,
        "--b-test", folderB, "--output", output.path, "--size", "16", "--filters", "8,16",
        "--epochs", "3", "--batch-size", "8", "--lr", "0.003", "--domain-a", "red",
        "--domain-b", "blue", "--quiet",
      ], console: training.console)
    #expect(trained == 0, "stderr: \(training.error)")
    #expect(training.out.hasPrefix("accuracy on red (A) "), "\(training.out)")
    #expect(
      FileManager.default.fileExists(atPath: output.appendingPathComponent("config.json").path))

    let testing = CapturedConsole()
    let tested = Transmute.main(
      [
        "classifier", "test", "--classifier", output.path, "--a-test", folderA, "--b-test", folderB,
      ],
      console: testing.console)
    #expect(tested == 0, "stderr: \(testing.error)")
    #expect(testing.out == training.out, "the saved classifier gives the same accuracy")
    #expect(testing.out.contains("overall 100.0%"), "\(testing.out)")

    // A damaged photo among the test photos is left out, named, and the exit status says so.
    let broken = work.appendingPathComponent("A/broken.png")
    try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(to: broken)
    let damaged = CapturedConsole()
    let leftOut = Transmute.main(
      [
        "classifier", "test", "--classifier", output.path, "--a-test", folderA, "--b-test",
        folderB, "--quiet",
      ],
      console: damaged.console)
    #expect(leftOut == 1, "stderr: \(damaged.error)")
    #expect(damaged.out == testing.out, "the figures cover the 24 good photos of each folder")
    #expect(damaged.error.contains("warning: left out \(broken.path): "), "\(damaged.error)")
    #expect(damaged.error.contains("1 photo could not be decoded and was left out:"))
    try FileManager.default.removeItem(at: broken)

    // Training again into the same folder is refused before any work; the classifier stays.
    let saved = try Data(contentsOf: output.appendingPathComponent("classifier.safetensors"))
    let again = CapturedConsole()
    let refused = Transmute.main(
      [
        "classifier", "train", "--a-train", folderA, "--b-train", folderB, "--output",
        output.path, "--size", "16", "--filters", "8,16", "--epochs", "1", "--quiet",
      ], console: again.console)
    #expect(refused == 2)
    #expect(
      again.error.hasPrefix(
        "transmute classifier: --output \(output.path) is not empty; Transmute will not "
          + "overwrite it"), "\(again.error)")
    #expect(
      try Data(contentsOf: output.appendingPathComponent("classifier.safetensors")) == saved)
  }
}
