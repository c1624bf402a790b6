import Dispatch
import Kernels

// Tensors' own loops (elementwise, norms, padding) spread over the thread budget of
// `Kernels.ComputeThreads`, and never while a kernel's sgemm runs (operations run one after
// another on the caller's thread), so OpenBLAS and these loops never oversubscribe the cores.

/// Carries a closure into Dispatch workers; the callers' workers write disjoint memory.
private struct WorkerClosure: @unchecked Sendable {
  let body: (Range<Int>) -> Void
}

/// Runs `body` over `0..<count` split into contiguous ranges, one per worker, with at most
/// `ComputeThreads.threadCount` workers and at least `minimumPerWorker` indices each; inline
/// when one worker is enough. `body` must write only memory that no other range writes.
func forEachRange(_ count: Int, minimumPerWorker: Int, _ body: (Range<Int>) -> Void) {
  let workers = min(ComputeThreads.threadCount, count / max(1, minimumPerWorker))
  if workers <= 1 {
    if count > 0 { body(0..<count) }
    return
  }
  withoutActuallyEscaping(body) { body in
    let shared = WorkerClosure(body: body)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      shared.body((count * worker / workers)..<(count * (worker + 1) / workers))
    }
  }
}

/// Elements per worker below which splitting an elementwise loop does not pay.
let elementsPerWorker = 1 << 16
