/// Runs a sequence of jobs on a background thread, at most `capacity` results ahead of the
/// consumer, and hands the results out in order. The loader decodes and augments the next
/// batches this way while the model works on the current one.
import Foundation

final class Prefetcher<Element: Sendable>: @unchecked Sendable {
  /// What the producing thread and the consumer share, guarded by `condition`.
  private final class Shared: @unchecked Sendable {
    let condition = NSCondition()
    var ready: [Result<Element, any Error>] = []
    var finished = false
    var cancelled = false
  }

  private let shared = Shared()

  /// Starts producing `produce(0)`, `produce(1)`, … up to `count - 1` in the background.
  /// `produce` is called on one thread, in order; an error it throws is handed to the consumer
  /// in its place and ends the sequence.
  init(count: Int, capacity: Int, produce: @escaping @Sendable (Int) throws -> Element) {
    precondition(capacity >= 1, "prefetch capacity must be at least 1, got \(capacity)")
    let shared = self.shared
    let thread = Thread {
      let condition = shared.condition
      for index in 0..<count {
        condition.lock()
        while shared.ready.count >= capacity && !shared.cancelled { condition.wait() }
        let stop = shared.cancelled
        condition.unlock()
        if stop { break }

        let result = Result { try produce(index) }

        condition.lock()
        shared.ready.append(result)
        condition.broadcast()
        condition.unlock()
        if case .failure = result { break }
      }
      condition.lock()
      shared.finished = true
      condition.broadcast()
      condition.unlock()
    }
    thread.name = "transmute.prefetch"
    thread.stackSize = 8 << 20
    thread.start()
  }

  /// The next result in order, waiting for it if needed; nil once all were handed out.
  func next() throws -> Element? {
    let condition = shared.condition
    condition.lock()
    defer { condition.unlock() }
    while shared.ready.isEmpty && !shared.finished { condition.wait() }
    guard !shared.ready.isEmpty else { return nil }
    let result = shared.ready.removeFirst()
    condition.broadcast()
    return try result.get()
  }

  /// Stops producing (the job under way finishes) and waits for the thread to end.
  func cancel() {
    let condition = shared.condition
    condition.lock()
    shared.cancelled = true
    condition.broadcast()
    while !shared.finished { condition.wait() }
    condition.unlock()
  }

  deinit {
    shared.condition.lock()
    shared.cancelled = true
    shared.condition.broadcast()
    shared.condition.unlock()
  }
}
