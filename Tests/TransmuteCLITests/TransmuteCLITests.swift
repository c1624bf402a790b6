/// Tests of the argument parser and the dispatcher: what users type and what they are told.
import Foundation
import Testing

@testable import TransmuteCLI

/// A console that keeps what was written, for checking texts word for word.
final class CapturedConsole: @unchecked Sendable {
  private let lock = NSLock()
  private var outText = ""
  private var errorText = ""

  var console: Console {
    Console(
      isTerminal: false,
      out: { [self] text in lock.withLock { outText += text } },
      error: { [self] text in lock.withLock { errorText += text } })
  }
  var out: String { lock.withLock { outText } }
  var error: String { lock.withLock { errorText } }
}

let sampleOptions: [OptionSpec] = [
  .value("ngf", "N", default: "64", help: "Generator filters in the first layer."),
  .value("name", "NAME", help: "Name of the run."),
  .flag("continue", help: "Resume from the latest checkpoint."),
]

@Suite struct ArgumentParsingTests {
  @Test func readsValuesFlagsAndPositionals() throws {
    let parsed = try ParsedArguments(
      ["a.png", "--ngf", "32", "--continue", "--name=zebra", "b.png"], options: sampleOptions)
    #expect(parsed.positionals == ["a.png", "b.png"])
    #expect(try parsed.int("ngf") == 32)
    #expect(parsed.string("name") == "zebra")
    #expect(parsed.flag("continue"))
  }

  @Test func fallsBackToDefaults() throws {
    let parsed = try ParsedArguments([], options: sampleOptions)
    #expect(try parsed.int("ngf") == 64)
    #expect(parsed.string("name") == nil)
    #expect(!parsed.flag("continue"))
  }

  @Test func treatsEverythingAfterDoubleDashAsPositional() throws {
    let parsed = try ParsedArguments(["--", "--ngf", "-"], options: sampleOptions)
    #expect(parsed.positionals == ["--ngf", "-"])
  }

  @Test func suggestsTheNearestOptionForATypo() {
    #expect(throws: UsageError("unknown option '--ngff'", hint: "did you mean '--ngf'?")) {
      try ParsedArguments(["--ngff", "3"], options: sampleOptions)
    }
  }

  @Test func saysWhatAValueOptionNeeds() {
    #expect(
      throws: UsageError("option '--name' needs a value", hint: "write --name NAME")
    ) {
      try ParsedArguments(["--name"], options: sampleOptions)
    }
  }

  @Test func refusesAnEmptyValue() {
    // Foundation would read an empty path as the current folder.
    for arguments in [["--name", ""], ["--name="]] {
      #expect(
        throws: UsageError(
          "option '--name' needs a value, got an empty one", hint: "write --name NAME"),
        "\(arguments)"
      ) {
        try ParsedArguments(arguments, options: sampleOptions)
      }
    }
  }

  @Test func refusesAnEmptyPositional() {
    #expect(
      throws: UsageError(
        "an empty argument was given where a file or folder is expected",
        hint: "check the quoting of the command line")
    ) {
      try ParsedArguments(["a.png", ""], options: sampleOptions)
    }
  }

  @Test func refusesAnOptionWhereAValueWasForgotten() throws {
    for next in ["--continue", "--ngf=3", "--"] {
      #expect(
        throws: UsageError(
          "option '--name' needs a value, but the next argument '\(next)' is an option",
          hint: "write --name NAME (or --name=\(next) for a value that starts with --)"),
        "\(next)"
      ) {
        try ParsedArguments(["--name", next, "x"], options: sampleOptions)
      }
    }

    // Values that merely start with dashes, and the inline form, are taken as they are.
    let inline = try ParsedArguments(["--name=--continue"], options: sampleOptions)
    #expect(inline.string("name") == "--continue" && !inline.flag("continue"))
    let unknown = try ParsedArguments(["--name", "--zebra", "-1"], options: sampleOptions)
    #expect(unknown.string("name") == "--zebra" && unknown.positionals == ["-1"])
  }

  @Test func refusesAValueOptionGivenTwice() {
    #expect(
      throws: UsageError("option '--name' is given twice ('a' and 'b')", hint: "give it once")
    ) {
      try ParsedArguments(["--name", "a", "--ngf", "2", "--name=b"], options: sampleOptions)
    }
  }

  @Test func rejectsNumbersOutOfRange() throws {
    let parsed = try ParsedArguments(["--ngf", "0"], options: sampleOptions)
    #expect(
      throws: UsageError("option '--ngf' needs a whole number from 1 to 1024, got '0'")
    ) {
      try parsed.int("ngf", in: 1...1024)
    }
  }

  @Test func rejectsValuesOutsideTheChoices() throws {
    let parsed = try ParsedArguments(["--name", "x"], options: sampleOptions)
    #expect(throws: UsageError("option '--name' must be one of a, b, got 'x'")) {
      try parsed.choice("name", ["a", "b"])
    }
  }
}

