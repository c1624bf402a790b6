/// Ctrl-C and `kill`: SIGINT and SIGTERM are caught while training runs, and the loop stops
/// after the step under way, saves `latest` and returns. A second signal of either kind ends
/// the process at once (the checkpoint being written then stays the previous one, since
/// checkpoints are replaced atomically).
import Dispatch
import Foundation

/// Whether a stop was asked for, set by signal handlers or by code.
public final class StopRequest: @unchecked Sendable {
  private let lock = NSLock()
  private var stopRequested = false
  private var sources: [any DispatchSourceSignal] = []

  public init() {}

  /// Whether the run should stop after the current step.
  public var isRequested: Bool { lock.withLock { stopRequested } }

  /// Asks the run to stop after the current step.
  public func request() { lock.withLock { stopRequested = true } }

  /// Routes SIGINT and SIGTERM to `request()` until `uninstall()`; `onSignal` is told the name.
  public func installSignalHandlers(onSignal: @escaping @Sendable (String) -> Void) {
    for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [self] in
        if isRequested {
          // A second signal: leave now, with the default action.
          signal(number, SIG_DFL)
          raise(number)
        }
        request()
        onSignal(name)
      }
      source.resume()
      lock.withLock { sources.append(source) }
    }
  }

  /// Restores the default handling of SIGINT and SIGTERM.
  public func uninstall() {
    let installed = lock.withLock {
      let current = sources
      sources = []
      return current
    }
    for source in installed { source.cancel() }
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
  }
}
