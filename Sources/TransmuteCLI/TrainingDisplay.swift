/// The command line's view of a training run: set-up and checkpoint lines on standard error,
/// and per epoch a progress line (on a terminal redrawn every step, in logs every few seconds)
/// with the step, rate, time left and the eight losses.
import Foundation
import Training

final class TrainingDisplay: TrainingObserver, @unchecked Sendable {
  private let console: Console
  private var progress: ProgressReporter?

  init(console: Console) { self.console = console }

  func message(_ line: String) {
    if console.isTerminal && progress != nil { console.errorRaw("\r\u{1B}[2K") }
    console.error(line)
  }

  func epochStarted(epoch: Int, totalEpochs: Int, steps: Int, stepsDone: Int) {
    progress?.finish()
    // A resumed epoch counts the steps that are left, so that the rate and ETA stay true.
    let label =
      stepsDone > 0
      ? "epoch \(epoch)/\(totalEpochs) (from step \(stepsDone + 1))"
      : "epoch \(epoch)/\(totalEpochs)"
    progress = ProgressReporter(
      console: console, label: label, total: steps - stepsDone, unit: "step")
  }

  func stepFinished(_ record: LossRecord) {
    progress?.advance(
      detail: String(format: "lr %.2e ", record.learningRate) + record.losses.summary)
  }

  func epochEnded(epoch: Int) {
    progress?.finish()
    progress = nil
  }

  func finish() {
    progress?.finish()
    progress = nil
  }
}
