/// Running a plan: decoding on one thread, the model on the calling thread, encoding on a third,
/// joined by bounded queues so that at most a few images are in memory whatever the number of
/// files. A bad file is reported and the run goes on.
import Foundation
import ImageIO
import Tensors

/// What happened to one planned file.
public enum TranslationOutcome: Sendable, Equatable {
  /// Written to its output; `seconds` spent on it: decoding, translating and writing, without
  /// the waits in the queues between them (which are the time of the images before it).
  case translated(seconds: Double)
  /// Left alone because its output already exists (`--skip-existing`).
  case skipped
  /// Not translated, for this reason (the path is the file's).
  case failed(reason: String)
}

/// One input with its outcome, reported as soon as it is known.
public struct TranslationEvent: Sendable {
  /// The input file.
  public var input: FilePath
  /// Its output, nil for an entry the scan found unusable.
  public var output: FilePath?
  public var outcome: TranslationOutcome
}

/// The end of a run: counts, and every failure with its reason in plan order.
public struct TranslationSummary: Sendable, Equatable {
  public var translated = 0
  public var skipped = 0
  /// `(input, reason)` for each failed file, in plan order.
  public var failures: [(input: FilePath, reason: String)] = []
  /// Files never started because the run was asked to stop.
  public var notStarted = 0

  public var failed: Int { failures.count }

  /// The exit status of a command that ran this: 0 when nothing failed, 1 otherwise.
  public var exitStatus: Int32 { failures.isEmpty ? 0 : 1 }

  public static func == (lhs: TranslationSummary, rhs: TranslationSummary) -> Bool {
    lhs.translated == rhs.translated && lhs.skipped == rhs.skipped
      && lhs.notStarted == rhs.notStarted
      && lhs.failures.map(\.input) == rhs.failures.map(\.input)
      && lhs.failures.map(\.reason) == rhs.failures.map(\.reason)
  }

  /// One line: `translated 12, skipped 3, failed 2` (and `, not started 40` after a stop).
  public var countsLine: String {
    "translated \(translated), skipped \(skipped), failed \(failed)"
      + (notStarted > 0 ? ", not started \(notStarted)" : "")
  }
}

/// The reason of an error for a report that names the file separately.
func reasonText(_ error: any Error) -> String {
  if case .tooLarge(_, let width, let height, let maxPixels) = error as? ImageIOError {
    return
      "the image is \(width)×\(height) = \(width * height) pixels, above the limit of "
      + "\(maxPixels) pixels (raise --max-pixels to accept it)"
  }
  if let error = error as? ImageIOError { return error.reason }
  if let error = error as? TranslationError { return error.reason }
  return String(describing: error)
}

/// Runs plans through a translator.
public struct BulkTranslation {
  public var translation: ImageTranslation

  public init(translation: ImageTranslation) {
    self.translation = translation
  }

