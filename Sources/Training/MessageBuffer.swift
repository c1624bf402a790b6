/// Lines collected from the loader's background thread and shown by the training loop.
import Foundation

final class MessageBuffer: @unchecked Sendable {
  private let lock = NSLock()
  private var collected: [String] = []

  func append(_ line: String) { lock.withLock { collected.append(line) } }

  /// Every line so far.
  var lines: [String] { lock.withLock { collected } }

  /// The lines not taken yet, which are then forgotten.
  func take() -> [String] {
    lock.withLock {
      let taken = collected
      collected = []
      return taken
    }
  }
}
