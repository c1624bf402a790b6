/// Whole runs of the training loop on tiny folders: reproducibility from the seed, exact
/// resumption, and what the run folder holds.
import Checkpoints
import Foundation
import ImageIO
import Models
import Tensors
import Testing

@testable import Training

/// Two folders of small photo crops (5 in A, 4 in B) under a scratch folder.
func writeTinyDataset(_ root: String) throws {
  let photo = try Image(contentsOf: TestPaths.shared.appendingPathComponent("photos/coffee.png"))
  for (folder, count, offset) in [("A", 5, 0), ("B", 4, 200)] {
    try FileManager.default.createDirectory(
      atPath: root + "/" + folder, withIntermediateDirectories: true)
    for index in 0..<count {
      let crop = photo.cropped(x: offset + 37 * index, y: 20 * index, width: 40, height: 40)
      try crop.write(to: FilePath(root + "/\(folder)/\(index).png"), as: .png())
    }
  }
}

/// Options for a run of 2 epochs of 5 steps on the tiny dataset, with every feature that
/// draws random numbers switched on (shuffling, crops, flips, pool swaps, dropout).
func tinyRunOptions(_ root: String, name: String, seed: UInt64 = 7) -> TrainingOptions {
  var options = TrainingOptions(folderA: root + "/A", folderB: root + "/B", name: name)
  options.checkpointsDirectory = root + "/runs"
  options.loadSize = 36
  options.cropSize = 32
  options.ngf = 2
  options.ndf = 2
  options.generator = .resnet6Blocks
  options.dropout = true
  options.poolSize = 2
  options.epochs = 1
  options.decayEpochs = 1
  options.latestFrequency = 3
  options.sampleFrequency = 4
  options.epochFrequency = 1
  options.seed = seed
  return options
}

/// Runs a fresh training to its end (or `stopAfter` iterations) and returns how it ended.
func train(_ options: TrainingOptions, resume: Bool = false, stopAfter: Int? = nil) throws
  -> Trainer.Outcome
{
  let trainer = try Trainer(options: options, resume: resume)
  trainer.handlesSignals = false
  trainer.stopAfterIteration = stopAfter
  return try trainer.run()
}

/// The losses of every logged step of a run.
func loggedLosses(_ options: TrainingOptions) throws -> [Losses] {
  try RunFolder(path: options.runDirectory).loadLosses().map(\.losses)
}

/// The tensors of a checkpoint's file.
func checkpointTensors(_ options: TrainingOptions, _ file: String) throws -> [String: Tensor] {
  try SafetensorsFile(contentsOf: URL(fileURLWithPath: options.runDirectory + "/latest/" + file))
    .tensors
}

