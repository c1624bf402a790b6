/// Where commands write: standard output for results, standard error for diagnostics and
/// progress. Tests capture both through `Console.capturing`.
import Foundation

/// The output channels of a command, and whether standard error is a terminal (progress bars
/// redraw in place on a terminal and print plain lines otherwise).
public struct Console: Sendable {
  private let writeOut: @Sendable (String) -> Void
  private let writeError: @Sendable (String) -> Void
  /// Whether standard error is an interactive terminal.
  public let isTerminal: Bool

  public init(
    isTerminal: Bool, out: @escaping @Sendable (String) -> Void,
    error: @escaping @Sendable (String) -> Void
  ) {
    self.isTerminal = isTerminal
    self.writeOut = out
    self.writeError = error
  }

  /// The process's standard output and standard error.
  public static var standard: Console {
    Console(
      isTerminal: isatty(STDERR_FILENO) == 1,
      out: { FileHandle.standardOutput.write(Data(($0).utf8)) },
      error: { FileHandle.standardError.write(Data(($0).utf8)) })
  }

  /// Writes a line to standard output.
  public func out(_ line: String) { writeOut(line + "\n") }

  /// Writes a line to standard error.
  public func error(_ line: String) { writeError(line + "\n") }

  /// Writes text to standard error without a newline (for redrawing a progress line).
  public func errorRaw(_ text: String) { writeError(text) }
}
