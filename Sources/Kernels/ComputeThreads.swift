import CBLAS
import Dispatch
import Foundation
import Synchronization

/// The thread policy of every compute loop in Transmute.
///
/// One budget, `threadCount` (all cores unless set), covers all the work of a kernel, and only
/// our own Dispatch workers spend it: OpenBLAS is switched to one thread and each worker
/// calls `cblas_sgemm` on its own slice of a product (`ComputeThreads.sgemm`). OpenBLAS's own
/// pool would otherwise keep spinning (`sched_yield`) after every product and fight the
/// Dispatch loops that follow it (im2col, transforms, norms) for the same two cores; measured,
/// that cost a quarter of the time of a Winograd layer.
///
/// > Note: callers that run kernels from several threads at once (for example a pipeline that
/// > decodes on one thread while a model runs on another) should lower the budget with
/// > `setThreadCount(_:)` so that the sum stays within the cores.
public enum ComputeThreads {
  /// The cores this process may use.
  public static let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

  private static let budget = Mutex<Int>(0)

  /// The Dispatch workers a kernel may keep busy, at least 1.
  public static var threadCount: Int {
    let current = budget.withLock { $0 }
    if current > 0 { return current }
    setThreadCount(coreCount)
    return coreCount
  }

  /// Sets the thread budget of the kernels to `count` (at least 1).
  public static func setThreadCount(_ count: Int) {
    precondition(count >= 1, "thread count must be at least 1, got \(count)")
    budget.withLock { value in
      value = count
      openblas_set_num_threads(1)
    }
  }

  /// Makes sure OpenBLAS runs single-threaded before a kernel calls it.
  static func prepareBLAS() {
    _ = threadCount
  }

  /// Runs `body` over `0..<count` split into contiguous ranges (about four per worker, taken
  /// by whichever worker is free), with at most `threadCount` workers and at least
  /// `minimumPerWorker` indices per worker; runs inline when one worker is enough.
  ///
  /// `body` must only write to memory that no other range writes.
  public static func parallelRanges(
    _ count: Int, minimumPerWorker: Int = 1, _ body: (Range<Int>) -> Void
  ) {
    let workers = min(threadCount, max(1, count / max(1, minimumPerWorker)))
    if workers <= 1 {
      if count > 0 { body(0..<count) }
      return
    }
    // Workers take blocks from a shared counter as they come free, so one that starts late (a
    // sleeping thread takes tens of microseconds to wake) leaves its share to the others;
    // measured, fixed halves made 36 small products no faster on two threads than on one.
    let block = max(1, count / (workers * 4))
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
      let shared = UnsafeSendableBox(body)
      withUnsafePointer(to: next) { next in
        let counter = UnsafeSendableBox(next)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
          while true {
            let first = counter.value.pointee.wrappingAdd(block, ordering: .relaxed).oldValue
            if first >= count { break }
            shared.value(first..<min(first + block, count))
          }
        }
      }
    }
  }

  /// Runs `body(i)` for every `i` in `0..<count`, spread over at most `threadCount` workers
  /// in contiguous blocks (`parallelRanges`); runs inline when one worker is enough.
  ///
  /// `body` must only write to memory that no other index writes.
  public static func parallelFor(_ count: Int, minimumPerWorker: Int = 1, _ body: (Int) -> Void) {
    parallelRanges(count, minimumPerWorker: minimumPerWorker) { range in
      for index in range { body(index) }
    }
  }

  /// Row-major `C [M, N] = alpha · op(A) [M, K] × op(B) [K, N] + beta · C`, split into slices
  /// of `C` (along its longer side) that the workers multiply with single-threaded OpenBLAS.
  public static func sgemm(
    transposeA: Bool, transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, alpha: Float = 1,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
    beta: Float = 0, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    _ = threadCount
    let orderA = transposeA ? CblasTrans : CblasNoTrans
    let orderB = transposeB ? CblasTrans : CblasNoTrans
    // A slice should be worth a thread: at least about 4 MFLOP.
    let workers = min(threadCount, max(1, 2 * m * n * k / (4 << 20)))
    let alongColumns = n >= m
    let length = alongColumns ? n : m
    let slices = min(workers, max(1, length / 16))
    parallelFor(slices) { slice in
      // Slice boundaries on multiples of 16 keep OpenBLAS's panels whole.
      let start = length * slice / slices / 16 * 16
      let end = slice == slices - 1 ? length : length * (slice + 1) / slices / 16 * 16
      if end <= start { return }
      if alongColumns {
        cblas_sgemm(
          CblasRowMajor, orderA, orderB, Int32(m), Int32(end - start), Int32(k), alpha, a,
          Int32(lda), transposeB ? b + start * ldb : b + start, Int32(ldb), beta, c + start,
          Int32(ldc))
      } else {
        cblas_sgemm(
          CblasRowMajor, orderA, orderB, Int32(end - start), Int32(n), Int32(k), alpha,
          transposeA ? a + start : a + start * lda, Int32(lda), b, Int32(ldb), beta,
          c + start * ldc, Int32(ldc))
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
