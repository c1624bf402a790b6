/// `transmute train`: its options as typed, the checks made before work starts, and a whole
/// tiny run through the dispatcher.
import Foundation
import ImageIO
import Testing

@testable import Training
@testable import TransmuteCLI

/// A scratch folder with two tiny image folders `A` and `B`.
func makeTinyFolders() throws -> String {
  let root = FileManager.default.temporaryDirectory.appendingPathComponent(
    "TrainCommandTests-\(UUID().uuidString)"
  ).path
  for (folder, level) in [("A", Float(0.2)), ("B", Float(0.8))] {
    try FileManager.default.createDirectory(
      atPath: root + "/" + folder, withIntermediateDirectories: true)
    for index in 0..<2 {
      let pixels = (0..<(3 * 36 * 36)).map { level + Float($0 % 7 + index) / 50 }
      try Image(width: 36, height: 36, colorChannels: 3, pixels: pixels).write(
        to: FilePath(root + "/\(folder)/\(index).png"), as: .png())
    }
  }
  return root
}

@Suite(.serialized) struct TrainCommandTests {
  func parse(_ arguments: [String]) throws -> TrainingOptions {
    try TrainCommand.resolvedOptions(
      ParsedArguments(arguments, options: TrainCommand.options))
  }

  @Test func readsTheReferencesOptions() throws {
    let options = try parse([
      "--a", "x/trainA", "--b", "x/trainB", "--name", "zebra", "--batch-size", "4",
      "--load-size", "143", "--crop-size", "128", "--preprocess", "scale_width_and_crop",
      "--no-flip", "--lambda-identity", "0", "--gan-mode", "vanilla", "--netG", "resnet_6blocks",
      "--netD", "n_layers", "--n-layers-d", "2", "--norm", "batch", "--dropout", "--seed", "12",
      "--lr-policy", "cosine", "--max-dataset-size", "30", "--input-nc", "1", "--upsample",
      "nearest",
    ])
    #expect(options.folderA == "x/trainA" && options.domainA == "trainA")
    #expect(options.batchSize == 4 && options.loadSize == 143 && options.cropSize == 128)
    #expect(options.preprocess == .scaleWidthAndCrop && !options.flip)
    #expect(options.lambdaIdentity == 0 && options.ganMode == .vanilla)
    #expect(options.generator == .resnet6Blocks && options.discriminator == .nLayers)
    #expect(options.layersD == 2 && options.normalization == .batch && options.dropout)
    #expect(options.seed == 12 && options.learningRatePolicy == .cosine)
    #expect(options.maxDatasetSize == 30 && options.inputChannels == 1)
    #expect(options.upsampling == .nearest && options.checkpointsDirectory == "checkpoints")

    let defaults = try parse(["--a", "a", "--b", "b", "--name", "n"])
    #expect(defaults == TrainingOptions(folderA: "a", folderB: "b", name: "n"))
  }

  @Test func explainsMistakesBeforeAnyWork() throws {
    let root = try makeTinyFolders()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let cases: [([String], String)] = [
      (
        ["--b", root + "/B", "--name", "n"], "transmute train: missing option '--a'\nwrite --a DIR"
      ),
      (
        ["--a", root + "/A", "--b", root + "/B", "--name", "n", "--netG", "unet"],
        "option '--netG' must be one of resnet_9blocks, resnet_6blocks, got 'unet'"
      ),
      (
        ["--a", root + "/A", "--b", root + "/B", "--name", "n", "--crop-size", "300"],
        "--crop-size 300 is larger than --load-size 286"
      ),
      (
        ["--a", root + "/nowhere", "--b", root + "/B", "--name", "n"],
        "\(root)/nowhere: no such folder"
      ),
      (
        ["--name", "n", "--checkpoints", root, "--continue"],
        "there is no run 'n' in \(root) to continue"
      ),
    ]
    for (arguments, message) in cases {
      let captured = CapturedConsole()
      #expect(Transmute.main(["train"] + arguments, console: captured.console) == 2)
      #expect(captured.error.contains(message), "\(arguments): \(captured.error)")
    }
  }

  @Test func trainsAndContinuesThroughTheDispatcher() throws {
    let root = try makeTinyFolders()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let common = [
      "--name", "tiny", "--checkpoints", root + "/runs", "--ngf", "2", "--ndf", "2",
      "--netG", "resnet_6blocks", "--load-size", "36", "--crop-size", "32",
    ]
    let captured = CapturedConsole()
    let status = Transmute.main(
      ["train", "--a", root + "/A", "--b", root + "/B", "--n-epochs", "1", "--n-epochs-decay", "0"]
        + common, console: captured.console)
    #expect(status == 0, "\(captured.error)")
    #expect(captured.out.contains("trained tiny: model in \(root)/runs/tiny/latest"))
    #expect(captured.error.contains("training tiny: 2 images in A, 2 in B, 1 epoch of 2 samples"))

    // Continuing with a longer schedule trains one more epoch; the networks cannot change.
    let more = CapturedConsole()
    #expect(
      Transmute.main(
        ["train", "--continue", "--n-epochs", "2", "--n-epochs-decay", "0"] + common.prefix(4),
        console: more.console) == 0)
    let state = try readJSON(
      TrainingState.self, from: root + "/runs/tiny/latest/training_state.json")
    #expect(state.epoch == 3 && state.iteration == 4)

    // Continuing a run that has trained all its epochs says so instead of "continuing".
    let done = CapturedConsole()
    #expect(
      Transmute.main(["train", "--continue"] + common.prefix(4), console: done.console) == 0)
    #expect(
      done.error.contains(
        "the run has already trained its 2 epochs: nothing to do; give a longer --n-epochs"),
      "\(done.error)")
    #expect(!done.error.contains("continuing at"), "\(done.error)")

    let refused = CapturedConsole()
    #expect(
      Transmute.main(
        ["train", "--continue", "--ngf", "4"] + common.prefix(4), console: refused.console) == 2)
    #expect(refused.error.contains("'--ngf' cannot change when continuing"))
  }
}
