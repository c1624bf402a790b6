import CBLAS
import Dispatch
import Foundation
import Synchronization

/// The thread policy of every compute loop in Transmute.
///
/// One budget, `threadCount` (all cores unless set), is shared by OpenBLAS and by our own
/// Dispatch loops, and the two never run at the same time inside a kernel: a kernel either
/// calls `cblas_sgemm` (which spreads over `threadCount` OpenBLAS threads) or runs
/// `parallelFor` (which spreads over `threadCount` Dispatch workers), one after the other.
/// So a single caller never has more busy threads than cores.
///
/// > Note: callers that run several kernels at once from their own threads (for example a
/// > pipeline that decodes on one thread while a model runs on another) should lower the
/// > budget with `setThreadCount(_:)` so that the sum stays within the cores.
public enum ComputeThreads {
  /// The cores this process may use.
  public static let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

  private static let budget = Mutex<Int>(0)

  /// The threads a kernel may keep busy (OpenBLAS's and our own), at least 1.
  public static var threadCount: Int {
    let current = budget.withLock { $0 }
    if current > 0 { return current }
    setThreadCount(coreCount)
    return coreCount
  }

  /// Sets the thread budget of OpenBLAS and of our Dispatch loops to `count` (at least 1).
  public static func setThreadCount(_ count: Int) {
    precondition(count >= 1, "thread count must be at least 1, got \(count)")
    budget.withLock { value in
      value = count
      openblas_set_num_threads(Int32(count))
    }
  }

  /// Makes sure OpenBLAS runs with the budget before a kernel calls it.
  static func prepareBLAS() {
    _ = threadCount
  }

  /// Runs `body(i)` for every `i` in `0..<count`, spread over at most `threadCount` workers
  /// in contiguous blocks; runs inline when one worker is enough.
  ///
  /// `body` must only write to memory that no other index writes.
  static func parallelFor(_ count: Int, minimumPerWorker: Int = 1, _ body: (Int) -> Void) {
    let workers = min(threadCount, max(1, count / max(1, minimumPerWorker)))
    if workers <= 1 {
      for index in 0..<count { body(index) }
      return
    }
    withoutActuallyEscaping(body) { body in
      let shared = UnsafeSendableBox(body)
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        let start = count * worker / workers
        let end = count * (worker + 1) / workers
        for index in start..<end { shared.value(index) }
      }
    }
  }
}

/// Carries a value into Dispatch workers when the caller guarantees the workers touch
/// disjoint memory (the kernels' loops write disjoint slices of their outputs).
struct UnsafeSendableBox<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
