/// What a training run tells whoever watches it (the command line shows it; tests ignore it).
public protocol TrainingObserver: AnyObject {
  /// A line worth showing once: the run's set-up, a skipped file, a saved checkpoint.
  func message(_ line: String)
  /// An epoch begins: `epoch` of `totalEpochs`, `stepsDone` of its `steps` already done (more
  /// than 0 when resuming mid-epoch).
  func epochStarted(epoch: Int, totalEpochs: Int, steps: Int, stepsDone: Int)
  /// A step finished, with its losses.
  func stepFinished(_ record: LossRecord)
  /// The epoch ended (or was interrupted).
  func epochEnded(epoch: Int)
}
