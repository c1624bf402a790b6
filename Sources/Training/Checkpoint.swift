/// Training checkpoints: a model directory (Models' `config.json` and `G_A`, `G_B`, `D_A`,
/// `D_B` safetensors, usable by `transmute translate` as it is) plus what resuming needs:
///
/// ```
/// optimizer_G.safetensors   Adam moments of both generators: exp_avg.G_A.model.1.weight, …
/// optimizer_D.safetensors   the same for the discriminators; step counts in the metadata
/// pools.safetensors         the image pools: fake_A.0, fake_A.1, …, fake_B.0, …
/// training_state.json       epoch, step, iteration, LR schedule (TrainingState)
/// ```
///
/// A checkpoint is written into a fresh folder beside its destination and then renamed into
/// place; the previous one is kept as `NAME.previous` until the rename is done, so an
/// interruption at any moment leaves one complete checkpoint.
import Checkpoints
import Foundation
import Models
import NeuralNet
import Tensors

enum Checkpoint {
  static let stateFile = "training_state.json"
  static let poolsFile = "pools.safetensors"
  static let generatorOptimizerFile = "optimizer_G.safetensors"
  static let discriminatorOptimizerFile = "optimizer_D.safetensors"

  /// What `load` restores besides the weights.
  struct Restored {
    var state: TrainingState
    var fakeAPool: ImagePool
    var fakeBPool: ImagePool
  }

  /// Writes a checkpoint of `model` and the run's state at `path`, replacing any there.
  static func save(
    model: CycleGAN, state: TrainingState, fakeAPool: ImagePool, fakeBPool: ImagePool,
    to path: String
  ) throws {
    let manager = FileManager.default
    let partial = path + ".partial"
    let previous = path + ".previous"
    try? manager.removeItem(atPath: partial)

    do {
      try ModelDirectory.save(
        configuration: model.configuration, networks: model.networks,
        to: URL(fileURLWithPath: partial))
      let optimizers = model.optimizerStates
      try write(optimizers.generators, to: partial + "/" + generatorOptimizerFile)
      try write(optimizers.discriminators, to: partial + "/" + discriminatorOptimizerFile)

      var pooled: [String: Tensor] = [:]
      for (index, image) in fakeAPool.images.enumerated() { pooled["fake_A.\(index)"] = image }
      for (index, image) in fakeBPool.images.enumerated() { pooled["fake_B.\(index)"] = image }
      try SafetensorsFile(
        tensors: pooled,
        metadata: ["fake_A": "\(fakeAPool.images.count)", "fake_B": "\(fakeBPool.images.count)"]
      ).write(to: URL(fileURLWithPath: partial + "/" + poolsFile))
      try writeJSON(state, to: partial + "/" + stateFile)
    } catch {
      try? manager.removeItem(atPath: partial)
      throw TrainingError.file(path: path, reason: "cannot write the checkpoint: \(error)")
    }

    // Swap the new checkpoint in.
    try? manager.removeItem(atPath: previous)
    do {
      if manager.fileExists(atPath: path) { try manager.moveItem(atPath: path, toPath: previous) }
      try manager.moveItem(atPath: partial, toPath: path)
    } catch {
      throw TrainingError.file(
        path: path, reason: "cannot move the new checkpoint into place: \(error)")
    }
    try? manager.removeItem(atPath: previous)
  }

  /// The checkpoint to continue from: `latest`, or `latest.previous` if a swap was cut short.
  static func locate(in folder: RunFolder) throws(TrainingError) -> String {
    let manager = FileManager.default
    for candidate in [folder.latestCheckpoint, folder.latestCheckpoint + ".previous"]
    where manager.fileExists(atPath: candidate + "/" + stateFile) {
      return candidate
    }
    throw .nothingToContinue(path: folder.path)
  }

