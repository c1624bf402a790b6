/// The training loop of `transmute train`: epochs of unaligned batches through the CycleGAN
/// step, with the loss log, samples, report and checkpoints of the run folder, and exact
/// resumption from `latest`.
import Foundation
import ImageIO
import Kernels
import NeuralNet
import Tensors

/// Where a run stands, saved with every checkpoint as `training_state.json`.
public struct TrainingState: Codable, Sendable, Equatable {
  /// Bumped when the checkpoint layout changes; older layouts are refused with a message.
  public static let currentFormatVersion = 1

  public var formatVersion = TrainingState.currentFormatVersion
  /// The epoch in progress, from 1.
  public var epoch = 1
  /// Batches of `epoch` already trained on.
  public var stepsDoneInEpoch = 0
  /// Batches trained on since the run started.
  public var iteration = 0
  /// The learning rate schedule, shared by both optimisers (as the reference's two schedulers,
  /// which always agree).
  public var schedule: LearningRateSchedule
  /// The sum and count of the generator objective over the epoch so far (the plateau metric).
  public var epochGeneratorLoss = 0.0
  public var epochSteps = 0
}

/// A CycleGAN training run in its run folder.
public final class Trainer {
  /// How a call to `run()` ended.
  public enum Outcome: Sendable, Equatable {
    /// Every epoch was trained.
    case finished
    /// A stop was requested (SIGINT, SIGTERM or `stopRequest`); `latest` holds the state.
    case interrupted
  }

  public let options: TrainingOptions
  public let folder: RunFolder
  public weak var observer: (any TrainingObserver)?
  /// Set to stop after the current step; SIGINT and SIGTERM set it while `run()` runs.
  public let stopRequest = StopRequest()
  /// Whether `run()` catches SIGINT and SIGTERM (tests turn it off).
  public var handlesSignals = true
  /// Stop (as if interrupted) once this many iterations are done: for tests of resumption.
  public var stopAfterIteration: Int? = nil

  let dataset: UnalignedDataset
  public private(set) var model: CycleGAN
  public private(set) var state: TrainingState
  private var fakeAPool: ImagePool
  private var fakeBPool: ImagePool
  private let started = Date()
  /// Lines from the loader's thread and the signal handler, shown between steps.
  private let pending: MessageBuffer

  /// Prepares a run: scans the folders, builds the networks (fresh from `options.seed`, or
  /// with `resume` from `latest`), and writes `options.json`.
  public init(options: TrainingOptions, resume: Bool) throws {
    try options.validate()
    self.options = options
    folder = RunFolder(path: options.runDirectory)
    let pending = MessageBuffer()
    self.pending = pending
    dataset = try UnalignedDataset(options: options, report: { pending.append($0) })
    model = CycleGAN(options: options)
    state = TrainingState(
      schedule: LearningRateSchedule(
        baseLearningRate: options.learningRate, policy: options.schedulePolicy))
    fakeAPool = ImagePool(capacity: options.poolSize)
    fakeBPool = ImagePool(capacity: options.poolSize)

    if resume {
      let checkpoint = try Checkpoint.locate(in: folder)
      let restored = try Checkpoint.load(from: checkpoint, into: model, options: options)
      state = restored.state
      state.schedule = try Self.continuedSchedule(restored.state.schedule, options: options)
      fakeAPool = restored.fakeAPool
      fakeBPool = restored.fakeBPool
      try folder.truncateLosses(after: state.iteration)
    } else {
      if FileManager.default.fileExists(atPath: folder.latestCheckpoint) {
        throw TrainingError.invalidOptions(
          "\(folder.path) already holds a run: add --continue to resume it, or choose another"
            + " --name")
      }
    }
    try folder.create()
    try folder.saveOptions(options)

    // A fresh start over a run that never reached its first checkpoint drops that run's log.
    if !resume { try folder.truncateLosses(after: 0) }
  }

  /// The saved schedule, rebuilt when a continued run's options change it (a longer
  /// `--n-epochs`, another `--lr`): the new schedule stepped through the epochs already done,
  /// so the rates are those of a run started with the new options. A plateau schedule depends
  /// on past losses, so its rate and policy cannot change.
  static func continuedSchedule(_ saved: LearningRateSchedule, options: TrainingOptions) throws
    -> LearningRateSchedule
  {
    let policy = options.schedulePolicy
    if saved.policy == policy && saved.baseLearningRate == options.learningRate { return saved }
    if case .plateau = policy {
      throw TrainingError.invalidOptions(
        "--lr and --lr-policy cannot change when continuing into a plateau schedule: it depends"
          + " on the losses of the epochs already trained; leave them out")
    }
    var schedule = LearningRateSchedule(baseLearningRate: options.learningRate, policy: policy)
    for _ in 0..<saved.epoch { schedule.step() }
    return schedule
  }

