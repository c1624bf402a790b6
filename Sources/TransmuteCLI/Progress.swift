/// Progress for long work: on a terminal one line redrawn in place with a bar, the count, the
/// rate and the time left; elsewhere (logs, pipes) a plain line every so often, fixed in form:
/// `progress 120/1067 11.3/s eta 1m24s`.
import Foundation

/// Reports progress of `total` units of work (images, steps) to a console.
public final class ProgressReporter: @unchecked Sendable {
  private let console: Console
  private let label: String
  private let total: Int?
  private let unit: String
  private let started = Date()
  private let lock = NSLock()
  private var completed = 0
  /// Units done without work (an output that exists, a file that failed): counted, but not in
  /// the rate.
  private var withoutWork = 0
  private var lastDraw = Date.distantPast
  private let plainInterval: TimeInterval
  private let quiet: Bool

  /// - Parameters:
  ///   - label: a word that starts each line (`translate`, `epoch 3`).
  ///   - total: the number of units, if known.
  ///   - unit: what a unit is, for the rate (`img`, `step`).
  ///   - plainInterval: seconds between plain lines when not on a terminal.
  ///   - quiet: report nothing.
  public init(
    console: Console, label: String, total: Int?, unit: String, plainInterval: TimeInterval = 10,
    quiet: Bool = false
  ) {
    self.console = console
    self.label = label
    self.total = total
    self.unit = unit
    self.plainInterval = plainInterval
    self.quiet = quiet
  }

  /// Marks `count` more units done; `detail` (say, the current losses) follows the counts.
  /// Units done `withoutWork` count towards the total but not towards the rate.
  public func advance(by count: Int = 1, withoutWork: Bool = false, detail: String = "") {
    lock.lock()
    defer { lock.unlock() }
    completed += count
    if withoutWork { self.withoutWork += count }
    guard !quiet else { return }
    let now = Date()
    let finished = total.map { completed >= $0 } ?? false
    if console.isTerminal {
      guard finished || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
      lastDraw = now
      console.errorRaw("\r\u{1B}[2K" + line(now: now, detail: detail, bar: true))
      if finished { console.errorRaw("\n") }
    } else {
      guard finished || now.timeIntervalSince(lastDraw) >= plainInterval else { return }
      lastDraw = now
      console.error(line(now: now, detail: detail, bar: false))
    }
  }

  /// Ends the progress line on a terminal so that later output starts on a fresh line.
  public func finish() {
    lock.lock()
    defer { lock.unlock() }
    if console.isTerminal && !quiet, let total, completed < total { console.errorRaw("\n") }
  }

  /// The text of one progress line.
  func line(now: Date, detail: String, bar: Bool) -> String {
    let elapsed = now.timeIntervalSince(started)
    // No rate before a second of work: a fast failure or a skipped file first would make one
    // up (thousands a second), and nothing done claims none.
    let worked = completed - withoutWork
    let rate = elapsed >= 1 && worked > 0 ? Double(worked) / elapsed : nil
    var parts = [label]
    if let total {
      if bar {
        let width = 24
        let filled = total > 0 ? min(width, completed * width / total) : width
        parts.append(
          "[" + String(repeating: "#", count: filled)
            + String(repeating: ".", count: width - filled) + "]")
      }
      parts.append("\(completed)/\(total)")
    } else {
      parts.append("\(completed)")
    }
    if let rate { parts.append(String(format: "%.2f %@/s", rate, unit)) }
    if let total, let rate, completed < total {
      parts.append("eta " + formatDuration(Double(total - completed) / rate))
    } else {
      parts.append("elapsed " + formatDuration(elapsed))
    }
    if !detail.isEmpty { parts.append(detail) }
    return parts.joined(separator: " ")
  }
}

/// A duration as `1h02m`, `3m05s` or `42s`.
public func formatDuration(_ seconds: Double) -> String {
  guard seconds.isFinite, seconds >= 0 else { return "?" }
  let whole = Int(seconds.rounded())
  if whole >= 3600 { return String(format: "%dh%02dm", whole / 3600, (whole % 3600) / 60) }
  if whole >= 60 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
  return "\(whole)s"
}
