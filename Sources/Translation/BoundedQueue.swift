/// A first-in first-out hand-over between threads that holds at most `capacity` elements: a
/// producer that runs ahead blocks in `push` until the consumer has taken one, so that memory
/// stays flat however many files a run has.
import Foundation

final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
  private let capacity: Int
  private let condition = NSCondition()
  private var elements: [Element] = []
  private var isClosed = false

  /// - Parameter capacity: how many elements may wait at once (at least 1).
  init(capacity: Int) {
    precondition(capacity >= 1, "a bounded queue needs a capacity of at least 1, got \(capacity)")
    self.capacity = capacity
  }

  /// The number of elements waiting.
  var count: Int {
    condition.lock()
    defer { condition.unlock() }
    return elements.count
  }

  /// Adds `element` at the back, waiting while the queue is full. Returns false, dropping the
  /// element, when the queue was closed (the consumer gave up).
  @discardableResult
  func push(_ element: Element) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while !isClosed && elements.count >= capacity { condition.wait() }
    guard !isClosed else { return false }
    elements.append(element)
    condition.broadcast()
    return true
  }

  /// Takes the element at the front, waiting while the queue is empty. Returns nil once the
  /// queue is closed and empty.
  func pop() -> Element? {
    condition.lock()
    defer { condition.unlock() }
    while !isClosed && elements.isEmpty { condition.wait() }
    guard !elements.isEmpty else { return nil }
    // The queue holds at most `capacity` elements, so removing the first is cheap, and it drops
    // the queue's reference at once (an element may be a large image).
    let element = elements.removeFirst()
    condition.broadcast()
    return element
  }

  /// Ends the queue: pushes are refused from now on, and pops return what is left, then nil.
  func close() {
    condition.lock()
    isClosed = true
    condition.broadcast()
    condition.unlock()
  }
}
