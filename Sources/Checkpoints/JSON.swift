/// A small, strict JSON reader and writer for file headers (safetensors), kept here rather than
/// in Foundation's `JSONSerialization` so that duplicate keys, non-integer sizes and booleans
/// posing as numbers are refused instead of silently reinterpreted.
enum JSONValue: Equatable, Sendable {
  case object([(key: String, value: JSONValue)])
  case array([JSONValue])
  case string(String)
  /// A number as written, so that integers of any size are judged exactly.
  case number(String)
  case bool(Bool)
  case null

  static func == (left: JSONValue, right: JSONValue) -> Bool {
    switch (left, right) {
    case (.object(let a), .object(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    case (.array(let a), .array(let b)): return a == b
    case (.string(let a), .string(let b)): return a == b
    case (.number(let a), .number(let b)): return a == b
    case (.bool(let a), .bool(let b)): return a == b
    case (.null, .null): return true
    default: return false
    }
  }

  /// The value as a non-negative integer, if it is written as one and fits in `Int`.
  var nonNegativeInteger: Int? {
    guard case .number(let text) = self, !text.isEmpty,
      text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 })
    else { return nil }
    return Int(text)
  }

  /// A short name of the value's kind, for error messages.
  var kindName: String {
    switch self {
    case .object: return "an object"
    case .array: return "an array"
    case .string: return "a string"
    case .number: return "a number"
    case .bool: return "a boolean"
    case .null: return "null"
    }
  }

  /// The compact JSON text of the value.
  var serialized: String {
    switch self {
    case .object(let members):
      return "{"
        + members.map { "\(JSONValue.quoted($0.key)):\($0.value.serialized)" }.joined(
          separator: ",")
        + "}"
    case .array(let elements):
      return "[" + elements.map(\.serialized).joined(separator: ",") + "]"
    case .string(let text): return JSONValue.quoted(text)
    case .number(let text): return text
    case .bool(let flag): return flag ? "true" : "false"
    case .null: return "null"
    }
  }

  /// `text` as a JSON string literal, with the characters JSON requires escaped.
  static func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          result.unicodeScalars.append(scalar)
        }
      }
    }
    return result + "\""
  }
}

/// Why a JSON text was refused, with the byte offset where reading stopped.
struct JSONSyntaxError: Error {
  let offset: Int
  let reason: String
}

/// Reads one JSON value from UTF-8 bytes; whitespace may follow it, nothing else.
struct JSONReader {
  private let bytes: [UInt8]
  private var position = 0
  private let maximumDepth = 64

