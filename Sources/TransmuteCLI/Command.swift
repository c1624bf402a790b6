/// The subcommand interface and the dispatcher behind the `transmute` executable.
import CBLAS
import CZip
import Foundation
import ImageIO

/// One subcommand of `transmute` (`info`, `train`, `translate`, …).
public protocol Command: Sendable {
  /// The word that selects the command: `transmute NAME …`.
  static var name: String { get }
  /// One line for the command list.
  static var summary: String { get }
  /// The synopsis after `transmute`, e.g. `info FILE|DIR...`.
  static var synopsis: String { get }
  /// A paragraph or two shown by `--help` after the synopsis.
  static var discussion: String { get }
  /// The options the command accepts (`--help` is added by the dispatcher).
  static var options: [OptionSpec] { get }
  /// Runs the command and returns its exit status. Throws `UsageError` for a bad call, and any
  /// other error for a failure, which the dispatcher prints and turns into status 1.
  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32
}

extension Command {
  public static var discussion: String { "" }

  /// The text of `transmute NAME --help`.
  public static var helpText: String {
    var lines = ["USAGE: transmute \(synopsis)", "", summary]
    if !discussion.isEmpty { lines += ["", discussion] }
    lines += ["", "OPTIONS:"]
    let all = options + [.flag("help", help: "Show this help and exit.")]
    let labels = all.map { option -> String in
      switch option.kind {
      case .flag: return "--\(option.name)"
      case .value(let placeholder): return "--\(option.name) \(placeholder)"
      }
    }
    let width = min(30, labels.map(\.count).max() ?? 0)
    for (option, label) in zip(all, labels) {
      var help = option.help
      if let value = option.defaultValue { help += " (default: \(value))" }
      if label.count <= width {
        lines.append("  \(label.padding(toLength: width, withPad: " ", startingAt: 0))  \(help)")
      } else {
        lines.append("  \(label)\n  \(String(repeating: " ", count: width))  \(help)")
      }
    }
    return lines.joined(separator: "\n")
  }
}

/// The entry point: chooses the command from the first argument and runs it.
public enum Transmute {
  /// Every command, in the order `transmute --help` lists them.
  public static let commands: [any Command.Type] = [
    InfoCommand.self,
    TrainCommand.self,
    TranslateCommand.self,
    ImportCommand.self,
    ExportCommand.self,
    EvaluateCommand.self,
    ClassifierCommand.self,
    VersionCommand.self,
  ]

  /// The version printed by `transmute version`.
  public static let version = "0.1.0"

  /// Runs `transmute` with `arguments` (without the program name) and returns the exit status.
  public static func main(_ arguments: [String], console: Console = .standard) -> Int32 {
    guard let first = arguments.first, first != "--help", first != "-h", first != "help" else {
      if arguments.count >= 2, let command = commands.first(where: { $0.name == arguments[1] }) {
        console.out(command.helpText)
      } else {
        console.out(overview)
      }
      return 0
    }
    if first == "--version" {
      // The first line of `transmute version`, which also names the libraries.
      console.out("transmute \(version)")
      return 0
    }
    guard let command = commands.first(where: { $0.name == first }) else {
      let hint = closest(to: first, among: commands.map { $0.name })
      console.error(
        "transmute: unknown command '\(first)'"
          + (hint.map { ". Did you mean '\($0)'?" } ?? "")
          + "\nRun 'transmute --help' for the list of commands.")
      return 2
    }

    let rest = Array(arguments.dropFirst())
    // After `--` every argument is a file name, `--help` included.
    let options = rest.prefix { $0 != "--" }
    if options.contains("--help") || options.contains("-h") {
      console.out(command.helpText)
      return 0
    }
    do {
      let parsed = try ParsedArguments(rest, options: command.options)
      return try command.run(parsed, console: console)
    } catch let error as UsageError {
      console.error("transmute \(command.name): \(error)")
      console.error("Run 'transmute \(command.name) --help' for its options.")
      return 2
    } catch {
      console.error("transmute \(command.name): \(describe(error))")
      return 1
    }
  }

  /// The text of `transmute --help`.
  public static var overview: String {
    let width = commands.map { $0.name.count }.max() ?? 0
    let list = commands.map {
      "  \($0.name.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.summary)"
    }
    return
      ([
        "Transmute \(version): unpaired image-to-image translation (CycleGAN) on a CPU.",
        "",
        "USAGE: transmute COMMAND [OPTIONS]",
        "",
        "COMMANDS:",
      ] + list + ["", "Run 'transmute COMMAND --help' for a command's options."]).joined(
        separator: "\n")
  }
}

/// The message for an error: its description where it has one made for people.
func describe(_ error: any Error) -> String {
  String(describing: error)
}

/// `transmute version`.
enum VersionCommand: Command {
  static let name = "version"
  static let summary = "Print the version of Transmute and of the libraries it uses."
  static let synopsis = "version"
  static let options: [OptionSpec] = []

  static func run(_ arguments: ParsedArguments, console: Console) throws -> Int32 {
    guard arguments.positionals.isEmpty else {
      throw UsageError("'version' takes no arguments")
    }
    console.out("transmute \(Transmute.version)")
    console.out("libpng \(CodecLibraries.png)")
    console.out("libjpeg-turbo \(CodecLibraries.jpeg)")
    console.out("libzip \(String(cString: zip_libzip_version()))")
    console.out(String(cString: openblas_get_config()))
    return 0
  }
}
