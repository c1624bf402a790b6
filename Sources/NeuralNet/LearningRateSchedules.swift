/// Learning-rate schedules of the CycleGAN reference (`--lr_policy`), stepped once per epoch.
import Foundation

/// How the learning rate changes from epoch to epoch (the reference's `get_scheduler`).
public enum LearningRatePolicy: Sendable, Codable, Equatable {
  /// The reference's lambda rule: the factor `1 − max(0, epoch + startEpoch − constantEpochs)
  /// / (decayEpochs + 1)`, i.e. constant for `constantEpochs` (`--n_epochs`) epochs, then a
  /// linear decay over `decayEpochs` (`--n_epochs_decay`); `startEpoch` is `--epoch_count`
  /// (1 unless resuming). The factor goes on falling past the end, as in the reference.
  case linear(constantEpochs: Int, decayEpochs: Int, startEpoch: Int)
  /// PyTorch's `StepLR`: multiplied by `factor` every `stepEpochs` epochs (the reference:
  /// `--lr_decay_iters` and 0.1).
  case step(stepEpochs: Int, factor: Double)
  /// PyTorch's `CosineAnnealingLR` with `T_max = periodEpochs` (`--n_epochs`) down to
  /// `minimum` (0 in the reference), following the closed form
  /// `minimum + (base − minimum)·(1 + cos(π·epoch / periodEpochs)) / 2`.
  case cosine(periodEpochs: Int, minimum: Double)
  /// PyTorch's `ReduceLROnPlateau` in `min` mode with a relative threshold: after more than
  /// `patience` epochs without the metric falling below `best·(1 − threshold)`, the rate is
  /// multiplied by `factor` (the reference: 0.2, 0.01, 5).
  case plateau(factor: Double, threshold: Double, patience: Int)
}

/// A learning rate that changes once per epoch, as a PyTorch LR scheduler attached to the
/// optimiser: `learningRate` starts at the epoch-0 value and `step(metric:)` moves it on.
///
/// The whole state is in this value (`Codable`), so that a resumed run continues exactly.
public struct LearningRateSchedule: Sendable, Codable, Equatable {
  /// The rate the optimiser was created with (PyTorch's `initial_lr`, the reference's `--lr`).
  public let baseLearningRate: Double
  public let policy: LearningRatePolicy

  /// Scheduler steps taken so far (PyTorch's `last_epoch`).
  public private(set) var epoch: Int = 0

  /// The rate to use now.
  public private(set) var learningRate: Double

  /// Plateau only: the best metric so far, epochs since it improved.
  public private(set) var bestMetric: Double = .infinity
  public private(set) var epochsWithoutImprovement: Int = 0

  public init(baseLearningRate: Double, policy: LearningRatePolicy) {
    switch policy {
    case .linear(let constant, let decay, _):
      precondition(constant >= 0 && decay >= 0, "linear schedule: negative epoch counts")
    case .step(let stepEpochs, _):
      precondition(stepEpochs > 0, "step schedule: step must be positive, got \(stepEpochs)")
    case .cosine(let period, _):
      precondition(period > 0, "cosine schedule: period must be positive, got \(period)")
    case .plateau(let factor, _, let patience):
      precondition(factor > 0 && factor < 1 && patience >= 0, "plateau: factor \(factor)")
    }
    self.baseLearningRate = baseLearningRate
    self.policy = policy
    learningRate = baseLearningRate
    learningRate = rate(atEpoch: 0)
  }

  /// Ends an epoch. `metric` is needed by the plateau policy (lower is better) and ignored by
  /// the others.
  public mutating func step(metric: Double? = nil) {
    epoch += 1
    if case .plateau(let factor, let threshold, let patience) = policy {
      guard let metric else {
        preconditionFailure("the plateau schedule needs a metric at each step")
      }
      if metric < bestMetric * (1 - threshold) {
        bestMetric = metric
        epochsWithoutImprovement = 0
      } else {
        epochsWithoutImprovement += 1
      }
      if epochsWithoutImprovement > patience {
        let reduced = learningRate * factor
        if learningRate - reduced > 1e-8 { learningRate = reduced }
        epochsWithoutImprovement = 0
      }
      return
    }
    learningRate = rate(atEpoch: epoch)
  }

  /// The rate of a stateless policy after `epoch` steps.
  private func rate(atEpoch epoch: Int) -> Double {
    switch policy {
    case .linear(let constant, let decay, let start):
      let factor = 1 - Double(max(0, epoch + start - constant)) / Double(decay + 1)
      return baseLearningRate * factor
    case .step(let stepEpochs, let factor):
      return baseLearningRate * pow(factor, Double(epoch / stepEpochs))
    case .cosine(let period, let minimum):
      return minimum
        + (baseLearningRate - minimum) * (1 + cos(Double.pi * Double(epoch) / Double(period)))
        / 2
    case .plateau:
      return learningRate
    }
  }
}