  /// Parses `bytes` as a single JSON document.
  static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
    var reader = JSONReader(bytes: bytes)
    let value = try reader.readValue(depth: 0)
    reader.skipWhitespace()
    guard reader.position == bytes.count else {
      throw JSONSyntaxError(offset: reader.position, reason: "unexpected text after the value")
    }
    return value
  }

  private init(bytes: [UInt8]) { self.bytes = bytes }

  private mutating func skipWhitespace() {
    while position < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[position]) {
      position += 1
    }
  }

  private func fail(_ reason: String) -> JSONSyntaxError {
    JSONSyntaxError(offset: position, reason: reason)
  }

  private mutating func expect(_ literal: String, value: JSONValue) throws(JSONSyntaxError)
    -> JSONValue
  {
    let expected = Array(literal.utf8)
    guard position + expected.count <= bytes.count,
      Array(bytes[position..<position + expected.count]) == expected
    else { throw fail("expected '\(literal)'") }
    position += expected.count
    return value
  }

  private mutating func readValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    guard depth < maximumDepth else { throw fail("nesting deeper than \(maximumDepth)") }
    skipWhitespace()
    guard position < bytes.count else { throw fail("unexpected end of text") }
    switch bytes[position] {
    case UInt8(ascii: "{"): return try readObject(depth: depth)
    case UInt8(ascii: "["): return try readArray(depth: depth)
    case UInt8(ascii: "\""): return .string(try readString())
    case UInt8(ascii: "t"): return try expect("true", value: .bool(true))
    case UInt8(ascii: "f"): return try expect("false", value: .bool(false))
    case UInt8(ascii: "n"): return try expect("null", value: .null)
    default: return try readNumber()
    }
  }

  private mutating func readObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    position += 1
    var members: [(key: String, value: JSONValue)] = []
    var seen: Set<String> = []
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
      position += 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
        throw fail("expected a key in quotes")
      }
      let keyStart = position
      let key = try readString()
      guard seen.insert(key).inserted else {
        throw JSONSyntaxError(offset: keyStart, reason: "duplicate key \(JSONValue.quoted(key))")
      }
      skipWhitespace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
        throw fail("expected ':' after a key")
      }
      position += 1
      members.append((key, try readValue(depth: depth + 1)))
      skipWhitespace()
      guard position < bytes.count else { throw fail("unexpected end of text in an object") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
      } else if bytes[position] == UInt8(ascii: "}") {
        position += 1
        return .object(members)
      } else {
        throw fail("expected ',' or '}' in an object")
      }
    }
  }

  private mutating func readArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
    position += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
      position += 1
      return .array(elements)
    }
    while true {
      elements.append(try readValue(depth: depth + 1))
      skipWhitespace()
      guard position < bytes.count else { throw fail("unexpected end of text in an array") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
      } else if bytes[position] == UInt8(ascii: "]") {
        position += 1
        return .array(elements)
      } else {
        throw fail("expected ',' or ']' in an array")
      }
    }
  }

  private mutating func readNumber() throws(JSONSyntaxError) -> JSONValue {
    let start = position
    func digits(_ reader: inout JSONReader) -> Int {
      let first = reader.position
      while reader.position < reader.bytes.count,
        (48...57).contains(reader.bytes[reader.position])
      {
        reader.position += 1
      }
      return reader.position - first
    }
    if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
    let integerStart = position
    let integerDigits = digits(&self)
    guard integerDigits > 0 else { throw fail("expected a value") }
    if integerDigits > 1, bytes[integerStart] == UInt8(ascii: "0") {
      throw JSONSyntaxError(offset: integerStart, reason: "number with a leading zero")
    }
    if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
      position += 1
      guard digits(&self) > 0 else { throw fail("expected digits after '.'") }
    }
    if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
      position += 1
      if position < bytes.count,
        bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
      {
        position += 1
      }
      guard digits(&self) > 0 else { throw fail("expected digits in an exponent") }
    }
    return .number(String(decoding: bytes[start..<position], as: UTF8.self))
  }

  private mutating func readHexQuad() throws(JSONSyntaxError) -> UInt32 {
    guard position + 4 <= bytes.count else { throw fail("unexpected end of text in \\u escape") }
    var value: UInt32 = 0
    for byte in bytes[position..<position + 4] {
      let digit: UInt8
      switch byte {
      case 48...57: digit = byte - 48
      case 65...70: digit = byte - 55
      case 97...102: digit = byte - 87
      default: throw fail("bad hex digit in \\u escape")
      }
      value = value << 4 | UInt32(digit)
    }
    position += 4
    return value
  }

  private mutating func readString() throws(JSONSyntaxError) -> String {
    position += 1
    var utf8: [UInt8] = []
    while true {
      guard position < bytes.count else { throw fail("unterminated string") }
      let byte = bytes[position]
      position += 1
      switch byte {
      case UInt8(ascii: "\""):
        guard let text = String(validating: utf8, as: UTF8.self) else {
          throw fail("string is not valid UTF-8")
        }
        return text
      case UInt8(ascii: "\\"):
        guard position < bytes.count else { throw fail("unterminated escape") }
        let escape = bytes[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""): utf8.append(0x22)
        case UInt8(ascii: "\\"): utf8.append(0x5c)
        case UInt8(ascii: "/"): utf8.append(0x2f)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0c)
        case UInt8(ascii: "n"): utf8.append(0x0a)
        case UInt8(ascii: "r"): utf8.append(0x0d)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
          var code = try readHexQuad()
          if (0xd800..<0xdc00).contains(code) {
            guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"),
              bytes[position + 1] == UInt8(ascii: "u")
            else { throw fail("unpaired surrogate in \\u escape") }
            position += 2
            let low = try readHexQuad()
            guard (0xdc00..<0xe000).contains(low) else {
              throw fail("unpaired surrogate in \\u escape")
            }
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
          }
          guard let scalar = Unicode.Scalar(code) else {
            throw fail("unpaired surrogate in \\u escape")
          }
          utf8.append(contentsOf: String(Character(scalar)).utf8)
        default: throw fail("unknown escape '\\\(Character(Unicode.Scalar(escape)))'")
        }
      default:
        guard byte >= 0x20 else { throw fail("control character in a string") }
        utf8.append(byte)
      }
    }
  }
}