  /// Translates every file of `plan` with `translator`, calling `onEvent` (from any thread, one
  /// call at a time) as each file is done, and returns the summary.
  ///
  /// Once `shouldStop` answers true (say, after Ctrl-C), no further file is decoded or
  /// translated, the outputs already translated are still written in full, and the files never
  /// started are counted as `notStarted`: an interrupted run leaves no partial or temporary file.
  public func run(
    _ plan: TranslationPlan, with translator: some ImageTranslator,
    onEvent: @escaping @Sendable (TranslationEvent) -> Void = { _ in },
    shouldStop: @escaping @Sendable () -> Bool = { false }
  ) -> TranslationSummary {
    let translation = self.translation
    let recorder = OutcomeRecorder(count: plan.problems.count + plan.files.count, onEvent: onEvent)
    for (index, problem) in plan.problems.enumerated() {
      recorder.record(index, problem.path, nil, .failed(reason: problem.reason))
    }
    let first = plan.problems.count
    let toModel = BoundedQueue<Decoded>(capacity: translation.options.queueDepth)
    let toEncoder = BoundedQueue<Translated>(capacity: translation.options.queueDepth)

    // Decoding thread: skip, or decode and prepare, each file in plan order.
    let decoder = Thread {
      for (index, file) in plan.files.enumerated() {
        if shouldStop() { break }
        let started = Date()
        if translation.options.skipExisting && file.output.fileKind == .file {
          recorder.record(first + index, file.input, file.output, .skipped)
          continue
        }
        do {
          let prepared = try translation.prepare(file.input, keepingSource: file.comparison != nil)
          toModel.push(
            Decoded(
              index: first + index, file: file, prepared: prepared,
              seconds: Date().timeIntervalSince(started)))
        } catch {
          recorder.record(
            first + index, file.input, file.output, .failed(reason: reasonText(error)))
        }
      }
      toModel.close()
    }

    // Encoding thread: finish, write, compare.
    let encoderDone = DispatchSemaphore(value: 0)
    let encoder = Thread {
      while let item = toEncoder.pop() {
        let started = Date()
        do {
          let image = translation.finish(item.output, item.prepared, format: item.file.format)
          try makeFolders(item.file.output.parent)
          try image.write(
            to: item.file.output,
            as: translation.encodeOptions(item.file.format, bitDepth: image.bitDepth))
          if let comparison = item.file.comparison, let source = item.prepared.source {
            try sideBySide(source, image).write(
              to: comparison, as: translation.encodeOptions(item.file.format, bitDepth: 8))
          }
          recorder.record(
            item.index, item.file.input, item.file.output,
            .translated(seconds: item.seconds + Date().timeIntervalSince(started)))
        } catch {
          recorder.record(
            item.index, item.file.input, item.file.output, .failed(reason: reasonText(error)))
        }
      }
      encoderDone.signal()
    }
    decoder.start()
    encoder.start()

    // The model, on this thread.
    while let item = toModel.pop() {
      if shouldStop() { continue }  // Drain the queue so that the decoder can finish.
      let started = Date()
      let output = translator.translate(item.prepared.tensor)
      var prepared = item.prepared
      prepared.tensor = Tensor(shape: [0], scalars: [])  // The input is no longer needed.
      toEncoder.push(
        Translated(
          index: item.index, file: item.file, prepared: prepared, output: output,
          seconds: item.seconds + Date().timeIntervalSince(started)))
    }
    toEncoder.close()
    encoderDone.wait()
    return recorder.summary()
  }
}

/// A prepared input on its way to the model.
private struct Decoded: Sendable {
  var index: Int
  var file: PlannedFile
  var prepared: PreparedImage
  /// Spent on it so far (decoding).
  var seconds: Double
}

/// A model output on its way to the encoder.
private struct Translated: Sendable {
  var index: Int
  var file: PlannedFile
  var prepared: PreparedImage
  var output: Tensor
  /// Spent on it so far (decoding and translating).
  var seconds: Double
}

/// Collects outcomes from the threads and forwards each as an event.
private final class OutcomeRecorder: @unchecked Sendable {
  private let lock = NSLock()
  private var outcomes: [TranslationOutcome?]
  private var inputs: [FilePath?]
  private let onEvent: @Sendable (TranslationEvent) -> Void

  init(count: Int, onEvent: @escaping @Sendable (TranslationEvent) -> Void) {
    outcomes = Array(repeating: nil, count: count)
    inputs = Array(repeating: nil, count: count)
    self.onEvent = onEvent
  }

  func record(
    _ index: Int, _ input: FilePath, _ output: FilePath?, _ outcome: TranslationOutcome
  ) {
    lock.lock()
    defer { lock.unlock() }
    outcomes[index] = outcome
    inputs[index] = input
    onEvent(TranslationEvent(input: input, output: output, outcome: outcome))
  }

  func summary() -> TranslationSummary {
    lock.lock()
    defer { lock.unlock() }
    var summary = TranslationSummary()
    for (outcome, input) in zip(outcomes, inputs) {
      switch outcome {
      case .translated: summary.translated += 1
      case .skipped: summary.skipped += 1
      case .failed(let reason): summary.failures.append((input ?? FilePath(""), reason))
      case nil: summary.notStarted += 1
      }
    }
    return summary
  }
}
