/// Command-line parsing for Transmute's subcommands: `--name value`, `--name=value`, boolean
/// flags and positional arguments, checked against each command's declared options so that a
/// typo is reported with the closest option name instead of being ignored.

/// One option a command accepts.
public struct OptionSpec: Sendable {
  /// Whether the option takes a value (`--ngf 64`) or is a boolean flag (`--continue`).
  public enum Kind: Sendable, Equatable {
    case flag
    case value(placeholder: String)
  }

  /// The name without dashes: `ngf` is written `--ngf`.
  public let name: String
  public let kind: Kind
  /// One line of help, shown by `transmute COMMAND --help`.
  public let help: String
  /// The value used when the option is absent, shown in the help.
  public let defaultValue: String?

  public static func flag(_ name: String, help: String) -> OptionSpec {
    OptionSpec(name: name, kind: .flag, help: help, defaultValue: nil)
  }

  public static func value(
    _ name: String, _ placeholder: String, default defaultValue: String? = nil, help: String
  ) -> OptionSpec {
    OptionSpec(
      name: name, kind: .value(placeholder: placeholder), help: help, defaultValue: defaultValue)
  }
}

/// A mistake in how the command was called: the message says what is wrong, the hint what to
/// type instead. Reported on standard error with exit status 2.
public struct UsageError: Error, CustomStringConvertible, Equatable {
  public let message: String
  public let hint: String?

  public init(_ message: String, hint: String? = nil) {
    self.message = message
    self.hint = hint
  }

  public var description: String {
    hint.map { "\(message)\n\($0)" } ?? message
  }
}

/// The arguments of one command after parsing, with typed accessors that name the option in
/// their errors.
public struct ParsedArguments: Sendable {
  /// The value given for each value option that was given (one each: an option given twice,
  /// with an empty value or with another option as its value is refused).
  public private(set) var values: [String: [String]] = [:]
  /// Flags that were given.
  public private(set) var flags: Set<String> = []
  /// Arguments that are not options, in order.
  public private(set) var positionals: [String] = []
  private var defaults: [String: String] = [:]

  /// Parses `arguments` (without the command name) against `options`.
  public init(_ arguments: [String], options: [OptionSpec]) throws(UsageError) {
    let byName = Dictionary(options.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for option in options {
      if let value = option.defaultValue { defaults[option.name] = value }
    }

    var index = 0
    var onlyPositionals = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if onlyPositionals || !argument.hasPrefix("--") || argument == "-" {
        guard !argument.isEmpty else {
          throw UsageError(
            "an empty argument was given where a file or folder is expected",
            hint: "check the quoting of the command line")
        }
        positionals.append(argument)
        continue
      }
      if argument == "--" {
        onlyPositionals = true
        continue
      }

      // `--name=value` or `--name value`.
      var name = String(argument.dropFirst(2))
      var inlineValue: String? = nil
      if let equals = name.firstIndex(of: "=") {
        inlineValue = String(name[name.index(after: equals)...])
        name = String(name[..<equals])
      }
      guard let option = byName[name] else {
        throw UsageError(
          "unknown option '--\(name)'",
          hint: closest(to: name, among: options.map(\.name)).map { "did you mean '--\($0)'?" })
      }
      switch option.kind {
      case .flag:
        if inlineValue != nil { throw UsageError("option '--\(name)' takes no value") }
        flags.insert(name)
      case .value(let placeholder):
        let value: String
        if let inlineValue {
          value = inlineValue
        } else if index < arguments.count {
          value = arguments[index]
          index += 1
          // `--output --quiet`: the value was forgotten and the next option would be swallowed.
          if value == "--" || (value.hasPrefix("--") && byName[optionName(value)] != nil) {
            throw UsageError(
              "option '--\(name)' needs a value, but the next argument '\(value)' is an option",
              hint: "write --\(name) \(placeholder) (or --\(name)=\(value) for a value that "
                + "starts with --)")
          }
        } else {
          throw UsageError(
            "option '--\(name)' needs a value", hint: "write --\(name) \(placeholder)")
        }
        // An empty path would mean the current folder to Foundation, silently.
        guard !value.isEmpty else {
          throw UsageError(
            "option '--\(name)' needs a value, got an empty one",
            hint: "write --\(name) \(placeholder)")
        }
        if let earlier = values[name]?.first {
          throw UsageError(
            "option '--\(name)' is given twice ('\(earlier)' and '\(value)')",
            hint: "give it once")
        }
        values[name] = [value]
      }
    }
  }

  /// Whether the flag `--name` was given.
  public func flag(_ name: String) -> Bool { flags.contains(name) }

  /// The value given for `--name`, or its default.
  public func string(_ name: String) -> String? { values[name]?.last ?? defaults[name] }

  /// The value of `--name` as an integer within `range`.
  public func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max)
    throws(UsageError) -> Int?
  {
    guard let text = string(name) else { return nil }
    guard let value = Int(text), range.contains(value) else {
      throw UsageError(
        "option '--\(name)' needs a whole number"
          + (range == Int.min...Int.max ? "" : " from \(range.lowerBound) to \(range.upperBound)")
          + ", got '\(text)'")
    }
    return value
  }

  /// The value of `--name` as a number within `range`.
  public func double(_ name: String, in range: ClosedRange<Double> = -.infinity...(.infinity))
    throws(UsageError) -> Double?
  {
    guard let text = string(name) else { return nil }
    guard let value = Double(text), value.isFinite, range.contains(value) else {
      throw UsageError(
        "option '--\(name)' needs a number"
          + (range == -.infinity...(.infinity)
            ? "" : " from \(range.lowerBound) to \(range.upperBound)") + ", got '\(text)'")
    }
    return value
  }

  /// The value of `--name`, which must be one of `choices`.
  public func choice(_ name: String, _ choices: [String]) throws(UsageError) -> String? {
    guard let text = string(name) else { return nil }
    guard choices.contains(text) else {
      throw UsageError(
        "option '--\(name)' must be one of \(choices.joined(separator: ", ")), got '\(text)'")
    }
    return text
  }

  /// The value of `--name`, which the command cannot do without.
  public func required(_ name: String, placeholder: String) throws(UsageError) -> String {
    guard let text = string(name) else {
      throw UsageError("missing option '--\(name)'", hint: "write --\(name) \(placeholder)")
    }
    return text
  }
}

/// The option name of an argument that starts with `--`: `quiet` for `--quiet` and for
/// `--quiet=1`.
func optionName(_ argument: String) -> String {
  let name = argument.dropFirst(2)
  return String(name.prefix { $0 != "=" })
}

/// The candidate nearest to `word` by edit distance, if it is near enough to be a likely typo.
func closest(to word: String, among candidates: [String]) -> String? {
  let scored = candidates.map { ($0, editDistance(word, $0)) }
  guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else {
    return nil
  }
  return best.0
}

/// Levenshtein distance between two strings, by characters.
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a)
  let b = Array(b)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
      current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