  /// Loads the weights and optimiser moments at `path` into `model` and returns the rest.
  static func load(
    from path: String, into model: CycleGAN, options: TrainingOptions
  ) throws -> Restored {
    let state = try readJSON(TrainingState.self, from: path + "/" + stateFile)
    guard state.formatVersion == TrainingState.currentFormatVersion else {
      throw TrainingError.incompatibleState(
        path: path,
        reason: "training state format \(state.formatVersion); this build reads version "
          + "\(TrainingState.currentFormatVersion)")
    }

    let url = URL(fileURLWithPath: path)
    let configuration = try ModelDirectory.readConfiguration(at: url)
    guard configuration.generator == model.configuration.generator,
      configuration.discriminator == model.configuration.discriminator,
      configuration.channelsA == model.configuration.channelsA,
      configuration.channelsB == model.configuration.channelsB
    else {
      throw TrainingError.incompatibleState(
        path: path, reason: "its networks differ from those the options describe")
    }
    for (role, network) in model.networks {
      try ModelDirectory.loadWeights(into: network, from: url.appendingPathComponent(role.fileName))
    }
    do {
      try model.restoreOptimizers(
        generators: try readAdam(path + "/" + generatorOptimizerFile),
        discriminators: try readAdam(path + "/" + discriminatorOptimizerFile))
    } catch let error as TrainingError {
      throw error
    } catch {
      throw TrainingError.incompatibleState(path: path, reason: "\(error)")
    }

    let pools: SafetensorsFile
    do {
      pools = try SafetensorsFile(contentsOf: URL(fileURLWithPath: path + "/" + poolsFile))
    } catch {
      throw TrainingError.file(path: path + "/" + poolsFile, reason: error.reason)
    }
    func pool(_ name: String) throws(TrainingError) -> ImagePool {
      let count = Int(pools.metadata[name] ?? "") ?? 0
      var images = [Tensor]()
      for index in 0..<count {
        guard let image = pools.tensors["\(name).\(index)"] else {
          throw .incompatibleState(path: path, reason: "pool image \(name).\(index) is missing")
        }
        images.append(image)
      }
      guard images.count <= options.poolSize else {
        throw .incompatibleState(
          path: path,
          reason: "its pools hold \(images.count) images, more than --pool-size \(options.poolSize)"
        )
      }
      return ImagePool(capacity: options.poolSize, images: images)
    }
    return Restored(state: state, fakeAPool: try pool("fake_A"), fakeBPool: try pool("fake_B"))
  }

  /// Adam's state as safetensors: `exp_avg.NAME` and `exp_avg_sq.NAME`, steps in the metadata.
  static func write(_ state: AdamState, to path: String) throws {
    var tensors: [String: Tensor] = [:]
    var metadata: [String: String] = [:]
    for (name, moment) in state.firstMoments { tensors["exp_avg." + name] = moment }
    for (name, moment) in state.secondMoments { tensors["exp_avg_sq." + name] = moment }
    for (name, steps) in state.steps { metadata["step." + name] = "\(steps)" }
    try SafetensorsFile(tensors: tensors, metadata: metadata).write(
      to: URL(fileURLWithPath: path))
  }

  /// Reads what `write(_:to:)` wrote.
  static func readAdam(_ path: String) throws -> AdamState {
    let file = try SafetensorsFile(contentsOf: URL(fileURLWithPath: path))
    var state = AdamState()
    for (key, tensor) in file.tensors {
      if key.hasPrefix("exp_avg_sq.") {
        state.secondMoments[String(key.dropFirst("exp_avg_sq.".count))] = tensor
      } else if key.hasPrefix("exp_avg.") {
        state.firstMoments[String(key.dropFirst("exp_avg.".count))] = tensor
      }
    }
    for (key, value) in file.metadata where key.hasPrefix("step.") {
      guard let steps = Int(value) else {
        throw TrainingError.incompatibleState(path: path, reason: "step count '\(value)' of \(key)")
      }
      state.steps[String(key.dropFirst("step.".count))] = steps
    }
    return state
  }
}