@Suite struct DispatcherTests {
  @Test func listsEveryCommandInTheOverview() {
    let captured = CapturedConsole()
    #expect(Transmute.main(["--help"], console: captured.console) == 0)
    for command in Transmute.commands {
      #expect(captured.out.contains("  \(command.name)"), "overview lacks \(command.name)")
    }
  }

  @Test func suggestsTheNearestCommandForATypo() {
    let captured = CapturedConsole()
    #expect(Transmute.main(["verison"], console: captured.console) == 2)
    #expect(
      captured.error
        == "transmute: unknown command 'verison'. Did you mean 'version'?\n"
        + "Run 'transmute --help' for the list of commands.\n")
  }

  @Test func printsEachCommandsHelpWithEveryOption() {
    for command in Transmute.commands {
      let captured = CapturedConsole()
      #expect(Transmute.main([command.name, "--help"], console: captured.console) == 0)
      #expect(captured.out.hasPrefix("USAGE: transmute \(command.synopsis)"))
      for option in command.options {
        #expect(
          captured.out.contains("--\(option.name)"), "\(command.name) help lacks \(option.name)")
        #expect(captured.out.contains(option.help), "\(command.name) help lacks its help text")
      }
    }
  }

  @Test func helpKeepsEachOptionOnOneLineUpToTheColumnWidth() {
    // The longest label sets the column, so it fits on its line; only labels past 30 columns
    // put their help on the next line.
    #expect(VersionCommand.helpText.hasSuffix("OPTIONS:\n  --help  Show this help and exit."))
    let train = TrainCommand.helpText.split(separator: "\n").map(String.init)
    let line = train.first { $0.hasPrefix("  --max-dataset-size N") }
    #expect(line?.hasSuffix("Use at most N images of each folder (default: all).") == true)
  }

  @Test func versionOptionPrintsTheFirstLineOfVersion() {
    let captured = CapturedConsole()
    #expect(Transmute.main(["--version"], console: captured.console) == 0)
    #expect(captured.out == "transmute \(Transmute.version)\n")
  }

  @Test func versionNamesTheLibrariesItWasBuiltWith() throws {
    let captured = CapturedConsole()
    #expect(Transmute.main(["version"], console: captured.console) == 0)
    let lines = captured.out.split(separator: "\n").map(String.init)
    #expect(lines.count == 5, "\(captured.out)")
    let numbered = /[0-9]+\.[0-9]+\.[0-9]+/
    let expected = ["transmute ", "libpng ", "libjpeg-turbo ", "libzip ", "OpenBLAS "]
    for (line, start) in zip(lines, expected) {
      #expect(line.hasPrefix(start), "\(line) does not start with \(start)")
      #expect(line.contains(numbered), "\(line) gives no version number")
    }
    #expect(lines.first == "transmute \(Transmute.version)")
  }

  @Test func reportsUsageErrorsWithExitStatusTwo() {
    let captured = CapturedConsole()
    #expect(Transmute.main(["version", "--bogus"], console: captured.console) == 2)
    #expect(captured.error.hasPrefix("transmute version: unknown option '--bogus'"))
    #expect(captured.error.contains("Run 'transmute version --help' for its options."))
  }

  @Test func helpAfterDoubleDashIsAFileName() {
    let captured = CapturedConsole()
    #expect(Transmute.main(["info", "--", "--help", "-h"], console: captured.console) == 1)
    let text = captured.out + captured.error
    #expect(!text.contains("USAGE"), "\(text)")
    #expect(text.contains("--help: error: no such file or folder"), "\(text)")
    #expect(text.contains("-h: error: no such file or folder"), "\(text)")
  }
}

@Suite struct DurationFormatTests {
  @Test(arguments: [(42.4, "42s"), (185, "3m05s"), (3720, "1h02m"), (-1, "?")])
  func formatsDurations(seconds: Double, text: String) {
    #expect(formatDuration(seconds) == text)
  }
}

@Suite struct ProgressLineTests {
  @Test func aRateIsShownOnlyForWorkDoneOverASecondOrMore() {
    let captured = CapturedConsole()
    let progress = ProgressReporter(
      console: captured.console, label: "translate", total: 4, unit: "img", quiet: true)

    // A file that failed at once: counted, but no rate (it would be thousands a second).
    progress.advance(withoutWork: true)
    let afterFailure = progress.line(now: Date().addingTimeInterval(5), detail: "", bar: false)
    #expect(afterFailure.hasPrefix("translate 1/4 elapsed "), "\(afterFailure)")

    // Two images translated: a rate and an ETA from the work alone.
    progress.advance(by: 2)
    let later = progress.line(now: Date().addingTimeInterval(4), detail: "", bar: false)
    #expect(later.hasPrefix("translate 3/4 "), "\(later)")
    #expect(later.contains(" img/s eta "), "\(later)")

    // Within the first second, no rate yet.
    let early = progress.line(now: Date(), detail: "", bar: false)
    #expect(!early.contains("img/s"), "\(early)")
  }
}
