/// Opt-in wall-time accounting by label, for the per-layer breakdown of bench/cyclegan.py.
///
/// Off by default; while off, `measure` only calls its body and recording a graph node stores
/// nothing more. While on:
/// - `measure(label) { ... }` adds the body's wall time to `label`'s forward time, less the time
///   of `measure` calls nested in it (each second is counted once, under the innermost label);
/// - every graph node recorded inside it carries the label, and `backward()` adds the time of
///   that node's backward function to the label's backward time (nodes recorded outside any
///   `measure` count under `unlabelled`);
/// - `backward()` adds its whole duration (graph sort, gradient sums, every node) to
///   `ProfileReport.backwardSeconds`.
///
/// A session belongs to the thread that called `start()`: only that thread's graphs and spans
/// are counted (the arithmetic inside operations may use other threads), so graphs built at the
/// same time on other threads are neither counted nor disturbed. There is one session per
/// process at a time: tests that start one are kept in one serialized suite.
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Seconds per label, collected between `Profiler.start()` and `Profiler.stop()`.
public struct ProfileReport: Sendable, Equatable {
  /// Forward (self) time of each `measure` label.
  public var forward: [String: Double] = [:]
  /// Time of the backward functions of the nodes recorded under each label.
  public var backward: [String: Double] = [:]
  /// Total time spent in `backward()`.
  public var backwardSeconds = 0.0

  public init() {}
}

/// The switch, the current label and the collected times (see the file's documentation).
public enum Profiler {
  /// The label of nodes recorded outside any `measure`.
  public static let unlabelled = "unlabelled"
  /// The label of the loss functions (`l1Loss`, `mseLoss`, `binaryCrossEntropyWithLogits`).
  public static let lossLabel = "loss"

  /// Whether a session is open on any thread.
  static let sessionOpen = Atomic<Bool>(false)
  /// The thread of the open session (written before `sessionOpen` is set).
  nonisolated(unsafe) static var owner = pthread_self()
  nonisolated(unsafe) static var report = ProfileReport()
  /// Open spans, innermost last: label, start and the seconds of the spans nested in it.
  nonisolated(unsafe) static var open: [(label: String, start: Double, nestedSeconds: Double)] =
    []

  /// Whether times are being collected on this thread.
  public static var isEnabled: Bool {
    sessionOpen.load(ordering: .acquiring) && pthread_equal(owner, pthread_self()) != 0
  }

  /// The label a node recorded now carries.
  static var currentLabel: String { open.last?.label ?? unlabelled }

  /// Clears the collected times and starts collecting this thread's.
  public static func start() {
    precondition(!sessionOpen.load(ordering: .acquiring), "a Profiler session is already open")
    report = ProfileReport()
    open = []
    owner = pthread_self()
    sessionOpen.store(true, ordering: .releasing)
  }

  /// Stops collecting and returns what was collected since `start()` (call it from the thread
  /// that started the session).
  public static func stop() -> ProfileReport {
    precondition(isEnabled, "Profiler.stop() without a session started on this thread")
    sessionOpen.store(false, ordering: .releasing)
    open = []
    return report
  }

  /// Runs `body`, counting its wall time (less nested `measure` calls) under `label`.
  public static func measure<Result>(_ label: String, _ body: () -> Result) -> Result {
    begin(label)
    defer { end() }
    return body()
  }

  /// Opens a measured span under `label`, to be closed by `end()` (for bodies that do not fit
  /// a closure); does nothing while profiling is off.
  public static func begin(_ label: String) {
    guard isEnabled else { return }
    open.append((label, now(), 0))
  }

  /// Closes the innermost span opened by `begin` (nothing when none is open).
  public static func end() {
    guard isEnabled, let span = open.popLast() else { return }
    let elapsed = now() - span.start
    report.forward[span.label, default: 0] += elapsed - span.nestedSeconds
    if !open.isEmpty { open[open.count - 1].nestedSeconds += elapsed }
  }

  /// Seconds since an arbitrary origin.
  static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