  /// Trains until the last epoch or a stop request.
  public func run() throws -> Outcome {
    if let threads = options.threads { ComputeThreads.setThreadCount(threads) }
    if handlesSignals {
      let pending = self.pending
      stopRequest.installSignalHandlers { name in
        pending.append(
          "\(name): finishing the step, then saving latest (\(name) again quits at once)")
      }
    }
    defer { if handlesSignals { stopRequest.uninstall() } }

    for line in pending.take() { note(line) }
    let epochs = "\(options.totalEpochs) epoch\(options.totalEpochs == 1 ? "" : "s")"
    note(
      "training \(options.name): \(dataset.imagesA.count) images in A, "
        + "\(dataset.imagesB.count) in B, \(epochs) of "
        + "\(max(dataset.imagesA.count, dataset.imagesB.count)) samples; run folder \(folder.path)")
    if state.epoch > options.totalEpochs {
      note(
        "the run has already trained its \(epochs): nothing to do; give a longer --n-epochs or "
          + "--n-epochs-decay with --continue to train further")
    } else if state.iteration > 0 {
      note("continuing at epoch \(state.epoch), step \(state.stepsDoneInEpoch + 1)")
    }

    while state.epoch <= options.totalEpochs {
      let epoch = state.epoch
      let plan = epochPlan(epoch)
      observer?.epochStarted(
        epoch: epoch, totalEpochs: options.totalEpochs, steps: plan.batches.count,
        stepsDone: state.stepsDoneInEpoch)
      let loader = dataset.epoch(plan, skipping: state.stepsDoneInEpoch)
      defer { loader.cancel() }
      model.learningRate = state.schedule.learningRate
      var lastVisuals: Visuals? = nil

      while let batch = try loader.next() {
        let (losses, visuals) = model.step(
          realA: batch.realA, realB: batch.realB, fakeAPool: &fakeAPool, fakeBPool: &fakeBPool,
          random: stepRandoms(iteration: state.iteration))
        state.iteration += 1
        state.stepsDoneInEpoch += 1
        state.epochGeneratorLoss += Double(losses.generatorTotal)
        state.epochSteps += 1
        lastVisuals = visuals

        let record = LossRecord(
          epoch: epoch, iteration: state.iteration, stepInEpoch: state.stepsDoneInEpoch,
          learningRate: state.schedule.learningRate, seconds: Date().timeIntervalSince(started),
          losses: losses)
        try folder.appendLoss(record)
        for line in pending.take() { note(line) }
        observer?.stepFinished(record)
        if state.iteration % options.printFrequency == 0 {
          try folder.appendLog(
            String(
              format: "epoch %d step %d/%d iter %d lr %.3e ", epoch, state.stepsDoneInEpoch,
              plan.batches.count, state.iteration, state.schedule.learningRate)
              + losses.summary)
        }
        if state.iteration % options.sampleFrequency == 0 {
          try saveSamples(visuals, epoch: epoch)
        }
        if state.iteration % options.latestFrequency == 0 {
          try saveCheckpoint(to: folder.latestCheckpoint)
        }
        if stopRequest.isRequested
          || stopAfterIteration.map({ state.iteration >= $0 }) == true
        {
          try saveCheckpoint(to: folder.latestCheckpoint)
          observer?.epochEnded(epoch: epoch)
          note("stopped at epoch \(epoch), iteration \(state.iteration): saved latest")
          return .interrupted
        }
      }
      observer?.epochEnded(epoch: epoch)

      // End of the epoch: samples, the next learning rate, checkpoints.
      if let lastVisuals { try saveSamples(lastVisuals, epoch: epoch) }
      let metric = state.epochSteps > 0 ? state.epochGeneratorLoss / Double(state.epochSteps) : 0
      state.schedule.step(metric: metric)
      state.epoch += 1
      state.stepsDoneInEpoch = 0
      state.epochGeneratorLoss = 0
      state.epochSteps = 0
      try saveCheckpoint(to: folder.latestCheckpoint)
      if epoch % options.epochFrequency == 0 || epoch == options.totalEpochs {
        try saveCheckpoint(to: folder.epochCheckpoint(epoch))
      }
      try folder.appendLog(
        "epoch \(epoch) done, iteration \(state.iteration), "
          + String(format: "%.0f s", Date().timeIntervalSince(started))
          + String(format: ", next lr %.3e", state.schedule.learningRate))
    }
    note("finished \(epochs): model in \(folder.latestCheckpoint)")
    return .finished
  }

  /// The plan of `epoch`, drawn from its own generator so that it can be drawn again.
  func epochPlan(_ epoch: Int) -> EpochPlan {
    var random = RandomGenerator(seed: options.seed, stream: .loader, counter: UInt64(epoch))
    return EpochPlan(
      countA: dataset.imagesA.count, countB: dataset.imagesB.count, batchSize: options.batchSize,
      serial: options.serialBatches, flip: options.flip, random: &random)
  }

  /// The generators of one step, fixed by the seed and the iteration.
  func stepRandoms(iteration: Int) -> StepRandoms {
    StepRandoms(
      fakeAPool: RandomGenerator(seed: options.seed, stream: .poolA, counter: UInt64(iteration)),
      fakeBPool: RandomGenerator(seed: options.seed, stream: .poolB, counter: UInt64(iteration)),
      dropoutSeed: RandomGenerator.derivedSeed(options.seed, .dropout, UInt64(iteration)))
  }

  /// Writes the checkpoint at `path` (a model directory plus the training state), atomically.
  func saveCheckpoint(to path: String) throws {
    try Checkpoint.save(
      model: model, state: state, fakeAPool: fakeAPool, fakeBPool: fakeBPool, to: path)
  }

  /// Writes the sample images of a step and rebuilds `index.html`.
  func saveSamples(_ visuals: Visuals, epoch: Int) throws {
    for (label, tensor) in visuals.named {
      let path =
        folder.samplesFolder + "/"
        + sampleFileName(epoch: epoch, iteration: state.iteration, label: label)
      do {
        try Image(tensor: tensor).write(to: FilePath(path), as: .png(bitDepth: 8))
      } catch {
        throw TrainingError.file(path: path, reason: "cannot write a sample: \(error)")
      }
    }
    try writeReport(folder: folder, options: options, records: try folder.loadLosses())
  }

  private func note(_ line: String) {
    observer?.message(line)
    try? folder.appendLog(line)
  }
}