@Suite(.serialized) struct TrainerTests {
  @Test func sameSeedGivesTheSameRunAndAnotherSeedAnother() throws {
    let root = try makeScratchFolder("seed")
    defer { removeFolder(root) }
    try writeTinyDataset(root)

    let first = tinyRunOptions(root, name: "first")
    let second = tinyRunOptions(root, name: "second")
    let other = tinyRunOptions(root, name: "other", seed: 8)
    #expect(try train(first) == .finished)
    #expect(try train(second) == .finished)
    #expect(try train(other) == .finished)

    let losses = try loggedLosses(first)
    #expect(losses.count == 10)
    #expect(try loggedLosses(second) == losses)
    #expect(try loggedLosses(other) != losses)
    #expect(
      try checkpointTensors(first, "G_A.safetensors").mapValues(\.scalars)
        == checkpointTensors(second, "G_A.safetensors").mapValues(\.scalars))
  }

  @Test func aResumedRunEqualsAnUninterruptedOne() throws {
    let root = try makeScratchFolder("resume")
    defer { removeFolder(root) }
    try writeTinyDataset(root)

    let whole = tinyRunOptions(root, name: "whole")
    #expect(try train(whole) == .finished)

    // Stop in the middle of epoch 2 (iteration 7 of 10), then continue from `latest`.
    let parts = tinyRunOptions(root, name: "parts")
    #expect(try train(parts, stopAfter: 7) == .interrupted)
    let stopped = try readJSON(
      TrainingState.self, from: parts.runDirectory + "/latest/training_state.json")
    #expect(stopped.epoch == 2 && stopped.stepsDoneInEpoch == 2 && stopped.iteration == 7)
    #expect(try train(parts, resume: true) == .finished)

    #expect(try loggedLosses(parts) == loggedLosses(whole))
    for file in [
      "G_A.safetensors", "G_B.safetensors", "D_A.safetensors", "D_B.safetensors",
      "optimizer_G.safetensors", "optimizer_D.safetensors", "pools.safetensors",
    ] {
      let resumed = try checkpointTensors(parts, file).mapValues(\.scalars)
      let expected = try checkpointTensors(whole, file).mapValues(\.scalars)
      #expect(!expected.isEmpty, "\(file) is empty")
      #expect(resumed == expected, "\(file) differs after resuming")
    }
    #expect(
      try readJSON(TrainingState.self, from: parts.runDirectory + "/latest/training_state.json")
        == readJSON(TrainingState.self, from: whole.runDirectory + "/latest/training_state.json"))
  }

  @Test func aLongerContinuedRunTakesTheRatesOfTheLongerSchedule() throws {
    let root = try makeScratchFolder("extend")
    defer { removeFolder(root) }
    try writeTinyDataset(root)

    // 2 epochs (1 + 1 decaying), then continued with --n-epochs 2 to 3 epochs; the third
    // epoch's rate is the reference's 1 - max(0, 2 + 1 - 2) / (1 + 1) = 0.5 of --lr.
    let short = tinyRunOptions(root, name: "extended")
    #expect(try train(short) == .finished)
    var longer = short
    longer.epochs = 2
    #expect(try train(longer, resume: true) == .finished)

    let rates = try RunFolder(path: longer.runDirectory).loadLosses().map(\.learningRate)
    #expect(rates.count == 15)
    let expected =
      Array(repeating: 1.0, count: 5) + Array(repeating: 0.5, count: 5)
      + Array(repeating: 0.5, count: 5)
    for (index, (rate, factor)) in zip(rates, expected).enumerated() {
      let want = factor * short.learningRate
      #expect(abs(rate - want) <= 1e-12, "step \(index + 1): rate \(rate), expected \(want)")
    }
  }

  @Test func writesTheRunFolder() throws {
    let root = try makeScratchFolder("folder")
    defer { removeFolder(root) }
    try writeTinyDataset(root)
    let options = tinyRunOptions(root, name: "run")
    #expect(try train(options) == .finished)

    let folder = RunFolder(path: options.runDirectory)
    #expect(try folder.loadOptions() == options)
    let manager = FileManager.default
    for path in ["latest", "epoch_001", "epoch_002"] {
      let configuration = try ModelDirectory.readConfiguration(
        at: URL(fileURLWithPath: folder.path + "/" + path))
      #expect(configuration.generator.filters == 2 && configuration.networks.count == 4)
    }
    #expect(!manager.fileExists(atPath: folder.path + "/latest.partial"))
    #expect(!manager.fileExists(atPath: folder.path + "/latest.previous"))

    // Samples every 4 steps and at each epoch's end: iterations 4, 5, 8 and 10.
    let samples = try manager.contentsOfDirectory(atPath: folder.samplesFolder)
    #expect(samples.count == 4 * sampleLabels.count, "\(samples.sorted())")
    #expect(samples.contains(sampleFileName(epoch: 2, iteration: 8, label: "fake_B")))

    let report = try String(contentsOfFile: folder.reportFile, encoding: .utf8)
    #expect(report.contains("<svg") && report.components(separatedBy: "<polyline").count == 9)
    #expect(report.contains("samples/" + sampleFileName(epoch: 1, iteration: 4, label: "rec_A")))
    let log = try String(contentsOfFile: folder.logFile, encoding: .utf8)
    #expect(log.contains("epoch 2 done, iteration 10"))

    // A second fresh start in the same folder is refused: --continue or another name.
    #expect(throws: TrainingError.self) { try Trainer(options: options, resume: false) }
  }

  @Test func continuingWithoutACheckpointIsRefused() throws {
    let root = try makeScratchFolder("nothing")
    defer { removeFolder(root) }
    try writeTinyDataset(root)
    let options = tinyRunOptions(root, name: "never")
    #expect(throws: TrainingError.nothingToContinue(path: options.runDirectory)) {
      try Trainer(options: options, resume: true)
    }
  }
}
